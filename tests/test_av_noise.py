"""udml.av.noise: the corruption sets of the audio-visual runs."""
import pytest
import torch

from udml.av.noise import (GAUSSIAN_TOP, MOTION_BLUR_TOP, OCCLUDED_TOP, TEMPORAL_BLUR_TOP,
                           av_noise_specs)
from udml.corrupt import apply_noise

SHAPES = {"audio": (1, 9, 20), "visual": (2, 3, 12, 12)}


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_every_set_applies_through_apply_noise():
    x = {"audio": torch.randn(4, *SHAPES["audio"]), "visual": torch.randn(4, *SHAPES["visual"])}
    levels = {"audio": torch.tensor([1, 2, 6, 11]), "visual": torch.tensor([11, 6, 2, 1])}
    for kind in ("gaussian", "blur", "mask"):
        specs = av_noise_specs(kind, SHAPES, spread={"audio": 2.0, "visual": 1.0})
        out = apply_noise(x, levels, specs, 11, gen())
        assert torch.equal(out["audio"][0], x["audio"][0])    # level 1: clean
        assert torch.equal(out["visual"][3], x["visual"][3])
        assert not torch.equal(out["audio"][3], x["audio"][3])
        assert not torch.equal(out["visual"][0], x["visual"][0])


def test_default_scales():
    spread = {"audio": 2.0, "visual": 0.5}
    g = av_noise_specs("gaussian", SHAPES, spread)
    assert (g["audio"].kind, g["audio"].scale) == ("gaussian", GAUSSIAN_TOP * 2.0)
    assert g["visual"].scale == GAUSSIAN_TOP * 0.5
    b = av_noise_specs("blur", SHAPES)
    assert (b["audio"].kind, b["audio"].scale) == ("temporal_blur", TEMPORAL_BLUR_TOP * 20)
    assert (b["visual"].kind, b["visual"].scale) == ("motion_blur", MOTION_BLUR_TOP * 12)
    m = av_noise_specs("mask", SHAPES, scales={"visual": 0.1})
    assert (m["audio"].kind, m["audio"].scale) == ("time_mask", OCCLUDED_TOP)
    assert (m["visual"].kind, m["visual"].scale) == ("frame_occlusion", 0.1)
    with pytest.raises(ValueError, match="spread"):
        av_noise_specs("gaussian", SHAPES)
    with pytest.raises(ValueError, match="unknown audio-visual corruption set"):
        av_noise_specs("fog", SHAPES)


def test_gaussian_noise_std_on_spectrograms_and_frames():
    x = {"audio": torch.zeros(2, 1, 64, 64), "visual": torch.zeros(2, 1, 3, 64, 64)}
    levels = {k: torch.tensor([11, 6]) for k in x}
    specs = av_noise_specs("gaussian", {k: v.shape[1:] for k, v in x.items()},
                           {"audio": 1.0, "visual": 1.0})
    out = apply_noise(x, levels, specs, 11, gen())
    t6 = ((6 - 1) / 10) ** 2
    for k in x:
        assert out[k][0].std().item() == pytest.approx(GAUSSIAN_TOP, rel=0.05)
        assert out[k][1].std().item() == pytest.approx(GAUSSIAN_TOP * t6, rel=0.05)
