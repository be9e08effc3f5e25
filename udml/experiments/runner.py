"""Run an experiment (udml.experiments.registry) as parallel jobs and merge them into one results
file per dataset.

    python -m udml sweep main --jobs 2          # or run_experiment("main", jobs=2)
    python -m udml sweep main --scheduler tcp://HOST:8786     # on a Dask cluster
    python -m udml sweep main --seeds 100 101   # any seeds: merged under main/seeds-100-101/

Each job trains one (dataset, variant, method, seed) in a worker process on ONE torch thread
(where: `udml.experiments.backends`), evaluates it under the Gaussian protocols and under the
corruption kinds never seen in training, and returns its record; the driver writes it to
``<out>/<experiment>/runs/<dataset>/<variant>/<method>-seed<seed>.<ext>``, so workers on other
machines need no shared filesystem.  When every job of a dataset is done, the runs are merged into
``<out>/<experiment>/<dataset>.<ext>`` (layout and readers: `udml.experiments.merge`).

What a long sweep survives:

- Bad output folders are found before the first job: `check_output_folder` (a folder or
  creatable, writable, with room for the files the sweep writes).
- One sweep at a time per results folder: a second one is refused with the first one's pid, host
  and start time (`udml.experiments.lock`).
- A job whose file exists (and matches the job's config) is skipped, so an interrupted sweep
  resumes where it stopped; on the local workers each job also keeps its training state after
  every epoch beside its run file (``<method>-seed<seed>.state.pt``, removed once the run file
  is written), so a job interrupted at epoch 39 of 40 resumes at epoch 40, bit-exactly.
- A failed job is reported with its traceback while the others go on; a job whose worker died
  is given to a fresh worker (``retries`` times) first.
- A write that fails (a full disk) stops the sweep with one line naming the file, the error and
  what is kept; so does Ctrl-C.  Every file is written atomically (`udml.paths.atomic_write`).
"""
from __future__ import annotations

import argparse
import logging
import traceback
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..logs import cli_logging, interactive
from ..paths import check_output_folder
from .backends import run_all
from .files import write_results
from .jobs import Job, load_run, make_jobs
from .lock import ResultsLocked, results_lock
from .registry import Experiment, experiment_names, get_experiment
from .single import train_and_evaluate

log = logging.getLogger(__name__)


# Room a sweep needs on its disk: for each job still to run, its run file and its share of the
# merged file (measured: run files up to 40 kB, the largest merged file 0.4 MB); for each job
# running at once, its training state twice over while it is replaced (measured: up to 3.6 MB,
# mfeat-all's UDML). Upper bounds with a margin, so that a sweep refused for room would not fit.
RUN_BYTES = 2 ** 20
STATE_BYTES = 8 * 2 ** 20


def state_path(job: Job, out_dir: str | Path) -> Path:
    """Where ``job`` keeps its training state between epochs: beside its run file."""
    run = job.path(out_dir)
    return run.with_name(f"{run.stem}.state.pt")


def run_job(job: Job, state: str | Path | None = None) -> dict:
    """Train and evaluate one job (resuming from, and saving after every epoch to, ``state``
    when given); return its run record: the job's description and
    `udml.experiments.single.train_and_evaluate`'s record (config, metrics per kind, history).
    """
    return {"job": job.describe(),
            **train_and_evaluate(job.dataset, job.config, job.seed, job.protocols,
                                 job.unseen_kinds, job.split, state=state)}


def _attempt(work: tuple[Job, Path | None]) -> tuple[dict | None, str | None]:
    """Run a (job, state path) on one torch thread (the caller's count restored after): (its
    record, None), or (None, the traceback) when it fails.  Runs on a worker; it writes no
    results file (only the job's training state, on a local worker)."""
    job, state = work
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return run_job(job, state), None
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


class SweepStopped(RuntimeError):
    """A sweep stopped early because a write failed; the message is one line saying why and
    what is kept where."""


def _kept(jobs: list[Job], out_dir: str, stateful: bool) -> str:
    """What an interrupted sweep leaves for the next run of the same command to resume from."""
    done = sum(j.path(out_dir).is_file() for j in jobs)
    states = sum(state_path(j, out_dir).is_file() for j in jobs) if stateful else 0
    where = Path(out_dir) / jobs[0].experiment / "runs"
    mid = f" and {states} unfinished jobs' training states" if states else ""
    return (f"kept {done} of {len(jobs)} jobs' run files{mid} in {where}; run the same command "
            "again to resume")


def _reason(error: str) -> str:
    """The last line of a traceback: the error's type and message."""
    lines = [ln for ln in error.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "unknown error"


def _run_jobs(todo: list[Job], out_dir: str, jobs: int, bar, cluster=None,
              retries: int = 2) -> list[tuple[Job, str]]:
    """Run ``todo`` and write the run file of each job that succeeds, here, as its record
    arrives (then remove its training state); report each failure at once; return (job,
    traceback) of the failures.  Raises the OSError of a write that fails."""
    failures: list[tuple[Job, str]] = []
    count = bar.total - len(todo)  # jobs done so far (the bar counts only where it is drawn)
    work = [(job, state_path(job, out_dir) if cluster is None else None) for job in todo]
    for (job, state), outcome in run_all(_attempt, work, jobs, cluster, retries):
        if isinstance(outcome, BaseException):  # the worker died under the job
            record, error = None, "".join(traceback.format_exception(outcome))
        else:
            record, error = outcome
        count += 1
        if error is None:
            write_results(job.path(out_dir), record)
            if state is not None:
                state.unlink(missing_ok=True)
            log.info("[%d/%d] done %s (%.1f s)", count, bar.total, job.path(out_dir),
                     record.get("seconds", float("nan")))
        else:
            failures.append((job, error))
            log.error("[%d/%d] FAILED %s: %s", count, bar.total, job.path(out_dir),
                      _reason(error))
            log.debug("traceback of %s:\n%s", job.path(out_dir), error)
        bar.update(1)
    return failures


def _finished(job: Job, out_dir: str) -> bool:
    """Whether ``job`` has a valid run file (an error if the file is corrupt or stale)."""
    path = job.path(out_dir)
    return path.is_file() and bool(load_run(job, path))


def check_results_folder(exp: Experiment, out_dir: str | Path, workers: int) -> Path:
    """The folder ``<out_dir>/<experiment>`` of a sweep, checked before any job runs: a folder
    (or creatable), writable, with room for the jobs without a run file (RUN_BYTES each) and the
    training states of ``workers`` jobs at once (STATE_BYTES each); an error naming what is
    wrong otherwise."""
    jobs = make_jobs(exp)
    todo = sum(not j.path(out_dir).is_file() for j in jobs)
    need = todo * RUN_BYTES + min(workers, todo) * STATE_BYTES
    return check_output_folder(Path(out_dir) / exp.name, "results folder", need)


def run_experiment(experiment: str | Experiment, jobs: int = 2, out_dir: str | Path = "results",
                   resume: bool = True, progress: bool = True, merge: bool = True,
                   cluster=None, retries: int = 2) -> list[Path]:
    """Run every job of ``experiment`` on ``jobs`` local worker processes, or on the Dask
    ``cluster`` (a scheduler address, a Dask cluster object or a Client; see
    `udml.experiments.backends`); return the merged files.

    resume=True skips jobs whose run file exists and matches (a corrupt or stale one is an
    error naming it) and resumes unfinished ones from their training state; resume=False reruns
    everything.  A job whose local worker died is tried again, at most ``retries`` times.
    Datasets whose jobs all succeeded are merged (unless merge=False) even when others failed;
    the failures are then raised together as a `SweepFailed` naming each failed job with its
    traceback.  The results folder is checked and locked first (`check_results_folder`,
    `udml.experiments.lock.results_lock`).  A failing write raises `SweepStopped`, and Ctrl-C
    its KeyboardInterrupt, after logging one line saying what is kept; the workers are stopped.
    ``progress`` shows a progress bar where one can be drawn (a terminal, a notebook); each job
    is also logged (`logging`, logger ``udml.experiments.runner``).
    """
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    if not isinstance(exp, Experiment):
        raise TypeError(f"experiment must be a name or an Experiment, got {type(exp).__name__}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an int >= 1, got {jobs!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an int >= 0, got {retries!r}")
    out_dir = str(out_dir)
    all_jobs = make_jobs(exp)
    folder = check_results_folder(exp, out_dir, jobs if cluster is None else 0)
    with results_lock(folder):
        todo = [j for j in all_jobs if not (resume and _finished(j, out_dir))]
        if not resume:  # rerun from scratch: no training state of an earlier run either
            for job in todo:
                state_path(job, out_dir).unlink(missing_ok=True)
        log.info("sweep %s: %d jobs, %d to run, on %s; results in %s", exp.name, len(all_jobs),
                 len(todo), cluster or f"{jobs} local worker(s)", folder)
        with tqdm(total=len(all_jobs), initial=len(all_jobs) - len(todo),
                  desc=f"sweep {exp.name}", unit="job", disable=not (progress and interactive())
                  ) as bar:
            try:
                failures = _run_jobs(todo, out_dir, jobs, bar, cluster, retries) if todo else []
            except KeyboardInterrupt:
                log.warning("interrupted: %s", _kept(all_jobs, out_dir, cluster is None))
                raise
            except OSError as err:
                raise SweepStopped(f"{err}; {_kept(all_jobs, out_dir, cluster is None)}"
                                   ) from err
        from .merge import merge_runs
        failed = {job.dataset for job, _ in failures}
        try:
            merged = [merge_runs(exp, d, out_dir) for d in exp.datasets
                      if merge and d not in failed]
        except OSError as err:
            raise SweepStopped(f"{err}; every job is done: {_kept(all_jobs, out_dir, False)} "
                               "and merge") from err
    if failures:
        reasons = "".join(f"\n  {job.path(out_dir)}: {_reason(tb)}" for job, tb in failures)
        lines = "".join(f"\n  {job.path(out_dir)}:\n{tb}" for job, tb in failures)
        raise SweepFailed(f"{len(failures)} of {len(todo)} jobs failed (merged: "
                          f"{[str(p) for p in merged]}):{reasons}\ntracebacks:{lines}",
                          failures, merged)
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
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (one log line "
                        "per job instead; also where standard error is not a terminal)")
    parser.add_argument("--retries", type=int, default=2, help="times a job whose local worker "
                        "died is given to a fresh worker (default 2)")
    args = parser.parse_args(argv)
    if args.list or not args.experiment:
        for name in experiment_names():
            exp = get_experiment(name)
            print(f"{name}: {len(make_jobs(exp))} jobs; {exp.description}")
        return 0 if args.list else 2
    full = get_experiment(args.experiment)
    part = full.subset(args.datasets, args.methods, args.seeds, args.variants)
    try:
        folder = check_results_folder(part, args.out, 0 if args.scheduler else args.jobs)
    except OSError as err:
        parser.error(str(err))
    with cli_logging(folder / "sweep.log"):
        try:
            with results_lock(folder):
                return _sweep(args, full, part)
        except (ResultsLocked, SweepStopped) as err:
            log.error("udml sweep: %s", err)
            return 1
        except OSError as err:  # writing a part's merged file
            log.error("udml sweep: %s; every job's run file is kept in %s", err,
                      folder / "runs")
            return 1
        except KeyboardInterrupt:  # run_experiment has said what is kept
            return 130


def _sweep(args, full: Experiment, part: Experiment) -> int:
    """The command line's sweep of ``part`` of ``full``, under the results folder's lock."""
    whole = part.to_dict() == full.to_dict()
    failed = None
    try:
        paths = run_experiment(part, args.jobs, args.out, not args.no_resume,
                               not args.no_progress, merge=whole, cluster=args.scheduler,
                               retries=args.retries)
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
        log.error("%s", failed)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
