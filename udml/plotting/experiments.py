"""Figures of the experiments chapter: accuracy against the noise level per method, the unreliability
scores' Spearman per range, the dependency over training, and paired differences per group.

Every function takes the plain dicts of `udml.analysis.comparisons` / `udml.analysis.claims`
(summaries with "mean", "low", "high"; paired comparisons with "diff", "low", "high", "exceeds"),
checks them, draws one figure in the book's style and returns it; the caller shows or saves it.
"""
from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..training.metrics import HALVES
from .style import apply_style, method_color, method_label, modality_color, words

PANEL_TITLES = {"all": "all modalities noisy"}


def _grid(n: int, ncols: int, width: float = 3.4, height: float = 2.9):
    if n < 1:
        raise ValueError("nothing to draw: no panels")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    flat = axes.ravel().tolist()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def plot_level_curves(curves: dict, methods: list[str], ylabel: str = "test accuracy (%)",
                      scale: float = 100.0, ncols: int = 4, zero_line: bool = False) -> Figure:
    """One panel per noisy modality (and "all"): each method's mean against the level 1..L with
    its 95% CI band.  ``curves`` is `udml.analysis.comparisons.level_curves`'s output."""
    if not isinstance(curves, dict) or not curves:
        raise ValueError("curves must be a non-empty {panel: {'levels', method: curve}} dict")
    apply_style()
    fig, axes = _grid(len(curves), ncols)
    drawn = []
    for ax, (panel, data) in zip(axes, curves.items()):
        if "levels" not in data:
            raise ValueError(f"panel {panel!r} has no 'levels'")
        x = data["levels"]
        for m in methods:
            if m not in data:
                continue
            c = data[m]
            if len(c["mean"]) != len(x):
                raise ValueError(f"{panel}/{m}: {len(c['mean'])} values for {len(x)} levels")
            y = [scale * v for v in c["mean"]]
            ax.plot(x, y, color=method_color(m), lw=1.8 if m == "udml" else 1.2,
                    label=method_label(m), marker="o", ms=2.5)
            lo, hi = [scale * v for v in c["low"]], [scale * v for v in c["high"]]
            if not any(map(math.isnan, lo)):
                ax.fill_between(x, lo, hi, color=method_color(m), alpha=0.12, lw=0)
            if m not in drawn:
                drawn.append(m)
        if zero_line:
            ax.axhline(0.0, color="0.3", lw=0.8)
        ax.set_title(PANEL_TITLES.get(panel, f"{panel} noisy"))
        ax.set_xlabel("noise level $l$")
        ax.set_ylabel(ylabel)
    if not drawn:
        raise ValueError(f"none of the methods {methods} is in the curves")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 8),
               bbox_to_anchor=(0.5, 1.02))
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return fig


def plot_spearman(table: dict, methods: list[str], ranges=HALVES,
                  ncols: int = 3) -> Figure:
    """Grouped bars: per modality (panel) and level range (group), each method's mean Spearman
    of its unreliability score with the true level, with 95% CI error bars.
    ``table``: {modality: {range: {method: summary}}} (`udml.analysis.claims.level_tracking`)."""
    if not isinstance(table, dict) or not table:
        raise ValueError("table must be a non-empty {modality: {range: {method: summary}}} dict")
    apply_style()
    fig, axes = _grid(len(table), ncols, width=3.6)
    for ax, (mod, by_range) in zip(axes, table.items()):
        missing = [r for r in ranges if r not in by_range]
        if missing:
            raise ValueError(f"modality {mod!r} lacks the ranges {missing}")
        present = [m for m in methods if all(m in by_range[r] for r in ranges)]
        if not present:
            raise ValueError(f"none of the methods {methods} has Spearman values for {mod!r}")
        width = 0.8 / len(present)
        for j, m in enumerate(present):
            xs = [i - 0.4 + width * (j + 0.5) for i in range(len(ranges))]
            s = [by_range[r][m] for r in ranges]
            err = [[0.0 if math.isnan(v["low"]) else v["mean"] - v["low"] for v in s],
                   [0.0 if math.isnan(v["high"]) else v["high"] - v["mean"] for v in s]]
            ax.bar(xs, [v["mean"] for v in s], width, yerr=err, color=method_color(m),
                   label=method_label(m), capsize=2, error_kw={"lw": 0.8})
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.set_xticks(range(len(ranges)), [words(r) for r in ranges])
        ax.set_ylim(-1.05, 1.05)
        ax.set_title(f"{mod}")
        ax.set_xlabel("levels")
        ax.set_ylabel("Spearman with the level")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), bbox_to_anchor=(0.5, 1.02))
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig


def plot_dependency_history(histories: dict, ncols: int = 3) -> Figure:
    """alpha_m per epoch (mean over seeds, band = min..max over seeds), one panel per entry of
    ``histories`` {title: `udml.analysis.claims.dependency_history` output}; the dashed line alpha =
    1 is no preference, the dotted one the first epoch on noisy data."""
    if not isinstance(histories, dict) or not histories:
        raise ValueError("histories must be a non-empty {title: history} dict")
    apply_style()
    fig, axes = _grid(len(histories), ncols, width=3.8)
    for ax, (title, h) in zip(axes, histories.items()):
        mods = list(h["alpha"])
        x = h["epochs"]
        for m in mods:
            runs = h["alpha"][m]
            if not runs or any(len(r) != len(x) for r in runs):
                raise ValueError(f"{title}/{m}: each seed needs one alpha per epoch ({len(x)})")
            per_epoch = list(zip(*runs))
            color = modality_color(m, mods)
            ax.plot(x, [sum(v) / len(v) for v in per_epoch], color=color, label=m)
            ax.fill_between(x, [min(v) for v in per_epoch], [max(v) for v in per_epoch],
                            color=color, alpha=0.15, lw=0)
        ax.axhline(1.0, color="0.3", lw=0.8, ls="--")
        if h.get("first_noisy"):
            ax.axvline(h["first_noisy"], color="0.3", lw=0.8, ls=":")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(r"dependency $\alpha_m$")
        ax.legend(ncol=2 if len(mods) > 3 else 1)
    fig.tight_layout()
    return fig


def _plain(text: str, width: int = 0) -> str:
    """A label as a figure shows it: Markdown's backticks dropped, wrapped at ``width`` (0: not)."""
    text = str(text).replace("`", "")
    return "\n".join(textwrap.wrap(text, width)) if width else text


def plot_effects(effects: dict, groups: list[str] | None = None, scale: float = 100.0,
                 xlabel: str = "paired difference (points)", colors: dict | None = None,
                 title: str | None = None, min_span: float = 4.0) -> Figure:
    """Forest plot: one row per protocol group, one marker per entry of ``effects`` {label:
    {group: comparison}} at the mean paired difference with its 95% CI; filled when the CI
    excludes 0 (beyond the seed spread), hollow otherwise; an entry without a group draws
    nothing there.  ``groups``: the rows (default: every group of any entry).  ``colors``:
    {label: colour}, e.g. `method_color` of the method each label compares against.

    The axis always shows 0 and spans at least ``min_span`` (in the units after ``scale``), so
    that a difference of a few test examples is not stretched across the whole figure; labels
    and the title are shown without Markdown backticks, long ones wrapped."""
    if not isinstance(effects, dict) or not effects:
        raise ValueError("effects must be a non-empty {label: {group: comparison}} dict")
    if not min_span > 0:
        raise ValueError(f"min_span must be positive, got {min_span}")
    groups = groups or list(dict.fromkeys(g for per in effects.values() for g in per))
    unknown = [g for g in groups if not any(g in per for per in effects.values())]
    if unknown:
        raise ValueError(f"no entry has the groups {unknown}")
    apply_style()
    fig, ax = plt.subplots(figsize=(7.2, 1.0 + 0.16 * len(groups) * max(2, len(effects))))
    step = 0.8 / len(effects)
    ends = [0.0]
    for j, (label, per) in enumerate(effects.items()):
        color = (colors or {}).get(label, f"C{j}")
        # the legend shows each entry's colour filled, whatever its first marker's fill
        ax.plot([], [], "o", color=color, label=_plain(label, 28))
        for i, g in enumerate(groups):
            if g not in per:
                continue
            c = per[g]
            y = i - 0.4 + step * (j + 0.5)
            if not math.isnan(c["low"]):
                ax.plot([scale * c["low"], scale * c["high"]], [y, y], color=color, lw=1.2)
                ends += [scale * c["low"], scale * c["high"]]
            ends.append(scale * c["diff"])
            ax.plot(scale * c["diff"], y, "o", color=color, mfc=color if c["exceeds"] else "white")
    lo, hi = min(ends), max(ends)
    pad = max(0.0, min_span - (hi - lo)) / 2 + 0.05 * (hi - lo)
    ax.set_xlim(lo - pad, hi + pad)
    ax.axvline(0.0, color="0.3", lw=0.8)
    for i in range(1, len(groups)):  # a faint rule between groups keeps the rows apart
        ax.axhline(i - 0.5, color="0.85", lw=0.6)
    ax.set_yticks(range(len(groups)), [_plain(g, 18) for g in groups])
    ax.set_ylim(len(groups) - 0.5, -0.5)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(_plain(title))
    # the marker's fill says whether the interval excludes 0: explained in the legend
    ax.plot([], [], "o", color="0.3", label="filled: 95% interval excludes 0")
    ax.plot([], [], "o", color="0.3", mfc="white", label="hollow: within the seed spread")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig
