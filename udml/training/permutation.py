"""Do the scores decide anything?  A permutation test of a trained dynamic fusion method, with a
positive control (Moon, Pillai and Campbell, "When Does Quality-Aware Multimodal Fusion Matter?
A Leakage-Safe Diagnostic for Decision-Level Dependence", arXiv 2606.26473).

A dynamic method reads one score per sample and modality in its fusion
(`udml.models.base.MultimodalModel.score_name`):

    pe            pe_sigma    the mean sigma of the probabilistic embedding
    naive, udml   s_hat       the noise-aware estimate of the level
    oracle        level       the true injected level
    qmf           confidence  the energy confidence c_m, the weight of pi_m
    tmc           evidence    the view's total evidence E_m (u_m = C / (C + E_m))

With the trained model and the corrupted test inputs fixed, the test accuracy is measured with
that score

    as computed   what the model computes (the accuracy `udml.training.evaluate` reports),
    permuted      the test examples' score vectors shuffled among the examples
                  (``permutations`` seeded permutations; one example's scores move together,
                  so how the modalities' scores relate within an example is kept and only their
                  link to the example's input is broken),
    oracle        the true levels put in the same formula on the score's own scale
                  (`MultimodalModel.oracle_scores`): the positive control, what the frozen
                  fusion gains when its scores carry the right information.

If the predictions depend on the scores, permuting lowers the accuracy.  The oracle method's score
is the level already, so it has no oracle control (its permuted accuracy is still measured);
static and late fusion read no per-sample score and have no test (a `ValueError`).  Under a
protocol where every example has the same levels (clean, ``one:m@l``, ``all@l``), a permutation
keeps which modality is noisy; only the variation between examples is broken.  The ``random``
protocol, where every example has its own levels, is where the scores can decide per example.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ..corrupt import NoiseSpec, corrupt_batch, protocol_from_string
from ..corrupt.protocols import check_protocols
from ..data.dataset import MultimodalData
from ..models.base import MultimodalModel
from ..validation import check_device, check_labels, check_num_levels, check_split
from .evaluate import standard_protocols
from .metrics import accuracy


@dataclass
class PermutationResult:
    """One protocol's test: accuracies with the scores as computed, permuted (one per
    permutation, in order) and from the oracle (None where the method has no oracle control)."""

    accuracy: float
    permuted: list[float]
    oracle: float | None

    def metrics(self) -> dict[str, float]:
        """The rows' metrics: ``accuracy_permuted`` (mean over the permutations),
        ``accuracy_permuted_std`` (their sample standard deviation; NaN for one permutation)
        and ``accuracy_oracle`` where there is one.  The accuracy as computed is `evaluate`'s
        ``accuracy``."""
        p = torch.tensor(self.permuted, dtype=torch.float64)
        out = {"accuracy_permuted": p.mean().item(),
               "accuracy_permuted_std": p.std().item() if len(p) > 1 else math.nan}
        if self.oracle is not None:
            out["accuracy_oracle"] = self.oracle
        return out


@dataclass
class _Pass:
    """One pass over the split under one protocol: the features per batch, the scores the model
    computed (N, M), the true levels (N, M), the labels (N,) and the model's own logits (N, C)."""

    features: list[dict[str, Tensor]]
    scores: Tensor
    levels: Tensor
    y: Tensor
    logits: Tensor


def check_permutations(permutations) -> int:
    """The number of permutations: an int >= 1."""
    if isinstance(permutations, bool) or not isinstance(permutations, int):
        raise TypeError(f"permutations must be an int >= 1, got {permutations!r}")
    if permutations < 1:
        raise ValueError(f"permutations must be >= 1, got {permutations}")
    return permutations


def score_permutations(n: int, permutations: int, seed: int) -> list[Tensor]:
    """``permutations`` permutations of 0..n-1, drawn from a generator seeded with ``seed``: the
    same for every protocol and every method of a seed (their tests are paired)."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randperm(n, generator=gen) for _ in range(check_permutations(permutations))]


def _encode_pass(model: MultimodalModel, data: MultimodalData, specs: dict[str, NoiseSpec],
                 protocol, num_levels: int, seed: int, batch_size: int,
                 device: torch.device) -> _Pass:
    """Corrupt ``data`` under ``protocol`` (noise seeded with ``seed``, batch by batch, as
    `udml.training.evaluate.predict` does), encode it and fuse it as the model does."""
    gen = torch.Generator(device=device).manual_seed(seed)
    feats, scores, levels, ys, logits = [], [], [], [], []
    for batch in data.batches(batch_size):
        check_labels(batch.y, model.num_classes)
        batch = corrupt_batch(batch.to(device), protocol, specs, num_levels, gen)
        model.check_inputs(batch.x, batch.levels)
        h = model.encode(batch.x)
        out = model.fuse(h, batch.levels)
        feats.append(h)
        scores.append(out.extras["fusion_scores"].float())                      # (B, M)
        levels.append(torch.stack([batch.levels[k] for k in model.modalities], 1))  # (B, M)
        ys.append(batch.y.cpu())
        logits.append(out.logits.float().cpu())
    return _Pass(feats, torch.cat(scores), torch.cat(levels), torch.cat(ys), torch.cat(logits))


def _accuracy_with(model: MultimodalModel, run: _Pass, scores: Tensor) -> float:
    """The accuracy of the fusion of ``run``'s features with ``scores`` (N, M), batch by batch."""
    logits, start = [], 0
    for h in run.features:
        b = next(iter(h.values())).shape[0]
        logits.append(model.fuse_with_scores(h, scores[start:start + b]).logits.float().cpu())
        start += b
    return accuracy(torch.cat(logits), run.y)


@torch.no_grad()
def permutation_test(model: MultimodalModel, data: MultimodalData, specs: dict[str, NoiseSpec],
                     num_levels: int, protocols: list[str] | None = None, seed: int = 0,
                     permutations: int = 10, batch_size: int = 512,
                     device: torch.device | str = "cpu") -> dict[str, PermutationResult]:
    """{protocol label: `PermutationResult`} of the trained ``model`` on the split ``data``.

    Each protocol draws its noise from a generator seeded with ``seed`` and the same batches as
    `udml.training.evaluate.evaluate` (same ``batch_size``), so the accuracy as computed is
    evaluate's, bit for bit; the permutations are drawn once from ``seed``
    (`score_permutations`).  The oracle's scale is set by the mean of the model's own score over
    the clean split (`MultimodalModel.oracle_scores`).  ``protocols``: labels (None: the
    standard ones); everything is checked before anything runs.
    """
    if not isinstance(model, MultimodalModel):
        raise TypeError(f"model must be a MultimodalModel, got {type(model).__name__}")
    if model.score_name is None:
        raise ValueError(f"method {model.config.method!r} reads no per-sample score in its "
                         "fusion: there is nothing to permute (the test needs pe, naive, udml, "
                         "oracle, qmf or tmc)")
    check_permutations(permutations)
    check_split(data)
    check_num_levels(num_levels, model.config.num_levels)
    dev = check_device(device, model)
    protocols = protocols or standard_protocols(model.modalities, num_levels)
    check_protocols(protocols, model.modalities, num_levels)
    perms = score_permutations(len(data), permutations, seed)
    was_training = model.training
    model.eval()
    try:
        clean = None
        if model.score_name != "level":
            clean = _encode_pass(model, data, specs, protocol_from_string("clean"), num_levels,
                                 seed, batch_size, dev).scores.mean(0)          # (M,)
        out = {}
        for label in protocols:
            proto = protocol_from_string(label) if isinstance(label, str) else label
            run = _encode_pass(model, data, specs, proto, num_levels, seed, batch_size, dev)
            permuted = [_accuracy_with(model, run, run.scores[p.to(run.scores.device)])
                        for p in perms]
            oracle = (None if clean is None else
                      _accuracy_with(model, run, model.oracle_scores(run.levels, clean)))
            out[str(label)] = PermutationResult(accuracy(run.logits, run.y), permuted, oracle)
    finally:
        model.train(was_training)
    return out


def permutation_metrics(results: dict[str, PermutationResult]) -> dict[str, dict[str, float]]:
    """{protocol label: `PermutationResult.metrics`}: what a run's evaluation report keeps under
    "permutation" and `udml.training.evaluate.report_rows` writes as rows."""
    return {label: r.metrics() for label, r in results.items()}
