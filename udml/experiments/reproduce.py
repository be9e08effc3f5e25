"""Re-running one job of a sweep and checking it against the merged results file: the evidence
that the committed numbers are what the code makes.

    job = find_job("main", "mfeat", "udml", seed=0)
    record = rerun(job)                                   # the sweep's run_job, one CPU thread
    rerun_difference(record, merged, "udml", 0)   # {"compared", "max_abs_diff", "worst", ...}

A seeded CPU run reproduces bit for bit on the same machine kind (the sweep's workers also run
on one thread), so the largest difference there is 0.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..analysis.comparisons import DEFAULT_VARIANT
from .registry import Experiment, get_experiment
from .jobs import SEEN_KIND, Job, make_jobs
from .runner import run_job


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


def _flatten_run(metrics: dict) -> dict[tuple, float]:
    """A run record's metrics as {(metric, kind, protocol, modality): value}."""
    out = {}
    for kind, report in metrics.items():
        for p, entry in report["protocols"].items():
            out[("accuracy", kind, p, None)] = entry["accuracy"]
            for section in ("unimodal", "mean_weights"):
                for mod, v in entry.get(section, {}).items():
                    out[(section, kind, p, mod)] = v
        for mod, by_range in report.get("spearman", {}).items():
            for rng, v in by_range.items():
                out[("spearman", kind, rng, mod)] = v
    for mod, v in metrics.get(SEEN_KIND, {}).get("dependency", {}).items():
        out[("dependency", None, None, mod)] = v
    return out


def _flatten_merged(node: dict, i: int) -> dict[tuple, float]:
    """The same keys as `_flatten_run` for seed position ``i`` of a merged method entry."""
    out = {}
    for kind, by_p in node.get("accuracy", {}).items():
        for p, vals in by_p.items():
            out[("accuracy", kind, p, None)] = vals[i]
    for section in ("unimodal", "mean_weights"):
        for kind, by_p in node.get(section, {}).items():
            for p, by_mod in by_p.items():
                for mod, vals in by_mod.items():
                    out[(section, kind, p, mod)] = vals[i]
    for kind, by_mod in node.get("spearman", {}).items():
        for mod, by_range in by_mod.items():
            for rng, vals in by_range.items():
                out[("spearman", kind, rng, mod)] = vals[i]
    for mod, vals in node.get("dependency", {}).items():
        out[("dependency", None, None, mod)] = vals[i]
    return out


def rerun_difference(record: dict, merged: dict, method: str, seed: int,
                     variant: str = DEFAULT_VARIANT) -> dict:
    """How far a re-run job's metrics (`udml.experiments.runner.run_job`'s record) are from the
    merged file's numbers for the same method and seed: {"compared", "max_abs_diff", "worst",
    "median_rel_diff"} (relative to max(1, |stored|), so that large dependencies and small
    accuracies count alike)."""
    if seed not in merged["seeds"]:
        raise ValueError(f"seed {seed} is not among the file's seeds {merged['seeds']}")
    node = merged["metrics"].get(variant, {}).get(method)
    if node is None:
        raise KeyError(f"{merged['dataset']}: no method {method!r} under variant {variant!r}")
    rerun = _flatten_run(record["metrics"])
    stored = _flatten_merged(node, merged["seeds"].index(seed))
    if set(rerun) != set(stored):
        raise ValueError(f"the re-run and the file hold different metrics: only in the re-run "
                         f"{sorted(set(rerun) - set(stored), key=str)[:5]}, only in the file "
                         f"{sorted(set(stored) - set(rerun), key=str)[:5]}")
    diffs = {k: abs(float(rerun[k]) - float(stored[k])) for k in rerun}
    worst = max(diffs, key=diffs.get)
    relative = sorted(diff / max(1.0, abs(float(stored[k]))) for k, diff in diffs.items())
    return {"compared": len(diffs), "max_abs_diff": diffs[worst], "worst": worst,
            "median_rel_diff": float(np.median(relative))}
