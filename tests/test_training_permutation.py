import math

import pytest
import torch
from torch import nn

from udml.config import ModelConfig
from udml.corrupt import NoiseSpec
from udml.data.dataset import MultimodalData
from udml.models import build_model
from udml.training.evaluate import evaluate, report_rows
from udml.training.permutation import (PermutationResult, permutation_metrics, permutation_test,
                                       score_permutations)

C, L = 4, 5
SPECS = {m: NoiseSpec("gaussian", 20.0) for m in ("a", "b")}
PROTOCOLS = ["clean", "one:a@5", "all@3", "random@0.0"]


class Ident(nn.Module):
    """An encoder that passes its (C,) input through unchanged."""

    def __init__(self):
        super().__init__()
        self.in_shape, self.out_dim = (C,), C

    def forward(self, x):
        return x


def toy_split(n: int = 300, seed: int = 0) -> MultimodalData:
    """Two copies of the label, one-hot times 3 plus a little noise: each modality alone is
    enough while it is clean; the noise of the specs (scale 20 at the top level) destroys it."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, C, (n,), generator=g)
    x = {m: torch.eye(C)[y] * 3 + 0.3 * torch.randn(n, C, generator=g) for m in ("a", "b")}
    return MultimodalData(x, y)


def hand_built(method: str, **over):
    """A UDML-family model that needs no training: identity encoders and embeddings (mu = h,
    sigma = 1 for every sample), and a head that adds the modalities' w_m z_m and reads the class
    off it; so the weights alone decide how much a destroyed modality counts."""
    cfg = ModelConfig(method=method, latent_dim=C, fusion_head="sum", num_levels=L,
                      rescaling="multiplicative", use_dependency=False, **over)
    model = build_model({"a": Ident(), "b": Ident()}, C, cfg)
    with torch.no_grad():
        for head in model.prob_heads.values():
            head.mu.weight.copy_(torch.eye(C))
            head.mu.bias.zero_()
            head.logvar.weight.zero_()
            head.logvar.bias.zero_()
        model.head.fc.weight.copy_(torch.eye(C))
        model.head.fc.bias.zero_()
    return model.eval()


@pytest.fixture(scope="module")
def data():
    return toy_split()


def test_scores_that_decide_lose_accuracy_when_permuted(data):
    # the oracle reads the true level: a destroyed modality's weight is ~1/L^2 of a clean one's
    res = permutation_test(hand_built("oracle"), data, SPECS, L, PROTOCOLS, permutations=5)
    r = res["random@0.0"]
    assert len(r.permuted) == 5
    assert max(r.permuted) < r.accuracy - 0.1
    assert r.oracle is None  # its score is the level already: no separate control
    # under one:a@5 every example has the same levels: a permutation keeps which one is noisy
    assert res["one:a@5"].permuted == [res["one:a@5"].accuracy] * 5


def test_constant_weights_are_untouched_by_a_permutation_and_the_oracle_helps(data):
    # PE with sigma = 1 everywhere: the same weights for every example
    model = hand_built("pe")
    res = permutation_test(model, data, SPECS, L, PROTOCOLS, permutations=4)
    for label, r in res.items():
        assert r.permuted == [r.accuracy] * 4, label
    # the positive control: sigma's clean scale times the true level damps the noisy modality
    assert res["random@0.0"].oracle > res["random@0.0"].accuracy + 0.1
    assert res["clean"].oracle == res["clean"].accuracy


def test_the_accuracy_as_computed_is_evaluates_bit_for_bit(data):
    torch.manual_seed(0)
    for method in ("pe", "naive", "udml", "oracle", "qmf", "tmc"):
        cfg = ModelConfig(method=method, latent_dim=8, num_levels=L)
        model = build_model({"a": Ident(), "b": Ident()}, C, cfg).eval()
        rep = evaluate(model, data, SPECS, L, PROTOCOLS, seed=3, batch_size=64)
        res = permutation_test(model, data, SPECS, L, PROTOCOLS, seed=3, permutations=2,
                               batch_size=64)
        for label in PROTOCOLS:
            assert res[label].accuracy == rep["protocols"][label]["accuracy"], (method, label)


@pytest.mark.parametrize("method", ["pe", "naive", "udml", "oracle", "qmf", "tmc"])
def test_fusing_with_the_models_own_scores_gives_its_output(data, method):
    torch.manual_seed(1)
    model = build_model({"a": Ident(), "b": Ident()}, C,
                        ModelConfig(method=method, latent_dim=8, num_levels=L)).eval()
    x = {m: v[:16] for m, v in data.x.items()}
    levels = {m: torch.randint(1, L + 1, (16,)) for m in ("a", "b")}
    with torch.no_grad():
        h = model.encode(x)
        out = model.fuse(h, levels)
        again = model.fuse_with_scores(h, out.extras["fusion_scores"])
        other = model.fuse_with_scores(h, out.extras["fusion_scores"].flip(0))
    assert torch.equal(again.logits, out.logits)
    assert not torch.equal(other.logits, out.logits)


def test_tmc_keeps_valid_opinions_with_given_evidence(data):
    from udml.models.dirichlet import opinion
    model = build_model({"a": Ident(), "b": Ident()}, C,
                        ModelConfig(method="tmc", num_levels=L)).eval()
    h = model.encode({m: v[:8] for m, v in data.x.items()})
    evidence = torch.tensor([[0.0, 5.0]] * 4 + [[40.0, 0.5]] * 4)
    with torch.no_grad():
        views = model.fuse_with_scores(h, evidence).extras["alpha_views"]  # (B, M, C)
    b, u = opinion(views)
    assert torch.allclose(b.sum(-1) + u, torch.ones_like(u))
    assert torch.allclose((views - 1).sum(-1), evidence)
    with pytest.raises(ValueError, match="total evidence must be >= 0"):
        model.fuse_with_scores(h, -evidence)


def test_seeded_permutations_reproduce(data):
    a, b = score_permutations(10, 3, seed=7), score_permutations(10, 3, seed=7)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    assert not torch.equal(a[0], score_permutations(10, 3, seed=8)[0])
    assert all(sorted(p.tolist()) == list(range(10)) for p in a)
    model = hand_built("oracle")
    first = permutation_test(model, data, SPECS, L, ["random"], seed=2, permutations=3)
    assert permutation_test(model, data, SPECS, L, ["random"], seed=2, permutations=3) == first


def test_metrics_and_rows():
    r = PermutationResult(0.9, [0.5, 0.7], 0.95)
    m = r.metrics()
    assert m["accuracy_permuted"] == pytest.approx(0.6)
    assert m["accuracy_permuted_std"] == pytest.approx(math.sqrt(0.02))
    assert m["accuracy_oracle"] == 0.95
    one = PermutationResult(0.9, [0.5], None).metrics()
    assert math.isnan(one["accuracy_permuted_std"]) and "accuracy_oracle" not in one
    report = {"protocols": {"one:a@3": {"accuracy": 0.9, "unimodal": {}}},
              "permutation": permutation_metrics({"one:a@3": r})}
    rows = {r["metric"]: r for r in report_rows(report, "gaussian")}
    assert rows["accuracy_permuted"]["value"] == pytest.approx(0.6)
    assert rows["accuracy_oracle"]["protocol"] == "one:a@3"
    assert rows["accuracy_oracle"]["level"] == 3 and rows["accuracy_oracle"]["kind"] == "gaussian"


@pytest.mark.parametrize("method", ["static", "late"])
def test_a_method_without_scores_has_no_test(data, method):
    model = build_model({"a": Ident(), "b": Ident()}, C, ModelConfig(method=method, num_levels=L))
    with pytest.raises(ValueError, match="reads no per-sample score"):
        permutation_test(model, data, SPECS, L, ["clean"])
    with pytest.raises(ValueError, match="fuses without per-sample scores"):
        model.fuse_with_scores(model.encode(data.x), torch.ones(len(data), 2))


def test_bad_input_is_named(data):
    model = hand_built("oracle")
    with pytest.raises(ValueError, match="permutations must be >= 1, got 0"):
        permutation_test(model, data, SPECS, L, ["clean"], permutations=0)
    with pytest.raises(TypeError, match="permutations must be an int"):
        permutation_test(model, data, SPECS, L, ["clean"], permutations=2.0)
    with pytest.raises(ValueError, match="num_levels 11 does not match"):
        permutation_test(model, data, SPECS, 11, ["clean"])
    with pytest.raises(ValueError, match="level 6 is above the top level"):
        permutation_test(model, data, SPECS, L, ["clean", "all@6"])
    h = model.encode({m: v[:4] for m, v in data.x.items()})
    with pytest.raises(ValueError, match=r"scores must have shape \(4, 2\)"):
        model.fuse_with_scores(h, torch.ones(4, 3))
    with pytest.raises(ValueError, match="finite"):
        model.fuse_with_scores(h, torch.full((4, 2), math.nan))
    qmf = build_model({"a": Ident(), "b": Ident()}, C, ModelConfig(method="qmf", num_levels=L))
    with pytest.raises(ValueError, match="positive mean clean confidences"):
        qmf.oracle_scores(torch.ones(4, 2), torch.tensor([1.0, -0.5]))
