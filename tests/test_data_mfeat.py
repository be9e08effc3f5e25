"""load_mfeat: views, pix orientation, stratified seeded splits, train-only scaling, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from udml.data import MFEAT_VIEWS, load_dataset, load_mfeat
from udml.data.files import load_npz

SHAPES = {"fac": (216,), "fou": (76,), "kar": (64,), "mor": (6,), "pix": (1, 16, 15),
          "zer": (47,)}


@pytest.fixture(scope="module")
def default():
    return load_mfeat()


@pytest.fixture(scope="module")
def every_view():
    return load_mfeat(views=MFEAT_VIEWS)


@pytest.fixture(scope="module")
def raw():
    return load_npz("mfeat.npz")


def test_default_is_pix_and_fou(default):
    assert default.name == "mfeat"
    assert default.modalities == ["fou", "pix"]
    assert default.shapes == {"fou": (76,), "pix": (1, 16, 15)}
    assert default.num_classes == 10


def test_every_view_shape_and_dtype(every_view):
    assert every_view.name == "mfeat-all"
    assert every_view.shapes == SHAPES
    for split in (every_view.train, every_view.val, every_view.test):
        assert all(v.dtype == torch.float32 for v in split.x.values())
        assert split.y.dtype == torch.int64


def test_split_sizes_and_stratification(default):
    assert (len(default.train), len(default.val), len(default.test)) == (1300, 300, 400)
    for split, per_class in ((default.train, 130), (default.val, 30), (default.test, 40)):
        assert torch.bincount(split.y, minlength=10).tolist() == [per_class] * 10


def test_pix_orientation_against_csv_values(raw):
    """Values read from mfeat-pix.csv (column k of a row is pixel (k // 15, k % 15))."""
    pix = raw["pix"]
    assert pix[0, 0, :8].tolist() == [0, 3, 4, 4, 6, 6, 6, 6]  # columns 0..7 of the first row
    assert pix[0, 1, 0] == 1  # column 15
    assert pix[0, 6, 10] == 1  # column 100
    assert pix[0, 15, 14] == 0  # column 239
    assert (pix[1200, 0, 0], pix[1200, 1, 1], pix[1200, 8, 7], pix[1200, 13, 4]) == (0, 0, 4, 6)
    assert pix[1999, 2, 0] == 3  # column 30
    assert (raw["labels"][0], raw["labels"][1200], raw["labels"][1999]) == (0, 6, 9)


def test_pix_zeros_have_a_hole(raw):
    """The mean "0" is a ring: dark border columns around a blank centre (digits look like digits)."""
    zeros = raw["pix"][raw["labels"] == 0].astype(np.float64).mean(axis=0)  # (16, 15)
    centre = zeros[6:10, 6:9].mean()
    ring = np.concatenate([zeros[6:10, 1:4].ravel(), zeros[6:10, 11:14].ravel()]).mean()
    assert ring > 4.0 and centre < 1.0


def test_other_views_match_csv_values(raw):
    np.testing.assert_allclose(raw["fou"][0, :3], [0.065882, 0.19731, 0.10383], rtol=1e-6)
    np.testing.assert_allclose(raw["fou"][1000, 75], 0.24517, rtol=1e-6)
    assert raw["fac"][1999, 215] == 20
    np.testing.assert_allclose(raw["mor"][0], [1, 0, 0, 133.15, 1.3117, 1620.2], rtol=1e-6)


def test_vectors_standardised_on_train_only(default):
    train, test = default.train.x["fou"], default.test.x["fou"]
    assert train.double().mean(0).abs().max() < 1e-5
    assert torch.allclose(train.double().std(0, unbiased=False), torch.ones(76, dtype=torch.float64),
                          atol=1e-5)
    assert test.double().mean(0).abs().max() > 1e-2  # not refitted on test


def test_pix_one_global_scale_and_its_range(default, raw):
    pix = default.train.x["pix"].double()
    assert abs(pix.mean().item()) < 1e-6 and abs(pix.std(unbiased=False).item() - 1) < 1e-6
    scale = default.info["scaling"]["pix"]
    assert scale["kind"] == "global"
    assert scale["mean"] != pytest.approx(float(raw["pix"].mean()), abs=1e-9)  # not all data
    low, high = default.info["range"]["pix"]
    assert low == pytest.approx((0 - scale["mean"]) / scale["std"])
    assert high == pytest.approx((6 - scale["mean"]) / scale["std"])
    every = torch.cat([default.train.x["pix"], default.val.x["pix"], default.test.x["pix"]])
    assert every.min().item() == pytest.approx(low, abs=1e-6)
    assert every.max().item() == pytest.approx(high, abs=1e-6)
    levels = every.double() * scale["std"] + scale["mean"]  # back to grey levels
    assert torch.allclose(levels, levels.round(), atol=1e-5)


def test_info_records_the_recipe(default):
    info = default.info
    json.dumps(info)  # results files carry it
    assert info["dataset"] == "mfeat" and info["views"] == ["fou", "pix"] and info["seed"] == 0
    assert info["sizes"] == {"train": 1300, "val": 300, "test": 400}
    assert info["fractions"] == {"train": 0.65, "val": 0.15, "test": 0.2}
    assert info["scaling"]["fou"]["kind"] == "per-feature"


def _equal(a, b) -> bool:
    return all(torch.equal(getattr(a, s).x[k], getattr(b, s).x[k]) and
               torch.equal(getattr(a, s).y, getattr(b, s).y)
               for s in ("train", "val", "test") for k in a.modalities)


def test_same_seed_same_splits(default):
    assert _equal(default, load_mfeat(seed=0))


def test_other_seed_other_splits(default):
    other = load_mfeat(seed=1)
    assert not _equal(default, other)
    assert other.info["seed"] == 1


def test_other_fractions():
    splits = load_mfeat(views=("kar", "mor"), seed=3, val_fraction=0.1, test_fraction=0.3)
    assert splits.name == "mfeat-kar+mor"
    assert (len(splits.train), len(splits.val), len(splits.test)) == (1200, 200, 600)


@pytest.mark.parametrize("views, error, match", [
    (("pix", "xyz"), ValueError, r"unknown mfeat view\(s\) \['xyz'\]"),
    (("pix",), ValueError, "at least 2 views"),
    (("pix", "pix"), ValueError, "duplicate"),
    ("pix", TypeError, "sequence of view names"),
])
def test_bad_views(views, error, match):
    with pytest.raises(error, match=match):
        load_mfeat(views=views)


@pytest.mark.parametrize("kwargs, match", [
    ({"val_fraction": 0.0}, "val_fraction"),
    ({"test_fraction": 1.5}, "test_fraction"),
    ({"val_fraction": 0.5, "test_fraction": 0.5}, "must be < 1"),
    ({"seed": -1}, "seed"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_mfeat(**kwargs)


def test_registry():
    assert load_dataset("mfeat-all", seed=0).modalities == sorted(MFEAT_VIEWS)
    assert load_dataset("synthetic", seed=0, n_train=40, n_val=8, n_test=8).name == "synthetic"
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist'.*mfeat.*mfeat-all.*synthetic"):
        load_dataset("mnist")
    with pytest.raises(TypeError, match="all six views"):
        load_dataset("mfeat-all", views=("pix", "fou"))
