"""Late fusion: one linear classifier per modality, fused logits = sum of the unimodal logits.

pi_m = W_m h_m + b_m,   pi = sum_m pi_m.

No modality is weighted: every classifier votes with its raw logits. The per-modality classifiers
(`UnimodalHeads`) are shared with QMF and TMC, which are late-fusion methods too; they differ
only in how the unimodal outputs are combined. Every model's loss checks its labels
(`udml.models.base.MultimodalModel`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import ModelConfig
from ..data.dataset import Batch
from ..method.output import FusionOutput
from .base import MultimodalModel


class UnimodalHeads(nn.Module):
    """One linear classifier per modality: h_m (B, out_dim_m) -> pi_m (B, C)."""

    def __init__(self, in_dims: dict[str, int], num_classes: int):
        super().__init__()
        self.modalities = sorted(in_dims)
        self.heads = nn.ModuleDict({k: nn.Linear(in_dims[k], num_classes) for k in self.modalities})

    def forward(self, h: dict[str, Tensor]) -> dict[str, Tensor]:
        return {k: self.heads[k](h[k]) for k in self.modalities}  # name -> (B, C)


def check_gamma(config: ModelConfig) -> None:
    if config.gamma < 0:
        raise ValueError(f"gamma (weight of the unimodal losses) must be >= 0, got {config.gamma}")


class LateFusion(MultimodalModel):
    """Sum of unimodal logits.  Loss: CE(pi, y) + gamma * sum_m CE(pi_m, y).

    ``parts`` holds the unweighted terms: total = ce + gamma * unimodal.
    """

    def __init__(self, encoders: dict[str, nn.Module], num_classes: int, config: ModelConfig):
        super().__init__(encoders, num_classes, config)
        check_gamma(config)
        self.classifiers = UnimodalHeads(
            {k: self.encoders[k].out_dim for k in self.modalities}, num_classes)

    def fuse(self, h: dict[str, Tensor], levels: dict[str, Tensor] | None) -> FusionOutput:
        # levels are deliberately ignored: late fusion has no notion of input quality.
        pi_m = self.classifiers(h)  # name -> (B, C)
        logits = torch.stack([pi_m[k] for k in self.modalities], dim=1).sum(dim=1)  # (B, C)
        return FusionOutput(logits=logits, unimodal_logits=pi_m)

    def loss(self, out: FusionOutput, batch: Batch, epoch: int) -> tuple[Tensor, dict[str, float]]:
        ce = F.cross_entropy(out.logits, batch.y)
        unimodal = sum(F.cross_entropy(out.unimodal_logits[k], batch.y) for k in self.modalities)
        total = ce + self.config.gamma * unimodal
        return total, {"ce": float(ce.detach()), "unimodal": float(unimodal.detach())}
