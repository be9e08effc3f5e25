"""The interface every fusion method implements, and the input checks they all share."""
from __future__ import annotations

import functools

import torch
from torch import Tensor, nn

from ..config import ModelConfig
from ..data.dataset import Batch
from ..method.output import FusionOutput
from ..validation import check_features, check_labels, check_level_dict


class MultimodalModel(nn.Module):
    """Base class: a dict of encoders (one per modality, each with an ``out_dim``) plus fusion.

    Subclasses implement ``fuse`` (features -> `FusionOutput`) and ``loss``. The trainer toggles
    ``use_uncertainty`` according to the schedule (method.md section 5).
    """

    def __init__(self, encoders: dict[str, nn.Module], num_classes: int, config: ModelConfig):
        super().__init__()
        if len(encoders) < 2:
            raise ValueError(f"fusion needs at least 2 modalities, got {sorted(encoders)}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        for name, enc in encoders.items():
            if not isinstance(getattr(enc, "out_dim", None), int):
                raise TypeError(f"encoder {name!r} must expose an int attribute out_dim")
        self.modalities = sorted(encoders)
        self.encoders = nn.ModuleDict({k: encoders[k] for k in self.modalities})
        self.num_classes = num_classes
        self.config = config
        self.use_uncertainty = True

    @property
    def num_modalities(self) -> int:
        return len(self.modalities)

    def check_inputs(self, x: dict[str, Tensor], levels: dict[str, Tensor] | None = None) -> int:
        """Raise a TypeError / ValueError naming the problem; return the batch size."""
        if not isinstance(x, dict):
            raise TypeError(f"inputs must be a dict keyed by modality name, got {type(x).__name__}")
        missing, extra = set(self.modalities) - set(x), set(x) - set(self.modalities)
        if missing or extra:
            raise ValueError(f"modalities do not match the model {self.modalities}: "
                             f"missing {sorted(missing)}, extra {sorted(extra)}")
        param = next(self.parameters(), None)
        check_features(x, *((param.dtype, param.device) if param is not None else ()))
        sizes = {k: v.shape[0] if v.dim() else 0 for k, v in x.items()}
        b = sizes[self.modalities[0]]
        if len(set(sizes.values())) != 1:
            raise ValueError(f"modalities disagree on batch size: {sizes}")
        if b == 0:
            raise ValueError("empty batch: every modality has 0 samples")
        for k, v in x.items():
            if not torch.isfinite(v).all():
                raise ValueError(f"modality {k!r} contains NaN or Inf values")
        if levels is not None:
            check_level_dict(levels, self.modalities, b, self.config.num_levels)
        return b

    def encode(self, x: dict[str, Tensor]) -> dict[str, Tensor]:
        """Run each encoder, checking the input shape against what it expects."""
        h = {}
        for k in self.modalities:
            enc = self.encoders[k]
            shape = getattr(enc, "in_shape", None)
            if shape is not None and tuple(x[k].shape[1:]) != tuple(shape):
                raise ValueError(f"modality {k!r} has sample shape {tuple(x[k].shape[1:])}, "
                                 f"its encoder expects {tuple(shape)}")
            h[k] = enc(x[k])  # (B, out_dim)
        return h

    def fit_inputs(self, split) -> None:
        """Fit what the model reads from its clean training inputs before training (``split``
        yields `Batch`es from ``batches(batch_size)``); most models read nothing."""

    def forward(self, x: dict[str, Tensor], levels: dict[str, Tensor] | None = None) -> FusionOutput:
        self.check_inputs(x, levels)
        return self.fuse(self.encode(x), levels)

    def fuse(self, h: dict[str, Tensor], levels: dict[str, Tensor] | None) -> FusionOutput:
        raise NotImplementedError

    # The per-sample, per-modality score the fusion reads (``fuse`` returns it as
    # extras["fusion_scores"], (B, M) in ``modalities`` order), or None for a method whose
    # fusion is the same for every sample (static, late).  Subclasses that have one name it
    # and implement `fuse_with_scores` and `oracle_scores`.
    score_name: str | None = None

    def fuse_with_scores(self, h: dict[str, Tensor], scores: Tensor) -> FusionOutput:
        """``fuse`` with ``scores`` (B, M) in place of the scores the model computes from ``h``,
        everything else (features, dependency, head) unchanged: the permutation test's entry
        point (`udml.training.permutation`).  The model's own scores give ``fuse``'s output."""
        raise ValueError(f"method {self.config.method!r} fuses without per-sample scores: "
                         "there is nothing to replace or permute")

    def oracle_scores(self, levels: Tensor, clean: Tensor) -> Tensor:
        """The true levels (B, M) on the scale of this method's score: the positive control of
        the permutation test.  ``clean`` (M,) is the mean of the model's own score over clean
        data, for methods whose score has no unit of its own."""
        raise ValueError(f"method {self.config.method!r} has no per-sample score to put an "
                         "oracle in")

    def check_scores(self, scores: Tensor, b: int) -> None:
        """``scores`` given to `fuse_with_scores` must be a finite (B, M) float tensor."""
        m = self.num_modalities
        if not isinstance(scores, Tensor):
            raise TypeError(f"scores must be a ({b}, {m}) tensor, got {type(scores).__name__}")
        if tuple(scores.shape) != (b, m):
            raise ValueError(f"scores must have shape ({b}, {m}) (batch, modalities "
                             f"{self.modalities}), got {tuple(scores.shape)}")
        if not scores.is_floating_point() or not torch.isfinite(scores).all():
            raise ValueError("scores must be finite floating-point values")

    def loss(self, out: FusionOutput, batch: Batch, epoch: int) -> tuple[Tensor, dict[str, float]]:
        """Total loss and its named parts (floats, for the history).  Every subclass's loss first
        checks the labels against the logits (`__init_subclass__`)."""
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs):
        """Wrap a subclass's own ``loss`` so that labels outside the classes are refused with a
        ValueError naming them, before torch's cross-entropy fails on them with an IndexError."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("loss")
        if own is None or getattr(own, "checks_labels", False):
            return

        @functools.wraps(own)
        def loss(self, out, batch, epoch):
            b, c = out.logits.shape
            check_labels(batch.y, c, "labels given to the loss")
            if batch.y.shape != (b,):
                raise ValueError(f"labels have shape {tuple(batch.y.shape)}, expected ({b},) to "
                                 "match the logits")
            if batch.y.dtype != torch.long:
                raise TypeError(f"labels must be torch.long class indices, got {batch.y.dtype}")
            return own(self, out, batch, epoch)
        loss.checks_labels = True
        cls.loss = loss
