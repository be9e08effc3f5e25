"""Corruptions of spoken-digit waveforms, and the corruption sets of the FSDD benchmark.

Two kinds for waveforms (B, C, N), registered with `udml.corrupt` (t = 0 is the identity;
randomness only from ``generator``):
  snr_noise  white Gaussian noise at a signal-to-noise ratio that falls with the level: the
             noise's RMS is scale * t times the recording's own RMS, so the SNR at strength t is
             -20 log10(scale * t) dB whatever the recording's loudness
  babble     other talkers: a mix of ``voices`` other recordings of the same batch, each at a
             random circular shift, scaled so that its RMS is scale * t times the recording's
             (the "cocktail party": speech-shaped, non-stationary, and saying other digits)
The built-in ``time_mask`` (a silenced stretch of the waveform: a dropout) applies as it is.

`fsdd_noise_specs(kind, ...)` gives one spec per modality for a named corruption set:
  gaussian   training and the main protocols: snr_noise on the audio, Gaussian on the image
  babble     never seen in training: babble on the audio, occlusion on the image
  time_mask  never seen in training: time mask on the audio, blur on the image
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ..corrupt import Kind, NoiseSpec, register_kind
from ..corrupt._common import check_clip, check_generator, check_inputs, finish, randn
from ..corrupt._common import RANKS

SNR_TOP = 10.0        # noise RMS / signal RMS at the top level: SNR -20 dB
BABBLE_TOP = 10.0     # babble RMS / signal RMS at the top level: SNR -20 dB
BABBLE_VOICES = 3     # recordings mixed into the babble of each sample
TIME_MASK_TOP = 0.75  # silenced share of the clip at the top level
IMAGE_GAUSSIAN_TOP = 8.0  # the image noise std at the top level (that of mfeat's pix, calibrated)
IMAGE_OCCLUSION_TOP = 0.75
IMAGE_BLUR_TOP = 2.0
SETS = {"gaussian": (("snr_noise", SNR_TOP), ("gaussian", IMAGE_GAUSSIAN_TOP)),
        "babble": (("babble", BABBLE_TOP), ("occlusion", IMAGE_OCCLUSION_TOP)),
        "time_mask": (("time_mask", TIME_MASK_TOP), ("blur", IMAGE_BLUR_TOP))}
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


FSDD_KINDS = {
    "snr_noise": Kind(snr_noise, None, (), "noise RMS over the recording's RMS"),
    "babble": Kind(babble, (2, 3), ("voices",), "babble RMS over the recording's RMS"),
}


def register_fsdd_kinds() -> None:
    """Add snr_noise and babble to `udml.corrupt.KINDS` (idempotent)."""
    RANKS.setdefault("snr_noise", FSDD_KINDS["snr_noise"].ranks)
    RANKS.setdefault("babble", FSDD_KINDS["babble"].ranks)
    for name, kind in FSDD_KINDS.items():
        register_kind(name, kind)


def fsdd_noise_specs(kind: str, visual_range: tuple[float, float] | None = None,
                     scales: dict[str, float] | None = None) -> dict[str, NoiseSpec]:
    """{'audio': NoiseSpec, 'visual': NoiseSpec} of the corruption set ``kind`` (see `SETS`).

    visual_range: where the image's raw grey levels land after standardisation; corrupted images
    are clipped to it. The waveform is not clipped. ``scales`` overrides the top strengths.
    """
    if kind not in SETS:
        raise ValueError(f"unknown FSDD corruption set {kind!r}; choose one of {sorted(SETS)}")
    register_fsdd_kinds()
    specs = {}
    for modality, (name, top) in zip(("audio", "visual"), SETS[kind]):
        scale = scales[modality] if scales and modality in scales else top
        if not math.isfinite(scale) or scale < 0:
            raise ValueError(f"scale of {modality} must be finite and >= 0, got {scale}")
        clip = visual_range if modality == "visual" else None
        specs[modality] = NoiseSpec(kind=name, scale=float(scale), clip=clip)
    return specs
