"""Deterministic corruptions of images (B, C, H, W): loss of contrast, pixelation.

Kinds of the registry `udml.corrupt.KINDS`, with the conventions of `udml.corrupt.kinds` (t (B,)
strengths in [0, 1], t = 0 bit-for-bit the identity; ``generator`` accepted but unused):
  contrast  every pixel pulled towards the sample's mean, x' = m + (1 - a)(x - m), a = min(scale t, 1):
            a washed-out, foggy picture whose shapes stay where they are
  pixelate  averages over k x k blocks, k = 1 + round(scale t): the fine detail is gone, the
            coarse layout stays (a low-resolution camera, or a blocky codec)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ._common import check_clip, check_inputs, finish, per_sample, round_half_up


def contrast(x: Tensor, t: Tensor, scale: float, generator: torch.Generator | None = None,
             clip=None) -> Tensor:
    """Loss of contrast, x' = m + (1 - a)(x - m) with a = min(scale * t, 1).

    m is the sample's mean over all its entries (channels included), so that a = 1 gives a flat
    image of value m. scale: the share of the contrast removed at t = 1 (1 = a flat image).
    Deterministic; ``generator`` is accepted for a uniform signature.
    """
    check_inputs("contrast", x, t, scale)
    clip = check_clip(clip)
    t = t.to(x.device)
    keep = per_sample(1.0 - (scale * t).clamp(max=1.0), x).to(x.dtype)  # (B, 1, 1, 1): 1 - a
    m = per_sample(x.flatten(1).mean(dim=1), x)  # (B, 1, 1, 1)
    out = m + keep * (x - m)  # exactly m where a = 1
    return finish(out, x, t, clip)


def block_average(x: Tensor, k: int) -> Tensor:
    """Every pixel of x (B, C, H, W) replaced by the mean of its k x k block (blocks start at the
    top-left corner; partial blocks at the right and bottom borders average the pixels they hold)."""
    b, c, h, w = x.shape
    hb, wb = -(-h // k), -(-w // k)  # blocks per column and row
    padded = F.pad(x, (0, wb * k - w, 0, hb * k - h))  # (B, C, hb k, wb k), zeros added
    sums = padded.view(b, c, hb, k, wb, k).sum(dim=(3, 5))  # (B, C, hb, wb)
    rows = torch.full((hb,), float(k), dtype=x.dtype, device=x.device)
    cols = torch.full((wb,), float(k), dtype=x.dtype, device=x.device)
    rows[-1], cols[-1] = h - (hb - 1) * k, w - (wb - 1) * k  # pixels in the last, partial blocks
    means = sums / (rows[:, None] * cols[None, :])  # (B, C, hb, wb)
    full = means.repeat_interleave(k, dim=2).repeat_interleave(k, dim=3)  # (B, C, hb k, wb k)
    return full[:, :, :h, :w]


def pixelate(x: Tensor, t: Tensor, scale: float, generator: torch.Generator | None = None,
             clip=None) -> Tensor:
    """Average over non-overlapping k x k blocks, k = 1 + round(scale * t) (halves round up).

    Each channel is averaged on its own; each pixel takes its block's mean, so the shape is kept.
    Blocks start at the top-left corner; partial blocks at the right and bottom borders average
    the pixels they hold. k beyond the image's larger side acts as that side (one block).
    scale: the block side minus 1 at t = 1, in pixels (scale 3: 4 x 4 blocks at t = 1).
    Deterministic; ``generator`` is accepted for a uniform signature.
    """
    check_inputs("pixelate", x, t, scale)
    clip = check_clip(clip)
    t = t.to(x.device)
    side = max(x.shape[2], x.shape[3], 1)
    k = (1 + round_half_up(scale * t.to(torch.float64))).clamp(max=side).long()  # (B,)
    out = x.clone()
    for size in k.unique().tolist():  # a loop over the few distinct block sides, not samples
        if size > 1:
            chosen = k == size  # (B,)
            out[chosen] = block_average(x[chosen], size)
    return finish(out, x, t, clip)
