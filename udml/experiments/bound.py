"""The bound's results files: ``python -m udml bound`` -> ``results/bound/<dataset>.parquet``.

For each dataset, seed and modality, the bound's level regressor (`udml.training.bound`) is
trained with the budget of the experiment that benchmarks the dataset (`main`, or `av` for the
spoken digits) and scored on that experiment's split with the same seed, level by level, so that
its curve sits beside s_hat's calibration in the experiment's own results file.

    python -m udml bound                          # every dataset, five seeds
    python -m udml bound --datasets mfeat --seeds 0 1

The file's rows are those of the results table (`udml.experiments.files`), method "bound" and
score "bound": per seed and modality, `udml.training.metrics.calibration_summary` as
calibration_mean, _std and calibration_spearman rows, and the seconds of each seed's job; its
record holds the resolved configs, the noise specs, the seeds and the environment.
"""
from __future__ import annotations

import argparse
import time
import traceback
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..environment import environment
from .backends import run_all
from .files import write_table
from .jobs import SEEN_KIND
from .registry import get_experiment

# the experiment whose budget and split the bound of a dataset shares
BENCHMARK = {"mfeat": "main", "mfeat-all": "main", "synthetic": "main", "fsdd": "av",
             "fsdd-speaker": "av"}


def bound_job(item: tuple[str, int]) -> tuple[dict | None, str | None]:
    """Train and score the bound of every modality of (dataset, seed) on one torch thread:
    ({"config", "metrics", "environment", "seconds"}, None) or (None, the traceback)."""
    from ..config import ModelConfig, TrainConfig
    from ..corrupt.scales import default_specs, specs_to_dict
    from ..data import load_dataset
    from ..training.bound import fit_level_regressor, level_regressor_sweep
    from ..training.metrics import calibration_summary
    from ..validation import resolve_device

    dataset, seed = item
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        exp = get_experiment(BENCHMARK[dataset])
        resolved = exp.resolve(next(iter(exp.variants)), "udml", seed)
        mcfg, tcfg = ModelConfig(**resolved["model"]), TrainConfig(**resolved["train"])
        splits = load_dataset(dataset, seed=seed)
        specs = default_specs(splits)
        data, levels = getattr(splits, exp.split), mcfg.num_levels
        metrics = {}
        for m in splits.modalities:
            model = fit_level_regressor(splits, m, specs, mcfg, tcfg)
            s = level_regressor_sweep(model, data, m, specs, levels, seed)  # (L, N)
            metrics[m] = calibration_summary({lv + 1: s[lv] for lv in range(levels)}, levels)
        return {"config": {"model": resolved["model"], "train": resolved["train"],
                           "noise": specs_to_dict(specs), "split": exp.split,
                           "benchmark": exp.name},
                "metrics": metrics, "environment": environment(resolve_device(tcfg.device)),
                "seconds": time.perf_counter() - t0}, None
    except Exception:  # noqa: BLE001 (returned to the driver, which reports it)
        return None, traceback.format_exc()
    finally:
        torch.set_num_threads(threads)


def run_bound(datasets, seeds, out_dir: str | Path = "results", jobs: int = 2,
              progress: bool = True) -> list[Path]:
    """Compute the bound of every (dataset, seed) and write one file per dataset."""
    unknown = [d for d in datasets if d not in BENCHMARK]
    if unknown:
        raise ValueError(f"no bound for dataset(s) {unknown}; choose from {sorted(BENCHMARK)}")
    items = [(d, s) for d in datasets for s in seeds]
    done: dict = {}
    failures = []
    with tqdm(total=len(items), desc="bound", unit="job", disable=not progress) as bar:
        for item, outcome in run_all(bound_job, items, jobs):
            record, error = outcome if not isinstance(outcome, BaseException) else (
                None, "".join(traceback.format_exception(outcome)))
            if error:
                failures.append(f"{item}:\n{error}")
            else:
                done[item] = record
            bar.update(1)
    if failures:
        raise RuntimeError("bound jobs failed:\n" + "\n".join(failures))
    written = []
    for d in datasets:
        recs = [done[(d, s)] for s in seeds]
        record = {"dataset": d, "seeds": list(seeds),
                  "modalities": sorted(recs[0]["metrics"]),
                  "config": {"model": recs[0]["config"]["model"],
                             "train": {k: v for k, v in recs[0]["config"]["train"].items()
                                       if k != "seed"},
                             "split": recs[0]["config"]["split"],
                             "benchmark": recs[0]["config"]["benchmark"],
                             "noise": {str(s): r["config"]["noise"] for s, r in zip(seeds, recs)}},
                  "environment": recs[0]["environment"]}
        rows = [row for s, r in zip(seeds, recs) for row in bound_rows(d, s, r["metrics"],
                                                                       r["seconds"])]
        written.append(write_table(Path(out_dir) / "bound" / f"{d}.parquet", rows, record))
    return written


def bound_rows(dataset: str, seed: int, metrics: dict, seconds: float) -> list[dict]:
    """One seed's bound as rows: its calibration summary per modality ({modality:
    `calibration_summary`}) under the training kind, and the seconds its job took."""
    from ..training.evaluate import report_rows
    rows = report_rows({"protocols": {}, "calibration": {"bound": metrics}}, SEEN_KIND)
    at = {"dataset": dataset, "variant": "default", "method": "bound", "seed": seed}
    return [{**at, **r} for r in (*rows, {"metric": "seconds", "value": seconds})]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m udml bound", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["mfeat", "mfeat-all", "synthetic"],
                   choices=sorted(BENCHMARK))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    p.add_argument("--jobs", type=int, default=2, help="local worker processes")
    p.add_argument("--out", default="results", help="results folder (writes <out>/bound/)")
    a = p.parse_args(argv)
    if len(set(a.seeds)) != len(a.seeds) or min(a.seeds) < 0:
        p.error(f"--seeds must be distinct ints >= 0, got {a.seeds}")
    for path in run_bound(a.datasets, a.seeds, a.out, a.jobs):
        print(f"wrote {path}")
    return 0
