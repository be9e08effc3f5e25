"""The results files of a sweep: merging one dataset's run files into one file.

    merge_runs(experiment, "mfeat", "results")   -> results/<experiment>/mfeat.json
    read_merged("results/main/mfeat.json")        the record, its layout checked

`udml.experiments.table.results_table` reads the merged files back as one tidy table.
"""
from __future__ import annotations

from pathlib import Path

from .registry import Experiment
from .files import read_layout, write_results
from .jobs import SEEN_KIND, load_run, make_jobs, unseen_protocols

LAYOUT = "udml-sweep-1"
# what the readers (udml.experiments.table, udml.analysis) take from a merged file
MERGED_ENTRIES = {"dataset": str, "seeds": list, "variants": list, "methods": list, "kinds": list,
                  "protocols": dict, "config": dict, "metrics": dict}
HISTORY_FIELDS = ("noisy", "use_uncertainty", "train_acc", "val_acc_clean", "val_acc_noisy",
                  "loss_total")


def stack_seeds(items: list):
    """Nested dicts (one per seed) -> one nested dict whose leaves are lists over the seeds,
    None where a seed lacks the entry."""
    if not any(isinstance(i, dict) for i in items):
        return list(items)
    keys = list(dict.fromkeys(k for i in items if isinstance(i, dict) for k in i))
    return {k: stack_seeds([i.get(k) if isinstance(i, dict) else None for i in items]) for k in keys}


def regroup_metrics(metrics: dict) -> dict:
    """A run's evaluation metrics (kind -> protocol -> accuracy/unimodal/...) regrouped
    section-first as a merged file holds them (accuracy/unimodal/... -> kind -> protocol), with
    one value where the merged file has a list over the seeds."""
    out: dict = {"accuracy": {}, "unimodal": {}, "mean_weights": {}, "mean_scores": {},
                 "spearman": {}, "calibration": {}}
    for kind, report in metrics.items():
        for label, entry in report["protocols"].items():
            for key in ("accuracy", "unimodal", "mean_weights", "mean_scores"):
                if key in entry:
                    out[key].setdefault(kind, {})[label] = entry[key]
        for key in ("spearman", "calibration"):
            if key in report:
                out[key][kind] = report[key]
    out = {k: v for k, v in out.items() if v}
    for key in ("dependency", "dependency_normalised"):  # a property of the model, not of a kind
        if key in metrics.get(SEEN_KIND, {}):
            out[key] = metrics[SEEN_KIND][key]
    return out


def _run_metrics(rec: dict) -> dict:
    """One run's metrics, history and times as a merged file holds them (for one seed)."""
    out = regroup_metrics(rec["metrics"])
    hist = rec["history"]
    out["history"] = {f: [row.get(f) for row in hist] for f in HISTORY_FIELDS}
    mods = sorted({m for row in hist for m in row.get("dependency", {})})
    if mods:
        out["history"]["dependency"] = {m: [row.get("dependency", {}).get(m) for row in hist]
                                        for m in mods}
    out["seconds"] = rec["seconds"]             # wall clock of the job
    out["cpu_seconds"] = rec.get("cpu_seconds")  # its CPU time: the same unless the CPU is shared
    return out


def _protocol_order(rec: dict, kind: str, path: Path) -> list[str]:
    """The protocols of ``kind`` in evaluation order (a JSON file keeps them sorted by name)."""
    from ..training.evaluate import standard_protocols
    have = rec["metrics"][kind]["protocols"]
    modalities = sorted(next(iter(have.values()))["unimodal"])
    levels = rec["config"]["model"]["num_levels"]
    if kind != SEEN_KIND:
        order = unseen_protocols(modalities, levels)
    else:
        order = rec["job"]["protocols"] or standard_protocols(modalities, levels)
    if sorted(order) != sorted(have):
        raise ValueError(f"{path} holds protocols {sorted(have)} for {kind!r}, expected {order}")
    return order


def _same_per_seed(store: dict, seed: int, value, what: str, path: Path) -> None:
    if store.setdefault(str(seed), value) != value:
        raise ValueError(f"{path} has different {what} than other runs of seed {seed}")


def merge_runs(exp: Experiment, dataset: str, out_dir: str | Path = "results",
               to: str | Path | None = None) -> Path:
    """Merge the run files of ``dataset`` into ``to``, by default
    ``<out>/<experiment>/<dataset>.json``.

    Layout (every innermost list is aligned with "seeds"; null where a seed lacks the entry):
      experiment, dataset, seeds, variants, methods, kinds ("gaussian" first),
      protocols {kind: [labels in evaluation order]}
      config: {"variants": {v: {"model", "train"}} (resolved, without method and seed),
               "noise": {seed: {kind: {modality: spec}}}, "data": {seed: split info}}
      environment (+ "environments" if the runs differ), device
      metrics: {variant: {method: {
        "accuracy": {kind: {protocol: [...]}}, "unimodal": {kind: {protocol: {modality: [...]}}},
        "mean_weights": {kind: {protocol: {modality: [...]}}}  (methods with weights),
        "mean_scores": {kind: {protocol: {score: {modality: [...]}}}}  (methods with scores:
                       s_hat, pe_sigma, quality; `udml.training.evaluate.output_scores`),
        "spearman": {kind: {modality: {"overall"|"low"|"high": [...]}}}  (methods with a quality),
        "calibration": {kind: {score: {modality: {"mean": [[L] per seed], "std": [[L] ...],
                        "spearman": {"all"|"low"|"high": [...]}}}}}  (the score per level,
                        `udml.training.metrics.calibration_summary`),
        "dependency", "dependency_normalised": {modality: [...]}  (methods that track it),
        "history": {field: [[per epoch] per seed], "dependency": {modality: [[...]]}},
        "seconds": [...], "cpu_seconds": [...]}}}
    The per-epoch losses of the run files are dropped, except the fields in HISTORY_FIELDS.
    """
    if dataset not in exp.datasets:
        raise ValueError(f"experiment {exp.name!r} has no dataset {dataset!r}")
    jobs = [j for j in make_jobs(exp) if j.dataset == dataset]
    noise, data, envs, protocols = {}, {}, [], {}
    per_cell: dict = {}
    for job in jobs:
        path = job.path(out_dir)
        if not path.is_file():
            raise FileNotFoundError(f"missing run file {path}; run the sweep first")
        rec = load_run(job, path)
        _same_per_seed(noise, job.seed, rec["config"]["noise"], "noise specs", path)
        _same_per_seed(data, job.seed, rec["config"]["data"], "data splits", path)
        if rec["environment"] not in envs:
            envs.append(rec["environment"])
        for kind in (SEEN_KIND, *exp.unseen_kinds):  # the training kind first
            order = _protocol_order(rec, kind, path)
            if protocols.setdefault(kind, order) != order:
                raise ValueError(f"{path} was evaluated under other {kind} protocols than the "
                                 "other runs (a variant that changes num_levels needs its own "
                                 "experiment)")
        per_cell.setdefault((job.variant, job.method), {})[job.seed] = _run_metrics(rec)
    metrics: dict = {}
    for (variant, method), by_seed in per_cell.items():
        metrics.setdefault(variant, {})[method] = stack_seeds([by_seed[s] for s in exp.seeds])
    config = {"variants": {}, "noise": noise, "data": data}
    for v in exp.variants:
        res = exp.resolve(v, exp.methods[0], exp.seeds[0])
        config["variants"][v] = {"model": {k: x for k, x in res["model"].items() if k != "method"},
                                 "train": {k: x for k, x in res["train"].items() if k != "seed"}}
    record = {"layout": LAYOUT, "experiment": exp.to_dict(), "dataset": dataset,
              "seeds": list(exp.seeds), "variants": list(exp.variants),
              "methods": list(exp.methods), "kinds": list(protocols), "protocols": protocols,
              "config": config, "environment": envs[0], "device": envs[0]["device"],
              "metrics": metrics}
    if len(envs) > 1:
        record["environments"] = envs
    return write_results(to or Path(out_dir) / exp.name / f"{dataset}.json", record)


def read_merged(path: str | Path) -> dict:
    """A merged results file written by `merge_runs` (a clear error for any other file)."""
    return read_layout(path, LAYOUT, MERGED_ENTRIES, "merged sweep file")
