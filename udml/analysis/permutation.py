"""Do the scores decide anything?  The permutation test (`udml.training.permutation`) of an
experiment's results files, summarised over seeds per protocol group
(`udml.analysis.comparisons.protocol_groups`):

    accuracy   the accuracy with the scores as computed (mean and 95 % CI over seeds)
    drop       accuracy - accuracy_permuted, paired over seeds: what permuting the scores across
               the test examples costs (near 0: the scores decide nothing per example)
    gain       accuracy_oracle - accuracy, paired over seeds: what the same frozen fusion gains
               from the true level on its score's scale (the positive control)

Each seed's value is the mean over the group's protocols (`group_scores`), so the pairing is by
seed.  A method without per-sample scores (static, late) has no drop and no gain; the oracle
method, whose score is the level, has no gain.

    permutation_table(merged)                  {"groups", "methods", "cells"} of one dataset
    permutation_markdown(load_experiment("results/permutation"))    the note's table
    permutation_finding(table)                 the findings of one dataset in sentences
    python -m udml.analysis.permutation [FOLDER ...]     prints it (default: the committed
                                                         results/permutation and
                                                         results/permutation-av, where present)
"""
from __future__ import annotations

import argparse

from ..experiments.files import Results
from .comparisons import (MISSING, compare, find_results, fmt_diff, fmt_summary, group_scores,
                          load_experiment, markdown_table, protocol_groups)
from .queries import DEFAULT_VARIANT, has_method
from .stats import summary

PERMUTED, ORACLE = "accuracy_permuted", "accuracy_oracle"


def _has(merged: Results, method: str, metric: str, variant: str) -> bool:
    return (variant, method, metric) in merged.parts


def permutation_cell(merged: Results, method: str, protocols: list[tuple[str, str]],
                     variant: str = DEFAULT_VARIANT) -> dict:
    """{"accuracy": Summary, "drop": compare dict or None, "gain": compare dict or None} of one
    method over one protocol group (None where the method has no such metric)."""
    acc = group_scores(merged, method, protocols, variant)
    cell = {"accuracy": summary(acc), "drop": None, "gain": None}
    if _has(merged, method, PERMUTED, variant):
        cell["drop"] = compare(acc, group_scores(merged, method, protocols, variant, PERMUTED))
    if _has(merged, method, ORACLE, variant):
        cell["gain"] = compare(group_scores(merged, method, protocols, variant, ORACLE), acc)
    return cell


def permutation_table(merged: Results, methods=None, variant: str = DEFAULT_VARIANT) -> dict:
    """{"groups": [...], "methods": [...], "cells": {group: {method: permutation_cell}}} of one
    merged results file; ``methods`` default to the file's."""
    methods = [m for m in (methods or merged["methods"]) if has_method(merged, m, variant)]
    if not methods:
        raise ValueError(f"{merged['dataset']}: none of the methods under variant {variant!r}")
    if not any(_has(merged, m, PERMUTED, variant) for m in methods):
        raise ValueError(f"{merged['dataset']}: no permutation test in the file (no "
                         f"{PERMUTED!r} rows); run the experiment `permutation`")
    groups = protocol_groups(merged)
    cells = {g: {m: permutation_cell(merged, m, ps, variant) for m in methods}
             for g, ps in groups.items()}
    return {"groups": list(groups), "methods": methods, "cells": cells}


def permutation_finding(table: dict, label=str, main: str = "udml",
                        rivals=("naive", "pe", "tmc")) -> str:
    """The findings of one `permutation_table` in sentences: what permuting the scores costs
    ``main`` and its ``rivals`` under the random protocol (and which drops exceed the seed
    spread); under the unseen kinds, in how many cases permuting the scores of ``main`` or the
    first rival costs accuracy, and in how many it *raises* it (the score points the wrong way),
    beyond the spread; and the range of the oracle's gain for ``main``. ``label`` names a method
    in the text."""
    cells = table["cells"]
    methods = [m for m in (main, *rivals) if m in table["methods"]]
    if main not in methods or "random" not in cells:
        raise ValueError(f"the table needs {main!r} and the random protocol group")
    drop = {m: cells["random"][m]["drop"] for m in methods}
    costs = ", ".join(f"{label(m)} {100 * drop[m]['diff']:+.1f}" for m in methods if drop[m])
    beyond = [label(m) for m in methods if drop[m] and drop[m]["exceeds"]]
    text = (f"Under the random protocol, permuting the scores costs (in points) {costs}; beyond "
            f"the seed spread for {', '.join(beyond) or 'none of them'}.")
    unseen = [g for g in table["groups"] if g.startswith("unseen: ")]
    if not unseen:
        return text
    pair = methods[:2]
    drops = [cells[g][m]["drop"] for g in unseen for m in pair if cells[g][m]["drop"]]
    lower = sum(d["exceeds"] and d["diff"] > 0 for d in drops)
    raises = sum(d["exceeds"] and d["diff"] < 0 for d in drops)
    gains = [cells[g][main]["gain"]["diff"] for g in unseen if cells[g][main]["gain"]]
    parts = ([f"costs accuracy beyond the spread in {lower} of {len(drops)} cases"] if lower
             else []) + ([f"*raises* {'it' if lower else 'accuracy'} beyond the spread in "
                          f"{raises} of {len(drops)} (there the scores point the wrong way)"]
                         if raises else [])
    who = " and ".join(label(m) for m in pair)
    text += (f" Under the unseen kinds, permuting the scores of {who} "
             + (" and ".join(parts) if parts else "changes nothing beyond the spread"))
    if gains:
        text += (f", while the true level in the same formula changes {label(main)}'s accuracy "
                 f"by {100 * min(gains):+.1f} to {100 * max(gains):+.1f} points")
    return text + "."


def permutation_markdown(results: dict[str, Results], methods=None,
                         variant: str = DEFAULT_VARIANT) -> str:
    """The table dataset x method x protocol group -> accuracy, drop when permuted and gain of
    the oracle, in percentage points (paired 95 % CIs; * where the CI excludes 0; MISSING where
    a method has no such number)."""
    rows = []
    for dataset, merged in results.items():
        table = permutation_table(merged, methods, variant)
        for method in table["methods"]:
            for group in table["groups"]:
                cell = table["cells"][group][method]
                rows.append([dataset, method, group, fmt_summary(cell["accuracy"]),
                             *(MISSING if cell[k] is None else fmt_diff(cell[k])
                               for k in ("drop", "gain"))])
    return markdown_table(["dataset", "method", "protocol group", "accuracy (%)",
                           "drop when permuted (points)", "gain of the oracle (points)"],
                          rows, "lllrrr")


def main(argv: list[str] | None = None) -> int:
    """Print the table of the merged results files in each folder given."""
    parser = argparse.ArgumentParser(prog="python -m udml.analysis.permutation",
                                     description="the permutation test's table")
    parser.add_argument("folders", nargs="*", help="experiment folders of merged results files")
    folders = parser.parse_args(argv).folders
    if not folders:
        root = find_results()
        if root is None:
            parser.error("no results folder found; name the experiment folders")
        folders = [p for p in (root / "permutation", root / "permutation-av") if p.is_dir()]
    for folder in folders:
        print(f"{folder}:\n{permutation_markdown(load_experiment(folder))}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
