"""Figures of the estimator chapter: noise on real samples, training curves, scores per level.

Every function takes plain tensors / dicts (no model), checks them, draws one figure in the
book's style (`udml.plotting.style`) and returns it; the caller shows or saves it.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor

from ..training.metrics import HALVES
from .style import apply_style, method_color, modality_color, words

# How each score is labelled and coloured: the estimator is UDML's, mean sigma is the PE measure,
# the energy is QMF's.
SCORE_STYLE = {
    "s_hat": (r"UDML estimate $\hat s$", method_color("udml")),
    "pe_sigma": (r"PE: mean $\sigma$", method_color("pe")),
    "qmf": ("QMF energy", method_color("qmf")),
}
LOSS_PARTS = {"ce": "fused CE", "unimodal": "unimodal CE", "kl": "KL", "estimator": "estimator MSE",
              "rank": "ranking"}


def _image(x: Tensor) -> Tensor:
    """(H, W) or (1, H, W) -> (H, W) on the CPU."""
    x = torch.as_tensor(x).detach().cpu()
    if x.dim() == 3 and x.shape[0] == 1:
        x = x[0]
    if x.dim() != 2:
        raise ValueError(f"an image must be (H, W) or (1, H, W), got shape {tuple(x.shape)}")
    return x.float()


def _range(value_range) -> tuple[float | None, float | None]:
    if value_range is None:
        return None, None
    lo, hi = (float(v) for v in value_range)
    if not lo < hi:
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range}")
    return lo, hi


def _check_levels(levels, n: int, what: str) -> list[int]:
    levels = [int(l) for l in levels]
    if len(levels) != n:
        raise ValueError(f"{what}: got {len(levels)} levels for {n} columns")
    return levels


def plot_level_grid(images: Tensor, levels, value_range=None, row_labels=None) -> Figure:
    """A grid of samples (rows) at noise levels (columns).

    images: (R, L', H, W) or (R, L', 1, H, W), sample r at the l-th listed level
    levels: the L' levels of the columns (titles); value_range: (low, high) of the grey scale
    row_labels: optional R labels (e.g. the digit classes)
    """
    x = torch.as_tensor(images).detach().cpu()
    if x.dim() == 5 and x.shape[2] == 1:
        x = x[:, :, 0]
    if x.dim() != 4 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"images must be (R, L', H, W) or (R, L', 1, H, W), got "
                         f"{tuple(torch.as_tensor(images).shape)}")
    rows, cols = x.shape[:2]
    levels = _check_levels(levels, cols, "plot_level_grid")
    if row_labels is not None and len(row_labels) != rows:
        raise ValueError(f"row_labels: got {len(row_labels)} labels for {rows} rows")
    lo, hi = _range(value_range)
    apply_style()
    fig, axes = plt.subplots(rows, cols, figsize=(0.75 * cols + 0.6, 0.85 * rows + 0.4),
                             squeeze=False)
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            ax.imshow(x[r, c].float().numpy(), cmap="gray_r", vmin=lo, vmax=hi)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if r == 0:
                ax.set_title(f"$l={levels[c]}$", fontsize=9)
            if c == 0 and row_labels is not None:
                ax.set_ylabel(str(row_labels[r]), rotation=0, labelpad=12, va="center")
    fig.supxlabel("noise level $l$", fontsize=10)
    fig.tight_layout(pad=0.3)
    return fig


def plot_vector_levels(vectors: Tensor, levels, clean: Tensor | None = None,
                       name: str = "fou") -> Figure:
    """One small panel per level showing a feature vector, the clean vector drawn behind it.

    vectors: (L', D), the same sample at the L' listed levels; clean: (D,) or None. Each panel
    has its own y scale (the top levels are orders of magnitude wider than the clean vector).
    """
    v = torch.as_tensor(vectors).detach().cpu().float()
    if v.dim() != 2 or v.shape[0] == 0:
        raise ValueError(f"vectors must be (L', D), got shape {tuple(v.shape)}")
    levels = _check_levels(levels, v.shape[0], "plot_vector_levels")
    if clean is not None:
        clean = torch.as_tensor(clean).detach().cpu().float()
        if clean.shape != (v.shape[1],):
            raise ValueError(f"clean must be ({v.shape[1]},), got {tuple(clean.shape)}")
    apply_style()
    n = v.shape[0]
    fig, axes = plt.subplots(n, 1, figsize=(6.0, 0.9 * n + 0.6), sharex=True, squeeze=False)
    for i in range(n):
        ax = axes[i, 0]
        if clean is not None:
            ax.plot(clean.numpy(), color="0.65", lw=1.0, label="clean")
        ax.plot(v[i].numpy(), color=modality_color(name, [name]), lw=1.0, label="corrupted")
        ax.set_ylabel(f"$l={levels[i]}$", rotation=0, labelpad=16, va="center")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    axes[-1, 0].set_xlabel(f"{name} feature index")
    fig.suptitle(f"{name} (standardised units; each panel its own scale)", x=0.02, ha="left",
                 fontsize=10)
    fig.tight_layout(pad=0.3, rect=(0, 0, 1, 0.97))
    # the legend in the title's row, right-aligned, so that the two never overlap
    fig.legend(handles, labels, loc="upper right", ncol=2, frameon=False, fontsize=8,
               bbox_to_anchor=(1.0, 1.0))
    return fig


def plot_kinds(images: dict[str, Tensor], value_range=None) -> Figure:
    """One sample under several corruption kinds, side by side: kind name -> (H, W) image."""
    if not isinstance(images, dict) or not images:
        raise ValueError("images must be a non-empty dict: kind name -> (H, W) image")
    lo, hi = _range(value_range)
    apply_style()
    fig, axes = plt.subplots(1, len(images), figsize=(1.5 * len(images) + 0.4, 2.0), squeeze=False)
    for ax, (kind, img) in zip(axes[0], images.items()):
        ax.imshow(_image(img).numpy(), cmap="gray_r", vmin=lo, vmax=hi)
        ax.set_title(words(kind), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.tight_layout(pad=0.3)
    return fig


def plot_training_curves(history: list[dict], parts=("ce", "unimodal", "kl", "estimator")) -> Figure:
    """Loss parts (left, log scale) and validation accuracy clean / noisy (right) per epoch.

    history: the list of per-epoch dicts of `udml.training.loop.train` (keys loss_<part>,
    val_acc_clean, val_acc_noisy, noisy, use_uncertainty). Dotted lines mark where noise and the
    uncertainty weights switch on. Parts absent from the history are skipped.
    """
    if not isinstance(history, list) or not history:
        raise ValueError("history must be a non-empty list of per-epoch dicts")
    for key in ("epoch", "val_acc_clean", "val_acc_noisy"):
        if key not in history[0]:
            raise ValueError(f"history rows lack {key!r}; pass udml.training.loop's history")
    shown = [p for p in parts if f"loss_{p}" in history[0]]
    if not shown:
        raise ValueError(f"none of the loss parts {list(parts)} is in the history")
    epochs = [row["epoch"] for row in history]
    apply_style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.4))
    for p in shown:
        left.plot(epochs, [row[f"loss_{p}"] for row in history], label=LOSS_PARTS.get(p, p))
    left.set_yscale("log")
    left.set_xlabel("epoch")
    left.set_ylabel("training loss (per sample)")
    left.legend()
    right.plot(epochs, [row["val_acc_clean"] for row in history], label="validation, clean")
    right.plot(epochs, [row["val_acc_noisy"] for row in history], label="validation, noisy")
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy")
    right.set_ylim(0, 1)
    for key, text in (("noisy", "noise on"), ("use_uncertainty", r"$\hat s$ in weights")):
        starts = [row["epoch"] for row in history if row.get(key)]
        if starts:
            for ax in (left, right):
                ax.axvline(starts[0] - 0.5, color="0.4", ls=":", lw=1)
            right.text(starts[0] - 0.3, 0.03, text, fontsize=8, color="0.3", rotation=90,
                       va="bottom")
    right.legend(loc="center right")
    fig.tight_layout()
    return fig


def _check_summary(summary: dict, where: str) -> int:
    for key in ("mean", "q25", "q75"):
        if key not in summary:
            raise ValueError(f"{where}: summary lacks {key!r}; use "
                             "udml.training.level_scores.level_summary")
    n = int(torch.as_tensor(summary["mean"]).numel())
    if n < 2:
        raise ValueError(f"{where}: need at least 2 levels, got {n}")
    return n


def plot_scores_by_level(summaries: dict[str, dict[str, dict]], ylabel: str = "score",
                         diagonal: bool = False, styles: dict | None = None) -> Figure:
    """One panel per modality: each score's mean per level, with its interquartile band.

    summaries: modality -> score key -> `udml.training.level_scores.level_summary` output
               (levels 1..L)
    diagonal:  also draw the ideal y = l (for scores in level units, such as s_hat)
    styles:    score key -> (label, colour); defaults to SCORE_STYLE, else the key in black
    """
    if not isinstance(summaries, dict) or not summaries:
        raise ValueError("summaries must be a non-empty dict: modality -> score -> summary")
    styles = {**SCORE_STYLE, **(styles or {})}
    apply_style()
    mods = sorted(summaries)
    fig, axes = plt.subplots(1, len(mods), figsize=(4.2 * len(mods), 3.4), squeeze=False,
                             sharey=not diagonal)
    for ax, mod in zip(axes[0], mods):
        if not summaries[mod]:
            raise ValueError(f"modality {mod!r} has no scores")
        num_levels = None
        for key, summary in summaries[mod].items():
            n = _check_summary(summary, f"{mod}/{key}")
            if num_levels not in (None, n):
                raise ValueError(f"{mod}: scores cover different numbers of levels")
            num_levels = n
            label, color = styles.get(key, (key, "#000000"))
            lv = list(range(1, n + 1))
            ax.fill_between(lv, torch.as_tensor(summary["q25"]).numpy(),
                            torch.as_tensor(summary["q75"]).numpy(), color=color, alpha=0.15, lw=0)
            ax.plot(lv, torch.as_tensor(summary["mean"]).numpy(), "o-", ms=3.5, color=color,
                    label=label)
        if diagonal:
            ax.plot([1, num_levels], [1, num_levels], color="0.5", ls="--", lw=1, label="ideal $l$")
        ax.set_title(f"noise on {mod} only")
        ax.set_xlabel("true noise level $l$")
        ax.set_xticks(range(1, num_levels + 1))
        ax.set_ylabel(ylabel)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def plot_fusion_view(image: Tensor, vector: Tensor, s_hat: dict[str, float],
                     weights: dict[str, float], probs: Tensor, value_range=None,
                     vector_name: str = "fou", title: str = "") -> Figure:
    """What the fusion sees for one sample: the image, the vector, s_hat and w per modality, and
    the class probabilities (the predicted class highlighted).

    image: (H, W) or (1, H, W); vector: (D,); s_hat, weights: modality -> number; probs: (C,).
    """
    vec = torch.as_tensor(vector).detach().cpu().float()
    if vec.dim() != 1:
        raise ValueError(f"vector must be (D,), got shape {tuple(vec.shape)}")
    p = torch.as_tensor(probs).detach().cpu().float()
    if p.dim() != 1 or p.numel() < 2:
        raise ValueError(f"probs must be (C,) with C >= 2, got shape {tuple(p.shape)}")
    if not math.isclose(float(p.sum()), 1.0, abs_tol=1e-3):
        raise ValueError(f"probs must sum to 1, got {float(p.sum()):.4f}")
    if sorted(s_hat) != sorted(weights) or not s_hat:
        raise ValueError(f"s_hat and weights must name the same modalities, got "
                         f"{sorted(s_hat)} and {sorted(weights)}")
    lo, hi = _range(value_range)
    mods = sorted(s_hat)
    apply_style()
    fig, axes = plt.subplots(1, 5, figsize=(10.4, 2.8),
                             gridspec_kw={"width_ratios": [0.8, 2.0, 1.0, 1.0, 1.6]})
    axes[0].imshow(_image(image).numpy(), cmap="gray_r", vmin=lo, vmax=hi)
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    axes[0].grid(False)
    axes[0].set_title("pix")
    axes[1].plot(vec.numpy(), color=modality_color(vector_name, mods), lw=1)
    axes[1].set_title(vector_name)
    axes[1].set_xlabel("feature index")
    x = torch.arange(len(mods)).float()
    colors = [modality_color(m, mods) for m in mods]
    axes[2].bar(x.numpy(), [s_hat[m] for m in mods], width=0.6, color=colors)
    axes[2].set_xticks(x.numpy(), mods)
    axes[2].set_ylabel(r"estimated level $\hat s_m$")
    axes[2].set_title("estimate")
    axes[3].bar(x.numpy(), [weights[m] for m in mods], width=0.6, color=colors, alpha=0.6)
    axes[3].axhline(1.0, color="0.5", lw=0.8, ls=":")
    axes[3].set_xticks(x.numpy(), mods)
    axes[3].set_ylim(0, len(mods))
    axes[3].set_ylabel("fusion weight $w_m$")
    axes[3].set_title("weight (sum = M)")
    pred = int(p.argmax())
    bar_colors = ["0.7"] * p.numel()
    bar_colors[pred] = method_color("udml")
    axes[4].bar(range(p.numel()), p.numpy(), color=bar_colors)
    axes[4].set_xticks(range(p.numel()))
    axes[4].set_ylim(0, 1)
    axes[4].set_xlabel("class")
    axes[4].set_title(f"prediction {pred} (p = {float(p[pred]):.2f})")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def spearman_table(rho: dict, labels: dict[str, str],
                   ranges=HALVES) -> str:
    """A markdown table of Spearman's rho, the best score of each group in bold.

    rho:    (protocol, modality) -> score key -> range -> rho, e.g. from
            `udml.training.evaluate.unreliability_spearman`; labels: score key -> row label (sets
            the row order)
    One row per (protocol, modality, score), one column per range. NaN prints as "n/a" and is
    never bold.
    """
    if not isinstance(rho, dict) or not rho:
        raise ValueError("rho must be a non-empty dict: (protocol, modality) -> score -> range")
    if not labels:
        raise ValueError("labels must name at least one score")
    lines = ["| protocol | modality | score | " + " | ".join(map(words, ranges)) + " |",
             "| --- | --- | --- |" + " ---: |" * len(ranges)]
    for key, per_score in rho.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(f"rho keys must be (protocol, modality) pairs, got {key!r}")
        missing = [k for k in labels if k not in per_score]
        if missing:
            raise ValueError(f"rho[{key!r}] lacks the scores {missing}")
        for k in labels:
            absent = [r for r in ranges if r not in per_score[k]]
            if absent:
                raise ValueError(f"rho[{key!r}][{k!r}] lacks the ranges {absent}")
        best = {}
        for r in ranges:
            values = [per_score[k][r] for k in labels if not math.isnan(per_score[k][r])]
            best[r] = max(values) if values else None
        for k, label in labels.items():
            cells = []
            for r in ranges:
                v = per_score[k][r]
                text = "n/a" if math.isnan(v) else f"{v:.3f}"
                cells.append(f"**{text}**" if v == best[r] and len(labels) > 1 else text)
            lines.append(f"| {key[0]} | `{key[1]}` | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
