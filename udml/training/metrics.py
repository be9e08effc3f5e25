"""Small metrics: accuracy, Spearman's rank correlation, and a score's calibration against the
noise level."""
from __future__ import annotations

import torch
from scipy.stats import rankdata
from torch import Tensor


def accuracy(logits: Tensor, y: Tensor) -> float:
    """Share of argmax predictions equal to y.  logits (N, C), y (N,)."""
    if logits.shape[0] == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return (logits.argmax(1) == y).float().mean().item()


def rank(x: Tensor) -> Tensor:
    """Ranks 1..N with ties given their average rank (scipy's ``rankdata``); all NaN if x holds
    a NaN.  (N,) -> (N,) float64 on the CPU

    Exact: an average of consecutive integers is a whole or half number, which a float64 holds.
    """
    return torch.from_numpy(rankdata(x.detach().double().flatten().cpu().numpy()))


def spearman(x: Tensor, y: Tensor) -> float:
    """Spearman's rho: the Pearson correlation of the (tie-averaged) ranks; NaN if one is constant.

    The correlation is computed here rather than by scipy's ``spearmanr``, which gives the same
    value rounded differently (numpy's corrcoef): on the scores of one committed run it moved 23
    of 42 stored values by up to 2.2e-16, and chapter 06 glues such a value at full precision.
    """
    if x.numel() != y.numel():
        raise ValueError(f"spearman needs equal lengths, got {x.numel()} and {y.numel()}")
    if x.numel() < 2:
        return float("nan")
    rx, ry = rank(x), rank(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = (rx.pow(2).sum() * ry.pow(2).sum()).sqrt()
    return float("nan") if denom == 0 else (rx * ry).sum().div(denom).item()


# The names of the level ranges, one meaning each, in code and in the results files' ``range``
# column. The random protocol is scored on halves (`level_halves`), a calibration on the narrower
# ends (`level_ranges`); both on all levels as well.
ALL = "all"                                          # levels 1 .. L
LOWER_HALF, UPPER_HALF = "lower_half", "upper_half"  # 1 .. ceil(L/2), ceil(L/2) .. L
LOW_END, HIGH_END = "low_end", "high_end"            # 1 .. 1 + w, L - w .. L
HALVES = (ALL, LOWER_HALF, UPPER_HALF)               # the keys of `level_halves`
ENDS = (ALL, LOW_END, HIGH_END)                      # the keys of `level_ranges`


def level_halves(num_levels: int) -> dict[str, tuple[int, int]]:
    """The level ranges a method's unreliability is scored on under the random protocol
    (`udml.training.evaluate.unreliability_spearman`): all levels, the lower and the upper half.

    all = 1 .. L, lower_half = 1 .. ceil(L/2), upper_half = ceil(L/2) .. L (the halves share the
    middle level): levels 1-6 and 6-11 for L = 11, so that each half asks whether the score still
    orders slight noise and heavy noise. (A calibration is scored on the narrower ends,
    `level_ranges`.)
    """
    mid = (num_levels + 1) // 2
    return {ALL: (1, num_levels), LOWER_HALF: (1, mid), UPPER_HALF: (mid, num_levels)}


def level_ranges(num_levels: int) -> dict[str, tuple[int, int]]:
    """The level ranges a calibration is scored on: all levels, the low and the high end.

    low_end = levels 1 .. 1 + w and high_end = L - w .. L with w = 3 (L - 1) // 10: levels 1-4 and
    8-11 for L = 11 (the random protocol is scored on halves instead: `level_halves`). With the
    quadratic strength schedule the low end is nearly invisible (level 4 is 9 % of the top
    strength), the high end is where a destroyed modality must be told apart from a badly
    damaged one.
    """
    w = 3 * (num_levels - 1) // 10
    return {ALL: (1, num_levels), LOW_END: (1, 1 + w), HIGH_END: (num_levels - w, num_levels)}


def calibration_summary(by_level: dict[int, Tensor], num_levels: int) -> dict:
    """How a score follows the level: per level 1..L its mean and standard deviation, and its
    per-sample Spearman with the level over each range of `level_ranges`.

    by_level: level -> (N,) scores of one modality corrupted alone at that level (the same
    samples at every level). Returns {"mean": [L], "std": [L], "spearman": {range: rho}}.
    """
    missing = sorted(set(range(1, num_levels + 1)) - set(by_level))
    if missing:
        raise ValueError(f"calibration needs every level 1..{num_levels}; missing {missing}")
    levels = range(1, num_levels + 1)
    score = torch.cat([by_level[lv].double() for lv in levels])
    level = torch.cat([torch.full((by_level[lv].numel(),), lv, dtype=torch.float64)
                       for lv in levels])
    rho = {}
    for name, (lo, hi) in level_ranges(num_levels).items():
        keep = (level >= lo) & (level <= hi)
        rho[name] = spearman(score[keep], level[keep])
    return {"mean": [by_level[lv].double().mean().item() for lv in levels],
            "std": [by_level[lv].double().std().item() if by_level[lv].numel() > 1 else 0.0
                    for lv in levels],
            "spearman": rho}
