"""Unbiased fusion weights (method.md section 4).

u_m = 1 / (s_m^2 * D_m),  w_m = M * u_m / sum_k u_k  (the weights sum to M),
fused input (1 + w_m) * z_m.  With D_m = 1 this is uncertainty-only ("naive") dynamic fusion,
i.e. inverse-variance weighting scaled to sum to M.
"""
from __future__ import annotations

import torch
from torch import Tensor


def unbiased_weights(s_hat: Tensor, dependency: Tensor) -> Tensor:
    """s_hat: (B, M) predicted noise levels (> 0); dependency: (M,) D_m (> 0). Returns w (B, M).

    The direct form overflows where an s_hat is so small that s_hat^2 underflows (u = inf, and
    inf / inf is NaN): an estimator that reads damage it never saw can predict that.  Those rows,
    and only those, are computed as the same quantity in log space, w = M softmax(-2 log s - log D),
    so every row the direct form gets right stays bit-identical to it.
    """
    if s_hat.dim() != 2:
        raise ValueError(f"s_hat must be (B, M), got shape {tuple(s_hat.shape)}")
    m = s_hat.shape[1]
    if dependency.shape != (m,):
        raise ValueError(f"dependency must be ({m},), got shape {tuple(dependency.shape)}")
    if s_hat.isnan().any() or not dependency.isfinite().all():
        raise ValueError("s_hat holds NaN or dependency is not finite")
    if (s_hat <= 0).any() or (dependency <= 0).any():
        raise ValueError("s_hat and dependency must be strictly positive")
    if s_hat.isinf().all(dim=1).any():
        raise ValueError("every s_hat of a sample is infinite: its weights are undefined")
    w = _direct(s_hat, dependency)                        # (B, M)
    overflow = ~w.isfinite().all(dim=1, keepdim=True)     # (B, 1)
    if not overflow.any():
        return w
    # Each form reads a harmless 1 where the other is used, so that no NaN reaches a gradient.
    direct = _direct(torch.where(overflow, torch.ones_like(s_hat), s_hat), dependency)
    logits = -2.0 * torch.where(overflow, s_hat, torch.ones_like(s_hat)).log() \
        - dependency.log().unsqueeze(0)                   # (B, M)
    return torch.where(overflow, m * torch.softmax(logits, dim=1), direct)


def _direct(s_hat: Tensor, dependency: Tensor) -> Tensor:
    """w = M u / sum u with u = 1 / (s^2 D), as the paper writes it.  (B, M)."""
    u = 1.0 / (s_hat.pow(2) * dependency.unsqueeze(0))    # (B, M)
    return s_hat.shape[1] * u / u.sum(dim=1, keepdim=True)


def rescale(z: Tensor, weights: Tensor) -> Tensor:
    """Residual rescaling of the fusion input: (1 + w_m) z_m.  z: (B, M, K), weights: (B, M)."""
    return (1.0 + weights).unsqueeze(-1) * z              # (B, M, K)
