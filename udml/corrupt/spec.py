"""What noise each modality gets (`NoiseSpec`), the registry of kinds, and `apply_noise`.

A noise level l in 1..L (1 = clean) becomes the strength t = ((l - 1) / (L - 1))^2 in [0, 1]; the
kind then scales its effect by ``spec.scale * t``. Level 1 is the identity, and the strength
grows quadratically with the level (see `levels_to_strength`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor

from . import frames, images, kinds, vectors, waveform
from ._common import RANKS, check_clip


@dataclass(frozen=True)
class Kind:
    """One registered corruption: its function, the ranks it accepts and the unit of ``scale``."""

    fn: Callable[..., Tensor]
    ranks: tuple[int, ...] | None  # tensor ranks with the batch axis; None = any
    options: tuple[str, ...]       # kind-specific keywords a NoiseSpec may pass
    scale_unit: str                # what ``scale`` measures at t = 1 (the top level)
    random: bool = True


KINDS: dict[str, Kind] = {
    "gaussian": Kind(kinds.gaussian, RANKS["gaussian"], (),
                     "noise standard deviation, in units of the data's spread"),
    "salt_pepper": Kind(kinds.salt_pepper, RANKS["salt_pepper"], ("low", "high"),
                        "share of entries set to low/high"),
    "blur": Kind(kinds.blur, RANKS["blur"], (),
                 "Gaussian kernel standard deviation, in pixels or feature positions",
                 random=False),
    "occlusion": Kind(kinds.occlusion, RANKS["occlusion"], ("fill",),
                      "covered share of the image or vector"),
    "time_mask": Kind(kinds.time_mask, RANKS["time_mask"], ("fill",),
                      "masked share of the time axis"),
    "temporal_blur": Kind(kinds.temporal_blur, RANKS["temporal_blur"], (),
                          "Gaussian kernel standard deviation, in time steps", random=False),
    # waveforms (udml.corrupt.waveform)
    "snr_noise": Kind(waveform.snr_noise, RANKS["snr_noise"], (),
                      "noise RMS over the recording's RMS"),
    "babble": Kind(waveform.babble, RANKS["babble"], ("voices",),
                   "babble RMS over the recording's RMS"),
    "clipping": Kind(waveform.clipping, RANKS["clipping"], (),
                     "share of the recording's peak cut away", random=False),
    "packet_loss": Kind(waveform.packet_loss, RANKS["packet_loss"], ("packet", "fill"),
                        "share of packets lost"),
    "crackle": Kind(waveform.crackle, RANKS["crackle"], (),
                    "share of time steps set to +-peak (clicks)"),
    "downsample": Kind(waveform.downsample, RANKS["downsample"], (),
                       "hold length minus 1, in samples (k = 1 + round(scale t))", random=False),
    # any modality (udml.corrupt.vectors)
    "feature_dropout": Kind(vectors.feature_dropout, RANKS["feature_dropout"], ("fill",),
                            "share of entries set to fill"),
    "speckle": Kind(vectors.speckle, RANKS["speckle"], (),
                    "standard deviation of the relative gain error"),
    "quantize": Kind(vectors.quantize, RANKS["quantize"], (),
                     "quantisation step, in data units", random=False),
    # images (udml.corrupt.images)
    "contrast": Kind(images.contrast, RANKS["contrast"], (),
                     "share of the contrast removed (1 = a flat image)", random=False),
    "pixelate": Kind(images.pixelate, RANKS["pixelate"], (),
                     "block side minus 1, in pixels (k = 1 + round(scale t))", random=False),
    # video frames (udml.corrupt.frames)
    "motion_blur": Kind(frames.motion_blur, (4, 5), (), "blur length in pixels"),
    "frame_blur": Kind(frames.frame_blur, (5,), (), "Gaussian kernel standard deviation, in pixels",
                       random=False),
    "frame_occlusion": Kind(frames.frame_occlusion, (5,), ("fill",), "covered share of each frame"),
}

# The kinds of `udml.corrupt.kinds`, `.vectors` and `.images`, which apply to any modality of a
# matching rank (vectors, images, sequences); the others are for waveforms and video frames.
BUILTIN_KINDS = ("gaussian", "salt_pepper", "blur", "occlusion", "time_mask", "temporal_blur",
                 "feature_dropout", "speckle", "quantize", "contrast", "pixelate")


def register_kind(name: str, kind: Kind) -> None:
    """Add a corruption kind of one's own to `KINDS`, so NoiseSpec accepts it.

    Idempotent for the same object; refuses to replace a different kind of the same name.
    """
    if not isinstance(kind, Kind):
        raise TypeError(f"register_kind expects a Kind, got {type(kind).__name__}")
    if KINDS.get(name, kind) is not kind:
        raise ValueError(f"a different noise kind is already registered as {name!r}")
    KINDS[name] = kind


@dataclass
class NoiseSpec:
    """The corruption of one modality: its kind, its strength at the top level, its range.

    kind:    a key of `KINDS`
    scale:   the kind's strength at level L (t = 1), in the unit ``KINDS[kind].scale_unit``
    clip:    (low, high) range of the data, or None; corrupted samples are clipped to it
    options: kind-specific keywords, e.g. {"fill": 0.0} for occlusion, {"low": -1, "high": 1}
             for salt_pepper
    """

    kind: str = "gaussian"
    scale: float = 1.0
    clip: tuple[float, float] | None = None
    options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown noise kind {self.kind!r}; choose one of {sorted(KINDS)}")
        if isinstance(self.scale, bool) or not isinstance(self.scale, (int, float)) \
                or not math.isfinite(self.scale) or self.scale < 0:
            raise ValueError(f"noise scale must be a finite number >= 0, got {self.scale!r}")
        self.scale = float(self.scale)
        self.clip = check_clip(self.clip)  # lists (from JSON) become tuples
        unknown = set(self.options) - set(KINDS[self.kind].options)
        if unknown:
            raise ValueError(f"noise kind {self.kind!r} takes options "
                             f"{list(KINDS[self.kind].options)}, got unknown {sorted(unknown)}")
        self.options = dict(self.options)


@dataclass(frozen=True)
class NoiseMixture:
    """Several corruptions of one modality: each sample gets one of ``specs``, drawn uniformly.

    Training on a mixture of kinds (the leave-one-kind-out protocol, `udml.corrupt.families`)
    shows the model many kinds of damage at once.  Every component corrupts the whole batch and
    each sample keeps its drawn component's output, so the draws do not depend on which samples
    chose which component (a kind such as babble reads the whole batch).
    """

    specs: tuple[NoiseSpec, ...]

    def __post_init__(self) -> None:
        specs = tuple(self.specs) if isinstance(self.specs, (list, tuple)) else ()
        if not specs or not all(isinstance(s, NoiseSpec) for s in specs):
            raise TypeError(f"a NoiseMixture needs a non-empty tuple of NoiseSpecs, "
                            f"got {self.specs!r}")
        object.__setattr__(self, "specs", specs)

    @property
    def kind(self) -> str:
        """'a+b+c': the kinds of the components (for messages and records)."""
        return "+".join(s.kind for s in self.specs)


def levels_to_strength(levels: Tensor, num_levels: int) -> Tensor:
    """t = ((l - 1) / (L - 1))^2: level 1 -> 0 (clean), level L -> 1; float32 of levels' shape.

    Quadratic, like the reference code's std = level^2: the low levels are slight noise (level 2
    is 1% of the top strength), so that telling slight noise from none is a real test, while the
    top levels destroy the modality.
    """
    if isinstance(num_levels, bool) or not isinstance(num_levels, int) or num_levels < 2:
        raise ValueError(f"num_levels must be an int >= 2, got {num_levels!r}")
    if not isinstance(levels, Tensor) or levels.dtype == torch.bool \
            or levels.is_floating_point() or levels.is_complex():
        raise ValueError(f"levels must be integers (a long tensor), got "
                         f"{getattr(levels, 'dtype', type(levels).__name__)}")
    if levels.numel() and bool(((levels < 1) | (levels > num_levels)).any()):
        raise ValueError(f"levels must lie in 1..{num_levels}, got min {int(levels.min())}, "
                         f"max {int(levels.max())}")
    return ((levels - 1).to(torch.float32) / (num_levels - 1)).pow(2)


def _check_keys(what: str, got: dict, want: set[str]) -> None:
    missing, extra = sorted(want - set(got)), sorted(set(got) - want)
    if missing or extra:
        raise ValueError(f"{what} do not match the modalities {sorted(want)}: "
                         f"missing {missing}, extra {extra}")


def check_levels(name: str, lv, batch_size: int, num_levels: int) -> None:
    """Raise a ValueError naming modality ``name`` if lv is not (B,) integers in 1..L."""
    if not isinstance(lv, Tensor):
        raise TypeError(f"modality {name!r}: levels must be a tensor, got {type(lv).__name__}")
    if lv.dtype == torch.bool or lv.is_floating_point() or lv.is_complex():
        raise ValueError(f"modality {name!r}: levels must be integers (a long tensor), "
                         f"got dtype {lv.dtype}")
    if tuple(lv.shape) != (batch_size,):
        raise ValueError(f"modality {name!r}: levels must have shape ({batch_size},), "
                         f"got {tuple(lv.shape)}")
    if bool(((lv < 1) | (lv > num_levels)).any()):
        raise ValueError(f"modality {name!r}: levels must lie in 1..{num_levels}, got min "
                         f"{int(lv.min())}, max {int(lv.max())}")


def _check(x, levels, specs, num_levels) -> None:
    for what, d in (("x", x), ("levels", levels), ("specs", specs)):
        if not isinstance(d, dict):
            raise TypeError(f"{what} must be a dict keyed by modality name, got {type(d).__name__}")
    if not x:
        raise ValueError("x has no modalities")
    if isinstance(num_levels, bool) or not isinstance(num_levels, int) or num_levels < 2:
        raise ValueError(f"num_levels must be an int >= 2, got {num_levels!r}")
    names = set(x)
    _check_keys("levels", levels, names)
    _check_keys("noise specs", specs, names)
    for name in sorted(names):
        v, spec = x[name], specs[name]
        if not isinstance(v, Tensor) or not v.is_floating_point():
            raise TypeError(f"modality {name!r}: x must be a floating-point tensor, got "
                            f"{getattr(v, 'dtype', type(v).__name__)}")
        if v.dim() == 0 or v.shape[0] == 0:
            raise ValueError(f"modality {name!r}: empty batch (shape {tuple(v.shape)})")
        check_levels(name, levels[name], v.shape[0], num_levels)
        if not isinstance(spec, (NoiseSpec, NoiseMixture)):
            raise TypeError(f"modality {name!r}: spec must be a NoiseSpec or a NoiseMixture, "
                            f"got {type(spec).__name__}")
        for part in _components(spec):
            if part.kind not in KINDS:
                raise ValueError(f"modality {name!r}: unknown noise kind {part.kind!r}; choose "
                                 f"one of {sorted(KINDS)}")
            ranks = KINDS[part.kind].ranks
            if ranks is not None and v.dim() not in ranks:
                raise ValueError(f"modality {name!r}: noise kind {part.kind!r} applies to "
                                 f"tensors of rank {ranks} (batch axis included), got shape "
                                 f"{tuple(v.shape)}")


def _components(spec) -> tuple[NoiseSpec, ...]:
    return spec.specs if isinstance(spec, NoiseMixture) else (spec,)


def _corrupt(v: Tensor, t: Tensor, spec: NoiseSpec, generator: torch.Generator) -> Tensor:
    return KINDS[spec.kind].fn(v, t, spec.scale, generator, clip=spec.clip, **spec.options)


def _corrupt_mixture(v: Tensor, t: Tensor, mixture: NoiseMixture,
                     generator: torch.Generator) -> Tensor:
    """Each sample of v (B, ...) corrupted by one component of ``mixture``, drawn uniformly."""
    pick = torch.randint(len(mixture.specs), (v.shape[0],), generator=generator,
                         device=generator.device).to(v.device)               # (B,)
    out = v
    for i, spec in enumerate(mixture.specs):
        chosen = (pick == i).view((-1,) + (1,) * (v.dim() - 1))              # (B, 1, ...)
        out = torch.where(chosen, _corrupt(v, t, spec, generator), out)
    return out


def apply_noise(x: dict[str, Tensor], levels: dict[str, Tensor], specs: dict[str, NoiseSpec],
                num_levels: int, generator: torch.Generator) -> dict[str, Tensor]:
    """Corrupt every modality at its per-sample levels; return a new dict (sorted by name).

    x:      name -> (B, ...) float tensors (any device)
    levels: name -> (B,) integer levels in 1..num_levels (1 = clean), on any device
    specs:  name -> NoiseSpec (or NoiseMixture), exactly one per modality
    Everything is validated before anything is drawn. Modalities are corrupted in sorted order,
    so one generator seed gives one result. A modality whose levels are all 1 is passed through
    as the same tensor object (nothing drawn); samples at level 1 keep their exact values.
    """
    _check(x, levels, specs, num_levels)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    out: dict[str, Tensor] = {}
    for name in sorted(x):
        v, spec = x[name], specs[name]
        lv = levels[name].to(v.device)
        if not bool((lv > 1).any()):
            out[name] = v
            continue
        t = levels_to_strength(lv, num_levels)  # (B,)
        out[name] = (_corrupt_mixture(v, t, spec, generator) if isinstance(spec, NoiseMixture)
                     else _corrupt(v, t, spec, generator))
    return out
