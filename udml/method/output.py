"""The structured output every fusion method returns, so one trainer and one evaluator serve all."""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class FusionOutput:
    """What a forward pass produced.  B = batch, C = classes, M = modalities, K = latent size.

    logits:          (B, C) fused logits pi
    unimodal_logits: name -> (B, C) logits pi_m with the other modalities dropped
    unreliability:   name -> (B,) the method's own unreliability score for each modality, higher
                     meaning noisier (UDML: s_hat, PE: mean sigma, QMF: energy, TMC: Dirichlet u);
                     empty for methods that have none (static, late)
    weights:         (B, M) fusion weights w_m in sorted modality order, or None
    dependency:      (M,) modality dependency D_m used for the weights, or None
    s_hat:           name -> (B,) noise-aware estimator prediction of the level (UDML family)
    mu, logvar:      name -> (B, K) probabilistic representation (UDML family)
    extras:          method-specific tensors the loss needs (e.g. TMC's Dirichlet parameters)
    """

    logits: Tensor
    unimodal_logits: dict[str, Tensor]
    unreliability: dict[str, Tensor] = field(default_factory=dict)
    weights: Tensor | None = None
    dependency: Tensor | None = None
    s_hat: dict[str, Tensor] = field(default_factory=dict)
    mu: dict[str, Tensor] = field(default_factory=dict)
    logvar: dict[str, Tensor] = field(default_factory=dict)
    extras: dict[str, Tensor] = field(default_factory=dict)
