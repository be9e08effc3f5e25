"""Data-parallel training with PyTorch's DistributedDataParallel, launched by ``torchrun``.

    torchrun --standalone --nproc_per_node 4 -m udml.av.distributed \
        --data ROOT --profile paper --out runs/ddp

One process per GPU (nccl) or per CPU process (gloo). Each rank reads its own share of the
training clips (DistributedSampler; ``--batch-size`` is the global batch, split evenly), DDP
averages the gradients, so the parameters stay identical. Two things DDP does not cover are
kept identical here:
- the modality dependency statistic (``model.dependency.value``), a buffer updated inside
  forward from the rank's own batch: every update is averaged across ranks (an all-reduce
  inside forward, `SyncedDependency`), so every rank computes the same fusion weights;
- the batch-norm running statistics: averaged across ranks at the end of every epoch (DDP's
  buffer broadcast is turned off, so rank 0 does not overwrite them before each forward).
Rank 0 writes the final checkpoint (``model.pt``) and ``ranks.json``: for every rank a SHA-256
of its parameters and buffers, its dependency values, and its own last update before the
average (which differs between ranks, as their batches do), plus the per-epoch history.
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import math
import os
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler
from tqdm.auto import tqdm

from ..corrupt import corrupt_batch, random_per_sample
from ..method.dependency import DependencyTracker
from ..training.schedule import Schedule
from ..seed import seed_everything
from ..training.loop import make_optimizer
from .cremad import CREMAD_LAYOUT, load_cremad
from .fixture import make_fixture
from .kinetics_sounds import KINETICS_SOUNDS_LAYOUT, load_kinetics_sounds
from .model import build_av_model, save_av_checkpoint
from .noise import av_noise_specs, measure_spread
from .profiles import DATASETS, get_profile

LOADERS = {"cremad": load_cremad, "kinetics_sounds": load_kinetics_sounds}
LAYOUTS = {"cremad": CREMAD_LAYOUT, "kinetics_sounds": KINETICS_SOUNDS_LAYOUT}


def average_(t: torch.Tensor, world: int) -> None:
    """Replace t, in place, by its mean over the ranks (SUM then divide: gloo has no AVG)."""
    if world > 1:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        t.div_(world)


class SyncedDependency(DependencyTracker):
    """The running dependency D_m, averaged across ranks inside every update.

    The update (an EMA of the batch's d) is affine in d and starts from the same value on every
    rank, so averaging the updated value equals folding in the mean of the ranks' d. It happens
    inside forward, before the weights read it: every rank builds the same fusion weights.
    """

    world = 1
    last_local: torch.Tensor | None = None  # this rank's own updated value before the average

    @classmethod
    def replacing(cls, tracker: DependencyTracker, world: int) -> "SyncedDependency":
        synced = cls(tracker.value.numel(), tracker.form, tracker.momentum)
        synced.load_state_dict(tracker.state_dict())
        synced.world = world
        return synced.to(tracker.value.device)

    @torch.no_grad()
    def update(self, head, z: torch.Tensor) -> torch.Tensor:
        d = super().update(head, z)
        self.last_local = self.value.detach().clone()
        average_(self.value, self.world)
        return d


def plain_dependency(tracker: DependencyTracker) -> DependencyTracker:
    """A plain tracker with the same state (for saving a model that no longer needs ranks)."""
    plain = DependencyTracker(tracker.value.numel(), tracker.form, tracker.momentum)
    plain.load_state_dict(tracker.state_dict())
    return plain.to(tracker.value.device)


def sync_batchnorm_stats(model, world: int) -> None:
    """Average every batch-norm running mean and variance across ranks."""
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
            average_(m.running_mean, world)
            average_(m.running_var, world)


def no_buffer_broadcast() -> dict:
    """DDP keyword that stops rank 0's buffers from overwriting the others' before each forward
    (named forward_sync_buffers in recent torch, broadcast_buffers before)."""
    params = inspect.signature(DistributedDataParallel.__init__).parameters
    return {"forward_sync_buffers": False} if "forward_sync_buffers" in params \
        else {"broadcast_buffers": False}


def state_checksums(model) -> dict[str, str]:
    """SHA-256 of the parameters and of the buffers, in state-dict order (bit-exact identity)."""
    out = {}
    for what, items in (("params", model.named_parameters()), ("buffers", model.named_buffers())):
        h = hashlib.sha256()
        for name, t in items:
            h.update(name.encode())
            h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        out[what] = h.hexdigest()
    return out


def epoch_plan(data, epoch: int, seed: int, rank: int, world: int, per_rank: int):
    """This rank's batches of (index, seed): DistributedSampler order, per-sample seeds drawn
    from one generator seeded by (seed, epoch) and identical on every rank."""
    sampler = DistributedSampler(data.dataset, num_replicas=world, rank=rank, shuffle=True,
                                 seed=seed)
    sampler.set_epoch(epoch)
    order = torch.tensor(list(iter(sampler)), dtype=torch.long)
    gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
    seeds = torch.randint(0, 2 ** 62, (len(data),), generator=gen)
    return data.plan(order, seeds, per_rank)


def train_epoch(ddp: DistributedDataParallel, data, plan, epoch: int, noisy: bool, specs,
                noise_gen: torch.Generator, opt: torch.optim.Optimizer, cfg) -> torch.Tensor:
    """One pass over this rank's planned batches; returns (loss sum, correct, seen) on the
    rank's device, for an all-reduce. The loss is checked on every rank at every step."""
    model = ddp.module
    device = next(model.parameters()).device
    world = dist.get_world_size()
    protocol = random_per_sample(cfg.clean_share)
    amp = cfg.amp and device.type == "cuda"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if amp else nullcontext
    ddp.train()
    t0, loss_sum, correct, seen = time.perf_counter(), 0.0, 0, 0
    bar = tqdm(data.run(plan), total=len(plan), disable=dist.get_rank() != 0, leave=False,
               desc=f"epoch {epoch}")
    for step, batch in enumerate(bar):
        batch = batch.to(device)
        if noisy:
            batch = corrupt_batch(batch, protocol, specs, model.config.num_levels, noise_gen)
        with autocast():
            out = ddp(batch.x, batch.levels)
            loss, _ = model.loss(out, batch, epoch)
        total = torch.tensor([loss.item()], dtype=torch.float64, device=device)
        dist.all_reduce(total)  # every rank stops together on a non-finite loss
        if not math.isfinite(total.item()):
            raise FloatingPointError(f"non-finite loss at epoch {epoch}, step {step}; lower the "
                                     "learning rate or check the inputs")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        n = batch.y.shape[0]
        loss_sum += total.item() / world * n
        correct += int((out.logits.argmax(1) == batch.y).sum())
        seen += n
        bar.set_postfix(samples_per_s=f"{seen * world / (time.perf_counter() - t0):.0f}")
    return torch.tensor([loss_sum, correct, seen], dtype=torch.float64, device=device)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m udml.av.distributed", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="dataset root (the layout of udml.av.catalog)")
    p.add_argument("--make-fixture", metavar="DIR",
                   help="generate the audio-visual fixture in DIR (rank 0) and train on it")
    p.add_argument("--dataset", choices=DATASETS, default="cremad")
    p.add_argument("--profile", choices=("paper", "small", "fixture"), default="fixture")
    p.add_argument("--method", default="udml")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, help="global batch size (default: the profile's)")
    p.add_argument("--max-steps", type=int, help="at most this many steps per epoch (tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--num-workers", type=int)
    p.add_argument("--find-unused-parameters", action="store_true")
    p.add_argument("--out", required=True, help="folder for model.pt and ranks.json")
    args = p.parse_args(argv)
    if bool(args.data) == bool(args.make_fixture):
        p.error("pass exactly one of --data ROOT and --make-fixture DIR")
    return args


def main(argv=None) -> dict | None:
    args = parse_args(argv)
    if "RANK" not in os.environ:
        raise SystemExit("launch with torchrun, e.g. `torchrun --standalone --nproc_per_node 2 "
                         "-m udml.av.distributed ...` (RANK/WORLD_SIZE are not set)")
    local = int(os.environ.get("LOCAL_RANK", 0))
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(local)
    device = torch.device(f"cuda:{local}" if use_cuda else "cpu")
    dist.init_process_group("nccl" if use_cuda else "gloo")
    try:
        return _run(args, device)
    finally:
        dist.destroy_process_group()


def _run(args, device: torch.device) -> dict | None:
    rank, world = dist.get_rank(), dist.get_world_size()
    overrides = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size))
                 if v is not None}
    prof = get_profile(args.profile, args.dataset, seed=args.seed, device=device.type,
                       progress=False, **overrides)
    cfg = prof.train
    if cfg.batch_size % world:
        raise ValueError(f"the global batch size {cfg.batch_size} must be divisible by the "
                         f"{world} processes")
    root = args.data
    if args.make_fixture:
        root = args.make_fixture
        if rank == 0:
            make_fixture(root, seed=args.seed, layout=LAYOUTS[prof.dataset], exist_ok=True)
        dist.barrier()
    workers = prof.num_workers if args.num_workers is None else args.num_workers
    splits = LOADERS[prof.dataset](root, audio=prof.audio, frames=prof.frames, seed=args.seed,
                                   num_workers=workers)
    spread = [measure_spread(splits.train) if rank == 0 else None]
    dist.broadcast_object_list(spread, src=0)
    specs = av_noise_specs("gaussian", splits.shapes, spread[0])
    model_cfg = replace(prof.model, method=args.method)
    seed_everything(args.seed)
    model = build_av_model(splits.shapes, splits.num_classes, model_cfg, prof.width).to(device)
    tracker = getattr(model, "dependency", None)
    if isinstance(tracker, DependencyTracker):
        model.dependency = SyncedDependency.replacing(tracker, world)
    ids = [device.index] if device.type == "cuda" else None
    ddp = DistributedDataParallel(model, device_ids=ids,
                                  find_unused_parameters=args.find_unused_parameters,
                                  **no_buffer_broadcast())
    opt = make_optimizer(model, cfg)
    drop = max(1, round(cfg.lr_drop * cfg.epochs))
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [drop], 0.1)
    schedule = Schedule(cfg.epochs, cfg.warmup, cfg.uncertainty_start)
    noise_gen = torch.Generator(device=device).manual_seed(args.seed * 1000 + 2 + rank)
    history = []
    for epoch in range(cfg.epochs):
        phase = schedule.phase(epoch)
        model.use_uncertainty = phase.use_uncertainty
        plan = epoch_plan(splits.train, epoch, args.seed, rank, world, cfg.batch_size // world)
        plan = plan[:args.max_steps] if args.max_steps else plan
        t0 = time.perf_counter()
        sums = train_epoch(ddp, splits.train, plan, epoch, phase.noisy, specs, noise_gen, opt, cfg)
        sched.step()
        sync_batchnorm_stats(model, world)
        dist.all_reduce(sums)
        secs = time.perf_counter() - t0
        loss_sum, correct, seen = sums.tolist()
        history.append({"epoch": epoch, "noisy": phase.noisy, "loss": loss_sum / seen,
                        "train_acc": correct / seen, "seconds": secs,
                        "samples_per_s": seen / secs})
    local = None
    if isinstance(tracker, DependencyTracker):
        last = model.dependency.last_local
        local = last.tolist() if last is not None else None
        model.dependency = plain_dependency(model.dependency)
    report = {"rank": rank, **state_checksums(model),
              "dependency": model.dependency.value.tolist() if tracker is not None else None,
              "dependency_before_average": local}
    reports = [None] * world
    dist.all_gather_object(reports, report)
    if rank != 0:
        return None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_av_checkpoint(out / "model.pt", model, splits.shapes, cfg,
                       extra={"profile": prof.name, "dataset": prof.dataset, "world_size": world})
    summary = {"world_size": world, "backend": dist.get_backend(), "profile": prof.name,
               "ranks": reports, "history": history}
    (out / "ranks.json").write_text(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    main()
