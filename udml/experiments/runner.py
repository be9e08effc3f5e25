"""Run an experiment (udml.experiments.registry) as parallel jobs and merge them into one results
file per dataset.

    python -m udml sweep main --jobs 2          # or run_experiment("main", jobs=2)
    python -m udml sweep main --scheduler tcp://HOST:8786     # on a Dask cluster
    python -m udml sweep main --seeds 100 101   # any seeds: merged under main/seeds-100-101/

Each job trains one (dataset, variant, method, seed) in a worker process on ONE torch thread
(where: `udml.experiments.backends`), evaluates it under the Gaussian protocols and under the
corruption kinds never seen in training, and returns its record; the driver writes it to
``<out>/<experiment>/runs/<dataset>/<variant>/<method>-seed<seed>.json``, so workers on other
machines need no shared filesystem.  A job whose file exists (and matches the job's config) is
skipped, so an interrupted sweep resumes where it stopped.  A failed job is reported with its
traceback while the others go on.  When every job of a dataset is done, the runs are merged into
``<out>/<experiment>/<dataset>.json`` (layout and readers: `udml.experiments.merge`).
"""
from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .backends import run_all
from .files import write_results
from .jobs import Job, load_run, make_jobs
from .registry import Experiment, experiment_names, get_experiment
from .single import train_and_evaluate


def run_job(job: Job) -> dict:
    """Train and evaluate one job; return its run record: the job's description and
    `udml.experiments.single.train_and_evaluate`'s record (config, metrics per kind, history).
    """
    return {"job": job.describe(),
            **train_and_evaluate(job.dataset, job.config, job.seed, job.protocols,
                                 job.unseen_kinds, job.split)}


def _attempt(job: Job) -> tuple[dict | None, str | None]:
    """Run ``job`` on one torch thread (the caller's count restored after): (its record, None),
    or (None, the traceback) when it fails.  Runs on a worker; it writes nothing."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return run_job(job), None
    except Exception:  # noqa: BLE001 (returned to the driver, which reports it with the job)
        return None, traceback.format_exc()
    finally:
        torch.set_num_threads(threads)


class SweepFailed(RuntimeError):
    """Some jobs of a sweep failed; ``failures`` holds (job, traceback), ``merged`` the files
    written for the datasets whose jobs all succeeded."""

    def __init__(self, message: str, failures: list, merged: list):
        super().__init__(message)
        self.failures, self.merged = failures, merged


def _run_jobs(todo: list[Job], out_dir: str, jobs: int, bar, cluster=None) -> list[tuple[Job, str]]:
    """Run ``todo`` and write the run file of each job that succeeds, here, as its record
    arrives; report each failure at once; return (job, traceback) of the failures."""
    failures: list[tuple[Job, str]] = []
    for job, outcome in run_all(_attempt, todo, jobs, cluster):
        if isinstance(outcome, BaseException):  # the worker died under the job
            record, error = None, "".join(traceback.format_exception(outcome))
        else:
            record, error = outcome
        if error is None:
            write_results(job.path(out_dir), record)
        else:
            failures.append((job, error))
            bar.write(f"job failed: {job.path(out_dir)}\n{error}", file=sys.stderr)
        bar.update(1)
    return failures


def _finished(job: Job, out_dir: str) -> bool:
    """Whether ``job`` has a valid run file (an error if the file is corrupt or stale)."""
    path = job.path(out_dir)
    return path.is_file() and bool(load_run(job, path))


def run_experiment(experiment: str | Experiment, jobs: int = 2, out_dir: str | Path = "results",
                   resume: bool = True, progress: bool = True, merge: bool = True,
                   cluster=None) -> list[Path]:
    """Run every job of ``experiment`` on ``jobs`` local worker processes, or on the Dask
    ``cluster`` (a scheduler address, a Dask cluster object or a Client; see
    `udml.experiments.backends`); return the merged files.

    resume=True skips jobs whose run file exists and matches (a corrupt or stale one is an
    error naming it); resume=False reruns everything.  Datasets whose jobs all succeeded are
    merged (unless merge=False) even when others failed; the failures are then raised together
    as a `SweepFailed` naming each failed job with its traceback.
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
        failures = _run_jobs(todo, out_dir, jobs, bar, cluster) if todo else []
    from .merge import merge_runs
    failed = {job.dataset for job, _ in failures}
    merged = [merge_runs(exp, d, out_dir) for d in exp.datasets if merge and d not in failed]
    if failures:
        lines = "".join(f"\n  {job.path(out_dir)}:\n{tb}" for job, tb in failures)
        raise SweepFailed(f"{len(failures)} of {len(todo)} jobs failed (merged: "
                          f"{[str(p) for p in merged]}):{lines}", failures, merged)
    return merged


def merge_target(full: Experiment, part: Experiment) -> tuple[Experiment, str]:
    """What a run of ``part`` of the registered ``full`` completes, and the folder (under the
    results folder) of its merged files: ``full`` itself in ``<name>``; with seeds outside the
    registered ones, ``full`` on those seeds (sorted) in ``<name>/seeds-<s1>-<s2>...``, so that
    a check on other seeds never overwrites the registered results."""
    if set(part.seeds) <= set(full.seeds):
        return full, full.name
    seeds = sorted(part.seeds)
    return full.subset(seeds=seeds), f"{full.name}/seeds-{'-'.join(map(str, seeds))}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m udml sweep",
                                     description="run a registered experiment, write its results")
    parser.add_argument("experiment", nargs="?", help=f"one of {experiment_names()}")
    parser.add_argument("--jobs", type=int, default=2, help="local worker processes (one thread "
                        "and, with device auto or cuda, one GPU each, round-robin)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run on this Dask scheduler (e.g. tcp://HOST:8786) instead of local "
                             "processes; needs udml[dask]")
    parser.add_argument("--out", default="results", help="results folder")
    parser.add_argument("--no-resume", action="store_true", help="rerun jobs that have a run file")
    parser.add_argument("--datasets", nargs="*", default=None, help="only these datasets")
    parser.add_argument("--methods", nargs="*", default=None, help="only these methods")
    parser.add_argument("--seeds", nargs="*", type=int, default=None,
                        help="these seeds (any ints >= 0; other than the registered ones, the "
                             "merged files go to <out>/<experiment>/seeds-.../)")
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
    failed = None
    try:
        paths = run_experiment(part, args.jobs, args.out, not args.no_resume,
                               not args.no_progress, merge=whole, cluster=args.scheduler)
    except SweepFailed as err:
        failed, paths = err, list(err.merged)
    if not whole:  # a part never overwrites the results file of the whole experiment
        from .merge import merge_runs
        target, folder = merge_target(full, part)
        for d in part.datasets:
            jobs = [j for j in make_jobs(target) if j.dataset == d]
            done = sum(_finished(j, args.out) for j in jobs)
            if done == len(jobs):
                paths.append(merge_runs(target, d, args.out, Path(args.out) / folder / f"{d}.parquet"))
            else:
                print(f"{folder}/{d}: {done} of {len(jobs)} jobs done; results file not "
                      "written until all are")
    for p in paths:
        print(f"wrote {p}")
    if failed is not None:
        print(failed, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
