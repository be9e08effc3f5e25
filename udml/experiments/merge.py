"""One dataset's run files of a sweep merged into one results file: their rows concatenated,
their records checked against each other and summed up in one.

    merge_runs(experiment, "mfeat", "results")   -> results/<experiment>/mfeat.parquet

The merged record: experiment, dataset, seeds, variants, methods, kinds (the training kind
first), protocols {kind: labels in evaluation order} (those of the first variant; where variants
differ, as when each holds another family of damage out, also "variant_protocols" {variant:
{kind: labels}}), config {"variants": {v: {"model", "train"}} (resolved, without method and
seed), "noise": {seed: {kind: {modality: spec}}}, "data": {seed: split info}, and for a
leave-one-kind-out experiment "training_noise" {variant: {seed: the training mixture}}},
environment (+ "environments" if the runs differ), device.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .files import write_table
from .jobs import load_run, make_jobs
from .registry import Experiment


def _same_per_seed(store: dict, seed: int, value, what: str, path: Path) -> None:
    if store.setdefault(str(seed), value) != value:
        raise ValueError(f"{path} has different {what} than other runs of seed {seed}")


def merge_runs(exp: Experiment, dataset: str, out_dir: str | Path = "results",
               to: str | Path | None = None) -> Path:
    """Merge the run files of ``dataset`` into ``to``, by default
    ``<out>/<experiment>/<dataset>.parquet``."""
    if dataset not in exp.datasets:
        raise ValueError(f"experiment {exp.name!r} has no dataset {dataset!r}")
    noise, data, envs, by_variant, parts, training = {}, {}, [], {}, [], {}
    for job in (j for j in make_jobs(exp) if j.dataset == dataset):
        path = job.path(out_dir)
        if not path.is_file():
            raise FileNotFoundError(f"missing run file {path}; run the sweep first")
        run = load_run(job, path)
        run_noise = dict(run["config"]["noise"])
        if "training" in run_noise:  # leave one kind out: each variant trains on its mixture
            training.setdefault(job.variant, {})[str(job.seed)] = run_noise.pop("training")
        _same_per_seed(noise, job.seed, run_noise, "noise specs", path)
        _same_per_seed(data, job.seed, run["config"]["data"], "data splits", path)
        if run["environment"] not in envs:
            envs.append(run["environment"])
        acc = run.rows[run.rows.metric == "accuracy"]
        for kind in dict.fromkeys(acc.kind):  # the training kind first, labels as evaluated
            order = acc.protocol[acc.kind == kind].tolist()
            if by_variant.setdefault(job.variant, {}).setdefault(kind, order) != order:
                raise ValueError(f"{path} was evaluated under other {kind} protocols than the "
                                 "other runs of its variant (a variant that changes num_levels "
                                 "needs its own experiment)")
        parts.append(run.rows)
    protocols = dict(next(iter(by_variant.values())))  # {kind: labels} of the first variant
    config = {"variants": {}, "noise": noise, "data": data,
              **({"training_noise": training} if training else {})}
    for v in exp.variants:
        res = exp.resolve(v, exp.methods[0], exp.seeds[0])
        config["variants"][v] = {"model": {k: x for k, x in res["model"].items() if k != "method"},
                                 "train": {k: x for k, x in res["train"].items() if k != "seed"}}
    record = {"experiment": exp.to_dict(), "dataset": dataset, "seeds": list(exp.seeds),
              "variants": list(exp.variants), "methods": list(exp.methods),
              "kinds": list(protocols), "protocols": protocols, "config": config,
              "environment": envs[0], "device": envs[0]["device"]}
    if any(p != protocols for p in by_variant.values()):  # e.g. a held-out family in full
        record["variant_protocols"] = by_variant
    if len(envs) > 1:
        record["environments"] = envs
    return write_table(to or Path(out_dir) / exp.name / f"{dataset}.parquet",
                       pd.concat(parts, ignore_index=True), record)
