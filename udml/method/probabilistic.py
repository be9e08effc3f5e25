"""Probabilistic representation (method.md section 1) and its KL regulariser.

mu_m = head_mu(h_m), log sigma_m^2 = head_logvar(h_m); z_m = mu_m + eps * sigma_m in training and
z_m = mu_m at evaluation.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

LOGVAR_RANGE = (-10.0, 10.0)  # keeps exp(logvar) finite in half precision


class ProbabilisticHead(nn.Module):
    """(B, H) features -> (mu, logvar), each (B, K)."""

    def __init__(self, in_dim: int, latent_dim: int):
        super().__init__()
        self.mu = nn.Linear(in_dim, latent_dim)
        self.logvar = nn.Linear(in_dim, latent_dim)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        return self.mu(h), self.logvar(h).clamp(*LOGVAR_RANGE)


def reparameterise(mu: Tensor, logvar: Tensor, training: bool) -> Tensor:
    """z = mu + eps * sigma with eps ~ N(0, I) in training; z = mu otherwise.  (B, K)"""
    if not training:
        return mu
    return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)


def mean_sigma(logvar: Tensor) -> Tensor:
    """The PE score: sigma = exp(logvar / 2) averaged over the latent axis, (B, K) -> (B,).

    The probabilistic embedding's own uncertainty (higher = noisier): the s_m of PE-dynamic
    fusion, and the ``pe_sigma`` score every UDML-family model reports next to s_hat.
    """
    return torch.exp(0.5 * logvar).mean(1)


def kl_to_level_prior(mu: Tensor, logvar: Tensor, level: Tensor) -> Tensor:
    """KL(N(mu, sigma^2) || N(0, l I)) per sample, the prior variance being the sample's level l.

    KL = 0.5 * sum_k (sigma^2 / l + mu^2 / l - log(sigma^2 / l) - 1).  Returns (B,).
    """
    l = level.to(mu.dtype).unsqueeze(1)                     # (B, 1)
    var = torch.exp(logvar)                                 # (B, K)
    return 0.5 * (var / l + mu.pow(2) / l - (logvar - torch.log(l)) - 1.0).sum(dim=1)
