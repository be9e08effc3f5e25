"""The results files of a sweep: merging one dataset's run files into one file, and reading the
merged files back as tidy rows for the chapter.

    merge_runs(experiment, "mfeat", "results")   -> results/<experiment>/mfeat.json
    rows = load_rows("results/main")              one dict per value (dataset, variant, method,
                                                  seed, kind, protocol, metric, modality, level)
    by_seed(rows, method="udml", metric="accuracy", protocol="clean", ...)   {seed: value}
"""
from __future__ import annotations

from pathlib import Path

from .registry import Experiment
from .files import read_layout, write_results
from .jobs import SEEN_KIND, load_run, make_jobs, unseen_protocols

LAYOUT = "udml-sweep-1"
# what the readers (tidy_rows, udml.comparisons, udml.claims) take from a merged file
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


def _run_metrics(rec: dict) -> dict:
    """One run's metrics regrouped metric-first: accuracy/unimodal/... -> kind -> protocol."""
    out: dict = {"accuracy": {}, "unimodal": {}, "mean_weights": {}, "mean_scores": {},
                 "spearman": {}, "calibration": {}}
    for kind, report in rec["metrics"].items():
        for label, entry in report["protocols"].items():
            for key in ("accuracy", "unimodal", "mean_weights", "mean_scores"):
                if key in entry:
                    out[key].setdefault(kind, {})[label] = entry[key]
        for key in ("spearman", "calibration"):
            if key in report:
                out[key][kind] = report[key]
    out = {k: v for k, v in out.items() if v}
    for key in ("dependency", "dependency_normalised"):  # a property of the model, not of a kind
        if key in rec["metrics"][SEEN_KIND]:
            out[key] = rec["metrics"][SEEN_KIND][key]
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


def protocol_level(label: str | None) -> int | None:
    """The noise level a protocol label names: clean 1, one:pix@7 / all@7 7, random None."""
    if label is None or label.startswith("random"):
        return None
    from ..corrupt import protocol_from_string
    return getattr(protocol_from_string(label), "level", 1)


def tidy_rows(merged: dict) -> list[dict]:
    """One row per value: dataset, variant, method, seed, kind, protocol, metric, modality, level,
    value.  metric is accuracy, unimodal_accuracy, weight, spearman_{overall,low,high} (under the
    random protocol), or, with kind and protocol None, dependency, dependency_normalised, seconds,
    cpu_seconds; modality is None for whole-model metrics; level comes from the protocol label."""
    rows, seeds, ds = [], merged["seeds"], merged["dataset"]
    rand = {k: [p for p in ps if p.startswith("random")][-1:] or [None]
            for k, ps in merged["protocols"].items()}

    def emit(variant, method, kind, protocol, metric, modality, values):
        if len(values) != len(seeds):  # a short list would shift values onto the wrong seeds
            raise ValueError(f"{ds}/{variant}/{method}: {metric} ({kind}, {protocol}, {modality}) "
                             f"holds {len(values)} values for the {len(seeds)} seeds {seeds}")
        for seed, value in zip(seeds, values):
            if value is not None:
                rows.append({"dataset": ds, "variant": variant, "method": method, "seed": seed,
                             "kind": kind, "protocol": protocol, "metric": metric,
                             "modality": modality, "level": protocol_level(protocol),
                             "value": value})

    for variant, by_method in merged["metrics"].items():
        for method, m in by_method.items():
            for kind, by_p in m.get("accuracy", {}).items():
                for p, vals in by_p.items():
                    emit(variant, method, kind, p, "accuracy", None, vals)
            for section, metric in (("unimodal", "unimodal_accuracy"), ("mean_weights", "weight")):
                for kind, by_p in m.get(section, {}).items():
                    for p, by_mod in by_p.items():
                        for mod, vals in by_mod.items():
                            emit(variant, method, kind, p, metric, mod, vals)
            for kind, by_mod in m.get("spearman", {}).items():
                for mod, by_range in by_mod.items():
                    for rng, vals in by_range.items():
                        emit(variant, method, kind, rand[kind][0], f"spearman_{rng}", mod, vals)
            for section in ("dependency", "dependency_normalised"):
                for mod, vals in m.get(section, {}).items():
                    emit(variant, method, None, None, section, mod, vals)
            for metric in ("seconds", "cpu_seconds"):
                emit(variant, method, None, None, metric, None, m.get(metric, []))
    return rows


def load_rows(source: str | Path | list) -> list[dict]:
    """Tidy rows of merged files: a file, a list of files, or an experiment folder (its *.json)."""
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        paths = sorted(Path(source).glob("*.json"))
        if not paths:
            raise FileNotFoundError(f"no merged results files (*.json) in {source}")
    else:
        paths = [source] if isinstance(source, (str, Path)) else list(source)
    return [row for p in paths for row in tidy_rows(read_merged(p))]


def select(rows: list[dict], **where) -> list[dict]:
    """The rows whose fields equal every ``where`` entry, e.g. select(rows, metric="accuracy")."""
    return [r for r in rows if all(r.get(k) == v for k, v in where.items())]


def by_seed(rows: list[dict], **where) -> dict[int, float]:
    """{seed: value} of the rows matching ``where``; an error if a seed matches twice (the
    criteria do not pin one value per seed) -- the input of `udml.analysis.stats.paired`."""
    out: dict[int, float] = {}
    for r in select(rows, **where):
        if r["seed"] in out:
            raise ValueError(f"more than one value per seed for {where}; add criteria "
                             "(dataset, variant, method, kind, protocol, metric, modality)")
        out[r["seed"]] = r["value"]
    return out
