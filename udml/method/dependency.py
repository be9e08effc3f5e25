"""Modality dependency measured by modality dropout (method.md section 3).

Paper:     d_m = || pi - pi_{-m} ||_1, how much the fused logits change when modality m is dropped,
           averaged over a batch.  A global statistic, not a per-sample one.
Reference: D_m = batch mean of || W [0; z_m; 0] + b ||_1, the logits of the head with the other
           modalities zeroed (bias included).  Kept here for the ablation.

Both are measured on the unweighted embeddings z (B, M, K) with gradients stopped, so that the
statistic reports how much the head relies on each modality, independently of the per-sample
weights it is used to build (no feedback loop).  The running value is an exponential moving
average over training batches, stored as a buffer so that checkpoints carry it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn

from .heads import head_on_masks


@torch.no_grad()
def dropout_dependency(head: Callable[[Tensor], Tensor], z: Tensor) -> Tensor:
    """Paper's d_m: z (B, M, K) -> (M,), mean over the batch of ||pi - pi_{-m}||_1."""
    m = z.shape[1]
    masks = torch.cat([torch.ones(1, m), 1.0 - torch.eye(m)]).to(z.device)  # row 0: all kept
    logits = head_on_masks(head, z, masks)                                  # (1 + M, B, C)
    return (logits[:1] - logits[1:]).abs().sum(2).mean(1)                   # (M,)


@torch.no_grad()
def reference_dependency(head: Callable[[Tensor], Tensor], z: Tensor) -> Tensor:
    """Reference code's D_m: z (B, M, K) -> (M,), mean over the batch of ||head(z_m only)||_1."""
    logits = head_on_masks(head, z, torch.eye(z.shape[1], device=z.device))  # (M, B, C)
    return logits.abs().sum(2).mean(1)


DEPENDENCY_FORMS = {"paper": dropout_dependency, "reference": reference_dependency}


def normalised_dependency(d: Tensor | np.ndarray) -> Tensor | np.ndarray:
    """alpha_m = M d_m / sum_k d_k along the first axis: (M, ...) -> (M, ...), summing to M.

    The dependency as the fusion weights, the figures and the claims read it (only the ratios of
    d matter; 1 is no preference).  Where the d sum to 0 (a head that ignores every modality),
    every alpha_m is 1.  ``d`` (>= 0) is a tensor (the running value) or a NumPy array (values
    read back from histories and results files); each is summed by its own library, so a result
    does not depend on which of the two the caller holds.
    """
    total = d.sum(0)[None]                                             # (1, ...)
    none = total <= 0                                                  # (1, ...) bool
    return d.shape[0] * d / (total + none) + none                      # (M, ...)


class DependencyTracker(nn.Module):
    """Running D_m (M,), an EMA over training batches; starts at 1 (no preference) until updated.

    ``normalised`` gives alpha_m = M d_m / sum_k d_k (`normalised_dependency`).  The fusion
    weights only depend on the ratios of D_m, so either can be used for them.
    """

    def __init__(self, num_modalities: int, form: str = "paper", momentum: float = 0.1):
        super().__init__()
        if form not in DEPENDENCY_FORMS:
            raise ValueError(f"unknown dependency form {form!r}; choose one of {sorted(DEPENDENCY_FORMS)}")
        if not 0.0 < momentum <= 1.0:
            raise ValueError(f"momentum must lie in (0, 1], got {momentum}")
        self.form = form
        self.momentum = momentum
        self.register_buffer("value", torch.ones(num_modalities))
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update(self, head: Callable[[Tensor], Tensor], z: Tensor) -> Tensor:
        """Measure d on this batch (B, M, K), fold it into the running value, return the batch d."""
        d = DEPENDENCY_FORMS[self.form](head, z.detach().float()).to(self.value.dtype)
        if not torch.isfinite(d).all():
            raise FloatingPointError(f"non-finite modality dependency {d.tolist()}")
        if int(self.updates) == 0:
            self.value.copy_(d)
        else:
            self.value.mul_(1.0 - self.momentum).add_(self.momentum * d)
        self.updates += 1
        return d

    def normalised(self) -> Tensor:
        """alpha_m = M d_m / sum_k d_k.  (M,)"""
        return normalised_dependency(self.value)

    def for_weights(self, eps: float = 1e-6) -> Tensor:
        """What the weights read for D_m: the normalised alpha_m = M D_m / sum_k D_k (the weights
        depend on D only through its ratios, so alpha gives the same w), floored so that u_m
        stays finite."""
        return self.normalised().clamp_min(eps)
