"""make_synthetic: shapes, determinism, the planted easy/hard structure and its recorded truth."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from udml.data.synthetic import make_synthetic, modality_names

SMALL = dict(n_train=800, n_val=200, n_test=400)


@pytest.fixture(scope="module")
def default():
    return make_synthetic()


def test_defaults(default):
    assert default.name == "synthetic" and default.num_classes == 4
    assert default.shapes == {"m0": (16,), "m1": (64,)}  # DEFAULT_DIMS: easy 16, hard 64
    assert (len(default.train), len(default.val), len(default.test)) == (2000, 500, 1000)
    for split in (default.train, default.val, default.test):
        assert all(v.dtype == torch.float32 for v in split.x.values())
        assert split.y.dtype == torch.int64
        assert torch.bincount(split.y).tolist() == [len(split) // 4] * 4  # balanced


def test_ground_truth_recorded(default):
    info = default.info
    json.dumps(info)
    assert info["easy"] == ["m0"] and info["hard"] == ["m1"]
    assert info["difficulty"] == {"m0": "easy", "m1": "hard"}
    assert info["separation"] == {"m0": 3.0, "m1": 3.0}
    assert info["chance"] == 0.25 and info["seed"] == 0
    bayes = info["bayes_accuracy"]
    assert set(bayes) == {"m0", "m1", "joint"}
    assert bayes["m0"] > 0.8 and bayes["m1"] > 0.8  # each informative alone
    assert bayes["joint"] > max(bayes["m0"], bayes["m1"])  # they complement each other


def test_train_split_standardised(default):
    for x in default.train.x.values():
        assert x.double().mean(0).abs().max() < 1e-5
        assert (x.double().std(0, unbiased=False) - 1).abs().max() < 1e-5


def _class_means(x: torch.Tensor, y: torch.Tensor, c: int) -> torch.Tensor:
    return torch.stack([x[y == k].double().mean(0) for k in range(c)])  # (C, d)


def _nearest_mean_accuracy(splits, name: str) -> float:
    """The best a linear classifier built from class means can do."""
    means = _class_means(splits.train.x[name], splits.train.y, splits.num_classes)
    pred = torch.cdist(splits.test.x[name].double(), means).argmin(1)
    return float((pred == splits.test.y).double().mean())


def test_easy_is_linear_hard_is_not(default):
    hard_means = _class_means(default.train.x["m1"], default.train.y, 4)
    easy_means = _class_means(default.train.x["m0"], default.train.y, 4)
    assert hard_means.norm(dim=1).max() < 0.4  # XOR-like: every class has mean ~0 (sampling noise)
    assert easy_means.norm(dim=1).min() > 1.2
    assert _nearest_mean_accuracy(default, "m0") > 0.85
    assert _nearest_mean_accuracy(default, "m1") < 0.4  # near chance 0.25


def test_hard_is_learnable_by_a_small_mlp():
    splits = make_synthetic(seed=0, **SMALL)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(splits.shapes["m1"][0], 64), nn.ReLU(), nn.Linear(64, 4))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(300):  # full batch
        loss = nn.functional.cross_entropy(net(splits.train.x["m1"]), splits.train.y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        acc = (net(splits.test.x["m1"]).argmax(1) == splits.test.y).float().mean().item()
    assert acc > 0.7


def test_separation_zero_is_noise():
    splits = make_synthetic(separation=(3.0, 0.0), seed=1, **SMALL)
    assert splits.info["bayes_accuracy"]["m1"] < 0.35


def _equal(a, b, splits=("train", "val", "test")) -> bool:
    return all(torch.equal(getattr(a, s).x[k], getattr(b, s).x[k]) and
               torch.equal(getattr(a, s).y, getattr(b, s).y)
               for s in splits for k in a.modalities)


def test_deterministic_from_seed():
    a = make_synthetic(seed=5, **SMALL)
    torch.manual_seed(123)  # global state must not matter
    b = make_synthetic(seed=5, **SMALL)
    assert _equal(a, b) and a.info == b.info
    assert not _equal(a, make_synthetic(seed=6, **SMALL))


def _own_zscore(x: torch.Tensor) -> torch.Tensor:
    x = x.double()
    return (x - x.mean(0)) / x.std(0)


def test_val_and_test_samples_do_not_depend_on_n_train():
    a = make_synthetic(seed=2, n_train=400, n_val=100, n_test=100)
    b = make_synthetic(seed=2, n_train=800, n_val=100, n_test=100)
    assert torch.equal(a.test.y, b.test.y) and torch.equal(a.val.y, b.val.y)
    # the raw samples are the same; only the train-fitted scaling differs (an affine map per
    # feature), which z-scoring each split by its own statistics removes
    for name in a.modalities:
        for split in ("val", "test"):
            za = _own_zscore(getattr(a, split).x[name])
            zb = _own_zscore(getattr(b, split).x[name])
            assert torch.allclose(za, zb, atol=1e-4)
        assert not torch.allclose(a.test.x[name], b.test.x[name])  # the scalings do differ


def test_more_modalities_and_dims():
    splits = make_synthetic(num_modalities=3, dims=(4, 8, 2), num_classes=3, seed=0,
                            difficulty=("hard", "easy", "hard"), n_train=60, n_val=30, n_test=30)
    assert splits.shapes == {"m0": (4,), "m1": (8,), "m2": (2,)}
    assert splits.info["easy"] == ["m1"] and splits.info["hard"] == ["m0", "m2"]


def test_names_sort_in_index_order():
    assert modality_names(3) == ["m0", "m1", "m2"]
    names = modality_names(12)
    assert names[0] == "m00" and names[-1] == "m11" and sorted(names) == names


@pytest.mark.parametrize("kwargs, match", [
    ({"num_modalities": 1}, "num_modalities must be an int >= 2"),
    ({"difficulty": ("easy", "medium")}, r"unknown difficulty \['medium'\]"),
    ({"dims": (16, 16, 16)}, "dims has 3 entries for 2 modalities"),
    ({"dims": 1}, "dims must be an int >= 2"),
    ({"separation": (1.0, -1.0)}, "separation must be finite and >= 0"),
    ({"n_test": 2}, "n_test must be an int >= 4"),
    ({"seed": -3}, "seed must be"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_synthetic(**kwargs)
