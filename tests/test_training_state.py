"""Training states: a run resumes from its own state file bit-exactly (every method, QMF's loss
history included), and refuses, naming what differs, a state file made by another run."""
from dataclasses import replace

import pytest
import torch
from _fakes import killed_after_epoch

import udml.training.loop as T
from udml.config import ModelConfig, TrainConfig
from udml.corrupt import NoiseSpec
from udml.data import load_dataset
from udml.data.dataset import MultimodalSplits
from udml.models.encoders import build_encoders
from udml.models import build_model
from udml.seed import seed_everything

SPECS = {"m0": NoiseSpec("gaussian", 2.0), "m1": NoiseSpec("gaussian", 2.0)}


@pytest.fixture(scope="module")
def synth():
    return load_dataset("synthetic", seed=0)


def fresh(splits, mcfg, seed):
    seed_everything(seed)
    return build_model(build_encoders(splits.shapes, mcfg), splits.num_classes, mcfg)


def strip(h):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in h]


@pytest.mark.parametrize("method", ["static", "late", "pe", "naive", "udml", "oracle", "qmf", "tmc"])
def test_every_method_resumes_bit_exactly(synth, tmp_path, monkeypatch, method):
    mcfg = ModelConfig(method=method, hidden_dim=32, latent_dim=16)
    tcfg = TrainConfig(epochs=4, batch_size=256, progress=False)
    full_model = fresh(synth, mcfg, 0)
    full = T.train(full_model, synth, SPECS, tcfg)
    state = tmp_path / "state.pt"
    with killed_after_epoch(monkeypatch):
        T.train(fresh(synth, mcfg, 0), synth, SPECS, tcfg, state)
    resumed = fresh(synth, mcfg, 99)  # another process, another RNG state
    hist = T.train(resumed, synth, SPECS, tcfg, state)
    assert strip(hist) == strip(full)
    for (name, a), b in zip(full_model.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    if method == "qmf":
        torch.testing.assert_close(full_model.history, resumed.history, rtol=0, atol=0)


@pytest.fixture(scope="module")
def one_epoch_state(synth, tmp_path_factory):
    mcfg = ModelConfig(method="static", hidden_dim=32, latent_dim=16)
    tcfg = TrainConfig(epochs=2, batch_size=256, progress=False)
    path = tmp_path_factory.mktemp("state") / "state.pt"
    T.train(fresh(synth, mcfg, 0), synth, SPECS, tcfg, path)
    return path, mcfg, tcfg


@pytest.mark.parametrize("change, msg", [
    (lambda m, t: (m, replace(t, lr=0.01)), "train.lr: 0.001 in the state file, 0.01 now"),
    (lambda m, t: (m, replace(t, seed=1)), "train.seed"),
    (lambda m, t: (m, replace(t, epochs=3)), "train.epochs"),
    (lambda m, t: (replace(m, gamma=0.5), t), "model.gamma"),
])
def test_resume_refuses_another_config(synth, one_epoch_state, change, msg):
    path, mcfg, tcfg = one_epoch_state
    mcfg, tcfg = change(mcfg, tcfg)
    with pytest.raises(ValueError, match=f"was made by another run.*{msg}"):
        T.train(fresh(synth, mcfg, 0), synth, SPECS, tcfg, path)


def test_resume_refuses_another_data_split_or_noise(one_epoch_state):
    path, mcfg, tcfg = one_epoch_state
    other = load_dataset("synthetic", seed=1)
    with pytest.raises(ValueError, match="was made by another run.*data"):
        T.train(fresh(other, mcfg, 0), other, SPECS, tcfg, path)
    synth = load_dataset("synthetic", seed=0)
    louder = {**SPECS, "m1": NoiseSpec("gaussian", 3.0)}
    with pytest.raises(ValueError, match="was made by another run.*noise"):
        T.train(fresh(synth, mcfg, 0), synth, louder, tcfg, path)


def test_a_state_older_than_a_new_config_field_resumes(synth, one_epoch_state, tmp_path):
    """A field added to TrainConfig since the state was saved takes its default there (the old
    behaviour): the run resumes. Written with another value, it is another run."""
    path, mcfg, tcfg = one_epoch_state
    state = torch.load(path, weights_only=True)
    del state["made_from"]["train"]["validate_every"]
    old = tmp_path / "old.pt"
    torch.save(state, old)
    assert len(T.train(fresh(synth, mcfg, 0), synth, SPECS, tcfg, old)) == 2
    state["made_from"]["train"]["validate_every"] = 2
    torch.save(state, old)
    with pytest.raises(ValueError, match="train.validate_every: 2 in the state file, 1 now"):
        T.train(fresh(synth, mcfg, 0), synth, SPECS, tcfg, old)


def test_progress_may_change_on_resume(synth, one_epoch_state):
    path, mcfg, tcfg = one_epoch_state
    hist = T.train(fresh(synth, mcfg, 0), synth, SPECS, replace(tcfg, progress=True), path)
    assert len(hist) == 2


def test_truncated_or_foreign_state_files(synth, one_epoch_state, tmp_path):
    path, mcfg, tcfg = one_epoch_state
    bad = tmp_path / "trunc.pt"
    bad.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="not a readable training state"):
        T.train(fresh(synth, mcfg, 0), synth, SPECS, tcfg, bad)
    bad.write_bytes(b"")
    with pytest.raises(ValueError, match="not a readable training state"):
        T.train(fresh(synth, mcfg, 0), synth, SPECS, tcfg, bad)
    torch.save([1, 2], bad)
    with pytest.raises(ValueError, match="not a udml training state"):
        T.train(fresh(synth, mcfg, 0), synth, SPECS, tcfg, bad)


def test_empty_training_split_is_named(synth):
    empty = synth.train.subset(torch.arange(0))
    splits = MultimodalSplits(empty, synth.val, synth.test, synth.num_classes, "empty")
    mcfg = ModelConfig(method="static")
    with pytest.raises(ValueError, match="training split is empty"):
        T.train(fresh(synth, mcfg, 0), splits, SPECS, TrainConfig(epochs=1, progress=False))


def test_unwritable_state_path_stops_before_training(synth, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setattr(T, "corrupt_batch", lambda *a: pytest.fail("training started"))
    mcfg = ModelConfig(method="static")
    with pytest.raises(NotADirectoryError, match="state_path"):
        T.train(fresh(synth, mcfg, 0), synth, SPECS, TrainConfig(epochs=2, warmup=0.0,
                progress=False), tmp_path / "file" / "state.pt")
