"""The FSDD benchmark's encoders (spectrogram and image ResNet-10), the hooks through which
the trainer and the default noise specs use them, and a tiny run of the whole path."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from udml.data.audio import log_spectrogram
from udml.data.fsdd import FSDD_AUDIO, load_fsdd
from udml.models.fsdd import ImageResNet, SpectrogramResNet, fsdd_encoders
from udml.models.resnet import ResNet18Trunk
from udml.config import ModelConfig, TrainConfig
from udml.training.evaluate import evaluate
from udml.experiments.registry import get_experiment
from udml.corrupt.scales import default_specs
from udml.experiments.jobs import make_jobs
from udml.training.loop import fit


def test_encoders_shapes_and_front_end():
    enc = fsdd_encoders({"audio": (1, FSDD_AUDIO.num_samples), "visual": (1, 16, 15)},
                        FSDD_AUDIO, width=4)
    x = torch.randn(3, 1, FSDD_AUDIO.num_samples) * 0.1
    assert enc["audio"](x).shape == (3, 32) and enc["audio"].out_dim == 32
    assert enc["visual"](torch.randn(3, 1, 16, 15)).shape == (3, 32)
    spec = enc["audio"].spectrogram(x)
    assert spec.shape == (3, *FSDD_AUDIO.shape)
    torch.testing.assert_close(spec[1], log_spectrogram(x[1, 0], FSDD_AUDIO.n_fft,
                                                        FSDD_AUDIO.hop_length))
    with pytest.raises(ValueError, match="waveforms"):
        SpectrogramResNet((1, 100), FSDD_AUDIO)
    with pytest.raises(ValueError, match="images"):
        ImageResNet((16, 15))
    with pytest.raises(ValueError, match="missing"):
        fsdd_encoders({"audio": (1, FSDD_AUDIO.num_samples)}, FSDD_AUDIO)
    with pytest.raises(ValueError, match="rank 3"):
        enc["audio"](x[:, 0])


def test_trunk_stages():
    ten = ResNet18Trunk(1, 4, (1, 1, 1, 1))
    eighteen = ResNet18Trunk(1, 4)
    assert len(ten.blocks) == 4 and len(eighteen.blocks) == 8
    with pytest.raises(ValueError, match="stages"):
        ResNet18Trunk(1, 4, (1, 1))


def test_benchmark_is_registered_with_both_splits():
    exp = get_experiment("av")
    assert exp.datasets == ("fsdd", "fsdd-speaker") and len(exp.seeds) == 5
    assert len(make_jobs(exp)) == 2 * 8 * 5
    assert set(exp.unseen_kinds) == {"babble", "time_mask"}


@pytest.fixture(scope="module")
def tiny():
    """The official split with 60 training and 40 test pairs (the real recordings)."""
    s = load_fsdd("official", seed=0)
    return replace(s, train=s.train.subset(torch.arange(60)), val=s.val.subset(torch.arange(20)),
                   test=s.test.subset(torch.arange(40)))


def test_tiny_run_through_the_sweeps_hooks(tiny):
    specs = default_specs(tiny)  # the splits answer: SNR noise on audio, Gaussian on image
    assert specs["audio"].kind == "snr_noise" and specs["visual"].kind == "gaussian"
    assert default_specs(tiny, "babble")["audio"].kind == "babble"
    cfg = ModelConfig(method="udml", latent_dim=32, hidden_dim=32)
    model, history = fit(tiny, cfg, TrainConfig(epochs=2, batch_size=32, progress=False,
                                                device="cpu", warmup=0.5), specs)
    assert isinstance(model.encoders["audio"], SpectrogramResNet)  # the splits' own encoders
    assert len(history) == 2 and history[1]["noisy"]
    for kind in ("gaussian", "babble", "time_mask"):
        report = evaluate(model, tiny.test, default_specs(tiny, kind), 11,
                          ["clean", "one:audio@11", "one:visual@11", "random"], seed=0)
        for entry in report["protocols"].values():
            assert 0.0 <= entry["accuracy"] <= 1.0
    again, _ = fit(tiny, cfg, TrainConfig(epochs=2, batch_size=32, progress=False,
                                          device="cpu", warmup=0.5), specs)
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)  # seeded: the same run twice gives the same model
