"""Checkpoints that reload a model, its config and its dependency statistic exactly.

Saved: a format tag and version, the model and training configs, the modalities with their sample
shapes, the number of classes, the state dict (the running D_m is a buffer, so it travels with
it) and the forward flags: model attributes outside the config that change a forward pass
(`FORWARD_FLAGS`, e.g. whether s_hat enters the weights yet). Loaded with
``weights_only=True``: a checkpoint can never run code.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..config import ModelConfig, TrainConfig, config_from_dict, config_to_dict
from ..models.encoders import build_encoders
from ..models import build_model
from ..models.base import MultimodalModel
from ..paths import atomic_write

FORMAT = "udml-checkpoint"
VERSION = 2  # 2: forward_flags
FORWARD_FLAGS = ("use_uncertainty",)
# What `load_checkpoint` reads, with the type each must have: one missing is named, not a KeyError
ENTRIES = {"model_config": dict, "shapes": dict, "state_dict": dict, "num_classes": int,
           "modalities": list}


def save_checkpoint(path: str | Path, model: MultimodalModel, shapes: dict[str, tuple[int, ...]],
                    train_config: TrainConfig | None = None, extra: dict | None = None) -> Path:
    payload = {
        "format": FORMAT, "version": VERSION,
        "model_config": config_to_dict(model.config),
        "train_config": config_to_dict(train_config) if train_config else None,
        "modalities": list(model.modalities),
        "shapes": {k: list(v) for k, v in shapes.items()},
        "num_classes": model.num_classes,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "forward_flags": {k: bool(getattr(model, k)) for k in FORWARD_FLAGS},
        "extra": extra or {},
    }
    return atomic_write(path, lambda f: torch.save(payload, f), binary=True)


def load_checkpoint(path: str | Path, encoders: dict[str, nn.Module] | None = None,
                    map_location: str | torch.device = "cpu") -> tuple[MultimodalModel, dict]:
    """Rebuild the model (default encoders from the saved shapes unless ``encoders`` is given).

    Returns the model in eval mode and the raw checkpoint dict (configs, extra). Raises
    FileNotFoundError, or ValueError naming what is incompatible.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # truncated or not a torch file
        raise ValueError(f"{path} is not a readable checkpoint: {e}") from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{path} is not a udml checkpoint (missing format tag {FORMAT!r})")
    if ckpt.get("version") != VERSION:
        raise ValueError(f"{path} has checkpoint version {ckpt.get('version')}, this udml reads {VERSION}")
    missing = [k for k in ENTRIES if k not in ckpt]
    if missing:
        raise ValueError(f"checkpoint {path} has no {', '.join(map(repr, missing))} "
                         f"entr{'y' if len(missing) == 1 else 'ies'}; it is incomplete")
    wrong = [f"{k!r} is a {type(ckpt[k]).__name__}, not a {t.__name__}"
             for k, t in ENTRIES.items() if not isinstance(ckpt[k], t)]
    if wrong:
        raise ValueError(f"checkpoint {path} is damaged: {'; '.join(wrong)}")
    cfg = config_from_dict(ModelConfig, ckpt["model_config"])
    shapes = {k: tuple(v) for k, v in ckpt["shapes"].items()}
    encoders = encoders if encoders is not None else build_encoders(shapes, cfg)
    if sorted(encoders) != ckpt["modalities"]:
        raise ValueError(f"checkpoint modalities {ckpt['modalities']} do not match the encoders "
                         f"{sorted(encoders)}")
    model = build_model(encoders, ckpt["num_classes"], cfg)
    try:
        missing, unexpected = model.load_state_dict(ckpt["state_dict"], strict=False)
    except RuntimeError as e:  # tensor shape mismatches
        raise ValueError(f"checkpoint {path} does not fit the model: {e}") from e
    if missing or unexpected:
        raise ValueError(f"checkpoint {path} does not fit the model: missing {missing}, "
                         f"unexpected {unexpected}")
    flags = ckpt.get("forward_flags")
    if not isinstance(flags, dict) or set(flags) != set(FORWARD_FLAGS):
        raise ValueError(f"checkpoint {path} has forward_flags {flags!r}, expected the flags "
                         f"{list(FORWARD_FLAGS)}")
    for k in FORWARD_FLAGS:
        setattr(model, k, bool(flags[k]))
    model.eval()
    return model, ckpt
