"""Controlled, batched noise injection: kinds, per-modality specs and level protocols.

Levels l in 1..L (1 = clean) become strengths t = ((l - 1) / (L - 1))^2; every kind is a pure,
batched function of (x, t) seeded only through an explicit ``torch.Generator``.
"""
from .images import contrast, pixelate
from .kinds import (blur, gaussian, gaussian_kernels, occlusion, salt_pepper, temporal_blur,
                    time_mask)
from .protocols import (AllModalities, Clean, OneModality, Protocol, RandomPerSample,
                        all_modalities, clean, corrupt_batch, one_modality, protocol_from_string,
                        random_per_sample)
from .spec import (BUILTIN_KINDS, KINDS, Kind, NoiseMixture, NoiseSpec, apply_noise, check_levels,
                   levels_to_strength, register_kind)
from .vectors import feature_dropout, quantize, speckle

__all__ = [
    "BUILTIN_KINDS", "KINDS", "AllModalities", "Clean", "Kind", "NoiseMixture", "NoiseSpec",
    "OneModality",
    "Protocol", "RandomPerSample", "all_modalities", "apply_noise", "blur", "check_levels",
    "clean", "contrast", "corrupt_batch", "feature_dropout", "gaussian", "gaussian_kernels",
    "levels_to_strength", "occlusion", "one_modality", "pixelate", "protocol_from_string",
    "quantize", "random_per_sample", "register_kind", "salt_pepper", "speckle", "temporal_blur",
    "time_mask",
]
