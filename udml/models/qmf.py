"""QMF, quality-aware multimodal fusion (Zhang et al., "Provable Dynamic Fusion for Low-Quality
Multimodal Data", ICML 2023), re-implemented from the paper's description.

Each modality has its own classifier pi_m. Its confidence is the negative energy of its logits,

    c_m = logsumexp(pi_m) / T                                     (T = config.qmf_temperature)

and the fused logits are the confidence-weighted sum pi = sum_m stopgrad(c_m) * pi_m. The weights
are detached in the fusion, so the fused CE cannot inflate a confidence to win the vote; the
confidences are trained only by a ranking regulariser that orders them like each sample's
training-loss history: a sample that has been easier for modality m (smaller historical loss)
should receive a larger c_m.

Loss: CE(pi, y) + gamma * sum_m CE(pi_m, y) + qmf_rank_weight * sum_m rank_m.

Choices made here (the paper leaves them open or its code differs):
- history: per-sample, per-modality running mean of the per-sample CE of pi_m over every time the
  sample was seen in training (mean_new = mean + (loss - mean) / (n + 1)). It is kept in
  non-persistent buffers that grow with the largest ``batch.index`` seen, so checkpoints do not
  depend on the training-set size (and do not carry the history).
- pairs: all pairs (i, j) of the batch whose both samples have a history and whose histories
  differ; rank_m is the mean over those pairs of the margin ranking loss (margin 0)
  max(0, -t_ij (c_i - c_j)) with t_ij = sign(hist_j - hist_i). Ties carry no order and are left
  out. The rank term uses the history from before the current batch, which is then updated.
  In the first epoch no sample has a history yet, so the regulariser is 0 there.
- the history is training-only state: ``loss`` updates it and applies the regulariser only while
  the model is in training mode (in eval mode ``batch.index`` refers to another split).
- c_m is not constrained to be positive: with very negative logits logsumexp can be < 0.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import ModelConfig
from ..data.dataset import Batch
from ..method.output import FusionOutput
from .base import MultimodalModel
from .late import UnimodalHeads, check_gamma


def energy_confidence(logits: Tensor, temperature: float) -> Tensor:
    """c = logsumexp(logits) / T, the negative energy scaled by T: (B, C) -> (B,)."""
    return torch.logsumexp(logits, dim=-1) / temperature


def pair_targets(history: Tensor, known: Tensor) -> tuple[Tensor, Tensor]:
    """Targets of the ranking loss for all pairs (i, j), i < j, of one modality.

    history: (B,) historical loss of each sample; known: (B,) bool, whether it has a history.
    Returns (pairs (P, 2) long indices (i, j), target (P,) float = sign(hist_j - hist_i)) for the
    pairs whose samples both have a history and whose histories differ.
    """
    b = history.shape[0]
    i, j = torch.triu_indices(b, b, offset=1, device=history.device)  # (P,), (P,)
    target = torch.sign(history[j] - history[i])  # (P,)
    keep = known[i] & known[j] & (target != 0)
    return torch.stack([i[keep], j[keep]], dim=1), target[keep]


def rank_loss(confidence: Tensor, pairs: Tensor, target: Tensor) -> Tensor:
    """Mean margin ranking loss (margin 0), max(0, -t (c_i - c_j)), over the pairs; 0 if none."""
    if pairs.shape[0] == 0:
        return confidence.sum() * 0.0  # keeps device, dtype and the graph
    c_i, c_j = confidence[pairs[:, 0]], confidence[pairs[:, 1]]  # (P,), (P,)
    return F.margin_ranking_loss(c_i, c_j, target, margin=0.0)


class QMF(MultimodalModel):
    """Late fusion weighted by detached energy confidences, with a loss-history ranking term.

    Output: weights (B, M) = c_m (detached), unreliability[name] = -c_m (higher = noisier),
    extras["confidence"] (B, M) = c_m with its gradient (what the ranking term trains),
    extras["fusion_scores"] (B, M) = the weights (the score ``fuse_with_scores`` replaces).
    ``parts`` holds the unweighted terms: total = ce + gamma * unimodal + qmf_rank_weight * rank.
    """

    def __init__(self, encoders: dict[str, nn.Module], num_classes: int, config: ModelConfig):
        super().__init__(encoders, num_classes, config)
        check_gamma(config)
        if not config.qmf_temperature > 0:
            raise ValueError(f"qmf_temperature must be > 0, got {config.qmf_temperature}")
        if config.qmf_rank_weight < 0:
            raise ValueError(f"qmf_rank_weight must be >= 0, got {config.qmf_rank_weight}")
        self.classifiers = UnimodalHeads(
            {k: self.encoders[k].out_dim for k in self.modalities}, num_classes)
        m = self.num_modalities
        # Training-only per-sample state, rows indexed by batch.index; grown on demand.
        self.register_buffer("history", torch.zeros(0, m), persistent=False)  # (N, M) mean loss
        self.register_buffer("history_count", torch.zeros(0, m, dtype=torch.long),
                             persistent=False)  # (N, M) times seen

    score_name = "confidence"

    def fuse(self, h: dict[str, Tensor], levels: dict[str, Tensor] | None) -> FusionOutput:
        # levels are deliberately ignored: QMF estimates quality from the logits alone.
        return self._fuse(h, None)

    def fuse_with_scores(self, h: dict[str, Tensor], scores: Tensor) -> FusionOutput:
        """``fuse`` with the confidences c (B, M) given: pi = sum_m c_m pi_m, the classifiers
        unchanged."""
        self.check_scores(scores, next(iter(h.values())).shape[0])
        return self._fuse(h, scores)

    def oracle_scores(self, levels: Tensor, clean: Tensor) -> Tensor:
        """clean_m / l (B, M): the modality's mean confidence on clean data divided by the
        level, so that a modality at level l votes with 1 / l of its clean weight (the energy
        has no unit of its own; the clean mean keeps the balance the model learned).  Needs a
        positive clean confidence: with clean_m <= 0, dividing by l would raise the weight."""
        if (clean <= 0).any():
            raise ValueError(f"QMF's oracle needs positive mean clean confidences, got "
                             f"{clean.tolist()}")
        return clean.float().unsqueeze(0) / levels.float()

    def _fuse(self, h: dict[str, Tensor], scores: Tensor | None) -> FusionOutput:
        pi_m = self.classifiers(h)  # name -> (B, C)
        logits_m = torch.stack([pi_m[k] for k in self.modalities], dim=1)  # (B, M, C)
        c = energy_confidence(logits_m, self.config.qmf_temperature)  # (B, M)
        w = c.detach() if scores is None else scores.to(logits_m.dtype)  # (B, M)
        logits = (w.unsqueeze(-1) * logits_m).sum(dim=1)  # (B, C)
        unreliability = {k: -w[:, i] for i, k in enumerate(self.modalities)}  # name -> (B,)
        return FusionOutput(logits=logits, unimodal_logits=pi_m, unreliability=unreliability,
                            weights=w, extras={"confidence": c, "fusion_scores": w})

    def _grow_history(self, size: int) -> None:
        n, m = self.history.shape
        if size <= n:
            return
        new = max(size, 2 * n)
        grown = torch.zeros(new, m, dtype=self.history.dtype, device=self.history.device)
        grown[:n] = self.history
        count = torch.zeros(new, m, dtype=torch.long, device=self.history.device)
        count[:n] = self.history_count
        self.history, self.history_count = grown, count

    @torch.no_grad()
    def update_history(self, index: Tensor, losses: Tensor) -> None:
        """Fold the detached per-sample losses (B, M) into the running means of rows ``index``."""
        self._grow_history(int(index.max()) + 1)
        index = index.to(self.history.device)
        losses = losses.detach().to(self.history.dtype)
        n = self.history_count[index]  # (B, M)
        mean = self.history[index]  # (B, M)
        self.history[index] = mean + (losses - mean) / (n + 1)
        self.history_count[index] = n + 1

    def _check_index(self, index: Tensor, b: int) -> None:
        if index.shape != (b,):
            raise ValueError(f"batch.index has shape {tuple(index.shape)}, expected ({b},)")
        if index.dtype != torch.long:
            raise TypeError(f"batch.index must be torch.long sample positions, got {index.dtype}")
        if index.min() < 0:
            raise ValueError(f"batch.index must be >= 0, got {int(index.min())}")
        if index.unique().numel() != b:
            raise ValueError("batch.index has repeated samples; the loss history needs each "
                             "sample at most once per batch")

    def loss(self, out: FusionOutput, batch: Batch, epoch: int) -> tuple[Tensor, dict[str, float]]:
        y = batch.y
        ce = F.cross_entropy(out.logits, y)
        per_sample = torch.stack([F.cross_entropy(out.unimodal_logits[k], y, reduction="none")
                                  for k in self.modalities], dim=1)  # (B, M)
        unimodal = per_sample.mean(dim=0).sum()
        rank = out.logits.new_zeros(())
        if self.training:
            self._check_index(batch.index, y.shape[0])
            conf = out.extras["confidence"]  # (B, M), not detached
            self._grow_history(int(batch.index.max()) + 1)
            idx = batch.index.to(self.history.device)
            hist = self.history[idx].to(conf.device)  # (B, M)
            known = (self.history_count[idx] > 0).to(conf.device)  # (B, M)
            for i in range(self.num_modalities):
                pairs, target = pair_targets(hist[:, i], known[:, i])
                rank = rank + rank_loss(conf[:, i], pairs, target.to(conf.dtype))
            self.update_history(batch.index, per_sample)
        total = ce + self.config.gamma * unimodal + self.config.qmf_rank_weight * rank
        parts = {"ce": ce, "unimodal": unimodal, "rank": rank}
        return total, {k: float(v.detach()) for k, v in parts.items()}
