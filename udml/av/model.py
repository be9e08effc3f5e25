"""The audio-visual model: the ResNet-18 encoders under any `udml` fusion method, and its
checkpoints (which record the encoder width, so that they reload without guessing)."""
from __future__ import annotations

from pathlib import Path

import torch

from ..training.checkpoint import load_checkpoint, save_checkpoint
from ..config import ModelConfig, TrainConfig
from ..models import build_model
from ..models.base import MultimodalModel
from ..models.resnet import av_encoders


def build_av_model(shapes: dict[str, tuple[int, ...]], num_classes: int, config: ModelConfig,
                   width: int = 64) -> MultimodalModel:
    """``config.method`` (udml, static, pe, ...) on an audio and a visual ResNet-18."""
    return build_model(av_encoders(shapes, width), num_classes, config)


def encoder_width(model: MultimodalModel) -> int:
    """The base width of the model's ResNet-18s (the stem's output channels)."""
    return int(model.encoders["audio"].trunk.stem[0].out_channels)


def save_av_checkpoint(path: str | Path, model: MultimodalModel,
                       shapes: dict[str, tuple[int, ...]], train_config: TrainConfig | None = None,
                       extra: dict | None = None) -> Path:
    """`udml.training.checkpoint.save_checkpoint` plus the encoder width under extra['av']."""
    extra = {**(extra or {}), "av": {"width": encoder_width(model)}}
    return save_checkpoint(path, model, shapes, train_config, extra)


def load_av_checkpoint(path: str | Path, map_location: str | torch.device = "cpu"
                       ) -> tuple[MultimodalModel, dict]:
    """Reload a model saved by `save_av_checkpoint` (eval mode) and the raw checkpoint dict."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated or not a torch file
        raise ValueError(f"{path} is not a readable checkpoint: {err}") from err
    av = (ckpt.get("extra") or {}).get("av") if isinstance(ckpt, dict) else None
    if not av or "width" not in av:
        raise ValueError(f"{path} is not an audio-visual checkpoint (no extra['av']['width'])")
    shapes = {k: tuple(v) for k, v in ckpt["shapes"].items()}
    return load_checkpoint(path, av_encoders(shapes, int(av["width"])), map_location)
