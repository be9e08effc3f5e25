"""TMC: Dirichlet opinions, the reduced Dempster-Shafer rule, and the evidential loss."""
import pytest
import torch
from torch import nn

from udml.config import ModelConfig
from udml.data.dataset import Batch, MultimodalData
from udml.models.dirichlet import (alpha_from_opinion, annealing_coefficient, ds_combine,
                                   ds_combine_all, expected_cross_entropy, kl_to_uniform, opinion,
                                   remove_true_evidence)
from udml.models.tmc import TMC
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
    return TMC({k: Tiny(DIMS[k], 6) for k in names}, C, ModelConfig(method="tmc", **cfg))


def inputs(names, B=4):
    g = torch.Generator().manual_seed(1)
    return {k: torch.randn(B, DIMS[k], generator=g) for k in names}


def batch(x, y):
    B = y.shape[0]
    return Batch(x, y, torch.arange(B), {k: torch.ones(B, dtype=torch.long) for k in x})


def random_alpha(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) * 5 + 1


# -- the combination rule ------------------------------------------------------------------

def test_opinion_by_hand():
    # e = [2, 0]: alpha = [3, 1], S = 4, b = [2/4, 0], u = 2/4; b sums with u to 1
    b, u = opinion(torch.tensor([[3.0, 1.0]]))
    torch.testing.assert_close(b, torch.tensor([[0.5, 0.0]]))
    torch.testing.assert_close(u, torch.tensor([0.5]))
    torch.testing.assert_close(alpha_from_opinion(b, u), torch.tensor([[3.0, 1.0]]))


def test_ds_combine_by_hand():
    # e1 = [2, 0] -> alpha1 = [3, 1], S1 = 4, b1 = [1/2, 0],   u1 = 1/2
    # e2 = [1, 1] -> alpha2 = [2, 2], S2 = 4, b2 = [1/4, 1/4], u2 = 1/2
    # K = b1_0 b2_1 + b1_1 b2_0 = 1/8, 1 - K = 7/8
    # b_0 = (1/8 + 1/4 + 1/8) / (7/8) = 4/7, b_1 = (0 + 0 + 1/8) / (7/8) = 1/7,
    # u = (1/4) / (7/8) = 2/7
    # S = C / u = 7, e = b S = [4, 1], alpha = [5, 2]
    alpha = ds_combine(torch.tensor([[3.0, 1.0]]), torch.tensor([[2.0, 2.0]]))
    torch.testing.assert_close(alpha, torch.tensor([[5.0, 2.0]]))
    b, u = opinion(alpha)
    torch.testing.assert_close(b, torch.tensor([[4 / 7, 1 / 7]]))
    torch.testing.assert_close(u, torch.tensor([2 / 7]))


def test_ds_combine_by_hand_unequal_uncertainties():
    # e1 = [2, 0] -> alpha1 = [3, 1], S1 = 4, b1 = [1/2, 0], u1 = 1/2
    # e2 = [1, 0] -> alpha2 = [2, 1], S2 = 3, b2 = [1/3, 0], u2 = 2/3
    # K = 0; b_0 = 1/2 * 1/3 + 1/2 * 2/3 + 1/3 * 1/2 = 2/3, b_1 = 0, u = 1/2 * 2/3 = 1/3
    # S = 2 / (1/3) = 6, e = [4, 0], alpha = [5, 1]
    alpha = ds_combine(torch.tensor([[3.0, 1.0]]), torch.tensor([[2.0, 1.0]]))
    torch.testing.assert_close(alpha, torch.tensor([[5.0, 1.0]]))


def test_vacuous_opinion_is_neutral():
    a = random_alpha(5, 4)
    vacuous = torch.ones(5, 4)  # e = 0, u = 1
    torch.testing.assert_close(ds_combine(a, vacuous), a)
    torch.testing.assert_close(ds_combine(vacuous, a), a)


def test_commutative_and_associative():
    a1, a2, a3 = random_alpha(6, 3, seed=1), random_alpha(6, 3, seed=2), random_alpha(6, 3, seed=3)
    torch.testing.assert_close(ds_combine(a1, a2), ds_combine(a2, a1))
    torch.testing.assert_close(ds_combine(ds_combine(a1, a2), a3),
                               ds_combine(a1, ds_combine(a2, a3)))
    b, u = opinion(ds_combine(a1, a2))
    torch.testing.assert_close(b.sum(-1) + u, torch.ones(6))  # still a valid opinion


def test_combining_agreeing_evidence_lowers_uncertainty():
    a = torch.tensor([[4.0, 1.0, 1.0]])
    _, u1 = opinion(a)
    _, u = opinion(ds_combine(a, a))
    assert u.item() < u1.item()


def test_ds_combine_errors():
    with pytest.raises(ValueError, match="same shape"):
        ds_combine(torch.ones(2, 3), torch.ones(2, 4))
    with pytest.raises(ValueError, match=">= 1"):
        ds_combine(torch.full((2, 3), 0.5), torch.ones(2, 3))
    with pytest.raises(ValueError, match="class dimension"):
        ds_combine(torch.ones(2, 1), torch.ones(2, 1))
    with pytest.raises(ValueError, match="at least one"):
        ds_combine_all([])


# -- the evidential loss -------------------------------------------------------------------

def test_expected_cross_entropy_by_hand():
    # alpha = [3, 1], y = 0: digamma(4) - digamma(3) = 1/3 (digamma(n + 1) = digamma(n) + 1/n)
    # y = 1: digamma(4) - digamma(1) = 1 + 1/2 + 1/3
    alpha = torch.tensor([[3.0, 1.0], [3.0, 1.0]])
    torch.testing.assert_close(expected_cross_entropy(alpha, torch.tensor([0, 1])),
                               torch.tensor([1 / 3, 1 + 1 / 2 + 1 / 3]))


def test_kl_to_uniform():
    torch.testing.assert_close(kl_to_uniform(torch.ones(3, 5)), torch.zeros(3))
    # against torch.distributions, an independent implementation
    a = random_alpha(4, 3)
    ref = torch.distributions.kl_divergence(torch.distributions.Dirichlet(a),
                                            torch.distributions.Dirichlet(torch.ones(4, 3)))
    torch.testing.assert_close(kl_to_uniform(a), ref)
    assert (kl_to_uniform(a) > 0).all()


def test_remove_true_evidence_and_annealing():
    alpha = torch.tensor([[3.0, 2.0, 4.0]])
    torch.testing.assert_close(remove_true_evidence(alpha, torch.tensor([2])),
                               torch.tensor([[3.0, 2.0, 1.0]]))
    assert annealing_coefficient(0, 10) == 0.0
    assert annealing_coefficient(5, 10) == 0.5
    assert annealing_coefficient(20, 10) == 1.0
    assert annealing_coefficient(0, 0) == 1.0
    with pytest.raises(ValueError, match="epoch"):
        annealing_coefficient(-1, 10)


# -- the model -----------------------------------------------------------------------------

@pytest.mark.parametrize("names", [["b", "a"], ["c", "b", "a"]])
def test_shapes_and_sorted_fold(names):
    model = make(names)
    x = inputs(names)
    out = model(x)
    M = len(names)
    assert out.logits.shape == (4, 3) and out.weights is None
    views = out.extras["alpha_views"]  # (B, M, C)
    assert views.shape == (4, M, 3)
    for i, k in enumerate(sorted(names)):
        pi = model.classifiers.heads[k](model.encoders[k](x[k]))
        alpha_k = torch.nn.functional.softplus(pi) + 1
        torch.testing.assert_close(views[:, i], alpha_k)
        torch.testing.assert_close(out.unimodal_logits[k], alpha_k.log())
        torch.testing.assert_close(out.unreliability[k], 3 / alpha_k.sum(-1))  # u = C / S
    expected = views[:, 0]
    for i in range(1, M):  # ((a + b) + c): sorted modality order
        expected = ds_combine(expected, views[:, i])
    torch.testing.assert_close(out.extras["alpha"], expected)
    torch.testing.assert_close(out.logits, expected.log())
    # softmax of the logits is the Dirichlet mean alpha / S
    torch.testing.assert_close(out.logits.softmax(-1), expected / expected.sum(-1, keepdim=True))


def test_loss_value_gradients_and_annealing():
    names = ["a", "b", "c"]
    model = make(names, tmc_anneal_epochs=4, gamma=100.0)  # gamma must not matter
    x, y = inputs(names), torch.tensor([0, 1, 2, 1])
    out = model(x)
    total, parts = model.loss(out, batch(x, y), epoch=1)
    assert set(parts) == {"ce", "unimodal", "kl"}
    opinions = [out.extras["alpha"]] + [out.extras["alpha_views"][:, i] for i in range(3)]
    ece = sum(expected_cross_entropy(a, y).mean() for a in opinions)
    kl = sum(kl_to_uniform(remove_true_evidence(a, y)).mean() for a in opinions)
    torch.testing.assert_close(total, ece + 0.25 * kl)  # lambda = 1 / 4
    assert total.item() == pytest.approx(parts["ce"] + parts["unimodal"] + 0.25 * parts["kl"],
                                         rel=1e-6)
    assert torch.isfinite(total)
    total.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    total0, _ = model.loss(model(x), batch(x, y), epoch=0)
    torch.testing.assert_close(total0, ece)  # no KL at epoch 0


def test_errors():
    names = ["a", "b"]
    with pytest.raises(ValueError, match="tmc_anneal_epochs"):
        make(names, tmc_anneal_epochs=-1)
    model = make(names)
    with pytest.raises(ValueError, match="extra"):
        model({**inputs(names), "z": torch.randn(4, 2)})
    x = inputs(names)
    with pytest.raises(ValueError, match="must lie in 0..2"):
        model.loss(model(x), batch(x, torch.tensor([0, 1, 3, 1])), 0)


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
    model = TMC({"a": Tiny(6, 16), "b": Tiny(10, 16)}, 4, ModelConfig(method="tmc",
                                                                      tmc_anneal_epochs=5))
    train, test = synthetic(400, g), synthetic(400, g)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(15):
        model.train()
        for b in train.batches(50, shuffle=True, generator=g):
            total, _ = model.loss(model(b.x), b, epoch)
            assert torch.isfinite(total)
            opt.zero_grad()
            total.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        out = model(test.x)
    acc = (out.logits.argmax(-1) == test.y).float().mean().item()
    assert acc > 0.7  # chance is 0.25
    # a trained model has gathered evidence: the fused opinion is more certain than vacuous
    _, u = opinion(out.extras["alpha"])
    assert u.mean().item() < 0.5
