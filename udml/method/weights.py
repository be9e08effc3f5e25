"""Unbiased fusion weights (method.md section 4).

u_m = 1 / (s_m^2 * D_m),  w_m = M * u_m / sum_k u_k  (the weights sum to M),
fused input (1 + w_m) * z_m.  With D_m = 1 this is uncertainty-only ("naive") dynamic fusion,
i.e. inverse-variance weighting scaled to sum to M.
"""
from __future__ import annotations

from torch import Tensor


def unbiased_weights(s_hat: Tensor, dependency: Tensor) -> Tensor:
    """s_hat: (B, M) predicted noise levels (> 0); dependency: (M,) D_m (> 0). Returns w (B, M)."""
    if s_hat.dim() != 2:
        raise ValueError(f"s_hat must be (B, M), got shape {tuple(s_hat.shape)}")
    m = s_hat.shape[1]
    if dependency.shape != (m,):
        raise ValueError(f"dependency must be ({m},), got shape {tuple(dependency.shape)}")
    if (s_hat <= 0).any() or (dependency <= 0).any():
        raise ValueError("s_hat and dependency must be strictly positive")
    u = 1.0 / (s_hat.pow(2) * dependency.unsqueeze(0))    # (B, M)
    return m * u / u.sum(dim=1, keepdim=True)             # (B, M), rows sum to M


def rescale(z: Tensor, weights: Tensor) -> Tensor:
    """Residual rescaling of the fusion input: (1 + w_m) z_m.  z: (B, M, K), weights: (B, M)."""
    return (1.0 + weights).unsqueeze(-1) * z              # (B, M, K)
