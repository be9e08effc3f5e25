"""Re-running one job of a sweep and checking it against the merged results file: the evidence
that the committed numbers are what the code makes.

    job = find_job("main", "mfeat", "udml", seed=0)
    record = rerun(job)                                   # the sweep's run_job, one CPU thread
    rerun_difference(record, read_results("results/main/mfeat.parquet"), "udml", 0)
                                                  # {"compared", "max_abs_diff", "worst", ...}

A seeded CPU run reproduces bit for bit on the same machine kind (the sweep's workers also run
on one thread), so the largest difference there is 0.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from .files import Results, frame, run_rows
from .registry import Experiment, get_experiment
from .jobs import Job, make_jobs
from .runner import run_job

# the metrics of the results table a re-run is compared on, and what names one value of them
COMPARED = ("accuracy", "unimodal_accuracy", "weight", "spearman", "dependency")
KEY = ("metric", "kind", "protocol", "modality", "range")


def find_job(experiment: str | Experiment, dataset: str, method: str, seed: int,
             variant: str | None = None) -> Job:
    """The job of ``experiment``'s grid with these coordinates (variant: the first one)."""
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    variant = next(iter(exp.variants)) if variant is None else variant
    for job in make_jobs(exp):
        if (job.dataset, job.variant, job.method, job.seed) == (dataset, variant, method, seed):
            return job
    raise ValueError(f"experiment {exp.name!r} has no job ({dataset}, {variant}, {method}, seed "
                     f"{seed}); it has datasets {list(exp.datasets)}, variants "
                     f"{list(exp.variants)}, methods {list(exp.methods)}, seeds {list(exp.seeds)}")


def rerun(job: Job, device: str = "cpu") -> dict:
    """`udml.experiments.runner.run_job` on one torch thread (as the sweep's workers) and on
    ``device``, restoring the caller's thread setting; returns the run record."""
    job = dataclasses.replace(job, config={**job.config,
                                           "train": {**job.config["train"], "device": device}})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return run_job(job)
    finally:
        torch.set_num_threads(threads)


def _compared(rows) -> dict[tuple, float]:
    """{(metric, kind, protocol, modality, range): value} of one run's rows of the metrics a
    re-run is checked on (None for a coordinate a metric does not have)."""
    rows = rows[rows.metric.isin(COMPARED)]
    keys = rows[list(KEY)].astype(object)
    keys = keys.where(keys.notna(), None)
    return dict(zip(keys.itertuples(index=False, name=None), rows.value.tolist()))


def _difference(a: float, b: float) -> float:
    """|a - b|, 0 where both are missing (NaN), infinite where one is."""
    return 0.0 if a != a and b != b else abs(a - b) if a == a and b == b else float("inf")


def rerun_difference(record: dict, merged: Results, method: str, seed: int,
                     variant: str = "default") -> dict:
    """How far a re-run job's metrics (`udml.experiments.runner.run_job`'s record) are from the
    merged file's numbers for the same method and seed: {"compared", "max_abs_diff", "worst",
    "median_rel_diff"} (relative to max(1, |stored|), so that large dependencies and small
    accuracies count alike)."""
    if seed not in merged["seeds"]:
        raise ValueError(f"seed {seed} is not among the file's seeds {merged['seeds']}")
    t = merged.rows
    stored = t[(t.variant == variant) & (t.method == method) & (t.seed == seed)]
    if stored.empty:
        raise KeyError(f"{merged['dataset']}: no method {method!r} under variant {variant!r}")
    stored, rerun = _compared(stored), _compared(frame(run_rows(record)))
    if set(rerun) != set(stored):
        raise ValueError(f"the re-run and the file hold different metrics: only in the re-run "
                         f"{sorted(set(rerun) - set(stored), key=str)[:5]}, only in the file "
                         f"{sorted(set(stored) - set(rerun), key=str)[:5]}")
    diffs = {k: _difference(rerun[k], stored[k]) for k in rerun}
    worst = max(diffs, key=diffs.get)
    relative = sorted(diff / max(1.0, abs(stored[k])) for k, diff in diffs.items())
    return {"compared": len(diffs), "max_abs_diff": diffs[worst], "worst": worst,
            "median_rel_diff": float(np.median(relative))}
