"""The noise-aware uncertainty estimator (method.md section 2).

It reads the probabilistic embedding's sigma with the gradient stopped, so that it cannot distort
the encoder, and regresses the injected noise level:  s_m = exp(0.5 * g_m(stopgrad(sigma_m))),
trained with MSE(s_m, l_m).  g_m is either the reference code's map (Linear -> Dropout -> Linear,
affine overall) or a small non-linear MLP.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


def level_from_output(g: Tensor) -> Tensor:
    """The estimator's output form: raw output g (B, 1) -> s = exp(0.5 g) (B,), the predicted
    level; g is clamped at 20 so that s stays finite.  The bound's regressor shares it."""
    return torch.exp(0.5 * g.squeeze(1).clamp(max=20.0))


class NoiseAwareEstimator(nn.Module):
    """(B, K) logvar -> (B,) s_hat, the predicted noise level (1 = clean)."""

    def __init__(self, latent_dim: int, form: str = "mlp", hidden: int = 64, dropout: float = 0.1,
                 reads: str = "sigma"):
        super().__init__()
        if form == "affine":
            self.g = nn.Sequential(nn.Linear(latent_dim, hidden), nn.Dropout(dropout),
                                   nn.Linear(hidden, 1))
        elif form == "mlp":
            self.g = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Dropout(dropout),
                                   nn.Linear(hidden, 1))
        else:
            raise ValueError(f"unknown estimator form {form!r}; use 'affine' or 'mlp'")
        if reads not in ("sigma", "log_sigma"):
            raise ValueError(f"unknown estimator input {reads!r}; use 'sigma' or 'log_sigma'")
        self.form, self.reads = form, reads

    def forward(self, logvar: Tensor) -> Tensor:
        log_sigma = 0.5 * logvar.detach()                    # stop-gradient: (B, K)
        x = log_sigma if self.reads == "log_sigma" else torch.exp(log_sigma)
        return level_from_output(self.g(x))                  # (B,)
