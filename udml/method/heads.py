"""Fusion heads: fused logits pi from the stacked modality embeddings (B, M, K).

Dropping a modality (for unimodal logits and for the dependency) means zeroing its slice of the
input; every head here accepts such an input.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


class ConcatHead(nn.Module):
    """pi = W [z_1; ...; z_M] + b, the default (the reference code's concat fusion)."""

    def __init__(self, num_modalities: int, latent_dim: int, num_classes: int):
        super().__init__()
        self.fc = nn.Linear(num_modalities * latent_dim, num_classes)

    def forward(self, z: Tensor) -> Tensor:
        return self.fc(z.flatten(1))                       # (B, M K) -> (B, C)


class SumHead(nn.Module):
    """pi = W (sum_m z_m) + b."""

    def __init__(self, num_modalities: int, latent_dim: int, num_classes: int):
        super().__init__()
        self.fc = nn.Linear(latent_dim, num_classes)

    def forward(self, z: Tensor) -> Tensor:
        return self.fc(z.sum(dim=1))                       # (B, K) -> (B, C)


class GatedHead(nn.Module):
    """pi = W (sum_m g_m z_m) + b with gates g = sigmoid(V [z_1; ...; z_M] + c), one per modality."""

    def __init__(self, num_modalities: int, latent_dim: int, num_classes: int):
        super().__init__()
        self.gate = nn.Linear(num_modalities * latent_dim, num_modalities)
        self.fc = nn.Linear(latent_dim, num_classes)

    def forward(self, z: Tensor) -> Tensor:
        g = torch.sigmoid(self.gate(z.flatten(1)))          # (B, M)
        return self.fc((g.unsqueeze(-1) * z).sum(dim=1))    # (B, C)


HEADS = {"concat": ConcatHead, "sum": SumHead, "gated": GatedHead}


def build_head(kind: str, num_modalities: int, latent_dim: int, num_classes: int) -> nn.Module:
    if kind not in HEADS:
        raise ValueError(f"unknown fusion head {kind!r}; choose one of {sorted(HEADS)}")
    return HEADS[kind](num_modalities, latent_dim, num_classes)


def head_on_masks(head: nn.Module, z: Tensor, masks: Tensor) -> Tensor:
    """The head on P masked copies of z in one call: z (B, M, K), masks (P, M) -> logits (P, B, C).

    Row p of ``masks`` keeps (1) or drops (0) each modality; one batched call instead of P calls.
    """
    b = z.shape[0]
    masked = masks.to(z.dtype).unsqueeze(1).unsqueeze(-1) * z.unsqueeze(0)   # (P, B, M, K)
    return head(masked.flatten(0, 1)).unflatten(0, (masks.shape[0], b))     # (P, B, C)

