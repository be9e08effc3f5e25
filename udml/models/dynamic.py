"""The UDML family on one architecture: encoders -> probabilistic heads -> weights -> fusion head.

The methods differ only in how the per-sample weights w (B, M) are obtained (method.md section 4):
  static  w = 0 (plain concat of z)
  pe      s_m = mean sigma_m of the probabilistic embedding, D_m = 1 (PE dynamic, DUL / PCME)
  naive   s_m = noise-aware estimate, D_m = 1 (uncertainty-only dynamic fusion)
  udml    s_m = noise-aware estimate, D_m = running dependency by modality dropout
  oracle  s_m = the true injected level, D_m as in udml (a perfect estimate)
  udml-r  beyond the paper: udml with an estimator reading the embedding (mu_m, log sigma_m),
          the fused input w_m z_m and beta = 1 (`ROBUST`), so that a destroyed modality can
          leave the fusion
Before the schedule switches uncertainty on (``use_uncertainty`` False), s_m is taken as 1.
For ablations, ``config.weights_source`` and ``config.use_dependency`` override the method's own
choice of s_m and D_m, and ``config.rescaling`` = "multiplicative" (an extension, not the paper's)
feeds w_m z_m instead of (1 + w_m) z_m to the head.

The score the fusion reads is s (B, M) (``score_name``: "pe_sigma", "s_hat" or "level");
`WeightedFusion.fuse_with_scores` fuses with a given s instead (the permutation test).
"""
from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor, nn

from ..config import ModelConfig
from ..data.dataset import Batch
from ..method.dependency import DependencyTracker
from ..method.estimator import NoiseAwareEstimator, input_dim, reads_typicality
from ..method.heads import build_head, head_on_masks
from ..method.losses import udml_loss
from ..method.output import FusionOutput
from ..method.probabilistic import ProbabilisticHead, mean_sigma, reparameterise
from ..method.typicality import Typicality
from ..method.weights import rescale, unbiased_weights
from .base import MultimodalModel

WEIGHTINGS = ("static", "pe", "naive", "udml", "oracle", "udml-r")
# where each method's s_m comes from (None: no weights); D_m enters the weights of udml, oracle
# and udml-r
SOURCES = {"static": None, "pe": "pe", "naive": "estimator", "udml": "estimator", "oracle": "oracle",
           "udml-r": "estimator"}
# UDML-R, beyond the paper: UDML whose fusion rescales z_m by w_m alone, so that a modality
# judged destroyed can leave the fusion, with the KL weight beta = 1, which ties sigma to the
# level (both chosen on validation data by the experiment `beta`), and an estimator that reads
# the embedding, mu and log sigma (chosen on validation data with the kind held out,
# `robust-choice`; the encoder's features did as well to four decimals, sigma alone a little
# worse, and the input's typicality, alone or beside the embedding, ranked the held-out damage
# better without matching its accuracy).
# Trained, like every method of the leave-one-kind-out protocol, on a mixture of kinds of damage.
ROBUST = {"estimator_input": "embedding", "rescaling": "multiplicative", "beta": 1.0}


def robust_config(config: ModelConfig) -> ModelConfig:
    """``config`` with UDML-R's own settings (`ROBUST`) where the method is udml-r.  The config
    must hold those fields at their defaults or at UDML-R's values (a checkpoint stores the
    latter); a udml-r with other settings would be another method."""
    if config.method != "udml-r":
        return config
    for key, value in ROBUST.items():
        if getattr(config, key) not in (getattr(ModelConfig, key), value):
            raise ValueError(f"udml-r fixes its own {key} ({value!r}); leave {key} at its "
                             f"default, got {getattr(config, key)!r}")
    return replace(config, **ROBUST)
# what s is for each source (`MultimodalModel.score_name`)
SCORE_NAMES = {None: None, "pe": "pe_sigma", "estimator": "s_hat", "oracle": "level"}


class WeightedFusion(MultimodalModel):
    """Concatenation fusion with per-modality weights: static (no weights), PE-dynamic, naive
    dynamic, UDML and the oracle, which differ only in where s_m and D_m come from."""

    def __init__(self, encoders: dict[str, nn.Module], num_classes: int, config: ModelConfig):
        config = robust_config(config)
        super().__init__(encoders, num_classes, config)
        if config.method not in WEIGHTINGS:
            raise ValueError(f"WeightedFusion implements {WEIGHTINGS}, not {config.method!r}")
        self.method = config.method
        k, m = config.latent_dim, self.num_modalities
        self.prob_heads = nn.ModuleDict(
            {n: ProbabilisticHead(self.encoders[n].out_dim, k) for n in self.modalities})
        self.source = SOURCES[self.method]
        if config.weights_source != "auto":
            if self.method == "static":
                raise ValueError("static fusion has no weights: weights_source must stay 'auto'")
            self.source = config.weights_source
        self.score_name = SCORE_NAMES[self.source]
        reads = config.estimator_input
        self.estimators = nn.ModuleDict(
            {n: NoiseAwareEstimator(input_dim(reads, k, self.encoders[n].out_dim),
                                   config.estimator, config.estimator_hidden, config.dropout,
                                   reads)
             for n in self.modalities}) if self.source == "estimator" else None
        # an estimator reading the typicality tau_m: its score, fitted by `fit_inputs`, reading
        # the encoder's fixed front end where it has one
        self.typicality = nn.ModuleDict(
            {n: Typicality(num_classes, getattr(self.encoders[n], "front_end", None))
             for n in self.modalities}
        ) if self.estimators is not None and reads_typicality(reads) else None
        self.head = build_head(config.fusion_head, m, k, num_classes)
        self.uses_dependency = (self.method in ("udml", "oracle", "udml-r")
                                if config.use_dependency is None
                                else bool(config.use_dependency) and self.method != "static")
        self.dependency = DependencyTracker(m, config.dependency, config.dependency_momentum)
        self.track_dependency = self.uses_dependency or config.track_dependency

    def fit_inputs(self, split) -> None:
        """Fit each typicality score on the clean inputs of ``split`` (the training split), where
        the estimator reads it."""
        if self.typicality is None:
            return
        device = next(self.parameters()).device
        for n in self.modalities:
            self.typicality[n].fit((b.x[n].to(device), b.y.to(device))
                                   for b in split.batches(512))

    def encode(self, x: dict[str, Tensor]) -> dict[str, Tensor]:
        """The encoders' features h_m (B, F); where the estimator reads the typicality, tau_m
        rides along as one more column (B, F + 1), which `fuse` takes off again."""
        h = super().encode(x)
        if self.typicality is None:
            return h
        return {n: torch.cat([h[n], self.typicality[n](x[n]).to(h[n].dtype).unsqueeze(1)], 1)
                for n in self.modalities}

    def _uncertainty(self, s_hat: dict[str, Tensor], pe_sigma: Tensor,
                     levels: dict[str, Tensor] | None, b: int, ref: Tensor) -> Tensor | None:
        """s (B, M) used in the weights, or None for static fusion; pe_sigma is (B, M)."""
        if self.source is None:
            return None
        if not self.use_uncertainty:
            return torch.ones(b, self.num_modalities, dtype=ref.dtype, device=ref.device)
        if self.source == "pe":
            return pe_sigma
        if self.source == "oracle":
            if levels is None:
                raise ValueError("the oracle needs the true noise levels: pass levels=")
            return torch.stack([levels[n].to(ref.dtype) for n in self.modalities], 1)
        return torch.stack([s_hat[n] for n in self.modalities], 1).detach()

    def fuse(self, h: dict[str, Tensor], levels: dict[str, Tensor] | None) -> FusionOutput:
        return self._fuse(h, levels, None)

    def fuse_with_scores(self, h: dict[str, Tensor], scores: Tensor) -> FusionOutput:
        """``fuse`` with s (B, M) given, > 0: w from u_m = 1 / (s_m^2 D_m) with the model's own
        D_m, the embeddings and the head unchanged.  s is what the method's weights read: the
        estimated level s_hat (naive, udml), the mean sigma of the embedding (pe), the true level
        (oracle); it enters the weights whether or not the schedule has switched them on."""
        if self.source is None:
            return super().fuse_with_scores(h, scores)
        self.check_scores(scores, next(iter(h.values())).shape[0])
        return self._fuse(h, None, scores)

    def oracle_scores(self, levels: Tensor, clean: Tensor) -> Tensor:
        """The true level l (B, M) as s.  s_hat estimates l, so naive and udml (and the oracle,
        whose s is l already) get l itself.  PE's sigma has no unit; its oracle is
        clean_m * l: the mean sigma of modality m on clean data, which keeps the balance between
        clean modalities the model learned, times the level, the growth s_hat is trained to
        have (inverse-variance weights then scale as 1 / l^2, as with s_hat = l)."""
        if self.source is None:
            return super().oracle_scores(levels, clean)
        levels = levels.float()
        return clean.float().unsqueeze(0) * levels if self.source == "pe" else levels

    def _fuse(self, h: dict[str, Tensor], levels: dict[str, Tensor] | None,
              scores: Tensor | None) -> FusionOutput:
        mu, logvar, s_hat, typical = {}, {}, {}, {}
        if self.typicality is not None:  # tau_m, the last column `encode` added
            typical = {n: h[n][:, -1] for n in self.modalities}              # (B,) each
            h = {n: h[n][:, :-1] for n in self.modalities}                   # (B, F) each
        for n in self.modalities:
            mu[n], logvar[n] = self.prob_heads[n](h[n])       # (B, K) each
            if self.estimators is not None:
                s_hat[n] = self.estimators[n](logvar[n], mu[n], h[n], typical.get(n))  # (B,)
        z = torch.stack([reparameterise(mu[n], logvar[n], self.training)
                         for n in self.modalities], 1)          # (B, M, K)
        b = z.shape[0]
        if self.training and self.track_dependency:
            self.dependency.update(self.head, z)
        pe_sigma = torch.stack([mean_sigma(logvar[n]) for n in self.modalities], 1)  # (B, M)
        s = (self._uncertainty(s_hat, pe_sigma, levels, b, z) if scores is None
             else scores.to(z.dtype))                                        # (B, M)
        if s is None:
            weights, fused = None, z
        else:
            dep = (self.dependency.for_weights() if self.uses_dependency
                   else torch.ones(self.num_modalities, device=z.device))
            weights = unbiased_weights(s.float(), dep.float()).to(z.dtype)  # (B, M)
            fused = (rescale(z, weights) if self.config.rescaling == "residual"
                     else weights.unsqueeze(-1) * z)                         # (B, M, K)
        logits = self.head(fused)                                            # (B, C)
        eye = torch.eye(self.num_modalities, device=z.device)
        uni = head_on_masks(self.head, z, eye)                               # (M, B, C)
        unimodal = {n: uni[i] for i, n in enumerate(self.modalities)}
        unreliability = (s_hat if s_hat else
                         {n: pe_sigma[:, i] for i, n in enumerate(self.modalities)})
        return FusionOutput(
            logits=logits, unimodal_logits=unimodal, unreliability=unreliability, weights=weights,
            dependency=self.dependency.value.clone(), s_hat=s_hat, mu=mu, logvar=logvar,
            extras={"pe_sigma": pe_sigma, **({} if s is None else {"fusion_scores": s})})

    def loss(self, out: FusionOutput, batch: Batch, epoch: int) -> tuple[Tensor, dict[str, float]]:
        return udml_loss(out, batch, self.config)
