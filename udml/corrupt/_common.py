"""Input checks and random draws shared by every corruption kind.

Conventions of the kinds (see `udml.corrupt.kinds`):
- x is a float tensor (B, ...) and t a (B,) float tensor of strengths in [0, 1], one per sample.
- A sample with t = 0 comes back bit-for-bit unchanged (noise level 1 = clean).
- Randomness comes only from an explicit ``torch.Generator``. Numbers are drawn on the
  generator's device and then moved to x's device, so a CPU generator gives the same corruption
  on every device (at the cost of a host-to-device copy on cuda), and a generator created on x's
  device (``torch.Generator(device="cuda")``) draws there directly.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

# Tensor ranks (batch axis included) each kind accepts; None = any rank >= 1.
RANKS: dict[str, tuple[int, ...] | None] = {
    "gaussian": None,
    "salt_pepper": None,
    "blur": (2, 4),          # vectors (B, D) or images (B, C, H, W)
    "occlusion": (2, 4),
    "time_mask": (2, 3, 4),  # sequences (B, T), (B, C, T) or spectrograms (B, C, F, T)
    "temporal_blur": (2, 3, 4),
    "snr_noise": None,       # waveforms (udml.corrupt.waveform)
    "babble": (2, 3),        # (B, N) or (B, C, N): other recordings of the batch are mixed in
    # udml.corrupt.vectors: entry-wise, on vectors, sequences, images or clips
    "feature_dropout": (2, 3, 4, 5),
    "speckle": None,
    "quantize": None,
    # udml.corrupt.images: images (B, C, H, W)
    "contrast": (4,),
    "pixelate": (4,),
    # udml.corrupt.waveform: (B, N) or (B, C, N)
    "clipping": (2, 3),
    "packet_loss": (2, 3),
    "crackle": (2, 3),
    "downsample": (2, 3),
}


def check_inputs(kind: str, x: Tensor, t: Tensor, scale: float) -> None:
    """Raise a TypeError/ValueError naming the problem with a kind's arguments."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{kind}: x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{kind}: x must be a floating-point tensor, got {x.dtype}")
    ranks = RANKS[kind]
    if x.dim() < 1 or (ranks is not None and x.dim() not in ranks):
        allowed = "any rank >= 1" if ranks is None else f"rank {' or '.join(map(str, ranks))}"
        raise ValueError(f"{kind} applies to tensors of {allowed} (batch axis included), "
                         f"got shape {tuple(x.shape)}")
    if not isinstance(t, Tensor) or not t.is_floating_point():
        raise TypeError(f"{kind}: t must be a floating-point tensor of strengths")
    if tuple(t.shape) != (x.shape[0],):
        raise ValueError(f"{kind}: t must have shape ({x.shape[0]},) (one strength per sample), "
                         f"got {tuple(t.shape)}")
    if t.numel() and bool(((t < 0) | (t > 1) | torch.isnan(t)).any()):
        raise ValueError(f"{kind}: strengths t must lie in [0, 1], got min {t.min().item()}, "
                         f"max {t.max().item()}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) \
            or scale < 0:
        raise ValueError(f"{kind}: scale must be a finite number >= 0, got {scale!r}")


def check_clip(clip) -> tuple[float, float] | None:
    """Validate a (low, high) clipping range; None means no range."""
    if clip is None:
        return None
    try:
        lo, hi = (float(c) for c in clip)
    except (TypeError, ValueError):
        raise ValueError(f"clip must be None or a pair (low, high), got {clip!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"clip must be finite with low < high, got {clip!r}")
    return lo, hi


def check_fill(kind: str, fill) -> float:
    """A finite fill value, in data units, as a float."""
    if isinstance(fill, bool) or not isinstance(fill, (int, float)) or not math.isfinite(fill):
        raise ValueError(f"{kind}: fill must be a finite number, got {fill!r}")
    return float(fill)


def round_half_up(v: Tensor) -> Tensor:
    """floor(v + 0.5): halves round up, so that k = 1 + round(scale t) is 2 from scale t = 0.5 on."""
    return torch.floor(v + 0.5)


def check_generator(kind: str, generator) -> None:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"{kind} is random: pass generator=torch.Generator(...), "
                        f"got {type(generator).__name__}")


def _draw_dtype(dtype: torch.dtype) -> torch.dtype:
    return dtype if dtype in (torch.float32, torch.float64) else torch.float32


def randn(shape, generator: torch.Generator, like: Tensor) -> Tensor:
    """Standard normal numbers drawn on the generator's device, returned on ``like``'s device."""
    z = torch.randn(shape, generator=generator, device=generator.device,
                    dtype=_draw_dtype(like.dtype))
    return z.to(like.device, like.dtype)


def rand(shape, generator: torch.Generator, like: Tensor) -> Tensor:
    """Uniform [0, 1) numbers drawn on the generator's device, returned on ``like``'s device."""
    u = torch.rand(shape, generator=generator, device=generator.device,
                   dtype=_draw_dtype(like.dtype))
    return u.to(like.device, like.dtype)


def per_sample(v: Tensor, x: Tensor) -> Tensor:
    """View a (B,) tensor as (B, 1, ..., 1) so that it broadcasts against x (B, ...)."""
    return v.view((-1,) + (1,) * (x.dim() - 1))


def finish(out: Tensor, x: Tensor, t: Tensor, clip: tuple[float, float] | None) -> Tensor:
    """Clip the corrupted samples and restore the clean ones (t = 0) exactly, in out's memory.

    out must be a fresh tensor of x's shape that nothing else refers to.
    """
    if clip is not None:
        out.clamp_(clip[0], clip[1])
    clean = t == 0  # (B,)
    if bool(clean.any()):
        out[clean] = x[clean]
    return out


def block_mask(fraction: Tensor, size: int, generator: torch.Generator, like: Tensor) -> Tensor:
    """(B, size) bool mask of one contiguous block per sample, at a uniform random position.

    The block covers round(fraction * size) positions, at least 1 where fraction > 0 and none
    where fraction = 0; fraction (B,) is clamped to [0, 1].
    """
    frac = fraction.clamp(0.0, 1.0)
    length = torch.round(frac * size).clamp(min=1)
    length = torch.where(frac > 0, length, torch.zeros_like(length))  # (B,)
    u = rand(frac.shape, generator, like).to(frac.dtype)  # (B,)
    start = torch.minimum(torch.floor(u * (size - length + 1)), size - length)  # (B,)
    pos = torch.arange(size, device=like.device, dtype=frac.dtype)  # (size,)
    return (pos >= start[:, None]) & (pos < (start + length)[:, None])  # (B, size)
