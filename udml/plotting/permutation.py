"""The permutation test's figure: per protocol group and method, what permuting the scores across
the test examples costs and what the oracle score (the true level in the same formula) gains, as
paired differences over the seeds with their 95 % intervals, from
`udml.analysis.permutation.permutation_table`."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .style import apply_style, method_label, words

# (the cell's entry, the label, its colour, its x offset): the accuracy lost when the scores are
# permuted (as computed minus permuted) and gained when the true level replaces them
EFFECTS = (("drop", "lost when the scores are permuted", "#dd8452", -0.13),
           ("gain", "gained with the true level as the score", "#55a868", 0.13))


def plot_permutation(table: dict, groups: list[str], methods: list[str] | None = None) -> Figure:
    """One panel per protocol group: per method, the paired drop when its scores are permuted and
    the paired gain of the oracle score, in points, each a mean over the seeds with its 95 % t
    interval; a method without one of them (the oracle has no oracle gain) has no mark there.
    A drop above 0 beyond its interval says the scores decide; a gain above 0, that a better
    score would help."""
    if not isinstance(table, dict) or "cells" not in table:
        raise ValueError("table must be udml.analysis.permutation.permutation_table's output")
    missing = [g for g in groups if g not in table["cells"]]
    if not groups or missing:
        raise ValueError(f"unknown protocol groups {missing}; the table has {table['groups']}")
    methods = [m for m in (methods or table["methods"]) if m in table["methods"]]
    if not methods:
        raise ValueError("none of the methods is in the table")
    apply_style()
    fig, axes = plt.subplots(1, len(groups), figsize=(3.3 * len(groups) + 0.6, 3.2),
                             squeeze=False, sharey=True)
    x = np.arange(len(methods))
    for ax, group in zip(axes[0], groups):
        cells = table["cells"][group]
        ax.axhline(0, color="0.5", lw=0.8)
        for key, label, color, offset in EFFECTS:
            found = [(i, cells[m][key]) for i, m in enumerate(methods) if cells[m][key]]
            if not found:
                continue
            at = np.array([i for i, _ in found]) + offset
            mean = 100 * np.array([c["diff"] for _, c in found])
            low = 100 * np.array([c["low"] for _, c in found])
            high = 100 * np.array([c["high"] for _, c in found])
            spread = np.nan_to_num(np.vstack([mean - low, high - mean]))  # one seed: no interval
            ax.errorbar(at, mean, yerr=spread, fmt="o", ms=4, color=color, capsize=2,
                        label=label)
        ax.set_xticks(x, [method_label(m) for m in methods], rotation=30, ha="right")
        ax.set_title(words(group))
    axes[0][0].set_ylabel("accuracy difference (points)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="upper center", ncol=len(EFFECTS), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.9))  # the legend above the panels, clear of the marks
    return fig
