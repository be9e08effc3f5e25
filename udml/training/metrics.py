"""Small metrics with no dependency beyond torch: accuracy and Spearman's rank correlation."""
from __future__ import annotations

import torch
from torch import Tensor


def accuracy(logits: Tensor, y: Tensor) -> float:
    """Share of argmax predictions equal to y.  logits (N, C), y (N,)."""
    if logits.shape[0] == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return (logits.argmax(1) == y).float().mean().item()


def rank(x: Tensor) -> Tensor:
    """Ranks 1..N with ties given their average rank.  (N,) -> (N,) float64"""
    x = x.detach().double().flatten()
    order = torch.argsort(x, stable=True)
    ranks = torch.empty_like(x)
    ranks[order] = torch.arange(1, x.numel() + 1, dtype=torch.float64)
    uniq, inverse = torch.unique(x, return_inverse=True)
    sums = torch.zeros(uniq.numel(), dtype=torch.float64).index_add_(0, inverse, ranks)
    counts = torch.zeros(uniq.numel(), dtype=torch.float64).index_add_(0, inverse, torch.ones_like(ranks))
    return (sums / counts)[inverse]


def spearman(x: Tensor, y: Tensor) -> float:
    """Spearman's rho: the Pearson correlation of the (tie-averaged) ranks; NaN if one is constant."""
    if x.numel() != y.numel():
        raise ValueError(f"spearman needs equal lengths, got {x.numel()} and {y.numel()}")
    if x.numel() < 2:
        return float("nan")
    rx, ry = rank(x), rank(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = (rx.pow(2).sum() * ry.pow(2).sum()).sqrt()
    return float("nan") if denom == 0 else (rx * ry).sum().div(denom).item()
