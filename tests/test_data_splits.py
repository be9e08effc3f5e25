"""stratified_split and Standardiser on tiny hand-checked tensors."""
from __future__ import annotations

import math

import pytest
import torch

from udml.data.splits import Standardiser, stratified_split


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


Y = torch.tensor([0] * 10 + [1] * 20)


def test_counts_per_class_follow_the_fractions():
    parts = stratified_split(Y, (0.5, 0.3, 0.2), _gen())
    # class 0: cuts round(10 * [0, .5, .8, 1]) = 0, 5, 8, 10; class 1: 0, 10, 16, 20
    counts = [torch.bincount(Y[p], minlength=2).tolist() for p in parts]
    assert counts == [[5, 10], [3, 6], [2, 4]]


def test_parts_are_disjoint_and_cover_everything():
    parts = stratified_split(Y, (0.5, 0.3, 0.2), _gen())
    together = torch.cat(parts)
    assert sorted(together.tolist()) == list(range(len(Y)))


def test_mfeat_sized_class_is_cut_exactly():
    y = torch.arange(10).repeat_interleave(200)  # 10 classes of 200
    parts = stratified_split(y, (0.65, 0.15, 0.2), _gen())
    assert [len(p) for p in parts] == [1300, 300, 400]


def test_seeded():
    a = stratified_split(Y, (0.5, 0.5), _gen(7))
    b = stratified_split(Y, (0.5, 0.5), _gen(7))
    c = stratified_split(Y, (0.5, 0.5), _gen(8))
    assert all(torch.equal(x, z) for x, z in zip(a, b))
    assert not all(torch.equal(x, z) for x, z in zip(a, c))


def test_generator_is_the_only_randomness():
    torch.manual_seed(0)
    a = stratified_split(Y, (0.5, 0.5), _gen(3))
    torch.manual_seed(1)
    b = stratified_split(Y, (0.5, 0.5), _gen(3))
    assert all(torch.equal(x, z) for x, z in zip(a, b))


@pytest.mark.parametrize("fractions, match", [
    ((0.5, 0.4), "sum to 1"),
    ((1.0,), "at least two"),
    ((1.2, -0.2), r"lie in \(0, 1\)"),
])
def test_bad_fractions(fractions, match):
    with pytest.raises(ValueError, match=match):
        stratified_split(Y, fractions, _gen())


def test_bad_labels():
    with pytest.raises(TypeError, match="1-D integer"):
        stratified_split(Y.float(), (0.5, 0.5), _gen())
    with pytest.raises(TypeError, match="1-D integer"):
        stratified_split(Y.reshape(2, 15), (0.5, 0.5), _gen())
    with pytest.raises(ValueError, match="empty"):
        stratified_split(torch.zeros(0, dtype=torch.long), (0.5, 0.5), _gen())


def test_class_too_small_is_named():
    y = torch.tensor([0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="class 1 has 1 samples"):
        stratified_split(y, (0.5, 0.5), _gen())


# ---------------------------------------------------------------- Standardiser

def test_feature_mode_hand_values():
    x = torch.tensor([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    s = Standardiser("feature").fit(x)
    assert s.mean.tolist() == [3.0, 10.0]
    assert s.std.tolist() == pytest.approx([math.sqrt(8 / 3), 1.0])  # constant feature: std 1
    out = s.transform(x)
    assert out.dtype == torch.float32
    r = 2 / math.sqrt(8 / 3)
    assert out.tolist() == [pytest.approx([-r, 0.0]), pytest.approx([0.0, 0.0]),
                            pytest.approx([r, 0.0])]
    assert s.describe() == {"kind": "per-feature", "fitted_on": "train", "features": 2,
                            "constant_features": 1}


def test_fitted_on_train_applied_to_other_data():
    s = Standardiser().fit(torch.tensor([[0.0], [2.0]]))  # mean 1, std 1
    assert s.transform(torch.tensor([[5.0]])).item() == 4.0


def test_global_mode_hand_values():
    x = torch.tensor([[[0.0, 2.0], [4.0, 6.0]]])  # (1, 2, 2): one sample, one image
    x = torch.cat([x, x])  # (2, 2, 2)
    s = Standardiser("global").fit(x)
    assert s.mean.item() == 3.0 and s.std.item() == pytest.approx(math.sqrt(5))
    assert s.map_value(0) == pytest.approx(-3 / math.sqrt(5))
    assert s.map_value(6) == pytest.approx(3 / math.sqrt(5))
    assert s.describe()["mean"] == 3.0
    torch.testing.assert_close(s.transform(x), (x - 3.0) / math.sqrt(5))


def test_integer_input_becomes_float32():
    s = Standardiser().fit(torch.tensor([[0], [2]]))
    assert s.transform(torch.tensor([[2]])).dtype == torch.float32


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_refuses_non_finite(bad):
    x = torch.tensor([[0.0, 1.0], [bad, 2.0], [1.0, 3.0]])
    with pytest.raises(ValueError, match=r"Standardiser.fit: 1 non-finite values"):
        Standardiser().fit(x)
    s = Standardiser().fit(torch.tensor([[0.0, 1.0], [1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"Standardiser.transform: 1 non-finite"):
        s.transform(x)


def test_misuse():
    with pytest.raises(ValueError, match="unknown Standardiser mode"):
        Standardiser("minmax")
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardiser().transform(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="at least 2 samples"):
        Standardiser().fit(torch.zeros(1, 3))
    s = Standardiser().fit(torch.randn(4, 3, generator=_gen()))
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(3,\), got \(2,\)"):
        s.transform(torch.zeros(5, 2))
    with pytest.raises(ValueError, match="map_value needs mode='global'"):
        s.map_value(0.0)
