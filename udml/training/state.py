"""What a training state file holds beyond the weights, so that a resumed run is the same run.

`udml.training.loop.train` writes a state after every epoch.  Resuming is only right if the state was
made by the same run, so the state records what it was made from (`run_identity`: the model and
training configs, the noise specs, the data split and a fingerprint of its tensors) and a resume
from another run is refused, naming each difference (`check_identity`).  Buffers that a model
keeps out of its state dict (QMF's per-sample loss history) travel too (`transient_buffers`), so
that every method resumes bit-exactly.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import Tensor, nn

from ..config import RECORDED, added_defaults, config_to_dict

STATE_FORMAT = "udml-train-state-2"  # 2: random states per rank
RESUMABLE_CHANGES = ("progress", "device")  # TrainConfig fields that may differ on resume
# (progress has no effect; a device change lets a sweep job resume on another worker's GPU)


def data_fingerprint(splits) -> str:
    """SHA-256 of the train and val labels and features (features where the split keeps them in
    memory as ``x``): two different data splits cannot share it."""
    h = hashlib.sha256()
    for name in ("train", "val"):
        split = getattr(splits, name)
        x = getattr(split, "x", None)
        tensors = {"y": split.y, **({k: x[k] for k in sorted(x)} if isinstance(x, dict) else {})}
        for key, t in tensors.items():
            t = t.detach().cpu().contiguous()
            h.update(f"{name}/{key}/{t.dtype}/{tuple(t.shape)}".encode())
            h.update(t.view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def run_identity(config, splits, specs: dict, train_config) -> dict:
    """What a run is made from, JSON-normalised: model config ``config``, ``train_config`` less
    RESUMABLE_CHANGES, noise ``specs``, the data split's info, sizes and fingerprint."""
    from ..corrupt.scales import specs_to_dict
    ident = {"model": config_to_dict(config),
             "train": {k: v for k, v in config_to_dict(train_config).items()
                       if k not in RESUMABLE_CHANGES},
             "noise": specs_to_dict(specs),
             "data": {"info": dict(getattr(splits, "info", {}) or {}),
                      "sizes": [len(splits.train), len(splits.val)],
                      "fingerprint": data_fingerprint(splits)}}
    return json.loads(json.dumps(ident, sort_keys=True, default=str))


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _short(v) -> str:
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


def _as_read_today(saved: dict) -> dict:
    """``saved`` with the config fields added since it was written at their defaults (which
    reproduce the old behaviour), so that only a changed value counts as another run; a field
    that today's library no longer has stays, and differs."""
    out = dict(saved)
    for key, cls in RECORDED.items():
        if isinstance(saved.get(key), dict):
            added = {k: v for k, v in added_defaults(cls, saved[key]).items()
                     if k not in RESUMABLE_CHANGES}
            out[key] = {**saved[key], **json.loads(json.dumps(added, sort_keys=True, default=str))}
    return out


def check_identity(path: Path, saved: dict | None, current: dict) -> None:
    """A ValueError listing every entry where the state at ``path`` was made from something
    other than ``current``."""
    if not isinstance(saved, dict):
        raise ValueError(f"training state {path} does not record the run it was made from "
                         "(written by an older udml); delete it to start this run afresh")
    a, b = _flatten(_as_read_today(saved)), _flatten(current)
    diff = [f"{k}: {_short(a.get(k))} in the state file, {_short(b.get(k))} now"
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if diff:
        more = f"; and {len(diff) - 6} more" if len(diff) > 6 else ""
        raise ValueError(f"training state {path} was made by another run; it differs in "
                         f"{'; '.join(diff[:6])}{more}. Delete it (or pass another state_path) to start "
                         "this run afresh, or resume with the settings it was made with.")


def read_state(path: Path) -> dict:
    """The dict saved at ``path`` (weights_only), or a ValueError naming why it is unusable."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, empty or not a torch file
        raise ValueError(f"{path} is not a readable training state ({type(e).__name__}: {e}); "
                         "delete it to start afresh") from e
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        found = state.get("format") if isinstance(state, dict) else None
        raise ValueError(f"{path} is not a udml training state of this version (format "
                         f"{found!r}, expected {STATE_FORMAT!r}); delete it to start afresh")
    return state


def global_rng_states(device: torch.device) -> dict[str, Tensor]:
    """The global RNG states a training step draws from (dropout): the CPU one, and the CUDA
    one of ``device`` when training on a GPU."""
    states = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def restore_global_rng_states(states: dict[str, Tensor], device: torch.device) -> None:
    torch.set_rng_state(states["cpu"])
    if device.type == "cuda" and "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"], device)


def transient_buffers(model: nn.Module) -> dict[str, Tensor]:
    """The buffers ``model`` keeps out of its state dict (registered with persistent=False)."""
    kept = set(model.state_dict())
    return {n: b.detach().cpu() for n, b in model.named_buffers() if n not in kept}


def restore_transient_buffers(model: nn.Module, saved: dict[str, Tensor]) -> None:
    """Put the buffers of `transient_buffers` back (they may have another size than now)."""
    want = set(transient_buffers(model))
    if set(saved) != want:
        raise ValueError(f"training state holds the transient buffers {sorted(saved)}, the model "
                         f"has {sorted(want)}")
    for name, t in saved.items():
        owner, _, leaf = name.rpartition(".")
        module = model.get_submodule(owner)
        setattr(module, leaf, t.to(getattr(module, leaf).device))
