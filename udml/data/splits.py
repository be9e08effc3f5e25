"""Stratified, seeded splits and a train-fitted standardiser.

Both exist so that every dataset of the book is prepared the same way: the class proportions are
the same in train, val and test, and the scaling statistics come from the training split only
(fitting them on all data would leak test information into training).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor


def _check_fractions(fractions: Sequence[float]) -> list[float]:
    fr = [float(f) for f in fractions]
    if len(fr) < 2:
        raise ValueError(f"need at least two fractions, got {fractions!r}")
    if any(not (0.0 < f < 1.0) for f in fr):
        raise ValueError(f"every fraction must lie in (0, 1), got {fractions!r}")
    if abs(sum(fr) - 1.0) > 1e-9:
        raise ValueError(f"fractions must sum to 1, got {fractions!r} (sum {sum(fr)})")
    return fr


def stratified_split(y: Tensor, fractions: Sequence[float],
                     generator: torch.Generator) -> list[Tensor]:
    """Split sample positions into parts whose class proportions follow `fractions`.

    y:         (N,) integer class labels
    fractions: e.g. (0.65, 0.15, 0.2) for train/val/test; positive, summing to 1
    generator: the only source of randomness (same generator state -> same split)

    Within each class the samples are shuffled and cut at round(n_c * cumulative fraction), so a
    class of 200 with (0.65, 0.15, 0.2) gives exactly 130/30/40.  Returns one (N_k,) long tensor
    of positions per part, in shuffled order; the parts are disjoint and cover all samples.
    Raises ValueError when a class is too small to appear in every part.
    """
    fr = _check_fractions(fractions)
    if not isinstance(y, Tensor) or y.ndim != 1 or y.is_floating_point() or y.is_complex():
        raise TypeError("y must be a 1-D integer tensor of class labels")
    if y.numel() == 0:
        raise ValueError("cannot split an empty label tensor")
    cum = torch.tensor([0.0] + fr, dtype=torch.float64).cumsum(0)  # (K + 1,)
    parts: list[list[Tensor]] = [[] for _ in fr]
    for c in torch.unique(y).tolist():
        members = torch.nonzero(y == c).flatten()  # (n_c,)
        members = members[torch.randperm(len(members), generator=generator)]
        cuts = torch.round(cum * len(members)).long().tolist()  # K + 1 boundaries
        for k in range(len(fr)):
            chunk = members[cuts[k]:cuts[k + 1]]
            if len(chunk) == 0:
                raise ValueError(f"class {c} has {len(members)} samples, too few to put at least "
                                 f"one in every part of fractions {tuple(fr)}")
            parts[k].append(chunk)
    out = []
    for chunks in parts:
        idx = torch.cat(chunks)
        out.append(idx[torch.randperm(len(idx), generator=generator)])
    return out


def _check_finite(x: Tensor, what: str) -> None:
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{what}: {bad} non-finite values (NaN or Inf) in a tensor of shape "
                         f"{tuple(x.shape)}; clean the data before standardising")


class Standardiser:
    """(x - mean) / std with statistics fitted on the training split and applied to all splits.

    mode="feature": one mean/std per feature over the samples (axis 0), for vector modalities;
    mode="global":  one scalar mean/std over all values, for images, so that an image stays an
                    image and a known value range maps to a known range (see `map_value`).
    Features with std below `eps` are only centred (their std is taken as 1), never divided by
    zero.  Statistics are computed in float64; outputs keep the input's floating dtype.
    """

    def __init__(self, mode: str = "feature", eps: float = 1e-8) -> None:
        if mode not in ("feature", "global"):
            raise ValueError(f"unknown Standardiser mode {mode!r}; use 'feature' or 'global'")
        self.mode = mode
        self.eps = eps
        self.mean: Tensor | None = None
        self.std: Tensor | None = None
        self.num_constant = 0

    def fit(self, x: Tensor) -> "Standardiser":
        """Compute the statistics of x (N, ...) and return self."""
        if x.ndim < 1 or x.shape[0] < 2:
            raise ValueError(f"need at least 2 samples to fit a Standardiser, got shape "
                             f"{tuple(x.shape)}")
        _check_finite(x, "Standardiser.fit")
        x64 = x.to(torch.float64)
        if self.mode == "global":
            mean, std = x64.mean(), x64.std(unbiased=False)  # () and ()
        else:
            mean, std = x64.mean(dim=0), x64.std(dim=0, unbiased=False)  # (...) each
        constant = std < self.eps
        self.num_constant = int(constant.sum())  # features only centred, not scaled
        self.mean = mean
        self.std = torch.where(constant, torch.ones_like(std), std)
        return self

    def _fitted(self) -> tuple[Tensor, Tensor]:
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardiser is not fitted: call fit(train_x) first")
        return self.mean, self.std

    def transform(self, x: Tensor) -> Tensor:
        """Apply the fitted scaling; x must have the per-sample shape seen in fit."""
        mean, std = self._fitted()
        if self.mode == "feature" and tuple(x.shape[1:]) != tuple(mean.shape):
            raise ValueError(f"Standardiser was fitted on samples of shape {tuple(mean.shape)}, "
                             f"got {tuple(x.shape[1:])}")
        _check_finite(x, "Standardiser.transform")
        dtype = x.dtype if x.is_floating_point() else torch.float32
        return ((x.to(torch.float64) - mean) / std).to(dtype)

    def map_value(self, value: float) -> float:
        """Where a raw value lands after scaling (global mode only): (value - mean) / std."""
        mean, std = self._fitted()
        if self.mode != "global":
            raise ValueError("map_value needs mode='global' (one mean/std for all values)")
        return float((value - mean) / std)

    def describe(self) -> dict:
        """A JSON-friendly summary for `MultimodalSplits.info`."""
        mean, std = self._fitted()
        if self.mode == "global":
            return {"kind": "global", "fitted_on": "train", "mean": float(mean), "std": float(std)}
        return {"kind": "per-feature", "fitted_on": "train", "features": int(mean.numel()),
                "constant_features": self.num_constant}
