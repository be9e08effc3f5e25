"""The data containers check what they are given: tensors (not numpy arrays), floating-point
features, (N,) integer labels within 0..C-1."""
import numpy as np
import pytest
import torch

from udml.data.dataset import MultimodalData, MultimodalSplits


def data(n=8, **over):
    g = torch.Generator().manual_seed(0)
    parts = {"x": {"a": torch.randn(n, 3, generator=g), "b": torch.randn(n, 2, generator=g)},
             "y": torch.arange(n) % 4}
    parts.update(over)
    return parts


def test_good_data_is_accepted():
    d = MultimodalData(**data())
    assert len(d) == 8 and d.y.dtype == torch.long


@pytest.mark.parametrize("over, exc, msg", [
    ({"x": {"a": np.zeros((8, 3), np.float32)}}, TypeError,
     "modality 'a' must be a torch.Tensor, got numpy.ndarray.*torch.from_numpy"),
    ({"y": np.arange(8)}, TypeError, "labels must be a torch.Tensor, got numpy.ndarray"),
    ({"x": {"a": torch.zeros(8, 3, dtype=torch.long)}}, TypeError, "floating-point"),
    ({"y": torch.arange(8).float()}, TypeError, "labels must be integer class indices"),
    ({"y": torch.ones(8, dtype=torch.bool)}, TypeError, "labels must be integer class indices"),
    ({"y": (torch.arange(8) % 4)[:, None]}, ValueError, "labels must have shape \\(N,\\), got \\(8, 1\\)"),
    ({"y": torch.arange(8) - 1}, ValueError, "labels must be >= 0"),
    ({"x": "pixels"}, TypeError, "x must be a dict"),
])
def test_bad_data_is_named(over, exc, msg):
    with pytest.raises(exc, match=msg):
        MultimodalData(**data(**over))


def test_int32_labels_become_long():
    d = MultimodalData(**data(y=(torch.arange(8) % 4).int()))
    assert d.y.dtype == torch.long


def test_splits_check_the_label_range():
    ok = MultimodalData(**data())
    MultimodalSplits(ok, ok, ok, 4, "toy")
    with pytest.raises(ValueError, match="train labels must lie in 0..2 .num_classes = 3., got 0..3"):
        MultimodalSplits(ok, ok, ok, 3, "toy")
    other = MultimodalData(**data(x={"a": torch.randn(8, 3), "c": torch.randn(8, 2)}))
    with pytest.raises(ValueError, match="modalities"):
        MultimodalSplits(ok, other, ok, 4, "toy")
