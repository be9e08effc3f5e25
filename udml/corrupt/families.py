"""Families of damage, one kind per type of input: the units of the leave-one-kind-out protocol.

A *family* names one way an input can be damaged, with the kind that does it to each type of
input (a feature vector, an image, a waveform) and its strength at the top level (the last
column is ``EFFECTS``):

    family      vector            image             audio (waveform)
    noise       gaussian          gaussian          snr_noise       additive, random
    impulse     salt_pepper       salt_pepper       crackle         a few entries at the extremes
    smear       blur              blur              temporal_blur   low-pass: detail lost
    missing     occlusion         occlusion         time_mask       one contiguous part lost
    dropout     feature_dropout   feature_dropout   packet_loss     scattered parts lost
    distortion  speckle           contrast          clipping        the amplitudes changed
    resolution  quantize          pixelate          downsample      coarser values or samples

The paper trains on Gaussian noise only ("noise"). The leave-one-kind-out protocol trains on the
mixture of every family but one (`family_mixture`) and tests on the one held out
(`family_specs`), for each family in turn: damage of a kind the model never saw.

The type of a modality is read from its sample shape: (D,) a vector, (1, S) a waveform,
(C, H, W) an image.
"""
from __future__ import annotations

from .fsdd_sets import IMAGE_GAUSSIAN_TOP, SNR_TOP
from .spec import NoiseMixture, NoiseSpec

# family -> {input type: (kind, strength at the top level in the kind's unit)}; None: the
# calibrated Gaussian scale of the modality (`udml.corrupt.scales.calibrated_scale`)
FAMILIES: dict[str, dict[str, tuple[str, float | None]]] = {
    "noise": {"vector": ("gaussian", None), "image": ("gaussian", None),
              "audio": ("snr_noise", SNR_TOP)},
    "impulse": {"vector": ("salt_pepper", 0.5), "image": ("salt_pepper", 0.5),
                "audio": ("crackle", 0.3)},
    "smear": {"vector": ("blur", 2.0), "image": ("blur", 2.0),
              "audio": ("temporal_blur", 8.0)},
    "missing": {"vector": ("occlusion", 0.75), "image": ("occlusion", 0.75),
                "audio": ("time_mask", 0.75)},
    "dropout": {"vector": ("feature_dropout", 0.9), "image": ("feature_dropout", 0.9),
                "audio": ("packet_loss", 0.9)},
    "distortion": {"vector": ("speckle", 3.0), "image": ("contrast", 1.0),
                   "audio": ("clipping", 0.99)},
    "resolution": {"vector": ("quantize", 4.0), "image": ("pixelate", 7.0),
                   "audio": ("downsample", 31.0)},
}
FAMILY_NAMES = tuple(FAMILIES)
# family -> what its kinds do to any input (the last column above)
EFFECTS: dict[str, str] = {
    "noise": "additive, random", "impulse": "a few entries at the extremes",
    "smear": "low-pass: detail lost", "missing": "one contiguous part lost",
    "dropout": "scattered parts lost", "distortion": "the amplitudes changed",
    "resolution": "coarser values or samples"}


def input_type(shape: tuple[int, ...]) -> str:
    """'vector' (D,), 'audio' (1, S) or 'image' (C, H, W): the type of a modality's samples."""
    types = {1: "vector", 2: "audio", 3: "image"}
    if len(shape) not in types:
        raise ValueError(f"no family of damage for samples of shape {tuple(shape)}; expected "
                         "(D,) vectors, (1, S) waveforms or (C, H, W) images")
    return types[len(shape)]


def check_family(name: str) -> str:
    if name not in FAMILIES:
        raise ValueError(f"unknown family of damage {name!r}; choose one of {list(FAMILIES)}")
    return name


def family_specs(splits, family: str) -> dict[str, NoiseSpec]:
    """{modality: NoiseSpec}: the kind of ``family`` for each modality's type of input, at its
    top strength, clipped to the modality's range where the data have one.  ``splits`` is a
    `udml.data.dataset.MultimodalSplits` (its shapes, info["range"] and dataset name)."""
    from .scales import calibrated_scale
    check_family(family)
    ranges = splits.info.get("range", {})
    dataset = splits.info.get("dataset", splits.name)
    specs = {}
    for m in splits.modalities:
        kind, scale = FAMILIES[family][input_type(splits.shapes[m])]
        if scale is None:  # Gaussian noise: calibrated per modality, the benchmark's on FSDD
            scale = IMAGE_GAUSSIAN_TOP if dataset.startswith("fsdd") else calibrated_scale(
                dataset, m)
        clip = ranges.get(m)
        specs[m] = NoiseSpec(kind=kind, scale=float(scale), clip=tuple(clip) if clip else None)
    return specs


def family_mixture(splits, held_out: str) -> dict[str, NoiseMixture]:
    """{modality: NoiseMixture} of every family but ``held_out``: what the leave-one-kind-out
    protocol trains on (each noisy sample gets one of these kinds, drawn uniformly)."""
    check_family(held_out)
    seen = [family_specs(splits, f) for f in FAMILY_NAMES if f != held_out]
    return {m: NoiseMixture(tuple(s[m] for s in seen)) for m in splits.modalities}
