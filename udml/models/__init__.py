"""Every fusion method behind one constructor: ``build_model(encoders, num_classes, config)``."""
from __future__ import annotations

from torch import nn

from ..config import ModelConfig
from .base import MultimodalModel
from .dynamic import WEIGHTINGS, WeightedFusion
from .late import LateFusion
from .qmf import QMF
from .tmc import TMC

MODEL_CLASSES: dict[str, type[MultimodalModel]] = {
    **{m: WeightedFusion for m in WEIGHTINGS}, "late": LateFusion, "qmf": QMF, "tmc": TMC}


def build_model(encoders: dict[str, nn.Module], num_classes: int, config: ModelConfig) -> MultimodalModel:
    """The model of ``config.method`` on the given encoders."""
    if config.method not in MODEL_CLASSES:
        raise ValueError(f"unknown method {config.method!r}; choose one of {sorted(MODEL_CLASSES)}")
    return MODEL_CLASSES[config.method](encoders, num_classes, config)


__all__ = ["build_model", "MODEL_CLASSES", "MultimodalModel", "WeightedFusion", "LateFusion",
           "QMF", "TMC"]
