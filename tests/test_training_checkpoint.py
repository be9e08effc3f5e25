import pytest
import torch

from udml.training.checkpoint import load_checkpoint, save_checkpoint
from udml.config import ModelConfig, TrainConfig
from udml.corrupt import NoiseSpec
from udml.data import load_dataset
from udml.training.loop import fit

SPECS = {"fou": NoiseSpec("gaussian", 2.0), "pix": NoiseSpec("gaussian", 4.0)}


@pytest.fixture(scope="module")
def trained():
    splits = load_dataset("mfeat", seed=0)
    tcfg = TrainConfig(epochs=2, progress=False)
    model, _ = fit(splits, ModelConfig(method="udml", dependency_momentum=0.3), tcfg, SPECS)
    return splits, model, tcfg


def test_round_trip_is_exact(trained, tmp_path):
    splits, model, tcfg = trained
    path = save_checkpoint(tmp_path / "m.pt", model, splits.shapes, tcfg)
    loaded, ckpt = load_checkpoint(path)
    assert loaded.config == model.config
    assert ckpt["train_config"]["epochs"] == 2
    torch.testing.assert_close(loaded.dependency.value, model.dependency.value, rtol=0, atol=0)
    assert int(loaded.dependency.updates) == int(model.dependency.updates) > 0
    x = {k: v[:32] for k, v in splits.test.x.items()}
    model.eval()
    a, b = model(x), loaded(x)
    torch.testing.assert_close(a.logits, b.logits, rtol=0, atol=0)
    torch.testing.assert_close(a.weights, b.weights, rtol=0, atol=0)


def test_a_fitted_typicality_round_trips(tmp_path):
    """Training fits the typicality score on the clean training inputs; the checkpoint carries
    its statistics, whose shapes a fresh model learns from the file."""
    splits = load_dataset("mfeat", seed=0)
    tcfg = TrainConfig(epochs=1, progress=False)
    model, _ = fit(splits, ModelConfig(method="udml", estimator_input="typicality"), tcfg, SPECS)
    assert model.typicality["pix"].fitted
    loaded, _ = load_checkpoint(save_checkpoint(tmp_path / "t.pt", model, splits.shapes, tcfg))
    x = {k: v[:32] for k, v in splits.test.x.items()}
    torch.testing.assert_close(loaded(x).s_hat["pix"], model.eval()(x).s_hat["pix"], rtol=0, atol=0)


def test_incompatible_and_broken_checkpoints(trained, tmp_path):
    splits, model, _ = trained
    path = save_checkpoint(tmp_path / "m.pt", model, splits.shapes)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "none.pt")
    bad = tmp_path / "trunc.pt"
    bad.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load_checkpoint(bad)
    ckpt = torch.load(path, weights_only=True)
    torch.save({**ckpt, "version": 99}, tmp_path / "v.pt")
    with pytest.raises(ValueError, match="version 99"):
        load_checkpoint(tmp_path / "v.pt")
    torch.save({"state_dict": {}}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not a udml checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    shapes = dict(ckpt["shapes"], fou=[77])
    torch.save({**ckpt, "shapes": shapes}, tmp_path / "shape.pt")
    with pytest.raises(ValueError, match="does not fit the model"):
        load_checkpoint(tmp_path / "shape.pt")
    from udml.models.encoders import build_encoders
    with pytest.raises(ValueError, match="do not match the encoders"):
        load_checkpoint(path, encoders=build_encoders({"fou": (76,), "kar": (64,)}, model.config))


def test_forward_flags_round_trip(trained, tmp_path):
    splits, model, tcfg = trained
    x = {k: v[:64] for k, v in splits.test.x.items()}
    model.eval()
    outs = {}
    for flag in (False, True):
        model.use_uncertainty = flag
        outs[flag] = model(x).weights
        loaded, _ = load_checkpoint(save_checkpoint(tmp_path / f"{flag}.pt", model, splits.shapes))
        assert loaded.use_uncertainty is flag
        torch.testing.assert_close(loaded(x).weights, outs[flag], rtol=0, atol=0)
    assert not torch.equal(outs[False], outs[True])  # the flag matters, so the test can fail


def test_bad_checkpoint_paths_leave_nothing(trained, tmp_path):
    splits, model, _ = trained
    with pytest.raises(IsADirectoryError):
        save_checkpoint(tmp_path, model, splits.shapes)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        save_checkpoint(tmp_path / "file" / "m.pt", model, splits.shapes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_checkpoint_missing_flags_is_named(trained, tmp_path):
    splits, model, _ = trained
    path = save_checkpoint(tmp_path / "m.pt", model, splits.shapes)
    ckpt = torch.load(path, weights_only=True)
    del ckpt["forward_flags"]
    torch.save(ckpt, tmp_path / "old.pt")
    with pytest.raises(ValueError, match="forward_flags"):
        load_checkpoint(tmp_path / "old.pt")


@pytest.mark.parametrize("entry", ["shapes", "model_config", "state_dict", "num_classes",
                                   "modalities"])
def test_a_checkpoint_missing_an_entry_is_named(trained, tmp_path, entry):
    splits, model, _ = trained
    ckpt = torch.load(save_checkpoint(tmp_path / "m.pt", model, splits.shapes), weights_only=True)
    del ckpt[entry]
    torch.save(ckpt, tmp_path / "cut.pt")
    with pytest.raises(ValueError, match=f"has no '{entry}' entry; it is incomplete"):
        load_checkpoint(tmp_path / "cut.pt")
    torch.save({**ckpt, entry: "x"}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match=f"is damaged: '{entry}' is a str"):
        load_checkpoint(tmp_path / "bad.pt")
