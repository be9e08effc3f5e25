"""Late fusion: fused logits are the sum of the unimodal logits; loss = CE + gamma * sum_m CE."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from udml.config import ModelConfig
from udml.data.dataset import Batch, MultimodalData
from udml.models.late import LateFusion, UnimodalHeads
from udml.seed import seed_everything


class Tiny(nn.Module):
    """A linear encoder with the ``out_dim`` attribute the models need."""

    def __init__(self, d_in: int, out_dim: int):
        super().__init__()
        self.out_dim = out_dim
        self.lin = nn.Linear(d_in, out_dim)

    def forward(self, x):
        return self.lin(x)


DIMS = {"b": 3, "a": 5, "c": 4}  # deliberately unsorted


def make(names, gamma=1.0, C=3):
    torch.manual_seed(0)
    cfg = ModelConfig(method="late", gamma=gamma)
    return LateFusion({k: Tiny(DIMS[k], 6) for k in names}, C, cfg)


def inputs(names, B=4):
    g = torch.Generator().manual_seed(1)
    return {k: torch.randn(B, DIMS[k], generator=g) for k in names}


def batch(x, y):
    B = y.shape[0]
    return Batch(x, y, torch.arange(B), {k: torch.ones(B, dtype=torch.long) for k in x})


@pytest.mark.parametrize("names", [["b", "a"], ["b", "a", "c"]])
def test_shapes_and_sum(names):
    model = make(names)
    out = model(inputs(names))
    assert model.modalities == sorted(names)
    assert out.logits.shape == (4, 3)
    assert sorted(out.unimodal_logits) == sorted(names)
    for v in out.unimodal_logits.values():
        assert v.shape == (4, 3)
    torch.testing.assert_close(out.logits, sum(out.unimodal_logits.values()))
    assert out.unreliability == {} and out.weights is None


def test_unimodal_logits_are_each_classifier_on_its_own_features():
    model = make(["a", "b"])
    x = inputs(["a", "b"])
    out = model(x)
    lin = model.classifiers.heads["a"]
    torch.testing.assert_close(out.unimodal_logits["a"], lin(model.encoders["a"](x["a"])))


def test_loss_value_and_gradients():
    names = ["a", "b", "c"]
    model = make(names, gamma=2.5)
    x, y = inputs(names), torch.tensor([0, 1, 2, 1])
    out = model(x)
    total, parts = model.loss(out, batch(x, y), epoch=0)
    expected = F.cross_entropy(out.logits, y) + 2.5 * sum(
        F.cross_entropy(out.unimodal_logits[k], y) for k in names)
    torch.testing.assert_close(total, expected)
    assert set(parts) == {"ce", "unimodal"}
    assert parts["ce"] + 2.5 * parts["unimodal"] == pytest.approx(total.item(), rel=1e-6)
    total.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_levels_do_not_change_the_prediction():
    names = ["a", "b"]
    model = make(names).eval()
    x = inputs(names)
    lv = {k: torch.full((4,), 7, dtype=torch.long) for k in names}
    torch.testing.assert_close(model(x).logits, model(x, lv).logits)


def test_errors():
    names = ["a", "b"]
    model = make(names)
    with pytest.raises(ValueError, match="missing"):
        model({"a": torch.randn(4, 5)})
    with pytest.raises(ValueError, match="gamma"):
        LateFusion({k: Tiny(DIMS[k], 6) for k in names}, 3, ModelConfig(gamma=-1.0))
    x = inputs(names)
    out = model(x)
    with pytest.raises(ValueError, match="must lie in 0..2"):
        model.loss(out, batch(x, torch.tensor([0, 1, 2, 3])), 0)
    with pytest.raises(ValueError, match="labels have shape"):
        model.loss(out, batch(x, torch.tensor([0, 1])), 0)
    with pytest.raises(TypeError, match="integer class indices"):
        model.loss(out, batch(x, torch.tensor([0.0, 1.0, 1.0, 0.0])), 0)


def test_unimodal_heads_sorted():
    heads = UnimodalHeads({"z": 2, "a": 3}, 4)
    assert heads.modalities == ["a", "z"]
    out = heads({"a": torch.zeros(1, 3), "z": torch.zeros(1, 2)})
    assert out["a"].shape == (1, 4) and out["z"].shape == (1, 4)


# -- behaviour: trains above chance on a tiny synthetic two-modality problem -----------------

def synthetic(n, generator, C=4):
    """Two modalities whose class means differ; each alone is informative but noisy."""
    y = torch.arange(n) % C
    means = {"a": torch.randn(C, 6, generator=torch.Generator().manual_seed(10)) * 1.5,
             "b": torch.randn(C, 10, generator=torch.Generator().manual_seed(11))}
    x = {k: m[y] + torch.randn(n, m.shape[1], generator=generator) for k, m in means.items()}
    return MultimodalData(x, y)


def train_and_score(model, epochs=15):
    g = seed_everything(0)
    train, test = synthetic(400, g), synthetic(400, g)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(epochs):
        model.train()
        for b in train.batches(50, shuffle=True, generator=g):
            total, _ = model.loss(model(b.x), b, epoch)
            opt.zero_grad()
            total.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        return (model(test.x).logits.argmax(-1) == test.y).float().mean().item()


def test_trains_above_chance():
    seed_everything(0)
    model = LateFusion({"a": Tiny(6, 16), "b": Tiny(10, 16)}, 4, ModelConfig(method="late"))
    assert train_and_score(model) > 0.7  # chance is 0.25
