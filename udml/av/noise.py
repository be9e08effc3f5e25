"""The corruption sets of the audio-visual runs, and the spread that scales their Gaussian noise.

Frames (B, T, 3, H, W) take the frame kinds of `udml.corrupt.frames` (motion_blur,
frame_occlusion); spectrograms (B, 1, F, T) take the built-in kinds directly (gaussian,
temporal_blur, time_mask).

Corruption sets (`av_noise_specs`): "gaussian" (training and test: Gaussian noise on both
modalities), "blur" (motion blur on frames, temporal blur on spectrograms, the kinds the
reference code wires at test time), "mask" (occlusion on frames, time mask on spectrograms).
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..corrupt import NoiseSpec

GAUSSIAN_TOP = 2.0        # Gaussian noise std at the top level, in units of the modality's spread
MOTION_BLUR_TOP = 0.25    # blur length at the top level, as a share of the frame side
TEMPORAL_BLUR_TOP = 0.05  # Gaussian sigma at the top level, as a share of the spectrogram frames
OCCLUDED_TOP = 0.5        # covered share of the frame / masked share of the time axis at the top
SETS = {"gaussian": ("gaussian", "gaussian"), "blur": ("temporal_blur", "motion_blur"),
        "mask": ("time_mask", "frame_occlusion")}


@torch.no_grad()
def measure_spread(data, max_samples: int = 64, batch_size: int = 32) -> dict[str, float]:
    """Standard deviation of each modality over the first ``max_samples`` clean clips."""
    if len(data) == 0:
        raise ValueError("cannot measure the spread of an empty split")
    sums: dict[str, list[Tensor]] = {}
    seen = 0
    for batch in data.batches(batch_size):
        for k, v in batch.x.items():
            sums.setdefault(k, []).append(v.flatten().double())
        seen += batch.y.shape[0]
        if seen >= max_samples:
            break
    return {k: float(torch.cat(v).std()) for k, v in sorted(sums.items())}


def av_noise_specs(kind: str, shapes: dict[str, tuple[int, ...]],
                   spread: dict[str, float] | None = None,
                   scales: dict[str, float] | None = None) -> dict[str, NoiseSpec]:
    """{'audio': NoiseSpec, 'visual': NoiseSpec} for a corruption set of `SETS`.

    Default top-level strengths: Gaussian GAUSSIAN_TOP x the modality's ``spread`` (from
    `measure_spread`; required for "gaussian"), motion blur MOTION_BLUR_TOP x the frame side,
    temporal blur TEMPORAL_BLUR_TOP x the spectrogram frames, OCCLUDED_TOP of frame / time axis.
    ``scales`` overrides them per modality. No clipping: spectrograms have no upper bound and
    normalised frames a different range per channel.
    """
    if kind not in SETS:
        raise ValueError(f"unknown audio-visual corruption set {kind!r}; "
                         f"choose one of {sorted(SETS)}")
    audio_kind, visual_kind = SETS[kind]
    if kind == "gaussian" and not (scales and {"audio", "visual"} <= set(scales)):
        if spread is None or not {"audio", "visual"} <= set(spread):
            raise ValueError("Gaussian noise is scaled by the data's spread: pass "
                             "spread=measure_spread(splits.train) or explicit scales")
    defaults = {
        "gaussian": lambda m: GAUSSIAN_TOP * spread[m],
        "temporal_blur": lambda m: TEMPORAL_BLUR_TOP * shapes[m][-1],
        "motion_blur": lambda m: MOTION_BLUR_TOP * shapes[m][-1],
        "time_mask": lambda m: OCCLUDED_TOP,
        "frame_occlusion": lambda m: OCCLUDED_TOP,
    }
    specs = {}
    for m, k in (("audio", audio_kind), ("visual", visual_kind)):
        scale = scales[m] if scales and m in scales else defaults[k](m)
        specs[m] = NoiseSpec(kind=k, scale=float(scale))
    return specs
