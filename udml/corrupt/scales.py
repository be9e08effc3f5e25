"""Default noise specs per dataset: Gaussian noise with a calibrated, per-modality scale.

A single scale for every modality is unfair: a small CNN averages pixel noise away, so a scale
that destroys a feature vector barely hurts an image.  ``python -m udml.training.calibrate``
therefore picks, per modality, the smallest scale at which a unimodal model trained on noisy data is
near chance at the top level; its output (with its config and seed) is shipped as
``udml/corrupt/noise_calibration.json`` and read here.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from .fsdd_sets import fsdd_noise_specs
from .spec import NoiseMixture, NoiseSpec
from ..data.dataset import MultimodalSplits
from ..data.fsdd import FSDDSplits

CALIBRATION_FILE = "noise_calibration.json"

# Top-level strengths of the corruption kinds never used in training (evaluation only), in each
# kind's own unit (udml.corrupt.KINDS[kind].scale_unit): half the entries flipped to the range's
# ends, a blur of 2 pixels / feature positions, three quarters of the sample covered.
UNSEEN_KIND_SCALES = {"salt_pepper": 0.5, "blur": 2.0, "occlusion": 0.75}
# The unseen corruption sets of the FSDD benchmark (udml.corrupt.fsdd_sets.SETS less gaussian): babble or a
# silenced stretch on the audio, with occlusion or blur on the image.
PAIRED_UNSEEN_KINDS = ("babble", "time_mask")


@lru_cache(maxsize=1)
def calibration() -> dict:
    """The shipped calibration record: {"scales": {dataset: {modality: scale}}, "config": ...}."""
    text = resources.files("udml.corrupt").joinpath(CALIBRATION_FILE).read_text()
    return json.loads(text)


def calibrated_scale(dataset: str, modality: str) -> float:
    scales = calibration()["scales"]
    if dataset not in scales or modality not in scales[dataset]:
        raise KeyError(f"no calibrated noise scale for modality {modality!r} of dataset {dataset!r}; "
                       f"run `python -m udml.training.calibrate` or pass explicit NoiseSpecs")
    return float(scales[dataset][modality])


def default_specs(splits: MultimodalSplits, kind: str = "gaussian",
                  scales: dict[str, float] | None = None) -> dict[str, NoiseSpec]:
    """One NoiseSpec per modality with the data's range and a scale: ``scales[m]`` if given, else
    the calibrated one for Gaussian noise, else the kind's entry of UNSEEN_KIND_SCALES.
    The FSDD benchmark's splits take its named sets of one kind per modality instead
    (`udml.corrupt.fsdd_sets`), images clipped to their range."""
    if isinstance(splits, FSDDSplits):
        return fsdd_noise_specs(kind, tuple(splits.info["range"]["visual"]), scales)
    ranges = splits.info.get("range", {})
    family = splits.info.get("dataset", splits.name)
    specs = {}
    for m in splits.modalities:
        if scales and m in scales:
            scale = scales[m]
        elif kind == "gaussian":
            scale = calibrated_scale(family, m)
        elif kind in UNSEEN_KIND_SCALES:
            scale = UNSEEN_KIND_SCALES[kind]
        else:
            raise ValueError(f"no default scale for noise kind {kind!r}; pass scales=")
        specs[m] = NoiseSpec(kind=kind, scale=scale, clip=tuple(ranges[m]) if m in ranges else None)
    return specs


def _spec_dict(s: NoiseSpec) -> dict:
    return {"kind": s.kind, "scale": s.scale, "clip": list(s.clip) if s.clip else None,
            "options": dict(s.options)}


def specs_to_dict(specs: dict[str, NoiseSpec | NoiseMixture]) -> dict:
    """JSON-ready form, for results files; a mixture is {"mixture": [its specs]}."""
    return {m: ({"mixture": [_spec_dict(p) for p in s.specs]} if isinstance(s, NoiseMixture)
                else _spec_dict(s)) for m, s in sorted(specs.items())}
