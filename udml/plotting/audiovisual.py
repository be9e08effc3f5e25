"""Figures and tables of the audio-visual chapter: clips under noise, training curves with the
running dependency, accuracy against the noise level, and the markdown tables of a run.

Every function takes plain data (tensors, training histories, the dicts of
`udml.training.evaluate.evaluate`; no model), checks it, and returns a Figure or a markdown string.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torch import Tensor

from ..av.frames import IMAGENET_MEAN, IMAGENET_STD
from ..analysis.comparisons import markdown_table
from ..training.metrics import HALVES
from .dependency import dependency_curves
from .style import apply_style, method_color, method_label, modality_color, words

MODALITIES = ("audio", "visual")
NOISY = {"audio": "audio noisy", "visual": "visual noisy", "all": "both noisy"}


def denormalise_frames(frames: Tensor) -> Tensor:
    """ImageNet-normalised frames (..., 3, H, W) -> RGB in [0, 1] (clamped), for display."""
    x = torch.as_tensor(frames).detach().cpu().float()
    if x.dim() < 3 or x.shape[-3] != 3:
        raise ValueError(f"frames must be (..., 3, H, W), got shape {tuple(x.shape)}")
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return (x * std + mean).clamp(0.0, 1.0)


def plot_clip_grid(audio: Tensor, visual: Tensor, titles: list[str], frame: int = 0) -> Figure:
    """One clip under several conditions: spectrograms (top row) and a frame (bottom row).

    audio:  (C, 1, F, T) log spectrograms, column c under condition c
    visual: (C, T_v, 3, S, S) ImageNet-normalised frames; frame ``frame`` of each is shown
    titles: C column titles. All spectrograms share the colour scale of the first column (the
    clean clip, say), so that every column is drawn on the same scale and stronger noise
    saturates it instead of washing the clean spectrogram out.
    """
    a = torch.as_tensor(audio).detach().cpu().float()
    v = torch.as_tensor(visual).detach().cpu().float()
    if a.dim() != 4 or a.shape[1] != 1:
        raise ValueError(f"audio must be (C, 1, F, T), got shape {tuple(a.shape)}")
    if v.dim() != 5 or v.shape[2] != 3:
        raise ValueError(f"visual must be (C, T_v, 3, S, S), got shape {tuple(v.shape)}")
    cols = a.shape[0]
    if cols == 0 or v.shape[0] != cols or len(titles) != cols:
        raise ValueError(f"need as many columns of audio ({cols}), visual ({v.shape[0]}) and "
                         f"titles ({len(titles)}), at least one")
    if not 0 <= frame < v.shape[1]:
        raise ValueError(f"frame {frame} out of range for clips of {v.shape[1]} frames")
    if not torch.isfinite(a).all():
        raise ValueError("audio holds non-finite values")
    lo, hi = float(a[0].min()), float(a[0].max())
    images = denormalise_frames(v[:, frame])  # (C, 3, S, S)
    apply_style()
    fig, axes = plt.subplots(2, cols, figsize=(2.1 * cols + 0.8, 4.4), squeeze=False)
    fig.subplots_adjust(hspace=0.45, wspace=0.15)
    for c in range(cols):
        top, bottom = axes[0, c], axes[1, c]
        mesh = top.imshow(a[c, 0].numpy(), origin="lower", aspect="auto", vmin=lo, vmax=hi,
                          cmap="magma")
        top.set_title(titles[c])
        bottom.imshow(images[c].permute(1, 2, 0).numpy())
        bottom.set_xticks([])
        bottom.set_yticks([])
        top.grid(False)
        bottom.grid(False)
        if c == 0:
            top.set_ylabel("frequency bin")
            top.set_xlabel("time frame")
            bottom.set_ylabel(f"frame {frame + 1} of {v.shape[1]}")
        else:
            top.set_yticklabels([])
    fig.colorbar(mesh, ax=axes[0, :].tolist(), label=r"$\log(|\mathrm{STFT}| + 10^{-7})$",
                 fraction=0.03, pad=0.02)
    return fig


def _check_histories(histories: dict[str, list[dict]]) -> None:
    if not isinstance(histories, dict) or not histories:
        raise ValueError("histories must be a non-empty dict method -> list of per-epoch dicts")
    for method, hist in histories.items():
        if not isinstance(hist, list) or not hist:
            raise ValueError(f"history of {method!r} must be a non-empty list of per-epoch dicts")
        for key in ("epoch", "loss_total", "val_acc_clean", "val_acc_noisy"):
            if key not in hist[0]:
                raise ValueError(f"history of {method!r} lacks {key!r}; pass udml.training.loop's "
                                 "history")


def plot_av_history(histories: dict[str, list[dict]]) -> Figure:
    """Training curves of several methods: total loss, validation accuracy (clean solid, noisy
    dashed), and the running dependency D_m of each method that tracks it (one colour per
    modality, one line style per method). A dotted line marks where noise switches on.

    histories: method -> the list of per-epoch dicts of `udml.training.loop.train`.
    """
    _check_histories(histories)
    apply_style()
    fig, (loss_ax, acc_ax, dep_ax) = plt.subplots(1, 3, figsize=(10.0, 3.3))
    styles = ["-", "--", ":", "-."]
    tracked = 0
    for i, (method, hist) in enumerate(histories.items()):
        epochs = [r["epoch"] + 1 for r in hist]
        colour, label = method_color(method), method_label(method)
        loss_ax.plot(epochs, [r["loss_total"] for r in hist], color=colour, label=label)
        acc_ax.plot(epochs, [r["val_acc_clean"] for r in hist], color=colour, label=label)
        acc_ax.plot(epochs, [r["val_acc_noisy"] for r in hist], color=colour, ls="--")
        if any(r.get("dependency") for r in hist):
            dep_epochs, values = dependency_curves(hist)
            for m, d in values.items():
                dep_ax.plot(dep_epochs + 1, d, color=modality_color(m, list(values)),
                            ls=styles[i % len(styles)], label=f"{m}, {label}")
            tracked += 1
    first = next(iter(histories.values()))
    noisy = [r["epoch"] + 1 for r in first if r.get("noisy")]
    for ax in (loss_ax, acc_ax, dep_ax):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if noisy:
            ax.axvline(noisy[0] - 0.5, color="0.4", ls=":", lw=1)
    loss_ax.set_ylabel("training loss (per sample)")
    loss_ax.legend()
    acc_ax.set_ylabel("validation accuracy")
    acc_ax.set_ylim(0, 1.02)
    acc_ax.set_title("solid: clean, dashed: noisy", fontsize=9)
    dep_ax.set_ylabel(r"running dependency $D_m$")
    if tracked:
        dep_ax.legend(fontsize=8)
    else:
        dep_ax.text(0.5, 0.5, "no method tracked $D_m$", ha="center", va="center",
                    transform=dep_ax.transAxes)
    fig.tight_layout()
    return fig


def protocol_label(noisy: str, level: int) -> str:
    """The `udml.corrupt` protocol of ``noisy`` ('all' or a modality) at ``level`` (1 = clean)."""
    if isinstance(level, bool) or not isinstance(level, int) or level < 1:
        raise ValueError(f"level must be an int >= 1, got {level!r}")
    if level == 1:
        return "clean"
    return f"all@{level}" if noisy == "all" else f"one:{noisy}@{level}"


def accuracy_by_level(report: dict, noisy: str, levels) -> np.ndarray:
    """(len(levels),) fused accuracies of an `evaluate` report with ``noisy`` ('all' or a
    modality) at each level; KeyError naming the protocol the report lacks."""
    protocols = report.get("protocols") if isinstance(report, dict) else None
    if not isinstance(protocols, dict):
        raise ValueError("report must be a dict of udml.training.evaluate.evaluate with "
                         "'protocols'")
    out = []
    for level in levels:
        label = protocol_label(noisy, level)
        if label not in protocols:
            raise KeyError(f"the report has no protocol {label!r}; evaluate it first")
        out.append(float(protocols[label]["accuracy"]))
    return np.array(out)


def plot_accuracy_by_level(reports: dict[str, dict], levels, noisy=("audio", "visual", "all"),
                           chance: float | None = None) -> Figure:
    """Test accuracy against the noise level, one panel per corrupted modality, one line per
    method; ``chance`` (e.g. 1 / classes) is drawn as a grey line."""
    if not isinstance(reports, dict) or not reports:
        raise ValueError("reports must be a non-empty dict method -> evaluate() report")
    levels = [int(l) for l in levels]
    if not levels:
        raise ValueError("levels must not be empty")
    apply_style()
    fig, axes = plt.subplots(1, len(noisy), figsize=(3.2 * len(noisy) + 0.4, 3.1), sharey=True,
                             squeeze=False)
    for ax, which in zip(axes[0], noisy):
        for method, report in reports.items():
            acc = accuracy_by_level(report, which, levels)
            ax.plot(levels, acc, "o-", color=method_color(method),
                    label=method_label(method))
        if chance is not None:
            ax.axhline(chance, color="0.6", lw=1, ls="--", label="chance")
        ax.set_title(NOISY.get(which, f"{which} noisy"))
        ax.set_xlabel("noise level $l$")
        ax.set_xticks(levels)
        ax.set_ylim(0, 1.02)
    axes[0, 0].set_ylabel("test accuracy")
    axes[0, -1].legend()
    fig.tight_layout()
    return fig


def _fmt(value: float, digits: int) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.{digits}f}"


def results_table(reports: dict[str, dict], protocols: list[str], digits: int = 3) -> str:
    """Markdown: one row per method, the fused accuracy under each protocol (a column)."""
    if not isinstance(reports, dict) or not reports:
        raise ValueError("reports must be a non-empty dict method -> evaluate() report")
    if not protocols:
        raise ValueError("protocols must not be empty")
    rows = []
    for method, report in reports.items():
        cells = []
        for p in protocols:
            if p not in report.get("protocols", {}):
                raise KeyError(f"the report of {method!r} has no protocol {p!r}")
            cells.append(_fmt(report["protocols"][p]["accuracy"], digits))
        rows.append([method_label(method), *cells])
    return markdown_table(["method", *(f"`{p}`" for p in protocols)], rows)


def weights_table(reports: dict[str, dict], protocols: list[str], digits: int = 2) -> str:
    """Markdown: the mean fusion weights (audio / visual) per method that has weights, under
    each protocol; methods without weights (static fusion) are left out."""
    rows = {m: r for m, r in reports.items()
            if any("mean_weights" in e for e in r.get("protocols", {}).values())}
    if not rows:
        raise ValueError("no report carries fusion weights (static fusion has none)")
    table = []
    for method, report in rows.items():
        cells = []
        for p in protocols:
            w = report["protocols"][p]["mean_weights"]
            cells.append(" / ".join(_fmt(w[m], digits) for m in sorted(w)))
        table.append([method_label(method), *cells])
    return markdown_table(["method", *(f"`{p}`" for p in protocols)], table)


def spearman_table(reports: dict[str, dict], score_names: dict[str, str] | None = None,
                   digits: int = 2) -> str:
    """Markdown: Spearman's rho of each method's unreliability score with the true level (random
    protocol), per modality over all levels and over the lower and the upper half of the levels."""
    score_names = score_names or {}
    if not isinstance(reports, dict) or not reports:
        raise ValueError("reports must be a non-empty dict method -> evaluate() report")
    head, rows = None, []
    for method, report in reports.items():
        rho = report.get("spearman")
        if not rho:
            raise KeyError(f"the report of {method!r} has no 'spearman': evaluate the random "
                           "protocol")
        names = sorted(rho)
        head = head or [f"{m}, {words(r)}" for m in names for r in HALVES]
        cells = [_fmt(rho[m][r], digits) for m in names for r in HALVES]
        label = method_label(method)
        if method in score_names:
            label += f" ({score_names[method]})"
        rows.append([label, *cells])
    return markdown_table(["method (score)", *head], rows)
