"""Corruptions of video frames: motion blur, and the built-in blur and occlusion on every frame.

Kinds of the registry `udml.corrupt.KINDS`, with the conventions of the others (t = 0 is the
identity; randomness only from ``generator``):
  motion_blur      a straight blur of scale * t pixels at a random angle per clip, the same on
                   every frame and channel (camera shake), for (B, C, H, W) or (B, T, C, H, W)
  frame_blur       the built-in Gaussian ``blur`` on every frame of a clip
  frame_occlusion  the built-in ``occlusion``, one patch at the same place on every frame
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ._common import check_clip, check_generator, finish, rand
from .kinds import blur, occlusion


def _check(kind: str, x: Tensor, t: Tensor, scale: float, ranks: tuple[int, ...]) -> None:
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(f"{kind}: x must be a floating-point tensor")
    if x.dim() not in ranks:
        raise ValueError(f"{kind} applies to tensors of rank {ranks} (batch axis included), got "
                         f"shape {tuple(x.shape)}")
    if not isinstance(t, Tensor) or tuple(t.shape) != (x.shape[0],) or not t.is_floating_point():
        raise ValueError(f"{kind}: t must be a float tensor of shape ({x.shape[0]},)")
    if t.numel() and bool(((t < 0) | (t > 1) | torch.isnan(t)).any()):
        raise ValueError(f"{kind}: strengths t must lie in [0, 1]")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) \
            or scale < 0:
        raise ValueError(f"{kind}: scale must be a finite number >= 0, got {scale!r}")


def line_kernels(length: Tensor, angle: Tensor, size: int) -> Tensor:
    """(B, size, size) normalised kernels of a straight segment of ``length`` pixels at ``angle``
    radians through the centre; length 0 gives the unit impulse. Points along the segment are
    spread onto the grid bilinearly."""
    c = size // 2
    steps = torch.linspace(-0.5, 0.5, 4 * size + 1, device=length.device)          # (P,)
    pos = steps[None, :] * length[:, None]                                          # (B, P)
    px = c + pos * torch.cos(angle)[:, None]                                        # (B, P)
    py = c + pos * torch.sin(angle)[:, None]
    grid = torch.arange(size, device=length.device, dtype=length.dtype)             # (S,)
    wx = (1 - (px[..., None] - grid).abs()).clamp(min=0)                            # (B, P, S)
    wy = (1 - (py[..., None] - grid).abs()).clamp(min=0)
    k = torch.einsum("bpy,bpx->byx", wy, wx)                                        # (B, S, S)
    return k / k.sum(dim=(1, 2), keepdim=True)


def motion_blur(x: Tensor, t: Tensor, scale: float, generator: torch.Generator,
                clip=None) -> Tensor:
    """Linear motion blur of scale * t pixels (per sample) at a uniform random angle per sample.

    x: (B, C, H, W) images or (B, T, C, H, W) clips; every channel and frame of a sample shares
    its kernel. scale: blur length in pixels at t = 1. Borders repeat the edge pixels.
    """
    _check("motion_blur", x, t, scale, (4, 5))
    check_generator("motion_blur", generator)
    clip = check_clip(clip)
    t = t.to(x.device)
    b, (h, w) = x.shape[0], x.shape[-2:]
    length = (scale * t).to(torch.float32)                         # (B,)
    angle = rand((b,), generator, length) * math.pi                # (B,)
    size = 2 * math.ceil(float(length.max()) / 2) + 1 if b else 1
    kernels = line_kernels(length, angle, size).to(x.dtype)        # (B, S, S)
    rows = x.reshape(1, -1, h, w)                                  # (1, B R, H, W)
    per = rows.shape[1] // b
    weight = kernels.repeat_interleave(per, dim=0)[:, None]        # (B R, 1, S, S)
    r = size // 2
    padded = F.pad(rows, (r, r, r, r), mode="replicate")
    out = F.conv2d(padded, weight, groups=rows.shape[1]).reshape(x.shape)
    return finish(out, x, t, clip)


def frame_blur(x: Tensor, t: Tensor, scale: float, generator: torch.Generator | None = None,
               clip=None) -> Tensor:
    """Gaussian blur (sigma = scale * t pixels) of every frame of (B, T, C, H, W) clips."""
    _check("frame_blur", x, t, scale, (5,))
    return blur(x.flatten(1, 2), t, scale, generator, clip=clip).view_as(x)


def frame_occlusion(x: Tensor, t: Tensor, scale: float, generator: torch.Generator,
                    fill: float = 0.0, clip=None) -> Tensor:
    """One patch covering a share scale * t of the frame, at the same place on every frame of
    (B, T, C, H, W) clips (fill 0.0 = the ImageNet mean colour of normalised frames)."""
    _check("frame_occlusion", x, t, scale, (5,))
    return occlusion(x.flatten(1, 2), t, scale, generator, fill=fill, clip=clip).view_as(x)
