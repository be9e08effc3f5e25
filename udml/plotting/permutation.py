"""The permutation test's figure: per protocol group and method, the accuracy with the scores as
computed, with the scores permuted across the test examples, and with the oracle score (the true
level in the same formula), from `udml.analysis.permutation.permutation_table`."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .style import apply_style, method_label, words

BARS = (("as computed", "#4c72b0"), ("scores permuted", "#dd8452"), ("true level as the score", "#55a868"))


def plot_permutation(table: dict, groups: list[str], methods: list[str] | None = None) -> Figure:
    """One panel per protocol group: three bars per method (as computed; permuted, the accuracy
    minus the paired drop; oracle, plus the paired gain), in percent; a method without a permuted
    or oracle value has no bar there."""
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
    drawn = []  # every bar's height, over all panels (they share one y-axis)
    for ax, group in zip(axes[0], groups):
        cells = table["cells"][group]
        for i, (label, color) in enumerate(BARS):
            values = []
            for m in methods:
                c = cells[m]
                acc = c["accuracy"]["mean"]
                if i == 0:
                    values.append(acc)
                elif i == 1:
                    values.append(acc - c["drop"]["diff"] if c["drop"] else np.nan)
                else:
                    values.append(acc + c["gain"]["diff"] if c["gain"] else np.nan)
            heights = 100 * np.asarray(values, float)
            drawn += [h for h in heights if np.isfinite(h)]
            ax.bar(x + (i - 1) * 0.27, heights, 0.27, color=color, label=label)
        ax.set_xticks(x, [method_label(m) for m in methods], rotation=30, ha="right")
        ax.set_title(words(group))
    axes[0][0].set_ylim(max(0.0, min(drawn) - 15), 100)  # every bar's top inside the axis
    axes[0][0].set_ylabel("test accuracy (%)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="upper center", ncol=len(BARS), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.9))  # the legend above the panels, clear of the bars
    return fig
