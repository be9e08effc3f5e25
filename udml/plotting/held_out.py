"""Figures of the chapter on damage never seen in training: the KL weight's trade-off, and the
leave-one-kind-out results per family of damage.

    plot_beta_trade_off(rows)     accuracy and the destroyed modality's kept weight against beta
    plot_family_bars(table, ...)  one value per held-out family and method (a Spearman, an
                                  accuracy difference, a kept weight), from
                                  `udml.analysis.held_out.held_out_table`
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .style import apply_style, method_color, method_label


def plot_beta_trade_off(rows: dict[str, list[dict]]) -> Figure:
    """Per dataset (a column), against beta on a log axis, for the residual (solid) and the
    plain (dashed) rescaling: top, the accuracy under the random protocol and with the worse
    modality destroyed; bottom, the scale a destroyed modality enters the head with, over a clean
    one's (the largest over the modalities).  ``rows`` is {dataset: [{"beta", "rescaling",
    "random", "worst top", "kept"}]}, means over seeds, as
    `udml.analysis.calibration.beta_trade_off` gives them."""
    if not isinstance(rows, dict) or not rows:
        raise ValueError("rows must be a non-empty {dataset: [row, ...]} dict")
    apply_style()
    fig, axes = plt.subplots(2, len(rows), figsize=(3.6 * len(rows), 5.2), squeeze=False,
                             sharex=True)
    for j, (dataset, rs) in enumerate(rows.items()):
        frame = pd.DataFrame(rs)
        missing = {"beta", "rescaling", "random", "worst top", "kept"} - set(frame.columns)
        if missing:
            raise ValueError(f"{dataset}: rows lack {sorted(missing)}")
        for rescaling, style in (("residual", "-"), ("multiplicative", "--")):
            part = frame[frame.rescaling == rescaling].sort_values("beta")
            if part.empty:
                continue
            axes[0][j].plot(part.beta, 100 * part.random, style, color="#1f77b4", marker="o",
                            ms=3, label=f"random protocol, {rescaling}")
            axes[0][j].plot(part.beta, 100 * part["worst top"], style, color="#d62728",
                            marker="s", ms=3, label=f"one modality destroyed, {rescaling}")
            axes[1][j].plot(part.beta, part.kept, style, color="#2ca02c", marker="o", ms=3,
                            label=rescaling)
        axes[0][j].set_title(dataset)
        axes[0][j].set_ylabel("validation accuracy (%)")
        axes[1][j].axhline(0.1, color="0.4", lw=0.8, ls=":")
        axes[1][j].set_ylabel("scale kept by a destroyed modality")
        axes[1][j].set_xlabel(r"KL weight $\beta$")
        axes[1][j].set_xscale("log")
    # handles long enough to show the dashes of the plain rescaling
    axes[0][0].legend(fontsize=7, handlelength=3.5)
    axes[1][0].legend(fontsize=7, title="fusion", title_fontsize=7, handlelength=3.5)
    fig.tight_layout()
    return fig


def plot_family_bars(table: pd.DataFrame, value: str, methods: list[str], ylabel: str,
                     reference: float | None = None, title: str | None = None) -> Figure:
    """Grouped bars: per held-out family (x) and method (colour), the mean of ``value`` over the
    modalities, with the modalities' lowest and highest as a whisker.  ``reference`` draws a
    dotted horizontal line (a target)."""
    need = {"family", "method", "modality", value}
    if not isinstance(table, pd.DataFrame) or need - set(table.columns):
        raise ValueError(f"table must be a DataFrame with the columns {sorted(need)}")
    methods = [m for m in methods if m in set(table.method)]
    if not methods:
        raise ValueError("none of the methods is in the table")
    apply_style()
    families = list(dict.fromkeys(table.family))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(families) + 1.5), 3.2))
    width = 0.8 / len(methods)
    x = np.arange(len(families))
    for i, m in enumerate(methods):
        by = table[table.method == m].groupby("family", sort=False)[value]
        mean = by.mean().reindex(families)
        lo, hi = by.min().reindex(families), by.max().reindex(families)
        pos = x - 0.4 + width * (i + 0.5)
        ax.bar(pos, mean, width, color=method_color(m), label=method_label(m))
        ok = ~(mean.isna() | lo.isna())
        if ok.any():
            ax.errorbar(pos[ok.values], mean[ok], yerr=[(mean - lo)[ok], (hi - mean)[ok]],
                        fmt="none", ecolor="0.2", lw=0.8, capsize=1.5)
    if reference is not None and math.isfinite(reference):
        ax.axhline(reference, color="0.3", lw=0.9, ls=":")
    ax.axhline(0.0, color="0.5", lw=0.6)
    ax.set_xticks(x, families)
    ax.set_xlabel("family of damage held out of training")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    # beside the axes, where no bar or whisker can be under it
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig
