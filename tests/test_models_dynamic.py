import pytest
import torch
from _fakes import Tiny

from udml.config import ModelConfig
from udml.data.dataset import Batch
from udml.models import build_model
from udml.models.dynamic import ROBUST, WeightedFusion


def make(method, m=2, **kw):
    torch.manual_seed(0)
    enc = {f"m{i}": Tiny(3 + i) for i in range(m)}
    return build_model(enc, 4, ModelConfig(method=method, latent_dim=5, **kw))


def inputs(m=2, b=6):
    g = torch.Generator().manual_seed(1)
    x = {f"m{i}": torch.randn(b, 3 + i, generator=g) for i in range(m)}
    lv = {f"m{i}": torch.randint(1, 12, (b,), generator=g) for i in range(m)}
    return x, lv


@pytest.mark.parametrize("method", ["static", "pe", "naive", "udml", "oracle"])
@pytest.mark.parametrize("m", [2, 3])
def test_output_structure(method, m):
    model = make(method, m)
    x, lv = inputs(m)
    out = model(x, lv)
    assert isinstance(model, WeightedFusion)
    assert out.logits.shape == (6, 4)
    assert sorted(out.unimodal_logits) == [f"m{i}" for i in range(m)]
    if method == "static":
        assert out.weights is None
    else:
        assert out.weights.shape == (6, m)
        torch.testing.assert_close(out.weights.sum(1), torch.full((6,), float(m)))
    assert (len(out.s_hat) == m) == (method in ("naive", "udml"))
    batch = Batch(x, torch.randint(0, 4, (6,)), torch.arange(6), lv)
    loss, parts = model.loss(out, batch, 0)
    loss.backward()
    assert torch.isfinite(loss) and "ce" in parts and "unimodal" in parts


def test_uncertainty_off_means_s_equals_one():
    model = make("naive")
    model.use_uncertainty = False
    x, lv = inputs()
    out = model(x, lv)
    torch.testing.assert_close(out.weights, torch.ones(6, 2))


def test_oracle_uses_true_levels():
    model = make("oracle").eval()
    x, _ = inputs()
    lv = {"m0": torch.ones(6, dtype=torch.long), "m1": torch.full((6,), 11)}
    out = model(x, lv)
    assert (out.weights[:, 0] > out.weights[:, 1]).all()
    with pytest.raises(ValueError, match="true noise levels"):
        model(x)


def test_dependency_updates_only_in_training_for_udml():
    model = make("udml")
    x, lv = inputs()
    model.eval()
    model(x, lv)
    assert int(model.dependency.updates) == 0
    model.train()
    model(x, lv)
    assert int(model.dependency.updates) == 1
    static = make("static")
    static.train()
    static(x, lv)
    assert int(static.dependency.updates) == 0
    tracked = make("static", track_dependency=True).train()
    tracked(x, lv)
    assert int(tracked.dependency.updates) == 1


def test_unimodal_logits_drop_the_other_modalities():
    model = make("static").eval()
    x, _ = inputs()
    out = model(x)
    x2 = dict(x, m1=torch.randn(6, 4))
    out2 = model(x2)
    torch.testing.assert_close(out.unimodal_logits["m0"], out2.unimodal_logits["m0"])
    assert not torch.allclose(out.logits, out2.logits)


@pytest.mark.parametrize("bad,msg", [
    (lambda x: {"m0": x["m0"]}, "missing \\['m1'\\]"),
    (lambda x: {**x, "m9": x["m0"]}, "extra \\['m9'\\]"),
    (lambda x: {**x, "m1": x["m1"][:3]}, "disagree on batch size"),
    (lambda x: {**x, "m0": x["m0"].clone().fill_(float("nan"))}, "NaN or Inf"),
    (lambda x: {"m0": x["m0"][:0], "m1": x["m1"][:0]}, "empty batch"),
    (lambda x: {**x, "m0": torch.randn(6, 7)}, "sample shape"),
])
def test_bad_inputs(bad, msg):
    model = make("udml")
    x, _ = inputs()
    with pytest.raises(ValueError, match=msg):
        model(bad(x))


def test_bad_levels():
    model = make("udml")
    x, lv = inputs()
    with pytest.raises(ValueError, match="must lie in 1..11"):
        model(x, {**lv, "m0": torch.zeros(6, dtype=torch.long)})
    with pytest.raises(ValueError, match="levels are missing"):
        model(x, {"m0": lv["m0"]})


def test_constructor_errors():
    with pytest.raises(ValueError, match="at least 2 modalities"):
        build_model({"a": Tiny(3)}, 4, ModelConfig())
    with pytest.raises(ValueError, match="unknown method"):
        ModelConfig(method="magic")


def test_ablation_overrides():
    x, lv = inputs()
    pe_dep = make("udml", weights_source="pe")
    assert pe_dep.estimators is None and pe_dep.uses_dependency
    no_dep = make("udml", use_dependency=False)
    assert no_dep.estimators is not None and not no_dep.uses_dependency
    with pytest.raises(ValueError, match="static fusion has no weights"):
        make("static", weights_source="pe")
    mult = make("udml", rescaling="multiplicative").eval()
    res = make("udml").eval()
    a, b = mult(x, lv), res(x, lv)
    torch.testing.assert_close(a.weights, b.weights)   # same parameters, same weights ...
    assert not torch.allclose(a.logits, b.logits)      # ... fed differently to the head


@pytest.mark.parametrize("reads", ["embedding", "features"])
def test_estimator_reading_more_than_sigma(reads):
    """The embedding / encoder features reach g_m with the gradient stopped: s_hat's loss moves
    the estimator, never the encoder."""
    model = make("udml", estimator_input=reads).train()
    model.use_uncertainty = True
    x, lv = inputs()
    out = model(x, lv)
    sum(s.sum() for s in out.s_hat.values()).backward()
    assert all(p.grad is None for p in model.encoders.parameters())
    assert all(p.grad is not None for p in model.estimators.parameters())


class Clean:
    """A training split of one batch of clean inputs, as `fit_inputs` reads it."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def batches(self, batch_size):
        yield Batch(self.x, self.y, torch.arange(len(self.y)),
                    {k: torch.ones_like(self.y) for k in self.x})


@pytest.mark.parametrize("reads", ["typicality", "embedding_typicality"])
def test_estimator_reading_the_typicality(reads):
    """z_m rides with the features from `encode` to `fuse`, reaches g_m with the gradient
    stopped, and must be fitted first; the score-swapping path reads it too."""
    model = make("udml", estimator_input=reads)
    x, lv = inputs(b=40)
    y = torch.arange(40) % 4
    with pytest.raises(RuntimeError, match="not fitted"):
        model(x, lv)
    model.fit_inputs(Clean(x, y))
    assert model.encode(x)["m0"].shape == (40, 8 + 1)
    model.train().use_uncertainty = True
    out = model(x, lv)
    sum(s.sum() for s in out.s_hat.values()).backward()
    assert all(p.grad is None for p in model.encoders.parameters())
    assert all(p.grad is not None for p in model.estimators.parameters())
    model.eval()
    h, scores = model.encode(x), model(x).extras["fusion_scores"]
    torch.testing.assert_close(model.fuse_with_scores(h, scores).logits, model.fuse(h, None).logits)


def test_udml_r_is_udml_with_its_own_estimator_input_beta_and_plain_rescaling():
    robust, udml = make("udml-r").eval(), make("udml").eval()
    assert robust.config.rescaling == "multiplicative" and robust.uses_dependency
    assert robust.config.beta == 1.0 and udml.config.beta == ModelConfig.beta
    assert robust.estimators["m0"].reads == ROBUST["estimator_input"] != "sigma"
    assert udml.config.rescaling == "residual" and udml.estimators["m0"].reads == "sigma"
    x, lv = inputs()
    out = robust(x, lv)
    assert out.weights.shape == (6, 2)
    with pytest.raises(ValueError, match="udml-r fixes its own beta"):
        make("udml-r", beta=0.5)
    stored = {k: v for k, v in robust.config.__dict__.items() if k not in ("method", "latent_dim")}
    assert make("udml-r", **stored).config == robust.config  # a checkpoint's config reloads
    with pytest.raises(ValueError, match="udml-r fixes its own estimator_input"):
        make("udml-r", estimator_input="features")
