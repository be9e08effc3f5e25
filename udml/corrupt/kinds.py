"""Corruption kinds: pure, batched functions of (x, t) with one strength per sample.

Every kind takes x (B, ...) float and t (B,) strengths in [0, 1] (``t = ((l - 1) / (L - 1))^2`` for a
noise level l in 1..L) and returns a new tensor of x's shape, dtype and device:
- t = 0 leaves the sample bit-for-bit unchanged (level 1 is the identity, clipping included);
- ``scale`` is the strength at t = 1, in the unit each docstring states. Values are in units of
  the data's spread: the loaders standardise every feature, so 1.0 = one standard deviation;
- ``clip=(low, high)`` clips the corrupted samples to a range where the data have one;
- randomness comes only from ``generator`` (drawn on its device, then moved to x's device: a
  CPU generator gives the same result on every device, a generator on x's device is fastest).
No Python loop runs over samples: per-sample strengths are broadcast or turned into per-sample
masks and kernels.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ._common import (block_mask, check_clip, check_generator, check_inputs, finish, per_sample,
                      rand, randn)


def gaussian(x: Tensor, t: Tensor, scale: float, generator: torch.Generator,
             clip=None) -> Tensor:
    """Additive Gaussian noise, x' = x + scale * t * eps with eps ~ N(0, 1) per entry.

    scale: the noise standard deviation at t = 1, in units of the data's spread.
    """
    check_inputs("gaussian", x, t, scale)
    check_generator("gaussian", generator)
    clip = check_clip(clip)
    t = t.to(x.device)
    sigma = per_sample((scale * t).to(x.dtype), x)  # (B, 1, ...)
    noise = randn(x.shape, generator, x)
    out = torch.addcmul(x, noise, sigma, out=noise)  # x + sigma * noise, in noise's memory
    return finish(out, x, t, clip)


def salt_pepper(x: Tensor, t: Tensor, scale: float, generator: torch.Generator,
                low: float | None = None, high: float | None = None, clip=None) -> Tensor:
    """Impulse noise: a fraction scale * t of the entries (clamped to 1) is set to low or high.

    Each hit entry becomes low or high with equal probability. low/high default to the clip range,
    or to -3 / +3 (three standard deviations of standardised data) when there is none.
    scale: the fraction of entries hit at t = 1 (a number in [0, 1] in practice).
    """
    check_inputs("salt_pepper", x, t, scale)
    check_generator("salt_pepper", generator)
    clip = check_clip(clip)
    lo_default, hi_default = clip if clip is not None else (-3.0, 3.0)
    low = lo_default if low is None else float(low)
    high = hi_default if high is None else float(high)
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"salt_pepper: need finite low <= high, got low={low}, high={high}")
    t = t.to(x.device)
    p = per_sample((scale * t).clamp(max=1.0).to(x.dtype), x)  # (B, 1, ...)
    hit = rand(x.shape, generator, x) < p  # (B, ...)
    salt = rand(x.shape, generator, x) < 0.5  # (B, ...)
    impulse = torch.where(salt, torch.full_like(x, high), torch.full_like(x, low))
    out = torch.where(hit, impulse, x)
    return finish(out, x, t, clip)


def occlusion(x: Tensor, t: Tensor, scale: float, generator: torch.Generator,
              fill: float = 0.0, clip=None) -> Tensor:
    """Cover part of each sample with a constant ``fill`` at a uniform random position.

    Images (B, C, H, W): a rectangle of round(sqrt(a) * H) x round(sqrt(a) * W) pixels, the same
    for all channels, so that it covers a share a = scale * t of the image (a square patch on a
    square image). Vectors (B, D): a contiguous block of round(a * D) features. a is clamped to 1,
    and every side is at least 1 where t > 0.
    scale: the covered share of the sample at t = 1. fill: in data units (0.0 = the mean of
    standardised data).
    """
    check_inputs("occlusion", x, t, scale)
    check_generator("occlusion", generator)
    clip = check_clip(clip)
    t = t.to(x.device)
    area = (scale * t).clamp(max=1.0).to(torch.float32)  # (B,)
    if x.dim() == 2:
        mask = block_mask(area, x.shape[1], generator, x)  # (B, D)
    else:
        side = area.sqrt()
        rows = block_mask(side, x.shape[2], generator, x)  # (B, H)
        cols = block_mask(side, x.shape[3], generator, x)  # (B, W)
        mask = (rows[:, :, None] & cols[:, None, :])[:, None]  # (B, 1, H, W)
    out = x.masked_fill(mask, fill)
    return finish(out, x, t, clip)


def time_mask(x: Tensor, t: Tensor, scale: float, generator: torch.Generator,
              fill: float = 0.0, clip=None) -> Tensor:
    """Mask a contiguous stretch of the time axis (the LAST axis) with ``fill``.

    Works on sequences (B, T), (B, C, T) and spectrograms (B, C, F, T): round(scale * t * T)
    time steps (at least 1 where t > 0, clamped to T) starting at a uniform random step, the same
    for every channel and frequency of the sample. scale: the masked share of the time axis at
    t = 1. fill: in data units (0.0 = the mean of standardised data).
    """
    check_inputs("time_mask", x, t, scale)
    check_generator("time_mask", generator)
    clip = check_clip(clip)
    t = t.to(x.device)
    mask = block_mask((scale * t).to(torch.float32), x.shape[-1], generator, x)  # (B, T)
    mask = mask.view((x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],))  # (B, 1, .., T)
    out = x.masked_fill(mask, fill)
    return finish(out, x, t, clip)


def gaussian_kernels(sigma: Tensor, radius: int) -> Tensor:
    """(B, 2 * radius + 1) normalised 1-D Gaussian kernels, one per sigma (B,).

    sigma = 0 gives the unit impulse (no blur).
    """
    offsets = torch.arange(-radius, radius + 1, device=sigma.device, dtype=sigma.dtype)  # (K,)
    s = sigma.clamp(min=1e-6)[:, None]  # (B, 1)
    w = torch.exp(-0.5 * (offsets[None, :] / s) ** 2)  # (B, K)
    return w / w.sum(dim=1, keepdim=True)


def _blur_last(x: Tensor, sigma: Tensor) -> Tensor:
    """Gaussian-blur x (B, ..., N) along its last axis with one sigma (B,) per sample.

    One grouped convolution does all samples: every (sample, channel) row is its own group with
    its sample's kernel. Borders are padded by repeating the edge value.
    """
    b, n = x.shape[0], x.shape[-1]
    radius = max(1, math.ceil(3.0 * float(sigma.max()))) if sigma.numel() else 1
    rows = x.reshape(1, -1, n)  # (1, B * R, N), R = channels per sample
    per = rows.shape[1] // max(b, 1)
    kernels = gaussian_kernels(sigma.to(x.dtype), radius)  # (B, K)
    weight = kernels.repeat_interleave(per, dim=0)[:, None, :]  # (B * R, 1, K)
    padded = F.pad(rows, (radius, radius), mode="replicate")  # (1, B * R, N + 2 radius)
    return F.conv1d(padded, weight, groups=rows.shape[1]).reshape(x.shape)


def blur(x: Tensor, t: Tensor, scale: float, generator: torch.Generator | None = None,
         clip=None) -> Tensor:
    """Gaussian blur with standard deviation sigma = scale * t, one sigma per sample.

    Images (B, C, H, W) are blurred in 2-D (separably, both axes, each channel on its own);
    vectors (B, D) in 1-D along the feature axis, which only makes sense for ordered features
    such as a spectrum. scale: the kernel's standard deviation at t = 1, in pixels (images) or
    feature positions (vectors). Deterministic; ``generator`` is accepted for a uniform signature.
    """
    check_inputs("blur", x, t, scale)
    clip = check_clip(clip)
    t = t.to(x.device)
    sigma = (scale * t).to(torch.float32)  # (B,)
    out = _blur_last(x, sigma)
    if x.dim() == 4:
        out = _blur_last(out.transpose(2, 3), sigma).transpose(2, 3).contiguous()  # along H
    return finish(out, x, t, clip)


def temporal_blur(x: Tensor, t: Tensor, scale: float, generator: torch.Generator | None = None,
                  clip=None) -> Tensor:
    """Gaussian blur along the time axis (the LAST axis) only, sigma = scale * t time steps.

    For sequences (B, T), (B, C, T) and spectrograms (B, C, F, T): it smears events in time
    while leaving the other axes (channels, frequencies) apart. Deterministic; ``generator`` is
    accepted for a uniform signature.
    """
    check_inputs("temporal_blur", x, t, scale)
    clip = check_clip(clip)
    t = t.to(x.device)
    out = _blur_last(x, (scale * t).to(torch.float32))
    return finish(out, x, t, clip)
