"""Run an experiment (udml.experiments.registry) as parallel jobs and merge them into one results
file per dataset.

    python -m udml sweep main --jobs 2          # or run_experiment("main", jobs=2)

Each job trains one (dataset, variant, method, seed) in its own worker process on ONE torch
thread, evaluates it under the Gaussian protocols and under the corruption kinds never seen in
training, and writes ``<out>/<experiment>/runs/<dataset>/<variant>/<method>-seed<seed>.json``.
A job whose file exists (and matches the job's config) is skipped, so an interrupted sweep
resumes where it stopped.  When every job of a dataset is done, the runs are merged into
``<out>/<experiment>/<dataset>.json`` (layout and readers: `udml.experiments.merge`).
"""
from __future__ import annotations

import argparse
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..environment import environment
from .files import write_results
from .jobs import SEEN_KIND, Job, load_run, make_jobs, unseen_protocols
from .registry import Experiment, experiment_names, get_experiment



def run_job(job: Job) -> dict:
    """Train and evaluate one job; return its run record (config, metrics per kind, history).

    The steps of `udml.cli.run_one` (which returns no model), plus the evaluation of the same
    trained model under every unseen corruption kind, with the same test-noise seed per seed so
    that every method of a seed sees the same corrupted test set.
    """
    from ..config import ModelConfig, TrainConfig
    from ..data import load_dataset
    from ..training.evaluate import evaluate
    from ..corrupt.scales import default_specs, specs_to_dict
    from ..training.loop import fit, resolve_device

    t0, c0 = time.perf_counter(), time.process_time()
    splits = load_dataset(job.dataset, seed=job.seed)
    mcfg, tcfg = ModelConfig(**job.config["model"]), TrainConfig(**job.config["train"])
    specs = default_specs(splits, kind=SEEN_KIND)
    model, history = fit(splits, mcfg, tcfg, specs)
    device = resolve_device(tcfg.device)
    levels = mcfg.num_levels
    protos = list(job.protocols) if job.protocols is not None else None
    metrics = {SEEN_KIND: evaluate(model, splits.test, specs, levels, protos, job.seed,
                                    device=device)}
    noise = {SEEN_KIND: specs_to_dict(specs)}
    for kind in job.unseen_kinds:
        kspecs = default_specs(splits, kind=kind)
        protos = unseen_protocols(splits.modalities, levels)
        metrics[kind] = evaluate(model, splits.test, kspecs, levels, protos, job.seed,
                                 device=device)
        noise[kind] = specs_to_dict(kspecs)
    return {"job": job.describe(),
            "config": {"dataset": job.dataset, **job.config, "noise": noise, "data": splits.info},
            "seed": job.seed, "environment": environment(device), "history": history,
            "metrics": metrics, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0}


def _init_worker() -> None:
    torch.set_num_threads(1)


def _work(job: Job, out_dir: str) -> float:
    record = run_job(job)
    write_results(job.path(out_dir), record)
    return record["seconds"]


def _run_jobs(todo: list[Job], out_dir: str, jobs: int, bar) -> list[tuple[Job, BaseException]]:
    """Run ``todo``; return (job, error) for each job that failed."""
    failures: list[tuple[Job, BaseException]] = []
    if jobs == 1:  # in this process, on one thread, restoring the caller's setting after
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for job in todo:
                try:
                    _work(job, out_dir)
                except Exception as err:  # noqa: BLE001 (reported below, with the job)
                    failures.append((job, err))
                bar.update(1)
        finally:
            torch.set_num_threads(threads)
        return failures
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx,
                               initializer=_init_worker)
    try:
        futures = {pool.submit(_work, job, out_dir): job for job in todo}
        for fut in as_completed(futures):
            if fut.exception() is not None:
                failures.append((futures[fut], fut.exception()))
            bar.update(1)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return failures


def _finished(job: Job, out_dir: str) -> bool:
    """Whether ``job`` has a valid run file (an error if the file is corrupt or stale)."""
    path = job.path(out_dir)
    return path.is_file() and bool(load_run(job, path))


def run_experiment(experiment: str | Experiment, jobs: int = 2, out_dir: str | Path = "results",
                   resume: bool = True, progress: bool = True, merge: bool = True) -> list[Path]:
    """Run every job of ``experiment`` on ``jobs`` worker processes; return the merged files.

    resume=True skips jobs whose run file exists and matches (a corrupt or stale one is an
    error naming it); resume=False reruns everything.  Datasets whose jobs all succeeded are
    merged (unless merge=False) even when others failed; the failures are then raised together.
    """
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    if not isinstance(exp, Experiment):
        raise TypeError(f"experiment must be a name or an Experiment, got {type(exp).__name__}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an int >= 1, got {jobs!r}")
    out_dir = str(out_dir)
    all_jobs = make_jobs(exp)
    todo = [j for j in all_jobs if not (resume and _finished(j, out_dir))]
    with tqdm(total=len(all_jobs), initial=len(all_jobs) - len(todo), desc=f"sweep {exp.name}",
              unit="job", disable=not progress) as bar:
        failures = _run_jobs(todo, out_dir, jobs, bar) if todo else []
    from .merge import merge_runs
    failed = {job.dataset for job, _ in failures}
    merged = [merge_runs(exp, d, out_dir) for d in exp.datasets if merge and d not in failed]
    if failures:
        lines = "\n".join(f"  {job.path(out_dir)}: {type(e).__name__}: {e}" for job, e in failures)
        raise RuntimeError(f"{len(failures)} of {len(todo)} jobs failed (merged: "
                           f"{[str(p) for p in merged]}):\n{lines}")
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m udml sweep",
                                     description="run a registered experiment, write its results")
    parser.add_argument("experiment", nargs="?", help=f"one of {experiment_names()}")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (one thread each)")
    parser.add_argument("--out", default="results", help="results folder")
    parser.add_argument("--no-resume", action="store_true", help="rerun jobs that have a run file")
    parser.add_argument("--datasets", nargs="*", default=None, help="only these datasets")
    parser.add_argument("--methods", nargs="*", default=None, help="only these methods")
    parser.add_argument("--seeds", nargs="*", type=int, default=None, help="only these seeds")
    parser.add_argument("--variants", nargs="*", default=None, help="only these variants")
    parser.add_argument("--list", action="store_true", help="list the experiments and exit")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.list or not args.experiment:
        for name in experiment_names():
            exp = get_experiment(name)
            print(f"{name}: {len(make_jobs(exp))} jobs; {exp.description}")
        return 0 if args.list else 2
    full = get_experiment(args.experiment)
    part = full.subset(args.datasets, args.methods, args.seeds, args.variants)
    whole = part.to_dict() == full.to_dict()
    paths = run_experiment(part, args.jobs, args.out, not args.no_resume, not args.no_progress,
                           merge=whole)
    if not whole:  # a part never overwrites the results file of the whole experiment
        from .merge import merge_runs
        for d in part.datasets:
            jobs = [j for j in make_jobs(full) if j.dataset == d]
            done = sum(_finished(j, args.out) for j in jobs)
            if done == len(jobs):
                paths.append(merge_runs(full, d, args.out))
            else:
                print(f"{full.name}/{d}: {done} of {len(jobs)} jobs done; results file not "
                      "written until all are")
    for p in paths:
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
