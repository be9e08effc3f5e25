"""Per-seed numbers out of results files, grouped by protocol, summarised over seeds and
compared paired: the building blocks of `udml.analysis.claims` and of the experiments chapter.

The numbers are queries on the files' rows (`udml.analysis.queries`), read as ``{seed: value}``
mappings, so that two methods (or two experiments run on the same seeds) are compared seed by
seed with `udml.analysis.stats.paired`.

    results = load_experiment("results/main")           {dataset: Results}
    series(merged, "udml", "accuracy", kind="gaussian", protocol="clean")    {seed: value}
    groups = protocol_groups(merged)                      {"clean": [("gaussian", "clean")], ...}
    summary(group_scores(merged, "udml", groups["all noisy"]))    mean, CI over seeds
    paired_groups(merged, "udml", merged, "static")       {group: paired difference}
    top_level_scales(merged, "udml")                      how far a destroyed modality is damped
"""
from __future__ import annotations

import math
from functools import reduce
from operator import add
from pathlib import Path

from ..experiments.registry import DATASET_NAMES
from .queries import DEFAULT_VARIANT, has_method, modalities, num_levels, pivot, series
from .stats import Summary, paired, summary
from ..experiments.files import Results, read_results
from ..experiments.jobs import SEEN_KIND

MISSING = "–"  # how a table shows a value that could not be computed


# --- reading ---------------------------------------------------------------------------------

def load_experiment(folder: str | Path) -> dict[str, Results]:
    """{dataset: results file} of one experiment folder (its ``*.parquet``), in the datasets'
    order."""
    paths = sorted(Path(folder).glob("*.parquet"))
    if not paths:
        raise FileNotFoundError(f"no merged results files (*.parquet) in {folder}; run "
                                f"`python -m udml sweep {Path(folder).name}` first")
    merged = {m["dataset"]: m for m in map(read_results, paths)}
    order = [d for d in DATASET_NAMES if d in merged] + sorted(set(merged) - set(DATASET_NAMES))
    return {d: merged[d] for d in order}


def find_results(start: str | Path | None = None, name: str = "results",
                 packaged: bool = True) -> Path | None:
    """The folder ``name`` in ``start`` (default: the working directory) or its nearest parent
    that has one, else beside the package (a checkout or an editable install), else, with
    ``packaged``, the copy of the committed results files that a built wheel carries in
    udml/_results (as after ``pip install`` on Colab; read it, never write there); None if absent.
    """
    here = Path(start if start is not None else Path.cwd()).resolve()
    package = Path(__file__).resolve().parents[1]  # udml/
    for folder in (here, *here.parents, package.parent):
        if (folder / name).is_dir():
            return folder / name
    if packaged and name == "results" and (package / "_results").is_dir():
        return package / "_results"
    return None


# --- protocol groups ---------------------------------------------------------------------------

def protocol_groups(merged: Results) -> dict[str, list[tuple[str, str]]]:
    """Group label -> [(kind, protocol)]: clean; one modality noisy (levels 2..L) per modality;
    all noisy (levels 2..L); random; and each corruption kind never seen in training."""
    gauss = merged["protocols"][SEEN_KIND]
    groups = {"clean": [(SEEN_KIND, p) for p in gauss if p == "clean"]}
    for m in modalities(merged):
        groups[f"{m} noisy"] = [(SEEN_KIND, p) for p in gauss if p.startswith(f"one:{m}@")]
    groups["all noisy"] = [(SEEN_KIND, p) for p in gauss if p.startswith("all@")]
    groups["random"] = [(SEEN_KIND, p) for p in gauss if p.startswith("random")]
    for kind in merged["kinds"]:
        if kind != SEEN_KIND:
            groups[f"unseen: {kind}"] = [(kind, p) for p in merged["protocols"][kind]]
    return {g: ps for g, ps in groups.items() if ps}


def group_scores(merged: Results, method: str, protocols: list[tuple[str, str]],
                 variant: str = DEFAULT_VARIANT, metric: str = "accuracy") -> dict[int, float]:
    """{seed: mean of ``metric`` over the protocols}, for the seeds that have all of them."""
    if not protocols:
        raise ValueError("a protocol group needs at least one protocol")
    wide = pivot(merged, method, metric, ["kind", "protocol"], variant)
    at = wide.columns.get_indexer(list(protocols))
    if (at < 0).any():
        missing = [p for p, i in zip(protocols, at) if i < 0]
        raise KeyError(f"{merged['dataset']}/{variant}/{method}: no {metric} under {missing}")
    cells = wide.iloc[:, at].dropna()  # the seeds with every protocol
    return {s: sum(row) / len(row) for s, row in zip(cells.index.tolist(), cells.values.tolist())}


# --- summaries and paired comparisons ------------------------------------------------------------

def compare(a: dict[int, float], b: dict[int, float]) -> dict:
    """Paired a - b over the seeds both have: mean difference, its std, 95% CI, t-test p, whether the CI
    excludes 0 (``exceeds``) and the ``direction``: "better" / "worse" (a above / below b by
    more than the seed spread) or "tie"."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        raise ValueError("nothing to compare: the two score sets share no seed")
    if len(seeds) == 1:
        d = a[seeds[0]] - b[seeds[0]]
        return {"n": 1, "diff": d, "std": math.nan, "low": math.nan, "high": math.nan,
                "p": math.nan, "exceeds": False, "direction": "tie"}
    c = paired({s: a[s] for s in seeds}, {s: b[s] for s in seeds})
    direction = ("better" if c.ci_low > 0 else "worse") if c.exceeds_spread else "tie"
    return {"n": c.n, "diff": float(c.mean_diff), "std": float(c.std_diff), "low": float(c.ci_low),
            "high": float(c.ci_high), "p": float(c.p_value), "exceeds": c.exceeds_spread,
            "direction": direction}


def paired_groups(a: Results, a_method: str, b: Results, b_method: str,
                  a_variant: str = DEFAULT_VARIANT, b_variant: str = DEFAULT_VARIANT) -> dict:
    """{group: compare(a's accuracy, b's accuracy)} over the protocol groups that a and b share
    (the same protocols in both); a and b are merged files of the same dataset, possibly of
    different experiments on the same seeds (an experiment without unseen kinds has no
    "unseen: ..." groups)."""
    if a["dataset"] != b["dataset"]:
        raise ValueError(f"cannot pair results of {a['dataset']!r} with {b['dataset']!r}")
    theirs = protocol_groups(b)
    groups = {g: ps for g, ps in protocol_groups(a).items() if theirs.get(g) == ps}
    if not groups:
        raise ValueError(f"{a['dataset']}: the two files share no protocol group")
    return {g: compare(group_scores(a, a_method, ps, a_variant),
                       group_scores(b, b_method, ps, b_variant)) for g, ps in groups.items()}


def accuracy_table(merged: Results, methods=None, variant: str = DEFAULT_VARIANT) -> dict:
    """{"groups": [...], "methods": [...], "cells": {group: {method: summary}}} of accuracy."""
    methods = [m for m in (methods or merged["methods"]) if has_method(merged, m, variant)]
    if not methods:
        raise ValueError(f"{merged['dataset']}: none of the methods under variant {variant!r}")
    groups = protocol_groups(merged)
    cells = {g: {m: summary(group_scores(merged, m, ps, variant)) for m in methods}
             for g, ps in groups.items()}
    return {"groups": list(groups), "methods": methods, "cells": cells}


def level_curves(merged: Results, methods, variant: str = DEFAULT_VARIANT,
                 baseline: str | None = None) -> dict:
    """Accuracy against the noise level, one panel per noisy modality and one for all noisy.

    Returns {panel: {"levels": [1..L], method: {"mean", "low", "high": lists over levels}}};
    level 1 is the clean accuracy. With ``baseline``, each curve is the paired difference
    method - baseline instead (mean and CI of the difference).
    """
    gauss = merged["protocols"][SEEN_KIND]
    L = num_levels(merged)
    panels = {m: f"one:{m}@" for m in modalities(merged)}
    panels["all"] = "all@"
    out = {}
    for panel, prefix in panels.items():
        labels = ["clean"] + [f"{prefix}{lv}" for lv in range(2, L + 1)]
        if not all(p in gauss for p in labels):
            continue
        out[panel] = {"levels": list(range(1, L + 1))}
        for method in methods:
            if not has_method(merged, method, variant):
                continue
            curve = {"mean": [], "low": [], "high": []}
            for p in labels:
                v = series(merged, method, "accuracy", variant, kind=SEEN_KIND, protocol=p)
                s = (summary(v) if baseline is None else _as_summary(compare(
                    v, series(merged, baseline, "accuracy", variant, kind=SEEN_KIND,
                              protocol=p))))
                for k in curve:
                    curve[k].append(s[k])
            out[panel][method] = curve
    return out


def _as_summary(c: dict) -> Summary:
    """A paired comparison as the `Summary` of its differences."""
    return Summary(n=c["n"], mean=c["diff"], std=c["std"], low=c["low"], high=c["high"])


# --- weights -------------------------------------------------------------------------------------

def top_level_scales(merged: Results, method: str = "udml", variant: str = DEFAULT_VARIANT) -> dict:
    """With one modality at the top level (the others clean): its mean weight, the largest mean
    weight of the others, and the ratio of the scales they enter the head with -- (1 + w) for
    the paper's residual rescaling (at least 1 / (M + 1)), w for the multiplicative extension.
    {modality: {"weight_noisy", "weight_max_other", "scale_ratio", "rescaling", "level"}}."""
    model = merged["config"]["variants"][variant]["model"]
    top = model["num_levels"]
    residual = model.get("rescaling", "residual") == "residual"
    out = {}
    for m in modalities(merged):
        w = {k: summary(v)["mean"] for k, v in (
            (k, series(merged, method, "weight", variant, kind=SEEN_KIND,
                       protocol=f"one:{m}@{top}", modality=k)) for k in modalities(merged))}
        w_other = max(w[k] for k in w if k != m)
        ratio = ((1 + w[m]) / (1 + w_other)) if residual else w[m] / max(w_other, 1e-12)
        out[m] = {"weight_noisy": w[m], "weight_max_other": w_other, "scale_ratio": ratio,
                  "rescaling": model.get("rescaling", "residual"), "level": top}
    return out


# --- cost ----------------------------------------------------------------------------------------

def sweep_cost(merged: Results) -> dict:
    """Jobs, total CPU seconds and total wall seconds of the runs behind one merged file (a run
    without its CPU time counts its wall time)."""
    t, keys = merged.rows, ["variant", "method", "seed"]
    runs = t[t.metric == "seconds"].merge(t.loc[t.metric == "cpu_seconds", [*keys, "value"]],
                                          on=keys, how="left", suffixes=("", "_cpu"))
    cpu = runs.value_cpu.fillna(runs.value)
    # added one run after the other, in the file's order (not sum(): from Python 3.12 it adds
    # floats with compensation, and the chapter's totals would differ across versions)
    return {"jobs": len(runs), "cpu_seconds": reduce(add, cpu.tolist(), 0.0),
            "seconds": reduce(add, runs.value.tolist(), 0.0)}


# --- text ----------------------------------------------------------------------------------------

def fmt_summary(s: Summary, scale: float = 100.0, digits: int = 1) -> str:
    """"93.4 ± 0.6": mean and half-width of the 95% CI, times ``scale`` (percentage points);
    MISSING where a value could not be computed."""
    if math.isnan(s["mean"]):
        return MISSING
    if math.isnan(s["low"]):
        return f"{scale * s['mean']:.{digits}f}"
    return f"{scale * s['mean']:.{digits}f} ± {scale * (s['high'] - s['low']) / 2:.{digits}f}"


def fmt_diff(c: dict, scale: float = 100.0, digits: int = 1) -> str:
    """"+1.2 [+0.3, +2.1] *": paired mean difference, its 95% CI, * when the CI excludes 0;
    MISSING where a value could not be computed."""
    if math.isnan(c["diff"]):
        return MISSING
    if math.isnan(c["low"]):
        return f"{scale * c['diff']:+.{digits}f}"
    star = " *" if c["exceeds"] else ""
    return (f"{scale * c['diff']:+.{digits}f} [{scale * c['low']:+.{digits}f}, "
            f"{scale * c['high']:+.{digits}f}]{star}")


def markdown_table(header: list[str], rows: list[list], align: str | None = None) -> str:
    """A Markdown table.  ``align``: one letter per column, "l" or "r" (default: the first
    column left, the others right)."""
    if any(len(r) != len(header) for r in rows):
        raise ValueError(f"every row needs {len(header)} cells")
    align = align or "l" + "r" * (len(header) - 1)
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"align needs one of 'l'/'r' per column ({len(header)}), got {align!r}")
    rule = [":---" if a == "l" else "---:" for a in align]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(str(c) for c in line) + " |" for line in lines)
