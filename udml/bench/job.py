"""Where the time of one sweep job goes: ``python -m udml bench job``.

A sweep job (`udml.experiments.runner.run_job`, then its run file written as the sweep's driver
writes it) is run twice in one process on the sweep's one torch thread: once plain, for its wall
and CPU seconds, and once under `PartTimer`, which splits the same work into its parts:

    loading      the dataset and its split (`udml.data.load_dataset`)
    training     per step: the batches (data), the corruption, the forward, the loss, the
                 dependency's modality-dropout passes, the backward, the optimiser (zero_grad,
                 clipping, step), and the rest of the loop (`udml.training.loop.run_epochs`)
    validation   the per-epoch passes over the validation split (`predict` inside the loop)
    evaluation   every (noise kind, protocol) pass over the test split (`predict` under
                 `evaluate`), split the same way, and the metrics computed between the passes
    writing      the run file (`udml.experiments.files.write_results`)
    job          the rest of the job (building the model, seeding, the environment record)

Why a tracer and not timers in the code: the training loop and the evaluation stay as they are.
`PartTimer` is a `sys.setprofile` hook that watches the code objects of those functions, found
through the objects themselves (``run_epochs.__code__``, the model classes' ``forward`` ...), not
through their names, and charges each interval to the innermost watched call on the stack, in the
context of the calls around it: `corrupt_batch` under the training loop is training's corruption,
under `predict` under `evaluate` it is that protocol's.  Every interval goes to exactly one part,
on two clocks (wall, and the thread's CPU time, which a loaded machine does not inflate), so the
parts add up to the traced run's time; the hook slows Python calls down, which is why the plain
run is reported beside it.  The machine may be shared and loaded: absolute seconds are noise, the
shares and ratios of one run are the result.

`batching_gain` then measures the levers that batch the job's work, on its real model and data:
the batches of several seeds in one training step, and every protocol's pass in one forward.
"""
from __future__ import annotations

import argparse
import dataclasses
import inspect
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

# The parts a watched call opens: phases set the context, components the work within it.
COMPONENTS = ("data", "corruption", "forward", "loss", "dependency", "backward", "optimiser")
ROOT = ("job", None, "rest")  # (phase, protocol, component) outside every watched call
SEEN = "gaussian"  # the noise kind of training and of the standard protocols


def _code(fn):
    """The code object of ``fn`` under its decorators (torch.no_grad, ...)."""
    return inspect.unwrap(fn).__code__


def _subclasses(cls) -> list[type]:
    out = [cls]
    for sub in cls.__subclasses__():
        out += _subclasses(sub)
    return out


def watched_codes(optimizer: str = "adamw") -> dict:
    """{code object: ("phase" | "component", name)} of the functions a job's parts are made of.

    Looked up through the functions and classes themselves, so that a renamed function is
    followed (or fails here, loudly) rather than silently missed.  ``optimizer`` is the job's
    TrainConfig.optimizer: its class's step is watched (with the wrapper torch puts around it).
    """
    from ..config import TrainConfig
    from ..corrupt import corrupt_batch
    from ..data import load_dataset
    from ..data.dataset import Batch, MultimodalData
    from ..experiments.files import write_results
    from ..method.dependency import DependencyTracker
    from ..models import build_model  # noqa: F401  (imports every model class)
    from ..models.base import MultimodalModel
    from ..training.evaluate import evaluate, predict
    from ..training.loop import make_optimizer, run_epochs

    opt = make_optimizer(torch.nn.Linear(1, 1), TrainConfig(optimizer=optimizer))
    roles = {
        _code(load_dataset): ("phase", "loading"),
        _code(run_epochs): ("phase", "training"),
        _code(predict): ("phase", "predict"),  # validation or evaluation, by its context
        _code(evaluate): ("phase", "evaluation"),
        _code(write_results): ("phase", "writing"),
        _code(MultimodalData.batches): ("component", "data"),
        _code(Batch.to): ("component", "data"),
        _code(corrupt_batch): ("component", "corruption"),
        _code(DependencyTracker.update): ("component", "dependency"),
        _code(torch.Tensor.backward): ("component", "backward"),
        _code(type(opt).step): ("component", "optimiser"),
        type(opt).step.__code__: ("component", "optimiser"),  # torch's profiling wrapper
        _code(type(opt).zero_grad): ("component", "optimiser"),
        _code(torch.nn.utils.clip_grad_norm_): ("component", "optimiser"),
    }
    for cls in _subclasses(MultimodalModel):
        for name, part in (("forward", "forward"), ("loss", "loss")):
            fn = cls.__dict__.get(name)
            if fn is not None:  # the method and the model's own wrapper (the labels' check)
                roles[_code(fn)] = roles[fn.__code__] = ("component", part)
    return roles


def _protocol_label(frame) -> str:
    """'<kind> <protocol>' of a `predict` call, read from its arguments."""
    args = frame.f_locals
    specs = args.get("specs") or {}
    kinds = sorted({getattr(s, "kind", "?") for s in specs.values()})
    return f"{'+'.join(kinds)} {args.get('protocol')}"


class PartTimer:
    """A `sys.setprofile` hook charging time to (phase, protocol, component) parts.

    ``wall[part]`` and ``cpu[part]`` are seconds of wall time and of this thread's CPU time,
    ``calls[part]`` how many watched calls opened that part (a generator counts once per
    resumption).  Use as a context manager around the job, on the thread that runs it.
    """

    def __init__(self, roles: dict):
        self.roles = roles
        self.wall: dict[tuple, float] = defaultdict(float)
        self.cpu: dict[tuple, float] = defaultdict(float)
        self.calls: dict[tuple, int] = defaultdict(int)
        self._stack: list[tuple] = []  # (frame, part) of the open watched calls
        self._open_ids: set[int] = set()  # their frames' ids (alive, so unique)
        self._last = (0.0, 0.0)

    def _part(self) -> tuple:
        return self._stack[-1][1] if self._stack else ROOT

    def _charge(self) -> None:
        """Charge the time since the last event to the open part."""
        now = (time.perf_counter(), time.thread_time())
        part = self._part()
        self.wall[part] += now[0] - self._last[0]
        self.cpu[part] += now[1] - self._last[1]
        self._last = now

    def _open(self, frame, role: tuple) -> tuple:
        phase, protocol, component = self._part()
        kind, name = role
        if kind == "component":
            return phase, protocol, name
        if name == "predict":
            if phase == "training":
                return "validation", None, "rest"
            return "evaluation", _protocol_label(frame), "rest"
        return name, None, "metrics" if name == "evaluation" else "rest"

    def _hook(self, frame, event, _arg) -> None:
        if event == "call":
            role = self.roles.get(frame.f_code)
            if role is None:
                return
            self._charge()
            part = self._open(frame, role)
            self._stack.append((frame, part))
            self._open_ids.add(id(frame))
            self.calls[part] += 1
        elif event == "return" and id(frame) in self._open_ids:
            self._charge()
            while True:  # down to ``frame`` (also past frames an exception left open)
                top = self._stack.pop()[0]
                self._open_ids.discard(id(top))
                if top is frame:
                    break

    def __enter__(self) -> "PartTimer":
        self._previous = sys.getprofile()
        self._last = (time.perf_counter(), time.thread_time())
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *_exc) -> None:
        sys.setprofile(self._previous)
        self._charge()


def sweep_job(experiment: str = "main", dataset: str = "mfeat", method: str = "udml",
              seed: int = 0, variant: str | None = None, epochs: int | None = None):
    """The `udml.experiments.jobs.Job` a sweep of ``experiment`` runs for these, with its real
    config; ``epochs`` (optional) shortens its training, for a quicker benchmark."""
    from ..experiments.jobs import make_jobs
    from ..experiments.registry import get_experiment
    exp = get_experiment(experiment)
    variants = None if variant is None else [variant]
    part = exp.subset([dataset], [method], [seed], variants)
    job = make_jobs(part)[0]
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
        config = {**job.config, "train": {**job.config["train"], "epochs": epochs}}
        job = dataclasses.replace(job, config=config)
    return job


def run_and_write(job, out_dir: str | Path) -> dict:
    """What a sweep does for ``job``: run it, then write its run file under ``out_dir``."""
    from ..experiments.files import write_results
    from ..experiments.runner import run_job
    record = run_job(job)
    write_results(job.path(out_dir), record)
    return record


def measure_job(job, plain: bool = True, threads: int = 1) -> dict:
    """Run ``job`` (and write its run file to a temporary folder) plainly, then under
    `PartTimer`, on ``threads`` torch threads (a sweep's workers use 1).

    Returns {"wall", "cpu": {(phase, protocol, component): seconds}, "calls", "traced" and
    "plain": {"wall", "cpu"} of the whole job (process CPU time; "plain" None without
    ``plain``), "same_metrics" (whether the two runs' metrics are identical: the tracer changes
    no result; None without ``plain``), "epochs", "steps", "threads"}.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an int >= 1, got {threads!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    roles = watched_codes(job.config["train"].get("optimizer", "adamw"))
    out: dict = {"plain": None, "same_metrics": None}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if plain:
                w0, c0 = time.perf_counter(), time.process_time()
                plain_record = run_and_write(job, Path(tmp) / "plain")
                out["plain"] = {"wall": time.perf_counter() - w0,
                                "cpu": time.process_time() - c0}
            w0, c0 = time.perf_counter(), time.process_time()
            with PartTimer(roles) as timer:
                record = run_and_write(job, Path(tmp) / "traced")
            out["traced"] = {"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0}
    finally:
        torch.set_num_threads(before)
    if plain:
        out["same_metrics"] = plain_record["metrics"] == record["metrics"]
    out.update(wall=dict(timer.wall), cpu=dict(timer.cpu), calls=dict(timer.calls),
               epochs=job.config["train"]["epochs"], threads=threads,
               steps=timer.calls.get(("training", None, "backward"), 0))
    return out


def _median_pair(fa, fb, rounds: int) -> tuple[float, float]:
    """Median thread-CPU seconds of fa() and fb(), alternated for ``rounds`` after a warm-up."""
    fa(), fb()
    ta, tb = [], []
    for _ in range(rounds):
        for fn, times in ((fa, ta), (fb, tb)):
            t0 = time.thread_time()
            fn()
            times.append(time.thread_time() - t0)
    return statistics.median(ta), statistics.median(tb)


def batching_gain(job, seeds: int = 5, rounds: int = 3) -> dict:
    """What the job's work costs batched, on its real model and data (one torch thread):

    step:  one training step on ``seeds`` batches at once over ``seeds`` steps on one batch
           each (the job's batch size; the last epoch's phase), the work of ``seeds`` seeds
           in one step, a floor for what stacking their models could share (stacked parameters
           add batched products that one bigger batch does not have);
    eval:  one evaluation forward of every seen-kind protocol's copy of the test split at once
           over that many forwards of the split (the passes of `evaluate`, before the metrics).

    A ratio near 1 / seeds (or 1 / passes) means the work is per-call overhead that batching
    removes; near 1, that it is arithmetic that batching keeps.  Returns {"step", "eval": ratio,
    "seeds", "passes", "step_s", "eval_s": the unbatched median seconds}.
    """
    from ..config import ModelConfig, TrainConfig
    from ..corrupt import corrupt_batch, random_per_sample
    from ..corrupt.scales import default_specs
    from ..data import load_dataset
    from ..data.dataset import Batch
    from ..models import build_model
    from ..models.encoders import encoder_builder
    from ..seed import seed_everything
    from ..training.evaluate import standard_protocols
    from ..training.loop import make_optimizer
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        seed_everything(job.seed)
        splits = load_dataset(job.dataset, seed=job.seed)
        mcfg, tcfg = ModelConfig(**job.config["model"]), TrainConfig(**job.config["train"])
        model = build_model(encoder_builder(splits)(splits.shapes, mcfg), splits.num_classes,
                            mcfg)
        opt = make_optimizer(model, tcfg)
        specs, gen = default_specs(splits), torch.Generator().manual_seed(0)
        data = splits.train.batches(tcfg.batch_size * seeds, True, gen)
        big = corrupt_batch(next(iter(data)), random_per_sample(tcfg.clean_share), specs,
                            mcfg.num_levels, gen)
        small = [Batch({k: v[i::seeds] for k, v in big.x.items()}, big.y[i::seeds],
                       big.index[i::seeds], {k: v[i::seeds] for k, v in big.levels.items()})
                 for i in range(seeds)]

        def step(batch: Batch) -> None:
            loss, _ = model.loss(model(batch.x, batch.levels), batch, tcfg.epochs - 1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip, foreach=True)
            opt.step()
        model.train()
        one, stacked = _median_pair(lambda: [step(b) for b in small], lambda: step(big), rounds)
        passes = len(standard_protocols(splits.modalities, mcfg.num_levels))
        test = next(iter(splits.test.batches(len(splits.test))))
        x_all = {k: v.repeat(passes, *[1] * (v.dim() - 1)) for k, v in test.x.items()}
        model.eval()
        with torch.no_grad():
            sep, tog = _median_pair(lambda: [model(test.x) for _ in range(passes)],
                                    lambda: model(x_all), rounds)
    finally:
        torch.set_num_threads(before)
    return {"step": stacked / one, "eval": tog / sep, "seeds": seeds, "passes": passes,
            "step_s": one / seeds, "eval_s": sep / passes}


def summary(result: dict, clock: str = "cpu") -> list[tuple[str, float]]:
    """The job's parts as (label, seconds of ``clock``: "cpu" or "wall") rows, in the job's
    order, every evaluation pass summed into the evaluation rows.  They add up to the traced
    job's time on that clock."""
    parts = result[clock]

    def total(phase: str, component: str | None = None) -> float:
        return sum(v for (p, _, c), v in parts.items()
                   if p == phase and (component is None or c == component))
    rows = [("loading the data", total("loading"))]
    rows += [(f"training: {c}", total("training", c)) for c in COMPONENTS]
    rows.append(("training: rest of the loop", total("training", "rest")))
    for phase in ("validation", "evaluation"):
        rows += [(f"{phase}: {c}", total(phase, c))
                 for c in ("data", "corruption", "forward", "rest")]
    rows.append(("evaluation: metrics between passes", total("evaluation", "metrics")))
    rows.append(("writing the run file", total("writing")))
    rows.append(("rest of the job", total("job")))
    return rows


def protocol_times(result: dict, clock: str = "cpu") -> dict[str, float]:
    """Seconds of each evaluation pass, '<kind> <protocol>' -> seconds (every component)."""
    out: dict[str, float] = defaultdict(float)
    for (phase, protocol, _), v in result[clock].items():
        if phase == "evaluation" and protocol is not None:
            out[protocol] += v
    return dict(out)


def recorded_cost(paths) -> dict:
    """The wall and CPU seconds the run records of results files hold: {file: {"jobs",
    "seconds", "cpu_seconds"}} (a job's ``seconds`` and ``cpu_seconds`` rows, summed)."""
    from ..experiments.files import read_results
    out = {}
    for path in paths:
        rows = read_results(path).rows
        per = rows[rows.metric.isin(["seconds", "cpu_seconds"])]
        out[str(path)] = {"jobs": int((per.metric == "cpu_seconds").sum()),
                          **{m: float(per.value[per.metric == m].sum())
                             for m in ("seconds", "cpu_seconds")}}
    return out


def report(job, result: dict, gain: dict | None = None) -> str:
    """The benchmark's table (wall and CPU seconds of each part, its share of the job's CPU
    time), its ratios (of CPU times) and, if given, `batching_gain`'s, as text."""
    rows, walls = summary(result, "cpu"), dict(summary(result, "wall"))
    cpu = sum(sec for _, sec in rows)
    lines = [f"one sweep job: {job.experiment}/{job.dataset}/{job.variant}/{job.method} seed "
             f"{job.seed}, {result['epochs']} epochs, {result['steps']} training steps, "
             f"{result['threads']} torch thread(s)",
             f"{'part':<38}{'wall s':>9}{'CPU s':>9}{'CPU share':>11}"]
    lines += [f"{label:<38}{walls[label]:>9.2f}{sec:>9.2f}{sec / cpu:>11.1%}"
              for label, sec in rows]
    lines.append(f"{'sum of the parts':<38}{sum(walls.values()):>9.2f}{cpu:>9.2f}")
    t = result["traced"]
    lines.append(f"{'the traced job, measured around it':<38}{t['wall']:>9.2f}{t['cpu']:>9.2f}"
                 "   (CPU: the process's)")
    protos = protocol_times(result)
    if protos:
        ev = sum(protos.values())
        kinds = sorted({k.split(" ", 1)[0] for k in protos})
        lines.append(f"evaluation: {len(protos)} passes over the {job.split} split "
                     f"({', '.join(kinds)}), {ev / cpu:.1%} of the job's CPU time; a pass "
                     f"{ev / len(protos) * 1e3:.0f} ms on average (min "
                     f"{min(protos.values()) * 1e3:.0f}, max {max(protos.values()) * 1e3:.0f})")
        for kind in kinds:
            sec = [v for k, v in protos.items() if k.split(" ", 1)[0] == kind]
            lines.append(f"  {kind}: {len(sec)} passes, {sum(sec) / ev:.1%} of the evaluation")
    by = dict(rows)
    group = {g: sum(v for k, v in by.items() if k.startswith(g))
             for g in ("training", "validation", "evaluation")}
    fwd = by["training: forward"]
    lines.append(f"shares: training {group['training'] / cpu:.1%}, validation "
                 f"{group['validation'] / cpu:.1%}, evaluation {group['evaluation'] / cpu:.1%}")
    lines.append(f"ratios: evaluation / training {group['evaluation'] / group['training']:.2f}; "
                 f"of the training forward: dependency {by['training: dependency'] / fwd:.2f}, "
                 f"loss {by['training: loss'] / fwd:.2f}, backward "
                 f"{by['training: backward'] / fwd:.2f}, optimiser "
                 f"{by['training: optimiser'] / fwd:.2f}")
    if result["steps"]:
        lines.append(f"a training step {group['training'] / result['steps'] * 1e3:.1f} ms CPU; "
                     f"an epoch's validation / its training "
                     f"{group['validation'] / group['training']:.2f}")
    p = result["plain"]
    if p is not None:
        lines.append(f"the job without the tracer: {p['wall']:.2f} s wall, {p['cpu']:.2f} s "
                     f"CPU; the tracer's overhead {t['cpu'] / p['cpu'] - 1:+.0%} CPU, "
                     f"{t['wall'] / p['wall'] - 1:+.0%} wall; same metrics with and without "
                     f"it: {result['same_metrics']}")
    if gain is not None:
        lines.append(f"batched ({gain['seeds']} seeds' batches in one training step; all "
                     f"{gain['passes']} {SEEN} passes in one forward): a step costs "
                     f"{gain['step']:.2f} of {gain['seeds']} steps, the forward "
                     f"{gain['eval']:.2f} of {gain['passes']} forwards")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from ..numerics import pin_cpu_numerics
    pin_cpu_numerics()  # the numerics of a sweep's workers (oneDNN off): before any torch work
    parser = argparse.ArgumentParser(prog="python -m udml bench job",
                                     description="where the time of one sweep job goes")
    parser.add_argument("--experiment", default="main")
    parser.add_argument("--dataset", default="mfeat")
    parser.add_argument("--method", default="udml")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", default=None, help="default: the experiment's first")
    parser.add_argument("--epochs", type=int, default=None,
                        help="train this many epochs instead of the job's own (a quicker run)")
    parser.add_argument("--no-plain", action="store_true",
                        help="skip the plain run (no wall and CPU seconds without the tracer)")
    parser.add_argument("--no-batching", action="store_true",
                        help="skip the measurement of the same work batched (batching_gain)")
    parser.add_argument("--results", nargs="*", default=None, metavar="FILE",
                        help="also sum the seconds recorded in these results files")
    args = parser.parse_args(argv)
    try:
        job = sweep_job(args.experiment, args.dataset, args.method, args.seed, args.variant,
                        args.epochs)
    except ValueError as err:
        parser.error(str(err))
    result = measure_job(job, plain=not args.no_plain)
    gain = None if args.no_batching else batching_gain(job)
    print(report(job, result, gain))
    for path, cost in recorded_cost(args.results or []).items():
        print(f"recorded in {path}: {cost['jobs']} jobs, {cost['cpu_seconds'] / 60:.1f} "
              f"CPU-minutes, {cost['seconds'] / 60:.1f} wall-minutes "
              f"({cost['cpu_seconds'] / max(cost['jobs'], 1):.1f} CPU-s a job)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
