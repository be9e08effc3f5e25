"""How unlike its modality's clean training inputs an input is: a typicality score, beyond the paper.

An estimator trained on some kinds of damage learns what those kinds look like; an input damaged
in a way it never saw can look clean to it, or cleaner than clean (chapter 7).  The typicality
score asks a question that needs no damage at all: is this input where clean inputs of some class
lie?  Fitted once, before training, on the clean training inputs of one modality:

  v = P^T (view(x) - c)         the input's view (the encoder's fixed front end where it has one:
                                the log spectrogram of a recording) flattened and projected on
                                the top principal directions P of the clean inputs, (B, K)
  d2 = min_y (v - m_y)^T S^-1 (v - m_y)   the squared Mahalanobis distance to the nearest class
                                mean m_y, with the pooled within-class covariance S (Lee et al.,
                                2018, the class-conditional Gaussian of out-of-distribution
                                detection)
  tau = |log d2 - a| / b        two-sided, with a, b the mean and spread of log d2 over the
                                clean training inputs

The score is two-sided because damage moves an input either way: noise pushes it away from its
class (d2 grows), while a blur or lost values pull it towards the average input (d2 shrinks below
anything a clean input has), which a one-sided distance reads as "more typical than clean"
(Nalisnick et al., 2019, "Detecting out-of-distribution inputs to deep generative models using
typicality").  tau is small on clean inputs and grows as the input leaves the clean set, whichever
way it leaves.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn

MAX_VALUES = 4096  # the widest view (values per sample) read as it is; wider ones are pooled
COMPONENTS = 64    # principal directions kept
SHRINK = 1e-3      # ridge on the within-class covariance, relative to its mean variance


class Typicality(nn.Module):
    """(B, ...) inputs of one modality -> (B,) tau >= 0, how far from the clean training inputs.

    ``view`` maps a batch to what the score reads (default: the input itself); the statistics
    are buffers (empty until `fit`), so a checkpoint carries them.
    """

    def __init__(self, num_classes: int, view: Callable[[Tensor], Tensor] | None = None,
                 components: int = COMPONENTS):
        super().__init__()
        if num_classes < 2 or components < 1:
            raise ValueError(f"typicality needs >= 2 classes and >= 1 component, got "
                             f"{num_classes} and {components}")
        self.num_classes, self.components = num_classes, components
        self.view = view
        for name in ("center", "basis", "means", "precision", "loc", "scale"):
            self.register_buffer(name, torch.empty(0))

    @property
    def fitted(self) -> bool:
        return self.basis.numel() > 0

    def _flat(self, x: Tensor) -> Tensor:
        """(B, ...) -> (B, D) the view, flattened; a view wider than MAX_VALUES is averaged over
        runs of consecutive values down to MAX_VALUES (a video's frames, a large image), so
        that its covariance stays small."""
        v = (self.view(x) if self.view is not None else x).flatten(1).double()
        if v.shape[1] > MAX_VALUES:
            v = nn.functional.adaptive_avg_pool1d(v.unsqueeze(1), MAX_VALUES).squeeze(1)
        return v                                                         # (B, D)

    @torch.no_grad()
    def fit(self, batches: Iterable[tuple[Tensor, Tensor]]) -> "Typicality":
        """Fit on clean (x (B, ...), y (B,)) batches of the training split, in four passes over
        them (moments, class means, pooled covariance, the clean scores' spread), each summed
        batch by batch."""
        batches = list(batches)
        n, total, outer = 0, None, None
        for x, _ in batches:                                             # mean and covariance
            v = self._flat(x)
            total = v.sum(0) if total is None else total + v.sum(0)
            outer = v.T @ v if outer is None else outer + v.T @ v
            n += v.shape[0]
        if n < 2:
            raise ValueError(f"typicality needs at least 2 training samples, got {n}")
        center = total / n
        cov = outer / n - torch.outer(center, center)                    # (D, D)
        k = min(self.components, cov.shape[0], n - 1)
        basis = torch.linalg.eigh(cov).eigenvectors[:, -k:]              # (D, K), top K
        sums = torch.zeros(self.num_classes, k, dtype=torch.float64, device=center.device)
        counts = torch.zeros(self.num_classes, dtype=torch.float64, device=center.device)
        for x, y in batches:                                             # class means
            p = (self._flat(x) - center) @ basis
            sums.index_add_(0, y, p)
            counts.index_add_(0, y, torch.ones_like(y, dtype=torch.float64))
        if (counts == 0).any():
            raise ValueError("typicality needs every class in the training split; missing "
                             f"{torch.nonzero(counts == 0).flatten().tolist()}")
        means = sums / counts[:, None]                                   # (C, K)
        within = torch.zeros(k, k, dtype=torch.float64, device=center.device)
        for x, y in batches:                                             # pooled covariance
            r = (self._flat(x) - center) @ basis - means[y]
            within += r.T @ r
        within /= n
        within += SHRINK * within.diagonal().mean() * torch.eye(k, dtype=torch.float64,
                                                                device=center.device)
        self.center, self.basis, self.means = center, basis, means
        self.precision = torch.linalg.inv(within)
        log_d2 = torch.cat([self._log_d2(x) for x, _ in batches])        # (N,)
        self.loc, self.scale = log_d2.mean(), log_d2.std().clamp_min(1e-6)
        return self

    def _log_d2(self, x: Tensor) -> Tensor:
        p = (self._flat(x) - self.center) @ self.basis                   # (B, K)
        diff = p[:, None, :] - self.means[None]                          # (B, C, K)
        d2 = torch.einsum("bck,kl,bcl->bc", diff, self.precision, diff)  # (B, C)
        return d2.min(1).values.clamp_min(1e-12).log()                   # (B,)

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        if not self.fitted:
            raise RuntimeError("typicality is not fitted: call fit() on the clean training "
                               "inputs first (training does it)")
        return ((self._log_d2(x) - self.loc) / self.scale).abs().to(x.dtype)  # (B,)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # the statistics' shapes are known only once fitted: take them from the checkpoint
        for name, _ in self.named_buffers(recurse=False):
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name]))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
