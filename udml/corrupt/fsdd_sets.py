"""The corruption sets of the FSDD benchmark (`udml.data.fsdd`): one kind per modality.

  gaussian   training and the main protocols: snr_noise on the audio, Gaussian on the image
  babble     never seen in training: babble on the audio, occlusion on the image
  time_mask  never seen in training: time mask on the audio, blur on the image
"""
from __future__ import annotations

import math

from .spec import NoiseSpec

SNR_TOP = 10.0        # noise RMS / signal RMS at the top level: SNR -20 dB
BABBLE_TOP = 10.0     # babble RMS / signal RMS at the top level: SNR -20 dB
TIME_MASK_TOP = 0.75  # silenced share of the clip at the top level
IMAGE_GAUSSIAN_TOP = 8.0  # the image noise std at the top level (that of mfeat's pix, calibrated)
IMAGE_OCCLUSION_TOP = 0.75
IMAGE_BLUR_TOP = 2.0
SETS = {"gaussian": (("snr_noise", SNR_TOP), ("gaussian", IMAGE_GAUSSIAN_TOP)),
        "babble": (("babble", BABBLE_TOP), ("occlusion", IMAGE_OCCLUSION_TOP)),
        "time_mask": (("time_mask", TIME_MASK_TOP), ("blur", IMAGE_BLUR_TOP))}


def fsdd_noise_specs(kind: str, visual_range: tuple[float, float] | None = None,
                     scales: dict[str, float] | None = None) -> dict[str, NoiseSpec]:
    """{'audio': NoiseSpec, 'visual': NoiseSpec} of the corruption set ``kind`` (see `SETS`).

    visual_range: where the image's raw grey levels land after standardisation; corrupted images
    are clipped to it. The waveform is not clipped. ``scales`` overrides the top strengths.
    """
    if kind not in SETS:
        raise ValueError(f"unknown FSDD corruption set {kind!r}; choose one of {sorted(SETS)}")
    specs = {}
    for modality, (name, top) in zip(("audio", "visual"), SETS[kind]):
        scale = scales[modality] if scales and modality in scales else top
        if not math.isfinite(scale) or scale < 0:
            raise ValueError(f"scale of {modality} must be finite and >= 0, got {scale}")
        clip = visual_range if modality == "visual" else None
        specs[modality] = NoiseSpec(kind=name, scale=float(scale), clip=clip)
    return specs
