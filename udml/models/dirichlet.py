"""Subjective-logic opinions from Dirichlet parameters, their Dempster-Shafer combination, and
the evidential loss: the pieces of TMC (Han et al., "Trusted Multi-View Classification", ICLR 2021).

For C classes and evidence e >= 0 (B, C):
    alpha = e + 1,  S = sum_j alpha_j,  belief b = e / S,  uncertainty u = C / S,
so that sum_j b_j + u = 1. Two opinions are combined by the reduced Dempster-Shafer rule
    K   = sum_{i != j} b1_i b2_j                       (conflict)
    b_i = (b1_i b2_i + b1_i u2 + b2_i u1) / (1 - K)
    u   = u1 u2 / (1 - K)
and mapped back to a Dirichlet: S = C / u, e = b S, alpha = e + 1.
1 - K >= u1 u2 > 0 always holds, because (sum b1 + u1)(sum b2 + u2) = 1 expands into K plus
non-negative terms that include u1 u2: the division is safe.
"""
from __future__ import annotations

import torch
from torch import Tensor


def _check_alpha(alpha: Tensor, name: str = "alpha") -> None:
    if alpha.dim() < 1 or alpha.shape[-1] < 2:
        raise ValueError(f"{name} must have a class dimension of size >= 2, got shape "
                         f"{tuple(alpha.shape)}")
    if not torch.isfinite(alpha).all() or (alpha < 1).any():
        raise ValueError(f"{name} must be finite and >= 1 (alpha = evidence + 1, evidence >= 0)")


def opinion(alpha: Tensor) -> tuple[Tensor, Tensor]:
    """Dirichlet alpha (..., C) -> belief b (..., C) and uncertainty u (...,)."""
    c = alpha.shape[-1]
    s = alpha.sum(dim=-1, keepdim=True)  # (..., 1)
    return (alpha - 1) / s, (c / s).squeeze(-1)


def alpha_from_opinion(belief: Tensor, uncertainty: Tensor) -> Tensor:
    """Belief (..., C) and uncertainty (...,) -> Dirichlet alpha (..., C).

    S = C / u, alpha = b S + 1.
    """
    c = belief.shape[-1]
    s = (c / uncertainty).unsqueeze(-1)  # (..., 1)
    return belief * s + 1


def total_evidence(alpha: Tensor) -> Tensor:
    """E = sum_j e_j = S - C: (..., C) -> (...,); u = C / (C + E) falls as E grows."""
    return (alpha - 1).sum(dim=-1)


def with_total_evidence(alpha: Tensor, total: Tensor) -> Tensor:
    """The opinion of ``alpha`` (..., C) with its total evidence set to ``total`` (...,) >= 0:
    e' = e * total / E, the evidence's direction e / E (the belief relative to 1 - u) kept, so
    that b' = (1 - u') e / E and u' = C / (C + total) still sum to 1; with no evidence (E = 0)
    the direction is uniform, e' = total / C.  ``total`` = E gives ``alpha`` back exactly."""
    if total.shape != alpha.shape[:-1]:
        raise ValueError(f"total evidence must have shape {tuple(alpha.shape[:-1])}, got "
                         f"{tuple(total.shape)}")
    if (total < 0).any():
        raise ValueError("total evidence must be >= 0")
    e = alpha - 1  # (..., C)
    have = total_evidence(alpha)  # (...,)
    ratio = (total / have.where(have > 0, torch.ones_like(have))).unsqueeze(-1)  # (..., 1)
    uniform = (total / alpha.shape[-1]).unsqueeze(-1).expand_as(e)  # (..., C)
    return torch.where((have > 0).unsqueeze(-1), e * ratio, uniform) + 1


def ds_combine(alpha1: Tensor, alpha2: Tensor) -> Tensor:
    """Reduced Dempster-Shafer combination of two Dirichlet opinions: (..., C) x 2 -> (..., C)."""
    if alpha1.shape != alpha2.shape:
        raise ValueError(f"opinions must have the same shape, got {tuple(alpha1.shape)} and "
                         f"{tuple(alpha2.shape)}")
    _check_alpha(alpha1, "alpha1")
    _check_alpha(alpha2, "alpha2")
    b1, u1 = opinion(alpha1)  # (..., C), (...,)
    b2, u2 = opinion(alpha2)
    agree = (b1 * b2).sum(dim=-1)  # (...,)  sum_i b1_i b2_i
    conflict = b1.sum(dim=-1) * b2.sum(dim=-1) - agree  # (...,)  K = sum_{i != j} b1_i b2_j
    norm = (1 - conflict).unsqueeze(-1)  # (..., 1)
    b = (b1 * b2 + b1 * u2.unsqueeze(-1) + b2 * u1.unsqueeze(-1)) / norm  # (..., C)
    u = u1 * u2 / norm.squeeze(-1)  # (...,)
    return alpha_from_opinion(b, u)


def ds_combine_all(alphas: list[Tensor]) -> Tensor:
    """Fold ``ds_combine`` over the views in the given order: ((a1 + a2) + a3) + ..."""
    if len(alphas) == 0:
        raise ValueError("ds_combine_all needs at least one opinion")
    out = alphas[0]
    for a in alphas[1:]:
        out = ds_combine(out, a)
    return out


def expected_cross_entropy(alpha: Tensor, y: Tensor) -> Tensor:
    """E_{p ~ Dir(alpha)}[-log p_y] = digamma(S) - digamma(alpha_y): (B, C), (B,) -> (B,)."""
    s = alpha.sum(dim=-1)  # (B,)
    alpha_y = alpha.gather(-1, y.unsqueeze(-1)).squeeze(-1)  # (B,)
    return torch.digamma(s) - torch.digamma(alpha_y)


def kl_to_uniform(alpha: Tensor) -> Tensor:
    """KL(Dir(alpha) || Dir(1)): (..., C) -> (...,); zero exactly when alpha = 1.

    = lgamma(S) - lgamma(C) - sum_j lgamma(alpha_j)
      + sum_j (alpha_j - 1)(digamma(alpha_j) - digamma(S))
    """
    c = alpha.shape[-1]
    s = alpha.sum(dim=-1, keepdim=True)  # (..., 1)
    log_norm = (torch.lgamma(s.squeeze(-1)) - torch.lgamma(alpha.new_tensor(float(c)))
                - torch.lgamma(alpha).sum(dim=-1))
    return log_norm + ((alpha - 1) * (torch.digamma(alpha) - torch.digamma(s))).sum(dim=-1)


def remove_true_evidence(alpha: Tensor, y: Tensor) -> Tensor:
    """alpha_tilde = y + (1 - y) * alpha (one-hot y): the true class's alpha reset to 1, so the
    KL term only penalises misleading evidence."""
    onehot = torch.zeros_like(alpha).scatter_(-1, y.unsqueeze(-1), 1.0)  # (B, C)
    return onehot + (1 - onehot) * alpha


def annealing_coefficient(epoch: int, anneal_epochs: int) -> float:
    """min(1, epoch / anneal_epochs); 1 from the start when anneal_epochs = 0."""
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}")
    if anneal_epochs < 0:
        raise ValueError(f"anneal_epochs must be >= 0, got {anneal_epochs}")
    return 1.0 if anneal_epochs == 0 else min(1.0, epoch / anneal_epochs)
