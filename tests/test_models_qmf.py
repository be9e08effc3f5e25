"""QMF: energy confidences (detached in the fusion), loss history and its ranking regulariser."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from udml.config import ModelConfig
from udml.data.dataset import Batch, MultimodalData
from udml.models.qmf import QMF, energy_confidence, pair_targets, rank_loss
from udml.seed import seed_everything


class Tiny(nn.Module):
    """A linear encoder with the ``out_dim`` attribute the models need."""

    def __init__(self, d_in: int, out_dim: int):
        super().__init__()
        self.out_dim = out_dim
        self.lin = nn.Linear(d_in, out_dim)

    def forward(self, x):
        return self.lin(x)


DIMS = {"b": 3, "a": 5, "c": 4}


def make(names, C=3, **cfg):
    torch.manual_seed(0)
    return QMF({k: Tiny(DIMS[k], 6) for k in names}, C, ModelConfig(method="qmf", **cfg))


def inputs(names, B=4):
    g = torch.Generator().manual_seed(1)
    return {k: torch.randn(B, DIMS[k], generator=g) for k in names}


def batch(x, y, index=None):
    B = y.shape[0]
    index = torch.arange(B) if index is None else index
    return Batch(x, y, index, {k: torch.ones(B, dtype=torch.long) for k in x})


def test_energy_confidence_by_hand():
    # logsumexp([0, 0]) = log 2; logsumexp([log 3, 0]) = log(3 + 1) = log 4; divided by T = 10
    logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])
    torch.testing.assert_close(energy_confidence(logits, 10.0),
                               torch.tensor([math.log(2.0) / 10, math.log(4.0) / 10]))


@pytest.mark.parametrize("names", [["b", "a"], ["b", "a", "c"]])
def test_shapes_weights_unreliability(names):
    model = make(names)
    out = model(inputs(names))
    M = len(names)
    assert out.logits.shape == (4, 3) and out.weights.shape == (4, M)
    assert out.extras["confidence"].shape == (4, M)
    for i, k in enumerate(sorted(names)):
        c = energy_confidence(out.unimodal_logits[k], 10.0)
        torch.testing.assert_close(out.weights[:, i], c)
        torch.testing.assert_close(out.unreliability[k], -c)  # higher = noisier
    fused = sum(out.weights[:, i:i + 1] * out.unimodal_logits[k]
                for i, k in enumerate(sorted(names)))
    torch.testing.assert_close(out.logits, fused)


def test_weights_are_detached_in_the_fusion_but_confidence_has_gradient():
    names = ["a", "b"]
    out = make(names)(inputs(names))
    assert not out.weights.requires_grad
    assert out.extras["confidence"].requires_grad
    # d(sum pi)/d(pi_m) is exactly c_m: no gradient flows through the confidence into pi
    grads = torch.autograd.grad(out.logits.sum(), [out.unimodal_logits[k] for k in names])
    for i, gr in enumerate(grads):
        torch.testing.assert_close(gr, out.weights[:, i:i + 1].expand(-1, 3))


def test_pair_targets_by_hand():
    hist = torch.tensor([0.5, 0.2, 0.9, 0.5])
    known = torch.tensor([True, True, True, True])
    pairs, target = pair_targets(hist, known)
    # (0,1): sign(0.2-0.5) = -1, (0,2): +1, (0,3): tie -> dropped, (1,2): +1, (1,3): +1, (2,3): -1
    assert pairs.tolist() == [[0, 1], [0, 2], [1, 2], [1, 3], [2, 3]]
    assert target.tolist() == [-1.0, 1.0, 1.0, 1.0, -1.0]
    pairs, target = pair_targets(hist, torch.tensor([True, False, True, False]))
    assert pairs.tolist() == [[0, 2]] and target.tolist() == [1.0]


def test_rank_loss_by_hand_and_gradient():
    conf = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
    pairs = torch.tensor([[0, 1], [0, 2], [1, 2]])
    target = torch.tensor([-1.0, 1.0, 1.0])
    # max(0, -t (c_i - c_j)): (0,1): max(0, 0 - 1) = 0; (0,2): max(0, 0 - (-2)) = 2;
    # (1,2): max(0, -(1 - 2)) = 1; mean = 1
    loss = rank_loss(conf, pairs, target)
    assert loss.item() == pytest.approx(1.0)
    loss.backward()
    # d/dc of (2 + 1)/3 with terms -(c0 - c2) and -(c1 - c2): [-1, -1, +2] / 3
    torch.testing.assert_close(conf.grad, torch.tensor([-1.0, -1.0, 2.0]) / 3)
    assert rank_loss(conf, torch.zeros(0, 2, dtype=torch.long), torch.zeros(0)).item() == 0.0


def test_history_running_mean_and_growth():
    model = make(["a", "b"])
    assert model.history.shape == (0, 2)
    model.update_history(torch.tensor([2, 0]), torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert model.history.shape[0] >= 3
    torch.testing.assert_close(model.history[[0, 2]], torch.tensor([[3.0, 4.0], [1.0, 2.0]]))
    assert model.history_count[[0, 1, 2]].tolist() == [[1, 1], [0, 0], [1, 1]]
    model.update_history(torch.tensor([2]), torch.tensor([[3.0, 0.0]]))  # mean of (1, 3), (2, 0)
    torch.testing.assert_close(model.history[2], torch.tensor([2.0, 1.0]))
    assert model.history_count[2].tolist() == [2, 2]
    model.update_history(torch.tensor([9]), torch.tensor([[1.0, 1.0]]))
    assert model.history.shape[0] >= 10
    torch.testing.assert_close(model.history[2], torch.tensor([2.0, 1.0]))  # kept on growth
    # training-only state: not saved, so checkpoints do not depend on the training-set size
    assert not any(k.startswith("history") for k in model.state_dict())


def test_first_epoch_has_no_rank_term_then_history_drives_it():
    names = ["a", "b"]
    model = make(names, qmf_rank_weight=1.0).train()
    x, y = inputs(names), torch.tensor([0, 1, 2, 1])
    out = model(x)
    total, parts = model.loss(out, batch(x, y), epoch=0)
    assert parts["rank"] == 0.0
    per_sample = torch.stack([F.cross_entropy(out.unimodal_logits[k], y, reduction="none")
                              for k in sorted(names)], dim=1)
    torch.testing.assert_close(model.history[:4], per_sample.detach())
    # plant a history that contradicts the confidences, so every pair is violated
    c = out.extras["confidence"].detach()
    model.history[:4] = c  # higher confidence <-> higher past loss: wrong order
    out = model(x)
    total, parts = model.loss(out, batch(x, y), epoch=1)
    assert parts["rank"] > 0
    expected = parts["ce"] + parts["unimodal"] + 1.0 * parts["rank"]
    assert total.item() == pytest.approx(expected, rel=1e-6)
    # the rank term reaches the parameters: different gradient with and without it
    total.backward()
    g_with = model.classifiers.heads["a"].weight.grad.clone()
    model.zero_grad()
    model.history[:4] = c
    model.history_count.zero_()  # no history: no rank term
    out = model(x)
    model.loss(out, batch(x, y), epoch=1)[0].backward()
    assert not torch.allclose(g_with, model.classifiers.heads["a"].weight.grad)


def test_eval_mode_leaves_history_alone():
    names = ["a", "b"]
    model = make(names).eval()
    x, y = inputs(names), torch.tensor([0, 1, 2, 1])
    _, parts = model.loss(model(x), batch(x, y, torch.tensor([100, 101, 102, 103])), 0)
    assert parts["rank"] == 0.0 and model.history.shape[0] == 0


def test_errors():
    names = ["a", "b"]
    with pytest.raises(ValueError, match="qmf_temperature"):
        make(names, qmf_temperature=0.0)
    with pytest.raises(ValueError, match="qmf_rank_weight"):
        make(names, qmf_rank_weight=-0.1)
    model = make(names).train()
    with pytest.raises(ValueError, match="missing"):
        model({"b": torch.randn(4, 3)})
    x, y = inputs(names), torch.tensor([0, 1, 2, 1])
    out = model(x)
    with pytest.raises(ValueError, match="repeated"):
        model.loss(out, batch(x, y, torch.tensor([0, 1, 1, 2])), 0)
    with pytest.raises(ValueError, match=">= 0"):
        model.loss(out, batch(x, y, torch.tensor([0, -1, 2, 3])), 0)
    with pytest.raises(ValueError, match="batch.index has shape"):
        model.loss(out, batch(x, y, torch.tensor([0, 1])), 0)


# -- behaviour: trains above chance on a tiny synthetic two-modality problem -----------------

def synthetic(n, generator, C=4):
    """Two modalities whose class means differ; each alone is informative but noisy."""
    y = torch.arange(n) % C
    means = {"a": torch.randn(C, 6, generator=torch.Generator().manual_seed(10)) * 1.5,
             "b": torch.randn(C, 10, generator=torch.Generator().manual_seed(11))}
    x = {k: m[y] + torch.randn(n, m.shape[1], generator=generator) for k, m in means.items()}
    return MultimodalData(x, y)


def test_trains_above_chance():
    g = seed_everything(0)
    model = QMF({"a": Tiny(6, 16), "b": Tiny(10, 16)}, 4, ModelConfig(method="qmf"))
    train, test = synthetic(400, g), synthetic(400, g)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    ranks = []
    for epoch in range(15):
        model.train()
        for b in train.batches(50, shuffle=True, generator=g):
            total, parts = model.loss(model(b.x), b, epoch)
            assert torch.isfinite(total)
            ranks.append(parts["rank"])
            opt.zero_grad()
            total.backward()
            opt.step()
    assert model.history_count[:400].eq(15).all()  # every sample seen once per epoch
    assert any(r > 0 for r in ranks)  # the regulariser was active after the first epoch
    model.eval()
    with torch.no_grad():
        acc = (model(test.x).logits.argmax(-1) == test.y).float().mean().item()
    assert acc > 0.7  # chance is 0.25
