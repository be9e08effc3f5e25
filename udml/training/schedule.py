"""The training schedule (method.md section 5), scaled proportionally to the run's length.

Reference (100 epochs): epochs 0-49 clean, noisy data from epoch 50, uncertainty weights in
training from epoch 60 (before that the s ratio is taken as 1; the dependency term is active
throughout), learning rate x0.1 at epoch 70.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phase:
    noisy: bool            # inject noise into the training batches
    use_uncertainty: bool  # s_hat enters the fusion weights


@dataclass(frozen=True)
class Schedule:
    epochs: int
    warmup: float = 0.5
    uncertainty_start: float = 0.6

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if not 0.0 <= self.warmup <= self.uncertainty_start <= 1.0:
            raise ValueError("need 0 <= warmup <= uncertainty_start <= 1, got "
                             f"{self.warmup}, {self.uncertainty_start}")

    @property
    def noisy_from(self) -> int:
        return round(self.warmup * self.epochs)

    @property
    def uncertainty_from(self) -> int:
        return round(self.uncertainty_start * self.epochs)

    def phase(self, epoch: int) -> Phase:
        return Phase(noisy=epoch >= self.noisy_from, use_uncertainty=epoch >= self.uncertainty_from)
