import pytest
import torch
from _fakes import killed_after_epoch

from udml.config import ModelConfig, TrainConfig
from udml.corrupt import NoiseSpec
from udml.data import load_dataset
from udml.training.evaluate import evaluate
from udml.training.loop import fit, resolve_device

SPECS = {"fou": NoiseSpec("gaussian", 2.0), "pix": NoiseSpec("gaussian", 4.0)}


@pytest.fixture(scope="module")
def mfeat():
    """mfeat with 60 training digits per class (600, a third of the default split's): every
    method still learns well above chance in a few epochs, at a fraction of the time."""
    return load_dataset("mfeat", seed=0, val_fraction=0.1, test_fraction=0.6)


def quick(method, seed=0, epochs=4, **model_kw):
    return ModelConfig(method=method, **model_kw), TrainConfig(epochs=epochs, seed=seed,
                                                               progress=False)


def test_history_follows_the_schedule(mfeat):
    model, hist = fit(mfeat, *quick("udml", epochs=5), specs=SPECS)
    assert [h["noisy"] for h in hist] == [False, False, True, True, True]
    assert [h["use_uncertainty"] for h in hist] == [False, False, False, True, True]
    assert all("dependency" in h and "loss_estimator" in h for h in hist)
    assert hist[-1]["val_acc_clean"] > 0.5


def test_same_seed_same_metrics(mfeat):
    runs = []
    for _ in range(2):
        model, hist = fit(mfeat, *quick("udml", seed=3, epochs=3), specs=SPECS)
        rep = evaluate(model, mfeat.test, SPECS, 11, ["clean", "random"], seed=3)
        runs.append((hist, rep))
    def strip(h):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in h]
    assert strip(runs[0][0]) == strip(runs[1][0])
    assert runs[0][1] == runs[1][1]
    _, other = fit(mfeat, *quick("udml", seed=4, epochs=3), specs=SPECS)
    assert strip(other) != strip(runs[0][0])


def test_non_finite_loss_stops_training(mfeat, monkeypatch):
    from udml.models.dynamic import WeightedFusion
    real = WeightedFusion.loss

    def nan_loss(self, out, batch, epoch):
        total, parts = real(self, out, batch, epoch)
        return total * float("nan"), parts
    monkeypatch.setattr(WeightedFusion, "loss", nan_loss)
    with pytest.raises(FloatingPointError, match="non-finite loss .* epoch 0, step 0"):
        fit(mfeat, *quick("static", epochs=1), specs=SPECS)


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA"):
            resolve_device("cuda")


@pytest.mark.parametrize("method", ["static", "late", "pe", "naive", "udml", "oracle", "qmf", "tmc"])
def test_every_method_learns_mfeat_in_seconds(mfeat, method):
    model, _ = fit(mfeat, *quick(method, epochs=4), specs=SPECS)
    rep = evaluate(model, mfeat.test, SPECS, 11, ["clean"], seed=0)
    assert rep["protocols"]["clean"]["accuracy"] > 0.5  # chance is 0.1


def test_resume_continues_exactly(mfeat, tmp_path, monkeypatch):
    import udml.training.loop as T
    from udml.models.encoders import build_encoders
    from udml.models import build_model
    from udml.seed import seed_everything

    mcfg, tcfg = quick("udml", epochs=4)
    full_model, full = fit(mfeat, mcfg, tcfg, specs=SPECS)
    state = tmp_path / "state.pt"
    seed_everything(tcfg.seed)
    model = build_model(build_encoders(mfeat.shapes, mcfg), 10, mcfg)
    with killed_after_epoch(monkeypatch):
        T.train(model, mfeat, SPECS, tcfg, state)
    seed_everything(99)  # the resumed process starts from another RNG state
    model2 = build_model(build_encoders(mfeat.shapes, mcfg), 10, mcfg)
    hist = T.train(model2, mfeat, SPECS, tcfg, state)
    def strip(h):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in h]
    assert strip(hist) == strip(full)
    for a, b in zip(full_model.state_dict().values(), model2.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match="not a training state of a 'static'"):
        T.train(build_model(build_encoders(mfeat.shapes, mcfg), 10,
                            ModelConfig(method="static")), mfeat, SPECS, tcfg, state)
