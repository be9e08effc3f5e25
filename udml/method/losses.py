"""The training objective of the UDML family (method.md section 5).

L = CE(pi, y) + gamma * sum_m CE(pi_m, y) + beta * KL + lambda_est * MSE(s_hat, l)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..config import ModelConfig
from ..data.dataset import Batch
from .output import FusionOutput
from .probabilistic import kl_to_level_prior


def unimodal_ce(out: FusionOutput, y: Tensor) -> Tensor:
    """sum_m CE(pi_m, y), the unimodal auxiliary losses."""
    return sum(F.cross_entropy(out.unimodal_logits[k], y) for k in sorted(out.unimodal_logits))


def udml_loss(out: FusionOutput, batch: Batch, config: ModelConfig) -> tuple[Tensor, dict[str, float]]:
    """Total loss and its parts. KL and the estimator term apply only where the output has them."""
    ce = F.cross_entropy(out.logits, batch.y)
    uni = unimodal_ce(out, batch.y)
    total = ce + config.gamma * uni
    parts = {"ce": ce.item(), "unimodal": uni.item()}
    if out.mu and config.beta > 0:
        kl = torch.stack([kl_to_level_prior(out.mu[k], out.logvar[k], batch.levels[k]).mean()
                          for k in sorted(out.mu)]).mean()
        total = total + config.beta * kl
        parts["kl"] = kl.item()
    if out.s_hat:
        mse = torch.stack([F.mse_loss(out.s_hat[k].float(), batch.levels[k].float())
                           for k in sorted(out.s_hat)]).mean()
        total = total + config.lambda_est * mse
        parts["estimator"] = mse.item()
    return total, parts
