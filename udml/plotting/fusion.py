"""Figures of the fusion chapter: the fused scales' floor, the training schedule, the weights as
one modality gets noisier, and one sample's fusion panel.

Every function takes plain tensors / dicts (no model), checks them, draws one figure in the
book's style (`udml.plotting.style`) and returns it; the caller shows or saves it.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from torch import Tensor

from ..training.schedule import Schedule
from .style import apply_style, method_color, method_label, modality_color

# the phases of the schedule, in order: label and colour
PHASE_STYLE = (("clean warm-up", "#c7e9c0"),
               ("noisy data, $s_m = 1$", "#fdd0a2"),
               ("noisy data, uncertainty weights", "#fb6a4a"))
DEPENDENCY_COLOR = "#6baed6"
METHOD_LINESTYLE = {"udml": "-", "naive": "--"}


def _tensor(x, what: str, dim: int) -> Tensor:
    t = torch.as_tensor(x).detach().cpu().float()
    if t.dim() != dim:
        raise ValueError(f"{what} must have {dim} dimension(s), got shape {tuple(t.shape)}")
    return t


def plot_fused_scales(ratio, weights, names: list[str]) -> Figure:
    """How strongly each modality enters the head as the noise ratio grows, residual vs not.

    ratio:   (R,) the swept quantity on the x axis (e.g. s_2 / s_1), positive, log scale
    weights: (R, M) the fusion weights w_m at each ratio (each row sums to M)
    names:   the M modality names, in the column order of ``weights``
    Left: the residual scale (1 + w_m) (solid) and the plain weight w_m (dashed). Right: the
    smallest scale over the largest, which the residual form keeps above 1 / (M + 1).
    """
    r = _tensor(ratio, "ratio", 1)
    w = _tensor(weights, "weights", 2)
    if w.shape[0] != r.shape[0]:
        raise ValueError(f"weights has {w.shape[0]} rows for {r.shape[0]} ratios")
    if len(names) != w.shape[1]:
        raise ValueError(f"{len(names)} names for {w.shape[1]} weight columns")
    if (r <= 0).any():
        raise ValueError("ratio must be positive (log axis)")
    m = w.shape[1]
    apply_style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 3.4))
    for i, name in enumerate(names):
        color = modality_color(name, names)
        left.plot(r.numpy(), (1 + w[:, i]).numpy(), color=color, label=f"$1 + w$ ({name})")
        left.plot(r.numpy(), w[:, i].numpy(), color=color, ls="--", label=f"$w$ ({name})")
    for level in (0, 1, m, m + 1):
        left.axhline(level, color="0.6", lw=0.8, ls=":")
    left.set_xscale("log")
    left.set_xlabel("noise ratio")
    left.set_ylabel("scale of $z_m$ in the head")
    left.set_title("residual $(1 + w_m)$ vs plain $w_m$")
    left.legend(ncol=2, fontsize=8)
    residual = (1 + w).min(1).values / (1 + w).max(1).values          # (R,)
    plain = w.min(1).values / w.max(1).values.clamp_min(1e-12)        # (R,)
    right.plot(r.numpy(), residual.numpy(), color=method_color("udml"), label="residual $1 + w$")
    right.plot(r.numpy(), plain.numpy(), color="0.3", ls="--", label="plain $w$")
    right.axhline(1 / (m + 1), color=method_color("udml"), lw=0.8, ls=":",
                  label=f"floor $1/(M+1) = 1/{m + 1}$")
    right.set_xscale("log")
    right.set_ylim(0, 1.05)
    right.set_xlabel("noise ratio")
    right.set_ylabel("smallest / largest scale")
    right.set_title("what the noisier modality keeps")
    right.legend()
    fig.tight_layout()
    return fig


def plot_schedule(schedules: dict[str, Schedule], lr_drops: dict[str, int] | None = None) -> Figure:
    """The training phases over epochs, one panel per schedule (label -> `Schedule`).

    Each panel shows the three phases (clean warm-up, noisy data with s_m = 1, noisy data with
    uncertainty weights) and, below, the span over which the dependency D_m is tracked and used
    (all epochs). ``lr_drops`` optionally marks the epoch of each schedule's learning-rate drop.
    """
    if not schedules:
        raise ValueError("schedules is empty: pass at least one label -> Schedule")
    for label, s in schedules.items():
        if not isinstance(s, Schedule):
            raise TypeError(f"schedules[{label!r}] must be a udml.training.schedule.Schedule, "
                            f"got {type(s).__name__}")
    lr_drops = lr_drops or {}
    unknown = set(lr_drops) - set(schedules)
    if unknown:
        raise ValueError(f"lr_drops names unknown schedules {sorted(unknown)}")
    apply_style()
    n = len(schedules)
    fig, axes = plt.subplots(n, 1, figsize=(8.0, 1.3 + 1.0 * n), squeeze=False)
    for ax, (label, s) in zip(axes[:, 0], schedules.items()):
        bounds = [0, s.noisy_from, s.uncertainty_from, s.epochs]
        for (name, color), a, b in zip(PHASE_STYLE, bounds[:-1], bounds[1:]):
            if b > a:
                ax.barh(1, b - a, left=a, height=0.6, color=color, edgecolor="0.3")
        ax.barh(0, s.epochs, left=0, height=0.35, color=DEPENDENCY_COLOR, edgecolor="0.3")
        if label in lr_drops:
            ax.axvline(lr_drops[label], color="0.2", ls="--", lw=1)
            ax.text(lr_drops[label], 1.45, " lr x0.1", fontsize=8, va="center")
        ax.set_yticks([0, 1], ["$D_m$", "data / $s$"])
        ax.set_xlim(0, s.epochs)
        ax.set_ylim(-0.4, 1.7)
        ticks = {0, s.noisy_from, s.uncertainty_from, s.epochs}
        ax.set_xticks(sorted(ticks | ({lr_drops[label]} if label in lr_drops else set())))
        ax.grid(False)
        ax.set_title(f"{label}: {s.epochs} epochs", loc="left")
    axes[-1, 0].set_xlabel("epoch")
    handles = [Patch(color=c, label=name) for name, c in PHASE_STYLE]
    handles.append(Patch(color=DEPENDENCY_COLOR, label="dependency $D_m$ tracked and used"))
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8)
    fig.tight_layout(rect=(0, 0.55 / fig.get_figheight(), 1, 1))
    return fig


def _check_sweep(sweeps: dict, n_levels: int, m: int) -> None:
    if not sweeps:
        raise ValueError("sweeps is empty: pass method -> corrupted modality -> results")
    for method, by_mod in sweeps.items():
        for mod, res in by_mod.items():
            for key in ("weights", "accuracy"):
                if key not in res:
                    raise ValueError(f"sweeps[{method!r}][{mod!r}] lacks {key!r}")
            w, a = torch.as_tensor(res["weights"]), torch.as_tensor(res["accuracy"])
            if tuple(w.shape) != (n_levels, m):
                raise ValueError(f"sweeps[{method!r}][{mod!r}]['weights'] must be "
                                 f"({n_levels}, {m}), got {tuple(w.shape)}")
            if tuple(a.shape) != (n_levels,):
                raise ValueError(f"sweeps[{method!r}][{mod!r}]['accuracy'] must be "
                                 f"({n_levels},), got {tuple(a.shape)}")


MIN_SPAN = 0.05  # the accuracy axis of plot_weight_sweep spans at least 5 points


def plot_weight_sweep(levels, sweeps: dict[str, dict[str, dict]], modalities: list[str]) -> Figure:
    """Mean weights and accuracy as one modality's noise level rises, the others clean.

    levels:     the swept levels (x axis)
    sweeps:     method -> corrupted modality -> {"weights": (levels, M) mean w_m in the order of
                ``modalities``, "accuracy": (levels,)}; optional "band": (levels, M, 2), a lower and
                upper quantile of the per-sample weights, drawn as a shaded band
    modalities: the M modality names (sorted)
    One row per corrupted modality: the weights (left; colour = modality, line style = method)
    and the accuracy (right; colour = method).
    """
    lv = [int(l) for l in levels]
    m = len(modalities)
    _check_sweep(sweeps, len(lv), m)
    corrupted = sorted({mod for by_mod in sweeps.values() for mod in by_mod})
    missing = set(corrupted) - set(modalities)
    if missing:
        raise ValueError(f"sweeps corrupt modalities {sorted(missing)} not in {modalities}")
    apply_style()
    fig, axes = plt.subplots(len(corrupted), 2, figsize=(10.0, 3.0 * len(corrupted)),
                             squeeze=False)
    for row, mod in enumerate(corrupted):
        wax, aax = axes[row]
        for method, by_mod in sweeps.items():
            if mod not in by_mod:
                continue
            res = by_mod[mod]
            ls = METHOD_LINESTYLE.get(method, ":")
            w = torch.as_tensor(res["weights"]).float()
            for i, name in enumerate(modalities):
                color = modality_color(name, modalities)
                wax.plot(lv, w[:, i].numpy(), color=color, ls=ls, marker="o", ms=3,
                         label=f"$w$ {name}, {method_label(method)}")
                if "band" in res:
                    band = torch.as_tensor(res["band"]).float()
                    wax.fill_between(lv, band[:, i, 0].numpy(), band[:, i, 1].numpy(),
                                     color=color, alpha=0.12, lw=0)
            aax.plot(lv, torch.as_tensor(res["accuracy"]).float().numpy(), ls=ls, marker="o",
                     ms=3, color=method_color(method), label=method_label(method))
        wax.axhline(1.0, color="0.6", lw=0.8, ls=":")
        wax.set_ylim(0, m)
        wax.set_ylabel("mean weight $w_m$")
        wax.set_title(f"weights, {mod} noisy")
        aax.set_ylabel("test accuracy")
        aax.set_title(f"accuracy, {mod} noisy")
        # fitted to the data (a 0-1 axis hides the gaps), but at least MIN_SPAN tall, so that a
        # difference of one or two test examples does not look like a swing
        acc = [float(v) for by_mod in sweeps.values() if mod in by_mod
               for v in torch.as_tensor(by_mod[mod]["accuracy"]).flatten()]
        pad = max(MIN_SPAN - (max(acc) - min(acc)), 0.0) / 2 + 0.005
        aax.set_ylim(max(0.0, min(acc) - pad), min(1.0, max(acc) + pad))
        for ax in (wax, aax):
            ax.set_xlabel(f"noise level of {mod}")
            ax.set_xticks(lv)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    more = axes[0, 1].get_legend_handles_labels()
    fig.legend(handles + more[0], labels + more[1], loc="lower center", ncol=3, fontsize=8)
    fig.tight_layout(rect=(0, 0.75 / fig.get_figheight(), 1, 1))
    return fig


def _named_values(values: dict[str, float], what: str, names: list[str]) -> list[float]:
    if sorted(values) != names:
        raise ValueError(f"{what} must name the modalities {names}, got {sorted(values)}")
    return [float(values[n]) for n in names]


def plot_fusion_panel(image, weights: dict[str, float], s_hat: dict[str, float],
                      alpha: dict[str, float], probs, label: int | None = None,
                      value_range=None, title: str = "") -> Figure:
    """One sample through the fusion: corrupted image, w_m, s_hat_m, alpha_m, class probabilities.

    image: (H, W) or (1, H, W); weights, s_hat, alpha: modality -> number (the same modalities);
    alpha is the normalised dependency alpha_m = M D_m / sum_k D_k that enters the weights (all
    ones for a fusion without the dependency); probs: (C,) summing to 1; label: the true class
    (outlined), if known.
    """
    img = torch.as_tensor(image).detach().cpu().float()
    if img.dim() == 3 and img.shape[0] == 1:
        img = img[0]
    if img.dim() != 2:
        raise ValueError(f"image must be (H, W) or (1, H, W), got shape {tuple(img.shape)}")
    p = _tensor(probs, "probs", 1)
    if p.numel() < 2 or not math.isclose(float(p.sum()), 1.0, abs_tol=1e-3):
        raise ValueError(f"probs must be (C,) with C >= 2 summing to 1, got {p.numel()} values "
                         f"summing to {float(p.sum()):.4f}")
    if label is not None and not 0 <= int(label) < p.numel():
        raise ValueError(f"label {label} outside 0..{p.numel() - 1}")
    names = sorted(weights)
    if not names:
        raise ValueError("weights is empty")
    panels = [("fusion weight $w_m$", _named_values(weights, "weights", names), len(names)),
              (r"estimated level $\hat s_m$", _named_values(s_hat, "s_hat", names), None),
              (r"normalised dependency $\alpha_m$", _named_values(alpha, "alpha", names), None)]
    lo, hi = (None, None) if value_range is None else (float(value_range[0]),
                                                      float(value_range[1]))
    apply_style()
    fig, axes = plt.subplots(1, 5, figsize=(11.0, 2.6),
                             gridspec_kw={"width_ratios": [0.9, 1, 1, 1, 2]})
    axes[0].imshow(img.numpy(), cmap="gray_r", vmin=lo, vmax=hi)
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    axes[0].grid(False)
    axes[0].set_title("image seen")
    colors = [modality_color(n, names) for n in names]
    for ax, (name, values, top) in zip(axes[1:4], panels):
        ax.bar(names, values, color=colors)
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
        ax.set_ylim(0, top if top else max(values) * 1.25 + 1e-9)
        ax.set_title(name, fontsize=9)
    pred = int(p.argmax())
    bar_colors = ["0.7"] * p.numel()
    bar_colors[pred] = method_color("udml")
    bars = axes[4].bar(range(p.numel()), p.numpy(), color=bar_colors)
    if label is not None:
        bars[int(label)].set_edgecolor("black")
        bars[int(label)].set_linewidth(1.5)
    axes[4].set_xticks(range(p.numel()))
    axes[4].set_ylim(0, 1)
    axes[4].set_xlabel("class" + ("" if label is None else f" (true: {int(label)}, outlined)"))
    axes[4].set_title(f"fused prediction {pred} (p = {float(p[pred]):.2f})", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig

