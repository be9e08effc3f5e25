"""Corruptions of waveforms (B, C, N) or (B, N): noise at a falling signal-to-noise ratio, babble.

Kinds of the registry `udml.corrupt.KINDS` (t = 0 is the identity; randomness only from
``generator``):
  snr_noise  white Gaussian noise at a signal-to-noise ratio that falls with the level: the
             noise's RMS is scale * t times the recording's own RMS, so the SNR at strength t is
             -20 log10(scale * t) dB whatever the recording's loudness
  babble     other talkers: a mix of ``voices`` other recordings of the same batch, each at a
             random circular shift, scaled so that its RMS is scale * t times the recording's
             (the "cocktail party": speech-shaped, non-stationary, and saying other words)
The built-in ``time_mask`` (a silenced stretch of the waveform: a dropout) applies as it is.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ._common import check_clip, check_generator, check_inputs, finish, randn

BABBLE_VOICES = 3     # recordings mixed into the babble of each sample
RMS_FLOOR = 1e-8  # silent babble sources give no babble rather than a division by zero


def rms(x: Tensor) -> Tensor:
    """(B,) root mean square of each sample over all its other axes."""
    return x.flatten(1).pow(2).mean(dim=1).sqrt()


def snr_db(t: float | Tensor, scale: float) -> Tensor:
    """The SNR in dB that strength t gives under scale: -20 log10(scale t) (inf at t = 0)."""
    return -20.0 * torch.log10(torch.as_tensor(scale * t, dtype=torch.float64))


def snr_noise(x: Tensor, t: Tensor, scale: float, generator: torch.Generator,
              clip=None) -> Tensor:
    """x + scale * t * rms(x) * eps, eps ~ N(0, 1) per entry: white noise at SNR
    -20 log10(scale * t) dB. scale: noise RMS over signal RMS at t = 1."""
    check_inputs("snr_noise", x, t, scale)
    check_generator("snr_noise", generator)
    clip = check_clip(clip)
    t = t.to(x.device)
    gain = (scale * t * rms(x)).to(x.dtype)                              # (B,)
    noise = randn(x.shape, generator, x)                                 # (B, ...)
    out = x + gain.view((-1,) + (1,) * (x.dim() - 1)) * noise
    return finish(out, x, t, clip)


def babble(x: Tensor, t: Tensor, scale: float, generator: torch.Generator,
           voices: int = BABBLE_VOICES, clip=None) -> Tensor:
    """Mix ``voices`` other recordings of the batch into each one, at babble RMS = scale * t *
    rms(x). Sample i takes the recordings (i + k) mod B for k drawn uniformly in 1..B-1 (never
    itself), each rolled by a uniform random shift along the time (last) axis. Needs B >= 2."""
    check_inputs("babble", x, t, scale)
    check_generator("babble", generator)
    clip = check_clip(clip)
    if isinstance(voices, bool) or not isinstance(voices, int) or voices < 1:
        raise ValueError(f"babble: voices must be an int >= 1, got {voices!r}")
    b, n = x.shape[0], x.shape[-1]
    if b < 2:
        raise ValueError("babble mixes other recordings of the batch into each one: it needs a "
                         f"batch of at least 2 recordings, got {b}")
    t = t.to(x.device)
    draw = torch.rand((voices, b, 2), generator=generator, device=generator.device).to(x.device)
    others = (torch.arange(b, device=x.device) + 1 + (draw[..., 0] * (b - 1)).long()) % b
    shifts = (draw[..., 1] * n).long()                                   # (V, B)
    pos = (torch.arange(n, device=x.device) + shifts[..., None]) % n     # (V, B, N)
    flat = x.reshape(b, -1, n)                                           # (B, C, N)
    mix = torch.zeros_like(flat)
    for v in range(voices):  # a loop over the few voices, not over samples
        src = flat[others[v]]                                            # (B, C, N)
        mix = mix + torch.gather(src, 2, pos[v][:, None, :].expand_as(src))
    mix = mix.reshape(x.shape)
    gain = scale * t * rms(x) / rms(mix).clamp(min=RMS_FLOOR)           # (B,)
    out = x + gain.to(x.dtype).view((-1,) + (1,) * (x.dim() - 1)) * mix
    return finish(out, x, t, clip)
