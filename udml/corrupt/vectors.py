"""Entry-wise corruptions for any modality: scattered dropout, multiplicative noise, quantisation.

Kinds of the registry `udml.corrupt.KINDS`, with the conventions of `udml.corrupt.kinds` (x (B, ...)
float, t (B,) strengths in [0, 1], t = 0 bit-for-bit the identity, randomness only from
``generator``). They damage a sample in ways the built-ins do not:
  feature_dropout  a random, scattered share of the entries set to ``fill`` (missing features or
                   dead pixels), where occlusion covers one contiguous block and salt_pepper sets
                   extreme values
  speckle          multiplicative noise x (1 + scale t eps): a gain error that leaves entries near 0
                   alone and hits large ones hard, where gaussian noise is the same everywhere
  quantize         deterministic rounding to a grid of step scale * t: coarse measurement
"""
from __future__ import annotations

import torch
from torch import Tensor

from ._common import (check_clip, check_fill, check_generator, check_inputs, finish, per_sample,
                      rand, randn)


def feature_dropout(x: Tensor, t: Tensor, scale: float, generator: torch.Generator,
                    fill: float = 0.0, clip=None) -> Tensor:
    """Set each entry to ``fill`` independently with probability p = min(scale * t, 1).

    Every entry is drawn on its own, channels included: on images (B, C, H, W) this is pixel
    dropout per channel (a pixel may lose its red value and keep its green one). Accepts vectors
    (B, D), sequences (B, C, T), images and clips (B, T, C, H, W).
    scale: the expected share of entries dropped at t = 1 (at scale 1, t = 1 every entry).
    fill: in data units (0.0 = the mean of standardised data).
    """
    check_inputs("feature_dropout", x, t, scale)
    check_generator("feature_dropout", generator)
    clip = check_clip(clip)
    fill = check_fill("feature_dropout", fill)
    t = t.to(x.device)
    p = per_sample((scale * t).clamp(max=1.0).to(x.dtype), x)  # (B, 1, ...)
    hit = rand(x.shape, generator, x) < p  # (B, ...); u < 1 always, so p = 1 hits every entry
    out = x.masked_fill(hit, fill)
    return finish(out, x, t, clip)


def speckle(x: Tensor, t: Tensor, scale: float, generator: torch.Generator,
            clip=None) -> Tensor:
    """Multiplicative noise, x' = x (1 + scale * t * eps) with eps ~ N(0, 1) per entry.

    The change of an entry is proportional to its value: entries near 0 barely move, large ones
    move most (speckle in coherent imaging, a gain error per sensor). Any rank.
    scale: the standard deviation of the relative gain error at t = 1 (0.5 = each entry scaled by
    a factor of 1 +- 0.5 typically).
    """
    check_inputs("speckle", x, t, scale)
    check_generator("speckle", generator)
    clip = check_clip(clip)
    t = t.to(x.device)
    sigma = per_sample((scale * t).to(x.dtype), x)  # (B, 1, ...)
    gain = randn(x.shape, generator, x).mul_(sigma)  # (B, ...): scale t eps
    out = torch.addcmul(x, x, gain, out=gain)  # x + x * scale t eps, in gain's memory
    return finish(out, x, t, clip)


def quantize(x: Tensor, t: Tensor, scale: float, generator: torch.Generator | None = None,
             clip=None) -> Tensor:
    """Round every entry to a grid of step q = scale * t: x' = round(x / q) * q (halves to even).

    A sample with q = 0 (t = 0 or scale = 0) is unchanged. Any rank. Deterministic;
    ``generator`` is accepted for a uniform signature.
    scale: the grid step at t = 1, in data units (1.0 = one standard deviation of standardised
    data: every entry rounded to a whole number of standard deviations).
    """
    check_inputs("quantize", x, t, scale)
    clip = check_clip(clip)
    t = t.to(x.device)
    q = per_sample((scale * t).to(x.dtype), x)  # (B, 1, ...)
    step = torch.where(q > 0, q, torch.ones_like(q))  # no division by 0 where nothing is done
    out = torch.where(q > 0, torch.round(x / step) * step, x)
    return finish(out, x, t, clip)
