"""Feature extractors f_m: an MLP for vector modalities, a small CNN for image modalities; the
FSDD benchmark's splits take their own ResNets (`encoder_builder`).

Each encoder exposes ``in_shape`` (the per-sample shape it accepts, checked by the model) and
``out_dim`` (the size of h_m).
"""
from __future__ import annotations

from functools import partial
from typing import Callable

from torch import Tensor, nn

from ..config import ModelConfig
from ..data.dataset import MultimodalSplits
from ..data.fsdd import FSDDSplits
from .fsdd import fsdd_encoders


class MLPEncoder(nn.Module):
    """(B, D) -> (B, hidden): two ReLU layers with dropout."""

    def __init__(self, in_dim: int, hidden: int, dropout: float = 0.1):
        super().__init__()
        self.in_shape = (in_dim,)
        self.out_dim = hidden
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # (B, hidden)


class SmallCNN(nn.Module):
    """(B, C, H, W) -> (B, out_dim): two conv blocks, global average pooling, a linear layer.

    Sized for the 1x16x15 mfeat digits; any H, W >= 4 works.
    """

    def __init__(self, in_shape: tuple[int, int, int], out_dim: int, width: int = 32):
        super().__init__()
        if len(in_shape) != 3:
            raise ValueError(f"SmallCNN expects a (C, H, W) sample shape, got {in_shape}")
        self.in_shape = tuple(in_shape)
        self.out_dim = out_dim
        c = in_shape[0]
        self.features = nn.Sequential(
            nn.Conv2d(c, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.MaxPool2d(2),                                    # (B, width, H/2, W/2)
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),                            # (B, 2 width, 1, 1)
        )
        self.proj = nn.Sequential(nn.Flatten(), nn.Linear(2 * width, out_dim), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(self.features(x))  # (B, out_dim)


def build_encoders(shapes: dict[str, tuple[int, ...]], config: ModelConfig) -> dict[str, nn.Module]:
    """One encoder per modality from its sample shape: (D,) -> MLP, (C, H, W) -> SmallCNN."""
    encoders: dict[str, nn.Module] = {}
    for name in sorted(shapes):
        shape = tuple(shapes[name])
        if len(shape) == 1:
            encoders[name] = MLPEncoder(shape[0], config.hidden_dim, config.dropout)
        elif len(shape) == 3:
            encoders[name] = SmallCNN(shape, config.hidden_dim)
        else:
            raise ValueError(f"no default encoder for modality {name!r} with sample shape {shape}; "
                             "pass your own encoders")
    return encoders


def encoder_builder(splits: MultimodalSplits) -> Callable[..., dict[str, nn.Module]]:
    """How to build the encoders of ``splits``, called as ``(shapes, config)``: the FSDD
    benchmark's ResNets at the audio spec and width its splits were made for, else
    `build_encoders`."""
    if isinstance(splits, FSDDSplits):
        return partial(_fsdd, splits.audio, splits.width)
    return build_encoders


def _fsdd(audio, width: int, shapes: dict[str, tuple[int, ...]], config: ModelConfig) -> dict:
    return fsdd_encoders(shapes, audio, width)  # the ResNets take no setting of ModelConfig
