"""Input checks of the public entry points (datasets, a model's forward pass, evaluation).

Each check raises before any torch kernel runs, with a message that names the modality or
argument and says what was expected: a TypeError for a wrong type or dtype, a ValueError for a
wrong shape, range or value, a RuntimeError for a device that is not there.
"""
from __future__ import annotations

import torch
from torch import Tensor


def type_name(v) -> str:
    """'numpy.ndarray', 'list', 'torch.Tensor': the type of ``v`` as a user would write it."""
    t = type(v)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def check_tensor(what: str, v) -> None:
    """A TypeError unless ``v`` is a torch.Tensor; the hint covers numpy arrays."""
    if not isinstance(v, Tensor):
        hint = " (convert it with torch.from_numpy)" if type(v).__module__ == "numpy" else ""
        raise TypeError(f"{what} must be a torch.Tensor, got {type_name(v)}{hint}")


def check_features(x: dict, dtype: torch.dtype | None = None, device=None) -> None:
    """Every value of ``x`` (name -> (B, ...)) is a floating-point tensor, of ``dtype`` and on
    ``device`` when they are given (those of the model's parameters)."""
    if not isinstance(x, dict):
        raise TypeError(f"x must be a dict keyed by modality name, got {type_name(x)}")
    for k in sorted(x):
        v = x[k]
        check_tensor(f"modality {k!r}", v)
        if not v.is_floating_point():
            raise TypeError(f"modality {k!r} must hold floating-point features, got dtype "
                            f"{v.dtype} (convert it with .float())")
        if dtype is not None and v.dtype != dtype:
            raise TypeError(f"modality {k!r} has dtype {v.dtype}, the model computes in {dtype} "
                            f"(convert it with .to({dtype}))")
        if device is not None and v.device != device:
            raise ValueError(f"modality {k!r} is on {v.device}, the model on {device} "
                             f"(move it with .to({str(device)!r}))")


def check_labels(y, num_classes: int | None = None, what: str = "labels") -> Tensor:
    """``y`` as a (N,) long tensor of class indices in 0..num_classes-1 (other integer dtypes are
    converted losslessly; floats, bools, other shapes and out-of-range values are refused)."""
    check_tensor(what, y)
    if y.dtype == torch.bool or y.is_floating_point() or y.is_complex():
        raise TypeError(f"{what} must be integer class indices, got dtype {y.dtype}")
    if y.dim() != 1:
        raise ValueError(f"{what} must have shape (N,), got {tuple(y.shape)}"
                         + (" (flatten them with .view(-1))" if y.numel() == y.shape[0] else ""))
    y = y.long()
    if y.numel() and int(y.min()) < 0:
        raise ValueError(f"{what} must be >= 0 class indices, got min {int(y.min())}")
    if num_classes is not None and y.numel() and int(y.max()) >= num_classes:
        raise ValueError(f"{what} must lie in 0..{num_classes - 1} (num_classes = {num_classes}), "
                         f"got {int(y.min())}..{int(y.max())}")
    return y


def check_level_dict(levels, modalities: list[str], batch_size: int, num_levels: int) -> None:
    """``levels`` is a dict with exactly the model's modalities, each a (B,) integer tensor with
    values in 1..num_levels."""
    if not isinstance(levels, dict):
        raise TypeError(f"levels must be a dict keyed by modality name, got {type_name(levels)}")
    for k in modalities:
        if k not in levels:
            raise ValueError(f"levels are missing modality {k!r}")
    extra = sorted(set(levels) - set(modalities))
    if extra:
        raise ValueError(f"levels name no modality of the model {modalities}: extra {extra}")
    for k in modalities:
        lv = levels[k]
        if not isinstance(lv, Tensor):
            raise TypeError(f"levels[{k!r}] must be a tensor of shape ({batch_size},), got "
                            f"{type_name(lv)} (e.g. torch.full(({batch_size},), level))")
        if lv.dtype == torch.bool or lv.is_floating_point() or lv.is_complex():
            raise ValueError(f"levels[{k!r}] must be integers (a long tensor), got dtype "
                             f"{lv.dtype}")
        if tuple(lv.shape) != (batch_size,):
            raise ValueError(f"levels[{k!r}] has shape {tuple(lv.shape)}, expected ({batch_size},)")
        if lv.numel() and (lv.min() < 1 or lv.max() > num_levels):
            raise ValueError(f"levels[{k!r}] must lie in 1..{num_levels}, got "
                             f"{int(lv.min())}..{int(lv.max())}")


def check_num_levels(num_levels, model_levels: int) -> None:
    """The ``num_levels`` an evaluation was given is the model's L (or levels are mislabelled)."""
    if isinstance(num_levels, bool) or not isinstance(num_levels, int):
        raise TypeError(f"num_levels must be an int, got {num_levels!r}")
    if num_levels != model_levels:
        raise ValueError(f"num_levels {num_levels} does not match the model: the model was built "
                         f"with num_levels = {model_levels} (pass model.config.num_levels)")


def check_split(data) -> None:
    """``data`` is one split (e.g. splits.test), not the splits object or something else."""
    if hasattr(data, "train") and hasattr(data, "test"):
        raise TypeError(f"pass one split (e.g. splits.test), not the whole {type_name(data)}")
    if not callable(getattr(data, "batches", None)) or not hasattr(data, "__len__"):
        raise TypeError(f"data must be a split with batches() and len(), e.g. a MultimodalData; "
                        f"got {type_name(data)}")


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' -> cuda when available, else cpu; 'cuda' without a GPU is an error, not a fallback."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise ValueError(f"unknown device {name!r}; use auto, cpu or cuda")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but torch sees no CUDA GPU")
    return torch.device(name)


def check_device(device, model: torch.nn.Module) -> torch.device:
    """``device`` as a torch.device that exists on this machine and holds ``model``."""
    dev = resolve_device(str(device))
    param = next(model.parameters(), None)
    if param is not None and (param.device.type != dev.type or (
            dev.index is not None and param.device.index != dev.index)):
        raise ValueError(f"the model is on {param.device}, evaluation asked for {dev}; move it "
                         f"with model.to({str(dev)!r}) or pass device={str(param.device)!r}")
    return dev


def check_training_data(splits) -> None:
    """The training split has samples (an empty one would train nothing, then divide by 0)."""
    if len(splits.train) == 0:
        raise ValueError("the training split is empty: there is nothing to train on")
