import math

import pytest
import torch

from udml.av import (AudioSpec, FrameSpec, av_noise_specs, build_av_model, get_profile,
                     load_av_checkpoint, load_cremad, make_fixture, measure_spread,
                     save_av_checkpoint)
from udml.config import ModelConfig, TrainConfig
from udml.training.evaluate import evaluate, predict
from udml.seed import seed_everything
from udml.training.loop import train

AUDIO = AudioSpec(8000, 0.5, 64, 32)
FRAMES = FrameSpec(1, 16)


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    root = make_fixture(tmp_path_factory.mktemp("av") / "cremad", num_classes=3,
                        train_per_class=5, test_per_class=2, seed=1)
    return load_cremad(root, audio=AUDIO, frames=FRAMES, num_workers=0)


def quick_model(splits, method="udml"):
    seed_everything(0)
    cfg = ModelConfig(method=method, latent_dim=8, gamma=4.0, beta=1e-5, estimator="affine")
    return build_av_model(splits.shapes, splits.num_classes, cfg, width=2)


def test_udml_trains_on_the_fixture_with_the_library_trainer(splits, tmp_path):
    spread = measure_spread(splits.train)
    assert all(v > 0 for v in spread.values())
    specs = av_noise_specs("gaussian", splits.shapes, spread)
    model = quick_model(splits)
    before = [p.detach().clone() for p in model.parameters()]
    cfg = TrainConfig(epochs=2, batch_size=8, lr=1e-2, device="cpu", progress=False)
    hist = train(model, splits, specs, cfg, state_path=tmp_path / "state.pt")
    assert [h["noisy"] for h in hist] == [False, True]
    assert [h["use_uncertainty"] for h in hist] == [False, True]
    assert all(math.isfinite(h["loss_total"]) for h in hist)
    assert "loss_estimator" in hist[0] and set(hist[-1]["dependency"]) == {"audio", "visual"}
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert int(model.dependency.updates) == 2 * math.ceil(len(splits.train) / 8)
    # every test-time corruption set runs through the evaluator
    for kind in ("gaussian", "blur", "mask"):
        s = av_noise_specs(kind, splits.shapes, spread)
        rep = evaluate(model, splits.test, s, 11, ["clean", "one:visual@11", "random"])
        assert set(rep["protocols"]) == {"clean", "one:visual@11", "random"}
        assert 0.0 <= rep["protocols"]["clean"]["accuracy"] <= 1.0
    # checkpoint round trip: same predictions, same dependency statistic
    path = save_av_checkpoint(tmp_path / "m.pt", model, splits.shapes, cfg)
    loaded, ckpt = load_av_checkpoint(path)
    assert ckpt["extra"]["av"]["width"] == 2
    torch.testing.assert_close(loaded.dependency.value, model.dependency.value)
    def g():
        return torch.Generator().manual_seed(0)
    p1 = predict(model, splits.test, specs, "random", 11, g())
    p2 = predict(loaded, splits.test, specs, "random", 11, g())
    torch.testing.assert_close(p1.logits, p2.logits)


def test_seeded_runs_are_bit_identical(splits):
    specs = av_noise_specs("gaussian", splits.shapes, {"audio": 1.0, "visual": 1.0})
    cfg = TrainConfig(epochs=2, batch_size=8, warmup=0.5, device="cpu", progress=False, seed=5)
    states = []
    for _ in range(2):
        model = quick_model(splits)
        train(model, splits, specs, cfg)
        states.append(model.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_checkpoint_errors(tmp_path, splits):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_av_checkpoint(tmp_path / "none.pt")
    (tmp_path / "junk.pt").write_text("junk")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load_av_checkpoint(tmp_path / "junk.pt")
    torch.save({"format": "udml-checkpoint", "extra": {}}, tmp_path / "plain.pt")
    with pytest.raises(ValueError, match="not an audio-visual checkpoint"):
        load_av_checkpoint(tmp_path / "plain.pt")


def test_profiles():
    paper = get_profile("paper", "cremad")
    t, m = paper.train, paper.model
    assert (t.epochs, t.batch_size, t.optimizer, t.lr, t.momentum, t.weight_decay) == \
        (100, 64, "sgd", 1e-3, 0.9, 1e-4)
    assert round(t.lr_drop * t.epochs) == 70 and round(t.warmup * t.epochs) == 50
    assert round(t.uncertainty_start * t.epochs) == 60 and t.grad_clip == 40.0
    assert (m.method, m.gamma, m.beta, paper.width) == ("udml", 4.0, 1e-5, 64)
    assert paper.audio.shape[1:] == (257, 1 + 3 * 22050 // 353)
    ks = get_profile("paper", "kinetics_sounds")
    assert (ks.model.gamma, ks.model.beta, ks.frames.num_frames) == (2.5, 0.0, 3)
    fix = get_profile("fixture", device="cpu", seed=4)
    assert fix.train.device == "cpu" and fix.train.seed == 4 and fix.num_workers == 0
    assert fix.width < paper.width and fix.frames.size < paper.frames.size
    small = get_profile("small")
    assert small.width == 64 and small.audio == paper.audio and small.train.epochs < 100
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("huge")
    with pytest.raises(ValueError, match="unknown audio-visual dataset"):
        get_profile("paper", "vggsound")
