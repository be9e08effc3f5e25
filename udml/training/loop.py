"""One trainer for every method: seeded, scheduled noise injection, clipping, AMP on cuda,
per-epoch history, progress (a tqdm bar where one can be drawn, else one log line per epoch),
a clear stop on a non-finite loss, and an optional training state saved after every epoch.
"""
from __future__ import annotations

import logging
import math
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, Iterable

import torch
from tqdm.auto import tqdm

from ..config import ModelConfig, TrainConfig
from ..corrupt import NoiseSpec, corrupt_batch, random_per_sample
from ..data.dataset import Batch, MultimodalSplits
from ..logs import interactive
from ..models.encoders import encoder_builder
from .metrics import accuracy
from ..models import build_model
from ..models.base import MultimodalModel
from ..paths import atomic_write, check_output_path
from .ranks import Ranks
from .schedule import Schedule
from ..seed import seed_everything
from .state import (STATE_FORMAT, check_identity, global_rng_states, read_state,
                    restore_global_rng_states, restore_transient_buffers, run_identity,
                    transient_buffers)
from ..validation import check_training_data, resolve_device

log = logging.getLogger(__name__)

VAL_NOISE_SEED = 12345  # the validation split is corrupted the same way at every epoch


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The run's optimiser, with the multi-tensor (foreach) update: on the CPU torch otherwise
    loops over the parameter tensors in Python (on CUDA foreach is already the default). It gives
    the same bits as the loop (torch 2.13, CPU: a re-run of main/mfeat/udml seed 0 matches the
    committed file exactly) with fewer per-tensor operations."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                               weight_decay=cfg.weight_decay, foreach=True)
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                             foreach=True)


@torch.no_grad()
def _val_accuracy(model, splits, specs, num_levels, device, protocol, ranks) -> float:
    from .evaluate import predict
    seed = ranks.noise_seed(VAL_NOISE_SEED) if ranks else VAL_NOISE_SEED
    gen = torch.Generator(device=device).manual_seed(seed)
    data = ranks.shard(splits.val) if ranks else splits.val
    pred = predict(model, data, specs, protocol, num_levels, gen, 512, device, ranks)
    return accuracy(pred.logits, pred.y)


def _save_state(path: Path, epoch: int, model, opt, sched, gens, history, identity,
                ranks: Ranks | None = None) -> None:
    """Write the state after ``epoch``: once, by rank 0, with every rank's own random states."""
    device = next(model.parameters()).device
    own = {"rng": global_rng_states(device), "generators": [g.get_state() for g in gens]}
    per_rank = ranks.gather(own) if ranks else [own]
    if ranks and ranks.rank != 0:
        return

    def dump(f) -> None:
        torch.save({"format": STATE_FORMAT, "epoch": epoch, "method": model.config.method,
                    "made_from": identity, "model": model.state_dict(),
                    "transient": transient_buffers(model), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(), "ranks": per_rank, "history": history}, f)
    atomic_write(path, dump, binary=True)


def _load_state(path: Path, model, opt, sched, gens, identity,
                ranks: Ranks | None = None) -> tuple[int, list[dict]]:
    """Restore a training state saved by `_save_state` for the same run; return (next epoch,
    history).  Under ``ranks``, rank 0 reads the file and sends it to the others, so only
    rank 0 needs to see it."""
    state = None
    if ranks is None or ranks.rank == 0:
        state = read_state(path)
        if state.get("method") != model.config.method:
            raise ValueError(f"{path} is not a training state of a {model.config.method!r} "
                             "model")
        check_identity(path, state.get("made_from"), identity)
    if ranks is not None:
        state = ranks.broadcast(state)
    model.load_state_dict(state["model"])
    restore_transient_buffers(model, state["transient"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    own = state["ranks"][ranks.rank if ranks else 0]
    restore_global_rng_states(own["rng"], next(model.parameters()).device)
    for g, st in zip(gens, own["generators"]):
        g.set_state(st)
    return state["epoch"] + 1, state["history"]


def _state_exists(path: Path | None, ranks: Ranks | None) -> bool:
    """Whether there is a state to resume from, as rank 0 sees it (the same answer on every
    rank)."""
    if ranks is None:
        return path is not None and path.exists()
    return ranks.broadcast(path is not None and path.exists() if ranks.rank == 0 else None)


def train(model: MultimodalModel, splits: MultimodalSplits, specs: dict[str, NoiseSpec],
          cfg: TrainConfig, state_path: str | Path | None = None, *,
          ranks: Ranks | None = None,
          sampler: Callable[[int], Iterable[Batch]] | None = None) -> list[dict]:
    """Train ``model`` in place on ``splits.train``; return one history dict per epoch.

    The schedule (udml.training.schedule) decides per epoch whether batches are corrupted (the
    reference protocol: a share ``clean_share`` of samples clean, the rest at independent uniform
    levels per modality) and whether s_hat enters the weights.  ``splits`` may be any object with
    the attributes of `MultimodalSplits` whose splits yield `Batch`es from ``batches()``.

    ``sampler(epoch)`` gives the epoch's batches (default: ``splits.train`` shuffled in batches of
    ``cfg.batch_size`` by a generator seeded from ``cfg.seed``).  With ``ranks``
    (`udml.training.ranks`, under torchrun) the same loop runs on every rank: ``sampler`` must
    then give this rank's own batches; the model trains under DDP, its dependency and batch-norm
    statistics are averaged across ranks, a non-finite loss on any rank stops every rank, the
    history sums every rank's samples, and the validation accuracy is computed on shards.

    With ``state_path``, the full training state (model, optimiser, schedule, every rank's
    generators, history) is written there after every epoch, by rank 0, and a run that finds one
    resumes from it, bit-exactly (also after a torchrun restart); a state made by another run
    (config, seed, noise, data split or number of ranks) is refused (udml.training.state).
    """
    check_training_data(splits)
    device = resolve_device(cfg.device)
    model.to(device)
    model.fit_inputs(splits.train)  # a resumed state then overwrites what it fitted
    num_levels = model.config.num_levels
    rank = ranks.rank if ranks else 0
    order_gen = torch.Generator().manual_seed(cfg.seed + 1)
    noise_gen = torch.Generator(device=device).manual_seed(cfg.seed + 2 + 1000 * rank)
    schedule = Schedule(cfg.epochs, cfg.warmup, cfg.uncertainty_start)
    opt = make_optimizer(model, cfg)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [max(1, round(cfg.lr_drop * cfg.epochs))], 0.1)
    use_amp = cfg.amp and device.type == "cuda"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else nullcontext
    train_protocol = random_per_sample(cfg.clean_share)
    if sampler is None:
        def sampler(epoch: int) -> Iterable[Batch]:
            return splits.train.batches(cfg.batch_size, True, order_gen)
    history: list[dict] = []
    start = 0
    state_path = Path(state_path) if state_path else None
    identity = run_identity(model.config, splits, specs, cfg) if state_path else None
    if state_path and rank == 0:
        check_output_path(state_path, "state_path")
    if state_path and ranks:
        identity["ranks"] = ranks.world
    if _state_exists(state_path, ranks):
        start, history = _load_state(state_path, model, opt, sched, (order_gen, noise_gen),
                                     identity, ranks)
    net = ranks.wrap(model) if ranks else model  # forward through DDP, losses from the model

    def begin(epoch: int) -> None:
        model.use_uncertainty = schedule.phase(epoch).use_uncertainty
        net.train()

    def step(batch: Batch, epoch: int):
        batch = batch.to(device)
        if schedule.phase(epoch).noisy:
            batch = corrupt_batch(batch, train_protocol, specs, num_levels, noise_gen)
        with autocast():
            out = net(batch.x, batch.levels)
            loss, parts = model.loss(out, batch, epoch)
        return loss, parts, batch.y.shape[0], (out.logits.argmax(1) == batch.y).sum().item()

    def end(epoch: int, sums: dict, correct: int, seen: int, started: float) -> dict:
        phase = schedule.phase(epoch)
        row = {"epoch": epoch, "noisy": phase.noisy, "use_uncertainty": phase.use_uncertainty,
               "lr": opt.param_groups[0]["lr"], "train_acc": correct / seen,
               **{f"loss_{k}": v / seen for k, v in sums.items()}}
        if (epoch + 1) % cfg.validate_every == 0 or epoch == cfg.epochs - 1:
            row["val_acc_clean"] = _val_accuracy(model, splits, specs, num_levels, device,
                                                 "clean", ranks)
            row["val_acc_noisy"] = _val_accuracy(model, splits, specs, num_levels, device,
                                                 "random", ranks)
        row["seconds"] = time.perf_counter() - started
        dep = getattr(model, "dependency", None)
        if dep is not None and int(dep.updates) > 0:
            row["dependency"] = dict(zip(model.modalities, dep.value.tolist()))
        history.append(row)
        if state_path:
            _save_state(state_path, epoch, model, opt, sched, (order_gen, noise_gen), history,
                        identity, ranks)
        val = {"val": f"{row['val_acc_clean']:.3f}"} if "val_acc_clean" in row else {}
        return {"loss": f"{row['loss_total']:.3f}", **val,
                "samples_per_s": f"{seen / row['seconds']:.0f}"}

    if start:
        log.info("train %s: resuming after epoch %d of %d from %s", model.config.method, start,
                 cfg.epochs, state_path)
    run_epochs(model, opt, range(start, cfg.epochs), sampler, step,
               name=f"train {model.config.method}",
               grad_clip=cfg.grad_clip, sched=sched, ranks=ranks, begin=begin, end=end,
               progress=cfg.progress)
    if cfg.epochs:  # as the last epoch left it, also when a resumed run had no epoch left
        model.use_uncertainty = schedule.phase(cfg.epochs - 1).use_uncertainty
    if ranks:
        ranks.unwrap(model)
    model.eval()
    return history


def run_epochs(model: torch.nn.Module, opt: torch.optim.Optimizer, epochs: Iterable[int],
               batches: Callable[[int], Iterable], step: Callable, *, name: str,
               grad_clip: float | None = None, sched=None, ranks: Ranks | None = None,
               begin: Callable[[int], None] | None = None, end: Callable[..., dict] | None = None,
               progress: bool = True) -> None:
    """The one optimisation loop, behind every training in udml (the fusion models, the bound's
    level regressors, the noise calibration's unimodal classifiers, the torchrun path).

    For each epoch: ``begin(epoch)``; for each item of ``batches(epoch)``, ``step(item, epoch)``
    returns (loss, named float parts, samples n, correct predictions); a non-finite loss (on
    this rank or, under ``ranks``, any other) stops training with an error naming the epoch,
    step and parts; then zero_grad, backward, gradient-norm clipping at ``grad_clip`` (None: no
    clipping) and the optimiser step.  At the epoch end: ``sched.step()``, under ``ranks`` the
    batch-norm statistics averaged and the sums added over the ranks, and ``end(epoch, sums,
    correct, seen, started)`` with the epoch's n-weighted loss sums ("total" and each part)
    returns the progress bar's postfix.  With ``progress`` (on rank 0 only), a tqdm bar where one
    can be drawn (`udml.logs.interactive`), otherwise one log line per epoch (logger
    ``udml.training.loop``, INFO).
    """
    epochs = list(epochs)
    last = epochs[-1] + 1 if epochs else 0
    report = progress and (ranks is None or ranks.rank == 0)
    bar = tqdm(epochs, desc=name, leave=False, disable=not (report and interactive()))
    for epoch in bar:
        if begin:
            begin(epoch)
        started, sums, correct, seen = time.perf_counter(), {}, 0, 0
        for i, item in enumerate(batches(epoch)):
            loss, parts, n, right = step(item, epoch)
            total = loss.item()
            if not _all_finite(total, ranks):
                raise FloatingPointError(
                    f"non-finite loss {total} at epoch {epoch}, step {i} ({name}, on this rank "
                    f"or another); parts: {parts}. Lower the learning rate or check the inputs.")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip, foreach=True)
            opt.step()
            for k, v in {"total": total, **parts}.items():
                sums[k] = sums.get(k, 0.0) + v * n
            correct += right
            seen += n
        if sched is not None:
            sched.step()
        if ranks:
            ranks.sync_batchnorm_(model)
            sums, correct, seen = _sum_over_ranks(sums, correct, seen, ranks)
        postfix = (end(epoch, sums, correct, seen, started) if end else None) or {}
        if end:
            bar.set_postfix(**postfix)
        if report and bar.disable:
            log.info("%s: epoch %d/%d %s", name, epoch + 1, last,
                     " ".join(f"{k} {v}" for k, v in postfix.items()))


def _all_finite(loss: float, ranks: Ranks | None) -> bool:
    """Whether the step's loss is finite on this rank and (under ``ranks``) on every other."""
    if ranks is None:
        return math.isfinite(loss)
    bad = torch.tensor([0.0 if math.isfinite(loss) else 1.0])
    return ranks.sum_(bad).item() == 0.0


def _sum_over_ranks(sums: dict, correct: int, seen: int, ranks: Ranks) -> tuple[dict, int, int]:
    """The epoch's loss sums, correct and seen counts, summed over the ranks (in float64)."""
    keys = sorted(sums)
    t = ranks.sum_(torch.tensor([sums[k] for k in keys] + [correct, seen], dtype=torch.float64))
    return dict(zip(keys, t[:len(keys)].tolist())), int(t[-2]), int(t[-1])


def fit(splits: MultimodalSplits, model_cfg: ModelConfig, train_cfg: TrainConfig,
        specs: dict[str, NoiseSpec] | None = None, state_path: str | Path | None = None
        ) -> tuple[MultimodalModel, list[dict]]:
    """Seed, build the encoders (`encoder_builder`: the dataset's own where it has some, else
    the default ones) and the model for ``model_cfg.method``, and train it (saving its state to,
    and resuming from, ``state_path`` when given: see `train`)."""
    from ..corrupt.scales import default_specs
    seed_everything(train_cfg.seed)
    specs = specs if specs is not None else default_specs(splits)
    make_encoders = encoder_builder(splits)
    model = build_model(make_encoders(splits.shapes, model_cfg), splits.num_classes, model_cfg)
    return model, train(model, splits, specs, train_cfg, state_path)
