"""udml.corrupt.frames: motion blur, and blur and occlusion on every frame of a clip."""
import math

import pytest
import torch

from udml.corrupt import blur, occlusion
from udml.corrupt.frames import frame_blur, frame_occlusion, line_kernels, motion_blur


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
