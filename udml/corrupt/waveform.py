"""Corruptions of waveforms (B, C, N) or (B, N): noise, babble, clipping, lost packets, clicks,
a lower sample rate.

Kinds of the registry `udml.corrupt.KINDS` (t = 0 is the identity; randomness only from
``generator``):
  snr_noise  white Gaussian noise at a signal-to-noise ratio that falls with the level: the
             noise's RMS is scale * t times the recording's own RMS, so the SNR at strength t is
             -20 log10(scale * t) dB whatever the recording's loudness
  babble     other talkers: a mix of ``voices`` other recordings of the same batch, each at a
             random circular shift, scaled so that its RMS is scale * t times the recording's
             (the "cocktail party": speech-shaped, non-stationary, and saying other words)
  clipping     deterministic hard clipping at (1 - a) times the recording's peak, a = min(scale t, 1):
               an overdriven amplifier or microphone
  packet_loss  the time axis cut in packets of ``packet`` samples (160 = 20 ms at 8 kHz), each
               set to ``fill`` with probability min(scale t, 1): a voice call over a bad network
  crackle      clicks: a share min(scale t, 1) of the time steps set to + or - the recording's peak
               (a scratched record, a loose contact)
  downsample   deterministic sample-and-hold of every k-th value, k = 1 + round(scale t): a lower
               sample rate without an anti-aliasing filter
The built-in ``time_mask`` (a silenced stretch of the waveform: a dropout) applies as it is.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ._common import (check_clip, check_fill, check_generator, check_inputs, finish, per_sample,
                      rand, randn, round_half_up)

BABBLE_VOICES = 3     # recordings mixed into the babble of each sample
PACKET = 160          # samples per packet of packet_loss: 20 ms at 8 kHz
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


def peak(x: Tensor) -> Tensor:
    """(B,) largest absolute value of each sample over all its other axes."""
    return x.flatten(1).abs().amax(dim=1)


def clipping(x: Tensor, t: Tensor, scale: float, generator: torch.Generator | None = None,
             clip=None) -> Tensor:
    """Hard clipping at c = (1 - a) peak(x) per recording, a = min(scale * t, 1): x' = clamp(x,
    -c, c). a = 1 gives silence. scale: the share of the peak cut away at t = 1 (0.9 = clipped at a
    tenth of the peak). Deterministic; ``generator`` is accepted for a uniform signature."""
    check_inputs("clipping", x, t, scale)
    clip = check_clip(clip)
    t = t.to(x.device)
    level = per_sample((1.0 - (scale * t).clamp(max=1.0)).to(x.dtype) * peak(x), x)  # (B, 1, ..)
    out = torch.maximum(torch.minimum(x, level), -level)
    return finish(out, x, t, clip)


def packet_loss(x: Tensor, t: Tensor, scale: float, generator: torch.Generator,
                packet: int = PACKET, fill: float = 0.0, clip=None) -> Tensor:
    """Cut the time (last) axis into packets of ``packet`` samples (the last one may be shorter)
    and set each to ``fill`` independently with probability min(scale * t, 1), the same packets
    for every channel of a recording. scale: the expected share of packets lost at t = 1.
    fill: in data units (0.0 = silence)."""
    check_inputs("packet_loss", x, t, scale)
    check_generator("packet_loss", generator)
    clip = check_clip(clip)
    fill = check_fill("packet_loss", fill)
    if isinstance(packet, bool) or not isinstance(packet, int) or packet < 1:
        raise ValueError(f"packet_loss: packet must be an int >= 1 (samples per packet), "
                         f"got {packet!r}")
    t = t.to(x.device)
    b, n = x.shape[0], x.shape[-1]
    p = (scale * t).clamp(max=1.0).to(torch.float32)                     # (B,)
    lost = rand((b, -(-n // packet)), generator, p) < p[:, None]           # (B, packets)
    mask = lost.repeat_interleave(packet, dim=1)[:, :n]                   # (B, N)
    out = x.masked_fill(mask.view((b,) + (1,) * (x.dim() - 2) + (n,)), fill)
    return finish(out, x, t, clip)


def crackle(x: Tensor, t: Tensor, scale: float, generator: torch.Generator,
            clip=None) -> Tensor:
    """Clicks: each time step becomes a click with probability min(scale * t, 1), set to +peak(x)
    or -peak(x) of its recording with equal odds, on every channel alike. scale: the expected
    share of time steps turned into clicks at t = 1."""
    check_inputs("crackle", x, t, scale)
    check_generator("crackle", generator)
    clip = check_clip(clip)
    t = t.to(x.device)
    b, n = x.shape[0], x.shape[-1]
    p = (scale * t).clamp(max=1.0).to(torch.float32)                     # (B,)
    hit = rand((b, n), generator, p) < p[:, None]                          # (B, N)
    up = rand((b, n), generator, p) < 0.5                                  # (B, N)
    click = torch.where(up, 1.0, -1.0).to(x.dtype) * peak(x)[:, None]    # (B, N)
    shape = (b,) + (1,) * (x.dim() - 2) + (n,)
    out = torch.where(hit.view(shape), click.view(shape), x)
    return finish(out, x, t, clip)


def downsample(x: Tensor, t: Tensor, scale: float, generator: torch.Generator | None = None,
               clip=None) -> Tensor:
    """Sample-and-hold: x'[..., n] = x[..., k floor(n / k)] with k = 1 + round(scale * t) per
    recording (halves round up), the sample rate divided by k with no anti-aliasing filter.
    scale: the hold length minus 1 at t = 1, in samples (scale 3: every 4th value kept, a quarter
    of the sample rate). Deterministic; ``generator`` is accepted for a uniform signature."""
    check_inputs("downsample", x, t, scale)
    clip = check_clip(clip)
    t = t.to(x.device)
    b, n = x.shape[0], x.shape[-1]
    k = (1 + round_half_up(scale * t.to(torch.float64))).clamp(max=max(n, 1)).long()  # (B,)
    steps = torch.arange(n, device=x.device)                              # (N,)
    held = (steps // k[:, None]) * k[:, None]                             # (B, N)
    flat = x.reshape(b, -1, n)                                            # (B, C, N)
    out = torch.gather(flat, 2, held[:, None, :].expand_as(flat)).reshape(x.shape)
    return finish(out, x, t, clip)
