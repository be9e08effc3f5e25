"""Containers for multimodal data: modalities as a dict keyed by name, processed in sorted order."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import torch
from torch import Tensor

from ..validation import check_features, check_labels


@dataclass
class Batch:
    """One mini-batch as every model, trainer and evaluator of `udml` sees it.

    x:      name -> (B, ...) float tensor, one entry per modality
    y:      (B,) long class labels
    index:  (B,) long positions of the samples in their split (QMF keeps per-sample histories)
    levels: name -> (B,) long noise levels in 1..L (1 = clean) that were injected
    """

    x: dict[str, Tensor]
    y: Tensor
    index: Tensor
    levels: dict[str, Tensor]

    def to(self, device: torch.device | str) -> "Batch":
        return Batch(
            {k: v.to(device, non_blocking=True) for k, v in self.x.items()},
            self.y.to(device, non_blocking=True),
            self.index.to(device, non_blocking=True),
            {k: v.to(device, non_blocking=True) for k, v in self.levels.items()},
        )


@dataclass
class MultimodalData:
    """An in-memory split: ``x[name]`` is (N, ...) float32, ``y`` is (N,) long."""

    x: dict[str, Tensor]
    y: Tensor

    def __post_init__(self) -> None:
        check_features(self.x)
        if not self.x:
            raise ValueError("MultimodalData needs at least one modality")
        self.y = check_labels(self.y)
        n = self.y.shape[0]
        for name, t in self.x.items():
            if t.shape[0] != n:
                raise ValueError(f"modality {name!r} has {t.shape[0]} samples, labels have {n}")

    @property
    def modalities(self) -> list[str]:
        return sorted(self.x)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, index: Tensor) -> "MultimodalData":
        return MultimodalData({k: v[index] for k, v in self.x.items()}, self.y[index])

    def batches(
        self, batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None
    ) -> Iterator[Batch]:
        """Yield clean `Batch`es (all levels 1); noise is injected afterwards, on the device."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        n = len(self)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            ones = torch.ones(len(idx), dtype=torch.long)
            yield Batch({k: v[idx] for k, v in self.x.items()}, self.y[idx], idx,
                        {k: ones for k in self.x})


@dataclass
class MultimodalSplits:
    """Train/val/test splits of one dataset plus what a model needs to know about it.

    info records how the data was made (dataset name, views, seed, split sizes, scaling) so that
    results files can carry it.
    """

    train: MultimodalData
    val: MultimodalData
    test: MultimodalData
    num_classes: int
    name: str
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for split in ("train", "val", "test"):
            data = getattr(self, split)
            if data.modalities != self.train.modalities:
                raise ValueError(f"the {split} split has modalities {data.modalities}, the train "
                                 f"split {self.train.modalities}")
            check_labels(data.y, self.num_classes, f"{split} labels")

    @property
    def modalities(self) -> list[str]:
        return self.train.modalities

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-sample shape of each modality, e.g. {'fou': (76,), 'pix': (1, 16, 15)}."""
        return {k: tuple(v.shape[1:]) for k, v in sorted(self.train.x.items())}
