"""The input checks every model's forward pass shares: each bad input is named before any
torch kernel sees it."""
import numpy as np
import pytest
import torch
from _fakes import Tiny

from udml.config import ModelConfig
from udml.models import build_model


def make(method="udml"):
    torch.manual_seed(0)
    return build_model({"m0": Tiny(3), "m1": Tiny(4)}, 4, ModelConfig(method=method, latent_dim=5))


def inputs(b=6):
    g = torch.Generator().manual_seed(1)
    x = {"m0": torch.randn(b, 3, generator=g), "m1": torch.randn(b, 4, generator=g)}
    lv = {k: torch.randint(1, 12, (b,), generator=g) for k in x}
    return x, lv


@pytest.mark.parametrize("cast, exc, msg", [
    (lambda v: v.double(), TypeError,
     "modality 'm0' has dtype torch.float64, the model computes in torch.float32"),
    (lambda v: v.half(), TypeError, "dtype torch.float16"),
    (lambda v: v.long(), TypeError, "dtype torch.int64"),
    (lambda v: v.numpy(), TypeError, "modality 'm0' must be a torch.Tensor, got numpy.ndarray"),
    (lambda v: v.tolist(), TypeError, "got list"),
])
def test_input_types_are_named(cast, exc, msg):
    model = make()
    x, lv = inputs()
    with pytest.raises(exc, match=msg):
        model({**x, "m0": cast(x["m0"])}, lv)


@pytest.mark.parametrize("levels, exc, msg", [
    ({"m0": 3, "m1": 1}, TypeError, "levels\\['m0'\\] must be a tensor.*got int"),
    (lambda lv: {**lv, "m9": lv["m0"]}, ValueError, "extra \\['m9'\\]"),
    (lambda lv: {**lv, "m0": lv["m0"].float()}, ValueError, "integers"),
    (lambda lv: {**lv, "m0": lv["m0"].numpy()}, TypeError, "numpy.ndarray"),
    ([1, 2], TypeError, "levels must be a dict"),
    (lambda lv: {**lv, "m0": lv["m0"][:, None]}, ValueError, "shape"),
])
def test_level_errors_are_named(levels, exc, msg):
    model = make()
    x, lv = inputs()
    levels = levels(lv) if callable(levels) else levels
    with pytest.raises(exc, match=msg):
        model(x, levels)


def test_numpy_levels_are_refused_for_every_method():
    x, lv = inputs()
    for method in ("static", "late", "qmf", "tmc", "pe", "naive", "oracle"):
        with pytest.raises(TypeError, match="numpy"):
            make(method)(x, {**lv, "m1": np.ones(6, dtype=np.int64)})


@pytest.mark.parametrize("method", ["static", "udml", "late", "qmf", "tmc"])
@pytest.mark.parametrize("labels, msg", [
    ([0, 1, 2, 3, 4, 0], r"labels given to the loss must lie in 0\.\.3 \(num_classes = 4\), "
                         r"got 0\.\.4"),
    ([0, 1, -1, 3, 2, 0], "labels given to the loss must be >= 0 class indices, got min -1"),
])
def test_labels_outside_the_classes_are_named_by_every_loss(method, labels, msg):
    from udml.data.dataset import Batch
    model = make(method).train()
    x, lv = inputs()
    out = model(x, lv)
    batch = Batch(x, torch.tensor(labels), torch.arange(6), lv)
    with pytest.raises(ValueError, match=msg):
        model.loss(out, batch, 0)
    fine = Batch(x, torch.tensor([0, 1, 2, 3, 0, 1]), torch.arange(6), lv)
    assert torch.isfinite(model.loss(out, fine, 0)[0])  # the check passes good labels through
