"""Data-parallel training of the audio-visual models, launched by ``torchrun``, on the one
training loop (`udml.training.loop.train` with `udml.training.ranks.Ranks`).

    torchrun --standalone --nproc_per_node 4 -m udml.av.distributed \
        --data ROOT --profile paper --out runs/ddp

One process per GPU (nccl) or per CPU process (gloo). Each rank reads its own share of the
training clips (DistributedSampler; ``--batch-size`` is the global batch, split evenly), DDP
averages the gradients, and the loop keeps the dependency statistic and the batch-norm
statistics identical across ranks (`udml.training.ranks`).

Rank 0 writes the training state to ``<out>/state.pt`` after every epoch; a restarted torchrun
(``--max-restarts N``) resumes from it exactly, rank 0 reading it and sending it to the others,
so the output folder is the only thing rank 0 needs to keep. After training, each rank predicts
its shard of the test split under every protocol and the metrics are computed on the gathered
predictions. Rank 0 alone writes ``model.pt`` (the checkpoint), ``results.parquet`` (config, seed,
history and test metrics) and ``ranks.json``: for every rank a SHA-256 of its parameters and
buffers, its dependency values and its own last update before the average (which differs
between ranks, as their batches do), and the epoch this launch resumed from.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler

from ..config import config_to_dict
from ..corrupt.scales import specs_to_dict
from ..environment import environment
from ..experiments.files import write_results
from ..numerics import pin_cpu_numerics
from ..seed import seed_everything
from ..training.evaluate import evaluate
from ..training.loop import train
from ..training.ranks import Ranks
from ..training.state import read_state
from .cremad import CREMAD_LAYOUT, load_cremad
from .fixture import make_fixture
from .kinetics_sounds import KINETICS_SOUNDS_LAYOUT, load_kinetics_sounds
from .model import build_av_model, save_av_checkpoint
from .noise import av_noise_specs, measure_spread
from .profiles import DATASETS, get_profile

LOADERS = {"cremad": load_cremad, "kinetics_sounds": load_kinetics_sounds}
LAYOUTS = {"cremad": CREMAD_LAYOUT, "kinetics_sounds": KINETICS_SOUNDS_LAYOUT}
STATE_FILE = "state.pt"


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
    p.add_argument("--protocols", nargs="*", default=None,
                   help="test protocols (default: clean, one:<m>@<l>, all@<l>, random)")
    p.add_argument("--out", required=True,
                   help="folder for state.pt (resumed from), model.pt, results.parquet, ranks.json")
    args = p.parse_args(argv)
    if bool(args.data) == bool(args.make_fixture):
        p.error("pass exactly one of --data ROOT and --make-fixture DIR")
    return args


def init_process_group(backend: str) -> None:
    """`torch.distributed.init_process_group` from torchrun's environment, in a store namespace of
    its own for each torchrun restart: the store torchrun's agent keeps across restarts still
    holds the addresses of the previous attempt's processes, which a restarted gloo group would
    otherwise try to reach (and fail: connection refused)."""
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        dist.init_process_group(backend)
        return
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), world,
                          is_master=False)
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    dist.init_process_group(backend, store=dist.PrefixStore(f"udml/attempt-{attempt}", store),
                            rank=rank, world_size=world)


def main(argv=None) -> dict | None:
    pin_cpu_numerics()  # before this rank computes anything
    args = parse_args(argv)
    if "RANK" not in os.environ:
        raise SystemExit("launch with torchrun, e.g. `torchrun --standalone --nproc_per_node 2 "
                         "-m udml.av.distributed ...` (RANK/WORLD_SIZE are not set)")
    local = int(os.environ.get("LOCAL_RANK", 0))
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(local)
    device = torch.device(f"cuda:{local}" if use_cuda else "cpu")
    init_process_group("nccl" if use_cuda else "gloo")
    try:
        return _run(args, device)
    finally:
        dist.destroy_process_group()


def _run(args, device: torch.device) -> dict | None:
    ranks = Ranks.current(args.find_unused_parameters)
    overrides = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size))
                 if v is not None}
    prof = get_profile(args.profile, args.dataset, seed=args.seed, device=device.type,
                       progress=False, **overrides)
    cfg = prof.train
    if cfg.batch_size % ranks.world:
        raise ValueError(f"the global batch size {cfg.batch_size} must be divisible by the "
                         f"{ranks.world} processes")
    root = args.data
    if args.make_fixture:
        root = args.make_fixture
        if ranks.rank == 0:
            make_fixture(root, seed=args.seed, layout=LAYOUTS[prof.dataset], exist_ok=True)
        dist.barrier()
    workers = prof.num_workers if args.num_workers is None else args.num_workers
    splits = LOADERS[prof.dataset](root, audio=prof.audio, frames=prof.frames, seed=args.seed,
                                   num_workers=workers)
    specs = av_noise_specs("gaussian", splits.shapes,
                           ranks.broadcast(measure_spread(splits.train) if ranks.rank == 0
                                           else None))
    model_cfg = replace(prof.model, method=args.method)
    seed_everything(args.seed)
    model = build_av_model(splits.shapes, splits.num_classes, model_cfg, prof.width).to(device)
    out = Path(args.out)
    state = out / STATE_FILE
    resumed_from = None
    if ranks.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        resumed_from = read_state(state)["epoch"] + 1 if state.exists() else 0

    def sampler(epoch: int):
        plan = epoch_plan(splits.train, epoch, args.seed, ranks.rank, ranks.world,
                          cfg.batch_size // ranks.world)
        return splits.train.run(plan[:args.max_steps] if args.max_steps else plan)

    history = train(model, splits, specs, cfg, state, ranks=ranks, sampler=sampler)
    test = ranks.shard(splits.test).to_memory()
    metrics = evaluate(model, test, specs, model_cfg.num_levels, args.protocols, args.seed,
                       device=device, ranks=ranks)
    tracker = getattr(model, "dependency", None)
    report = {"rank": ranks.rank, **state_checksums(model),
              "dependency": tracker.value.tolist() if tracker is not None else None,
              "dependency_before_average": ranks.last_local_dependency}
    reports = ranks.gather(report)
    if ranks.rank != 0:
        return None
    save_av_checkpoint(out / "model.pt", model, splits.shapes, cfg,
                       extra={"profile": prof.name, "dataset": prof.dataset,
                              "world_size": ranks.world})
    write_results(out / "results.parquet", {
        "config": {"dataset": prof.dataset, "profile": prof.name, "world_size": ranks.world,
                   "model": config_to_dict(model_cfg), "train": config_to_dict(cfg),
                   "noise": {"gaussian": specs_to_dict(specs)}, "data": splits.info},
        "seed": args.seed, "environment": environment(device), "history": history,
        "metrics": {"gaussian": metrics}})
    summary = {"world_size": ranks.world, "backend": dist.get_backend(), "profile": prof.name,
               "resumed_from_epoch": resumed_from,
               "restart": int(os.environ.get("TORCHELASTIC_RESTART_COUNT", 0)),
               "ranks": reports, "history": history}
    (out / "ranks.json").write_text(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    main()
