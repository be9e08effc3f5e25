"""The estimator against the bound: the mean estimate per level, one panel per (dataset, modality).

Takes plain numbers (`udml.analysis.calibration.score_means` / `bound_means`), draws one figure
in the book's style and returns it.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .style import apply_style, method_color


def plot_calibration(curves: dict[tuple[str, str], dict[str, list[float]]],
                     ncols: int = 4) -> Figure:
    """curves: (dataset, modality) -> {"s_hat": [L means], "bound": [L means]} (either may be
    missing).  Each panel shows both against the level on a log axis, with the ideal s = l
    (the oracle's) as a dotted line: a curve that stays flat at the low end cannot tell clean
    from slightly noisy, one that bends down at the top cannot tell damaged from destroyed."""
    if not curves:
        raise ValueError("nothing to plot: curves is empty")
    apply_style()
    n = len(curves)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.1 * ncols, 2.7 * nrows), squeeze=False,
                             sharey=True)
    styles = {"s_hat": (r"estimate $\hat s$ (UDML)", method_color("udml"), "-"),
              "bound": ("bound (reads the input)", "0.35", "--")}
    for ax, ((dataset, modality), by) in zip(axes.flat, curves.items()):
        length = {len(v) for v in by.values()}
        if len(length) != 1:
            raise ValueError(f"{dataset}/{modality}: curves of different lengths {length}")
        levels = list(range(1, length.pop() + 1))
        ax.plot(levels, levels, ":", color="0.6", label="ideal: $s = l$")
        for key, values in by.items():
            label, color, ls = styles[key]
            ax.plot(levels, values, ls, marker="o", ms=3, color=color, label=label)
        ax.set_yscale("log")
        ax.set_title(f"{dataset}: {modality}", fontsize=9)
        ax.set_xlabel("noise level $l$")
        ax.set_xticks(levels[::2])
    for ax in axes[:, 0]:
        ax.set_ylabel("mean estimate (log scale)")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
