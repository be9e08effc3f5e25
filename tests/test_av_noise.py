import math

import pytest
import torch

import udml.av  # noqa: F401  (registers the frame kinds)
from udml.av.noise import (GAUSSIAN_TOP, MOTION_BLUR_TOP, OCCLUDED_TOP, TEMPORAL_BLUR_TOP,
                           av_noise_specs, frame_blur, frame_occlusion, line_kernels, motion_blur,
                           register_av_kinds)
from udml.corrupt import KINDS, NoiseSpec, apply_noise, blur, occlusion

SHAPES = {"audio": (1, 9, 20), "visual": (2, 3, 12, 12)}


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_line_kernels():
    k = line_kernels(torch.tensor([0.0, 4.0]), torch.tensor([0.0, 0.0]), 5)
    torch.testing.assert_close(k.sum((1, 2)), torch.ones(2))
    impulse = torch.zeros(5, 5)
    impulse[2, 2] = 1
    torch.testing.assert_close(k[0], impulse)
    # a horizontal segment of length 4 stays on the centre row and spans columns 0..4
    assert k[1][[0, 1, 3, 4]].abs().max() == 0
    assert (k[1, 2] > 0).all()
    torch.testing.assert_close(k[1, 2], k[1, 2].flip(0))  # symmetric about the centre
    vertical = line_kernels(torch.tensor([4.0]), torch.tensor([math.pi / 2]), 5)[0]
    torch.testing.assert_close(vertical, k[1].T, atol=1e-6, rtol=0)


def test_motion_blur_identity_constant_and_strength():
    x = torch.randn(3, 2, 3, 12, 12, generator=gen())  # (B, T, C, H, W)
    t = torch.tensor([0.0, 0.5, 1.0])
    out = motion_blur(x, t, 6.0, gen(1))
    assert out.shape == x.shape
    assert torch.equal(out[0], x[0])                       # t = 0 is bit-for-bit clean
    const = torch.full((2, 3, 8, 8), 0.7)
    torch.testing.assert_close(motion_blur(const, torch.ones(2), 5.0, gen()), const)
    change = [(out[i] - x[i]).abs().mean() for i in (1, 2)]
    assert 0 < change[0] < change[1]                       # longer blur, bigger change
    torch.testing.assert_close(out, motion_blur(x, t, 6.0, gen(1)))
    # every frame and channel of a sample shares its kernel
    same = x[:, :1].expand_as(x).contiguous()
    blurred = motion_blur(same, t, 6.0, gen(1))
    torch.testing.assert_close(blurred[:, 0], blurred[:, 1])


def test_motion_blur_errors():
    with pytest.raises(ValueError, match="rank"):
        motion_blur(torch.zeros(2, 5), torch.zeros(2), 1.0, gen())
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        motion_blur(torch.zeros(2, 1, 4, 4), torch.zeros(3), 1.0, gen())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        motion_blur(torch.zeros(2, 1, 4, 4), torch.full((2,), 2.0), 1.0, gen())
    with pytest.raises(TypeError, match="generator"):
        motion_blur(torch.zeros(2, 1, 4, 4), torch.ones(2), 1.0, None)


def test_frame_kinds_act_on_every_frame_alike():
    x = torch.randn(2, 3, 3, 10, 10, generator=gen())
    t = torch.tensor([1.0, 0.0])
    b = frame_blur(x, t, 1.5)
    torch.testing.assert_close(b[0, 1], blur(x[0, 1][None], t[:1], 1.5)[0])
    assert torch.equal(b[1], x[1])
    o = frame_occlusion(x, torch.ones(2), 0.25, gen(2))
    masked = o == 0
    assert masked.any()
    assert torch.equal(masked[:, 0], masked[:, 2])  # the same patch on every frame
    ref = occlusion(x.flatten(1, 2), torch.ones(2), 0.25, gen(2)).view_as(x)
    torch.testing.assert_close(o, ref)


def test_kinds_are_registered_and_usable_through_noise_specs():
    register_av_kinds()  # idempotent
    for name in ("motion_blur", "frame_blur", "frame_occlusion"):
        assert name in KINDS
        NoiseSpec(name, 1.0)
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
