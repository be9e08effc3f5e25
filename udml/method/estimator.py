"""The noise-aware uncertainty estimator (method.md section 2).

It reads the probabilistic embedding's sigma with the gradient stopped, so that it cannot distort
the encoder, and regresses the injected noise level:  s_m = exp(0.5 * g_m(stopgrad(sigma_m))),
trained with MSE(s_m, l_m).  g_m is either the reference code's map (Linear -> Dropout -> Linear,
affine overall) or a small non-linear MLP.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import ESTIMATOR_INPUTS


def level_from_output(g: Tensor) -> Tensor:
    """The estimator's output form: raw output g (B, 1) -> s = exp(0.5 g) (B,), the predicted
    level; g is clamped at 20 so that s stays finite.  The bound's regressor shares it."""
    return torch.exp(0.5 * g.squeeze(1).clamp(max=20.0))


READS = ESTIMATOR_INPUTS  # what g_m may read (`udml.config.ModelConfig.estimator_input`)


def input_dim(reads: str, latent_dim: int, feature_dim: int) -> int:
    """The width of what g_m reads: K for sigma or log sigma, 2K for the embedding (mu and
    log sigma), the encoder's output width for its features, 1 for the typicality score, 2K + 1
    for the embedding and the typicality."""
    if reads not in READS:
        raise ValueError(f"unknown estimator input {reads!r}; use one of {READS}")
    return {"embedding": 2 * latent_dim, "features": feature_dim, "typicality": 1,
            "embedding_typicality": 2 * latent_dim + 1}.get(reads, latent_dim)


def reads_typicality(reads: str) -> bool:
    """Whether an estimator reading ``reads`` needs the input's typicality score."""
    return reads in ("typicality", "embedding_typicality")


class NoiseAwareEstimator(nn.Module):
    """(B, K) logvar (and mu, h where it reads them) -> (B,) s_hat, the predicted noise level
    (1 = clean).

    ``reads`` is what g_m sees, always with the gradient stopped: the paper's sigma; log sigma
    (the same information on a scale where small sigmas stay apart); the embedding (mu and log
    sigma: where the sample lies, not only how spread it is); or the encoder's features h_m, the
    most the modality's branch knows about its input (beyond the paper: what lets an estimator
    see damage that leaves sigma as it is on clean data); the input's typicality tau
    (`udml.method.typicality`: how unlike the clean training inputs it is, whatever the damage),
    alone or beside the embedding (beyond the paper: a signal that needs no kind of damage to
    learn from).
    """

    def __init__(self, in_dim: int, form: str = "mlp", hidden: int = 64, dropout: float = 0.1,
                 reads: str = "sigma"):
        super().__init__()
        if form == "affine":
            self.g = nn.Sequential(nn.Linear(in_dim, hidden), nn.Dropout(dropout),
                                   nn.Linear(hidden, 1))
        elif form == "mlp":
            self.g = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout),
                                   nn.Linear(hidden, 1))
        else:
            raise ValueError(f"unknown estimator form {form!r}; use 'affine' or 'mlp'")
        if reads not in READS:
            raise ValueError(f"unknown estimator input {reads!r}; use one of {READS}")
        self.form, self.reads = form, reads

    def forward(self, logvar: Tensor, mu: Tensor | None = None,
                features: Tensor | None = None, typicality: Tensor | None = None) -> Tensor:
        log_sigma = 0.5 * logvar.detach()                    # stop-gradient: (B, K)
        if self.reads == "sigma":
            x = torch.exp(log_sigma)                         # (B, K)
        elif self.reads == "log_sigma":
            x = log_sigma                                    # (B, K)
        elif self.reads == "embedding":
            x = torch.cat([_given(mu, "mu").detach(), log_sigma], 1)   # (B, 2K)
        elif self.reads == "features":
            x = _given(features, "features").detach()        # (B, F)
        else:
            tau = _given(typicality, "typicality").detach().unsqueeze(1)  # (B, 1)
            x = tau if self.reads == "typicality" else torch.cat(
                [_given(mu, "mu").detach(), log_sigma, tau], 1)           # (B, 2K + 1)
        return level_from_output(self.g(x))                  # (B,)


def _given(t: Tensor | None, name: str) -> Tensor:
    if t is None:
        raise ValueError(f"this estimator reads {name}: pass {name}=")
    return t
