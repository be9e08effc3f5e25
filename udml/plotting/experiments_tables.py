"""Tables of the experiments chapter, as Markdown strings: accuracy per protocol group, paired
differences, Spearman per range, the dual-suppression protocols, the dependency and the verdicts.

Each function takes the dicts of `udml.analysis.comparisons` / `udml.analysis.claims` and only
formats them; percentages are accuracies x 100 (points), intervals are 95% CIs over the seeds.
"""
from __future__ import annotations

import math

from ..analysis.comparisons import MISSING, fmt_diff, fmt_summary, markdown_table
from .style import METHOD_LABELS, words


def _label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def accuracy_markdown(table: dict, not_best=("oracle",)) -> str:
    """Rows: protocol groups; columns: methods; cells "mean ± CI half-width" in points.  The best
    mean of each row is bold, leaving out ``not_best`` (the oracle sees the true levels)."""
    methods = table["methods"]
    rows = []
    for g in table["groups"]:
        cells = table["cells"][g]
        rank = [m for m in methods if m not in not_best] or methods
        best = max(rank, key=lambda m: cells[m]["mean"])
        rows.append([g] + [f"**{fmt_summary(cells[m])}**" if m == best else fmt_summary(cells[m])
                           for m in methods])
    return markdown_table(["protocol group", *map(_label, methods)], rows)


def paired_markdown(effects: dict, groups: list[str] | None = None) -> str:
    """Rows: protocol groups (default: every group of any entry); columns: the entries of
    ``effects`` {label: {group: comparison}}; cells "+1.2 [+0.3, +2.1] *" (* = the CI
    excludes 0), "–" where an entry lacks the group."""
    if not effects:
        raise ValueError("no effects to tabulate")
    groups = groups or list(dict.fromkeys(g for per in effects.values() for g in per))
    rows = [[g] + [fmt_diff(per[g]) if g in per else "–" for per in effects.values()]
            for g in groups]
    return markdown_table(["protocol group", *effects], rows)


def spearman_markdown(table: dict, methods: list[str]) -> str:
    """Rows: (modality, range); columns: methods; cells "mean ± CI half-width" of Spearman,
    MISSING where a seed's Spearman could not be computed (a constant score)."""
    rows = []
    for mod, by_range in table.items():
        for rng, by_method in by_range.items():
            cells = []
            for m in methods:
                s = by_method.get(m)
                if s is None:
                    cells.append("")
                elif math.isnan(s["mean"]):
                    cells.append(MISSING)
                elif math.isnan(s["low"]):
                    cells.append(f"{s['mean']:+.2f}")
                else:
                    cells.append(f"{s['mean']:+.2f} ± {(s['high'] - s['low']) / 2:.2f}")
            rows.append([f"{mod}, {words(rng)}", *cells])
    return markdown_table(["modality, levels", *map(_label, methods)], rows)


def dependency_markdown(results: dict) -> str:
    """One row per dataset of `udml.analysis.claims.dependency_bias` results."""
    rows = []
    for dataset, r in results.items():
        if r["verdict"] == "not measured":
            rows.append([dataset, "", "", "", "", r["verdict"]])
            continue
        e = r["easy"]["easy"]
        how = "planted" if r["easy"]["planted"] else "most accurate alone"
        rows.append([dataset, f"{e} ({how})", r["most"], fmt_summary(r["final"][e], 1.0, 2),
                     f"{fmt_summary(r['early'][e], 1.0, 2)} (epoch {r['early_epoch']})",
                     r["verdict"]])
    return markdown_table(["dataset", "easy modality", "most relied on", "alpha_easy, end",
                           "alpha_easy, early", "verdict"], rows, align="lllrrl")


def verdicts_markdown(results: dict, titles: dict | None = None) -> str:
    """{claim: {dataset: result}} -> rows: claims (named by ``titles`` where given), columns:
    datasets, cells: the verdicts."""
    datasets = list(dict.fromkeys(d for per in results.values() for d in per))
    rows = [[(titles or {}).get(claim, claim)] + [per[d]["verdict"] if d in per else ""
                                                  for d in datasets]
            for claim, per in results.items()]
    return markdown_table(["claim", *datasets], rows, align="l" * (1 + len(datasets)))
