"""Figures of the dependency chapter: the running modality dependency during training, and the
accuracy of several methods as one modality gets noisier.

Every function takes plain data (training histories, dicts of accuracies; no model), checks it,
draws one figure in the book's style (`udml.plotting.style`) and returns it.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..method.dependency import normalised_dependency
from .style import apply_style, method_color, method_label, modality_color


def dependency_curves(history: list[dict]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The running dependency D_m per epoch from a training history.

    history: the list returned by `udml.training.loop.train` / `fit`; rows carry
    ``"dependency": {name: value}`` once the model tracks it.
    Returns (epochs (E,), {name: (E,)}) over the rows that have a dependency, in sorted names.
    """
    if not isinstance(history, (list, tuple)) or not history:
        raise ValueError("history must be a non-empty list of per-epoch dicts")
    rows = [r for r in history if isinstance(r, dict) and r.get("dependency")]
    if not rows:
        raise ValueError("no row of the history has a 'dependency' entry: train with "
                         "ModelConfig(track_dependency=True) or a method that uses it")
    names = sorted(rows[0]["dependency"])
    for r in rows:
        if sorted(r["dependency"]) != names:
            raise ValueError(f"epoch {r.get('epoch')} has modalities {sorted(r['dependency'])}, "
                             f"expected {names}")
    epochs = np.array([r.get("epoch", i) for i, r in enumerate(rows)], dtype=float)  # (E,)
    values = {n: np.array([float(r["dependency"][n]) for r in rows]) for n in names}  # (E,) each
    return epochs, values


def normalised_curves(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """alpha_m = M d_m / sum_k d_k at every epoch (the chapter's normalised dependency,
    `udml.method.dependency.normalised_dependency`).

    values: {name: (E,)} non-negative, as from `dependency_curves`.
    """
    if len(values) < 2:
        raise ValueError(f"need at least 2 modalities, got {sorted(values)}")
    names = sorted(values)
    d = np.stack([np.asarray(values[n], dtype=float) for n in names])  # (M, E)
    if (d < 0).any() or not np.isfinite(d).all():
        raise ValueError("dependency values must be finite and >= 0")
    if (d.sum(0) <= 0).any():
        raise ValueError("the dependencies of some epoch sum to 0: alpha is undefined there")
    alpha = normalised_dependency(d)                                    # (M, E)
    return {n: alpha[i] for i, n in enumerate(names)}


def _noisy_span(history: list[dict]) -> tuple[float, float] | None:
    """The noisy training phase on the plots' 1-based epoch axis, (start, end), or None."""
    noisy = [r.get("epoch", i) + 1 for i, r in enumerate(history) if r.get("noisy")]
    return (min(noisy) - 0.5, max(noisy) + 0.5) if noisy else None


def plot_dependency_history(histories: dict[str, list[dict]], labels: dict[str, str] | None = None
                            ) -> Figure:
    """For each run, D_m per epoch (top row) and alpha_m = M d_m / sum_k d_k (bottom row).

    histories: {title: history} (one column per run, e.g. one per dataset)
    labels: optional {modality name: legend label} (e.g. "m0 (easy)")
    The noisy phase of the schedule (rows with ``noisy`` True) is shaded grey.
    """
    if not isinstance(histories, dict) or not histories:
        raise ValueError("histories must be a non-empty dict {title: history}")
    labels = labels or {}
    apply_style()
    cols = len(histories)
    fig, axes = plt.subplots(2, cols, figsize=(4.2 * cols, 5.6), squeeze=False, sharex="col")
    for c, (title, history) in enumerate(histories.items()):
        epochs, values = dependency_curves(history)
        alpha = normalised_curves(values)
        names = sorted(values)
        span = _noisy_span(history)
        for r, (curves, ylabel) in enumerate(((values, r"running $D_m$"),
                                              (alpha, r"normalised $\alpha_m$"))):
            ax = axes[r, c]
            if span is not None:
                ax.axvspan(*span, color="0.9", zorder=0,
                           label="noisy phase" if r == 0 else None)
            for n in names:
                ax.plot(epochs + 1, curves[n], "-o", ms=3, color=modality_color(n, names),
                        label=labels.get(n, n))
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0)
            if r == 1:
                ax.axhline(1.0, color="0.5", lw=0.8, ls="--")
                ax.set_xlabel("epoch")
        axes[0, c].set_title(title)
        handles, texts = axes[0, c].get_legend_handles_labels()
        axes[1, c].legend(handles, texts, loc="upper center", bbox_to_anchor=(0.5, -0.28),
                          ncol=len(handles))
    fig.tight_layout()
    return fig


def plot_accuracy_vs_level(runs: dict[str, dict[str, dict[str, float]]],
                           modalities: dict[str, list[str]], levels: list[int],
                           titles: dict[str, dict[str, str]] | None = None) -> Figure:
    """Test accuracy against the noise level of one modality: one row per run, one panel per
    corrupted modality, one line per method.

    runs: {run name: {method: {protocol label: accuracy}}} with "clean" (drawn at level 1) and
          "one:<m>@<l>" for every listed modality and level
    modalities: {run name: [modality, ...]} the modalities to corrupt, one panel each, in order
    levels: the levels > 1 that were evaluated
    titles: optional {run name: {modality: panel title}} (e.g. "pix (hard) noisy")
    """
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must be a non-empty dict {run: {method: {protocol: accuracy}}}")
    levels = [int(l) for l in levels]
    if not levels or any(l < 2 for l in levels):
        raise ValueError(f"levels must be a non-empty list of levels >= 2, got {levels}")
    titles = titles or {}
    for run, results in runs.items():
        if run not in modalities or not modalities[run]:
            raise ValueError(f"modalities names no modality to corrupt for run {run!r}")
        if not isinstance(results, dict) or not results:
            raise ValueError(f"run {run!r} has no methods")
        needed = ["clean"] + [f"one:{m}@{l}" for m in modalities[run] for l in levels]
        for method, accs in results.items():
            missing = [p for p in needed if p not in accs]
            if missing:
                raise ValueError(f"run {run!r}, method {method!r} lacks protocols {missing}")
    apply_style()
    cols = max(len(modalities[run]) for run in runs)
    fig, axes = plt.subplots(len(runs), cols, figsize=(4.0 * cols, 3.2 * len(runs)),
                             squeeze=False, sharey=True)
    xs = [1] + levels
    for r, (run, results) in enumerate(runs.items()):
        for c in range(cols):
            ax = axes[r, c]
            if c >= len(modalities[run]):
                ax.set_visible(False)
                continue
            m = modalities[run][c]
            for method, accs in results.items():
                ys = [accs["clean"]] + [accs[f"one:{m}@{l}"] for l in levels]
                ax.plot(xs, ys, "-o", ms=4, color=method_color(method),
                        label=method_label(method))
            ax.set_title(titles.get(run, {}).get(m, f"{run}: {m} noisy"))
            ax.set_xticks(xs)
            if r == len(runs) - 1:
                ax.set_xlabel("noise level of that modality (1 = clean)")
        axes[r, 0].set_ylabel("test accuracy")
    axes[0, 0].legend(loc="lower left")
    fig.tight_layout()
    return fig
