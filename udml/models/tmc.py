"""TMC, trusted multi-view classification (Han et al., "Trusted Multi-View Classification",
ICLR 2021), re-implemented from the paper's description.

Each modality's classifier outputs evidence e_m = softplus(pi_m) >= 0, a Dirichlet alpha_m =
e_m + 1 and an opinion (belief b_m = e_m / S_m, uncertainty u_m = C / S_m). The opinions are
combined by the reduced Dempster-Shafer rule (`dirichlet.ds_combine`), folded over the modalities
in sorted order. A modality with little evidence (u_m near 1) barely moves the combination.

Outputs: logits = log alpha of the combination, unimodal_logits[name] = log alpha_m. The log is
monotone, so the argmax (the evaluator's prediction and accuracy) is the class with the largest
alpha, i.e. the largest belief; and softmax(log alpha) = alpha / S is the Dirichlet's expected
class probability, so probability-based metrics read the Dirichlet mean.
unreliability[name] = u_m (higher = noisier); weights = None (there are no per-modality weights).
The per-sample score the combination reads is each view's total evidence E_m = S_m - C
(extras["fusion_scores"], (B, M); u_m = C / (C + E_m) is a one-to-one function of it):
`TMC.fuse_with_scores` sets it, keeping each view's direction of evidence
(`dirichlet.with_total_evidence`), so that every opinion stays valid (b + u = 1).

Loss, for every opinion (each modality and the combination), averaged over the batch:
    sum_j y_j (digamma(S) - digamma(alpha_j)) + lambda_t KL(Dir(alpha_tilde) || Dir(1)),
alpha_tilde = y + (1 - y) alpha, lambda_t = min(1, epoch / config.tmc_anneal_epochs).
config.gamma does not apply: TMC's loss already sums its per-view terms with weight 1.
``parts`` holds the unweighted terms: "ce" (expected CE of the combination), "unimodal" (sum of
the views' expected CE), "kl" (sum of the KL terms of all opinions);
total = ce + unimodal + lambda_t * kl.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import ModelConfig
from ..data.dataset import Batch
from ..method.output import FusionOutput
from .base import MultimodalModel
from .dirichlet import (annealing_coefficient, ds_combine_all, expected_cross_entropy,
                        kl_to_uniform, opinion, remove_true_evidence, total_evidence,
                        with_total_evidence)
from .late import UnimodalHeads


class TMC(MultimodalModel):
    """Evidential classifiers per modality, combined by Dempster-Shafer; evidential loss."""

    def __init__(self, encoders: dict[str, nn.Module], num_classes: int, config: ModelConfig):
        super().__init__(encoders, num_classes, config)
        if config.tmc_anneal_epochs < 0:
            raise ValueError(f"tmc_anneal_epochs must be >= 0, got {config.tmc_anneal_epochs}")
        self.classifiers = UnimodalHeads(
            {k: self.encoders[k].out_dim for k in self.modalities}, num_classes)

    score_name = "evidence"

    def fuse(self, h: dict[str, Tensor], levels: dict[str, Tensor] | None) -> FusionOutput:
        # levels are deliberately ignored: TMC's uncertainty comes from the evidence alone.
        return self._fuse(h, None)

    def fuse_with_scores(self, h: dict[str, Tensor], scores: Tensor) -> FusionOutput:
        """``fuse`` with each view's total evidence E (B, M) >= 0 given (so u_m = C / (C + E_m)),
        each view's direction of evidence kept; the combination rule unchanged."""
        self.check_scores(scores, next(iter(h.values())).shape[0])
        return self._fuse(h, scores)

    def oracle_scores(self, levels: Tensor, clean: Tensor) -> Tensor:
        """clean_m / l (B, M): the view's mean total evidence on clean data divided by the level
        (a view at level l brings 1 / l of its clean evidence, its u rising towards 1)."""
        return clean.float().unsqueeze(0) / levels.float()

    def _fuse(self, h: dict[str, Tensor], evidence: Tensor | None) -> FusionOutput:
        pi_m = self.classifiers(h)  # name -> (B, C)
        # float32 keeps digamma/lgamma accurate under mixed precision
        alpha_m = {k: F.softplus(pi_m[k].float()) + 1 for k in self.modalities}  # name -> (B, C)
        if evidence is not None:
            alpha_m = {k: with_total_evidence(alpha_m[k], evidence[:, i].float())
                       for i, k in enumerate(self.modalities)}
        alpha = ds_combine_all([alpha_m[k] for k in self.modalities])  # (B, C)
        unreliability = {k: opinion(alpha_m[k])[1].detach() for k in self.modalities}  # name -> (B,)
        views = torch.stack([alpha_m[k] for k in self.modalities], dim=1)  # (B, M, C)
        return FusionOutput(logits=alpha.log(),
                            unimodal_logits={k: alpha_m[k].log() for k in self.modalities},
                            unreliability=unreliability,
                            extras={"alpha": alpha, "alpha_views": views,
                                    "fusion_scores": total_evidence(views)})

    def loss(self, out: FusionOutput, batch: Batch, epoch: int) -> tuple[Tensor, dict[str, float]]:
        coef = annealing_coefficient(epoch, self.config.tmc_anneal_epochs)
        y = batch.y
        alpha, views = out.extras["alpha"], out.extras["alpha_views"]  # (B, C), (B, M, C)
        ce = expected_cross_entropy(alpha, y).mean()
        unimodal = sum(expected_cross_entropy(views[:, i], y).mean()
                       for i in range(self.num_modalities))
        opinions = [alpha] + [views[:, i] for i in range(self.num_modalities)]
        kl = sum(kl_to_uniform(remove_true_evidence(a, y)).mean() for a in opinions)
        total = ce + unimodal + coef * kl
        parts = {"ce": ce, "unimodal": unimodal, "kl": kl}
        return total, {k: float(v.detach()) for k, v in parts.items()}
