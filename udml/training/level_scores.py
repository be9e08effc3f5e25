"""Unreliability scores against the true noise level: the evidence behind the estimator.

A method's forward pass carries one or more per-sample scores that should rise with the noise
level l of a modality (higher = noisier):

    s_hat          the noise-aware estimator's prediction of l   (FusionOutput.s_hat, UDML family)
    pe_sigma       the mean sigma of the probabilistic embedding (FusionOutput.extras["pe_sigma"])
    unreliability  the method's own score (FusionOutput.unreliability; QMF: minus its energy
                   confidence)

`collect_scores` runs a model over a split under a noise protocol and returns one `Predictions`
per score whose ``unreliability`` field holds that score, so that
`udml.training.evaluate.unreliability_spearman` applies unchanged. `level_sweep` corrupts one
modality at every level 1..L in turn (the others clean), and `level_summary` describes a score
level by level.
"""
from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor

from ..corrupt import NoiseSpec, one_modality
from ..data.dataset import MultimodalData
from .evaluate import Predictions, concat_predictions, predict
from .metrics import rank
from ..models.base import MultimodalModel

SCORE_NAMES = ("s_hat", "pe_sigma", "unreliability")


def collect_scores(model: MultimodalModel, data: MultimodalData, specs: dict[str, NoiseSpec],
                   protocol, num_levels: int, generator: torch.Generator, batch_size: int = 512,
                   device: torch.device | str = "cpu") -> dict[str, Predictions]:
    """Score name -> `Predictions` over ``data`` corrupted by ``protocol`` (object or string).

    One pass of `udml.training.evaluate.predict`; every returned `Predictions` shares logits,
    weights, levels and labels, and its ``unreliability`` holds that score.
    """
    pred = predict(model, data, specs, protocol, num_levels, generator, batch_size, device)
    if not pred.scores:
        raise ValueError(f"model {type(model).__name__} produces none of the scores {SCORE_NAMES}")
    return {name: replace(pred, unreliability=per_mod, scores={})
            for name, per_mod in pred.scores.items()}


def level_sweep(model: MultimodalModel, data: MultimodalData, specs: dict[str, NoiseSpec],
                modality: str, num_levels: int, seed: int = 0, batch_size: int = 512,
                device: torch.device | str = "cpu") -> dict[str, Predictions]:
    """Corrupt ``modality`` alone at every level 1..L of ``data`` in turn; pool the scores.

    Each level draws its noise from a generator seeded with ``seed`` (as
    `udml.training.evaluate.evaluate` does), so two models swept with one seed see the same
    corrupted samples. Returns score name -> `Predictions` over L * len(data) samples.
    """
    if modality not in model.modalities:
        raise ValueError(f"unknown modality {modality!r}; the model has {model.modalities}")
    dev = torch.device(device)
    per_level: dict[str, list[Predictions]] = {}
    for level in range(1, num_levels + 1):
        gen = torch.Generator(device=dev).manual_seed(seed)
        got = collect_scores(model, data, specs, one_modality(modality, level), num_levels, gen,
                             batch_size, dev)
        for name, pred in got.items():
            per_level.setdefault(name, []).append(pred)
    return {name: concat_predictions(parts) for name, parts in per_level.items()}


def percentile_rank(x: Tensor) -> Tensor:
    """(N,) -> (N,) float64 ranks rescaled to [0, 1] (ties share their average rank).

    Puts scores of different units on one axis without changing their order; a constant score
    maps to 0.5 everywhere.
    """
    if x.numel() == 0:
        raise ValueError("percentile_rank of an empty tensor")
    if x.numel() == 1:
        return torch.full((1,), 0.5, dtype=torch.float64)
    return (rank(x) - 1.0) / (x.numel() - 1)


def level_summary(score: Tensor, levels: Tensor, num_levels: int) -> dict[str, Tensor]:
    """Per level 1..L: mean, median and quartiles of ``score``, and the sample count.

    score, levels: (N,). Returns tensors of shape (L,) under "mean", "median", "q25", "q75",
    "count"; a level without samples gets NaN statistics and count 0.
    """
    if score.shape != levels.shape or score.dim() != 1:
        raise ValueError(f"score and levels must be (N,) tensors of one shape, got "
                         f"{tuple(score.shape)} and {tuple(levels.shape)}")
    score = score.double()
    stats = {k: torch.full((num_levels,), float("nan"), dtype=torch.float64)
             for k in ("mean", "median", "q25", "q75")}
    count = torch.zeros(num_levels, dtype=torch.long)
    for i, level in enumerate(range(1, num_levels + 1)):
        v = score[levels == level]
        count[i] = v.numel()
        if v.numel():
            stats["mean"][i] = v.mean()
            q = torch.quantile(v, torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64))
            stats["q25"][i], stats["median"][i], stats["q75"][i] = q
    return {**stats, "count": count}
