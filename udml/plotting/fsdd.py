"""Figures of the FSDD x mfeat benchmark: a recording's spectrogram and its paired digit under
noise, the fusion weights against the level, and the view of one decision for the panel.

Every function takes plain data (tensors, `udml.training.evaluate.evaluate` reports) and returns a
Figure; the spectrograms come from the model's own front end
(`udml.av.fsdd_model.SpectrogramResNet.spectrogram`).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from .audiovisual import protocol_label
from .style import apply_style, method_label, modality_color

MODALITIES = ("audio", "visual")
SPEC_LABEL = r"$\log(|\mathrm{STFT}| + 10^{-7})$"


def plot_pair_grid(spectrograms: Tensor, images: Tensor, titles: list[str],
                   image_range: tuple[float, float] | None = None) -> Figure:
    """Columns of (spectrogram above, image below): spectrograms (C, 1, F, T), images
    (C, 1, H, W), one title per column. Spectrograms share the first column's colour scale and
    images ``image_range`` (default: the first image's), so that noise saturates the scale."""
    a = torch.as_tensor(spectrograms).detach().cpu().float()
    v = torch.as_tensor(images).detach().cpu().float()
    if a.dim() != 4 or a.shape[1] != 1 or v.dim() != 4 or v.shape[1] != 1:
        raise ValueError(f"need spectrograms (C, 1, F, T) and images (C, 1, H, W), got "
                         f"{tuple(a.shape)} and {tuple(v.shape)}")
    cols = a.shape[0]
    if cols == 0 or v.shape[0] != cols or len(titles) != cols:
        raise ValueError(f"need as many spectrograms ({cols}), images ({v.shape[0]}) and "
                         f"titles ({len(titles)}), at least one")
    lo, hi = float(a[0].min()), float(a[0].max())
    vlo, vhi = image_range if image_range is not None else (float(v[0].min()), float(v[0].max()))
    apply_style()
    fig, axes = plt.subplots(2, cols, figsize=(2.0 * cols + 0.8, 4.6), squeeze=False,
                             gridspec_kw={"height_ratios": [1.0, 1.1]})
    fig.subplots_adjust(hspace=0.4, wspace=0.15)
    for c in range(cols):
        top, bottom = axes[0, c], axes[1, c]
        mesh = top.imshow(a[c, 0].numpy(), origin="lower", aspect="auto", vmin=lo, vmax=hi,
                          cmap="magma")
        top.set_title(titles[c])
        bottom.imshow(v[c, 0].numpy(), cmap="gray_r", vmin=vlo, vmax=vhi)
        for ax in (top, bottom):
            ax.grid(False)
        bottom.set_xticks([])
        bottom.set_yticks([])
        if c == 0:
            top.set_ylabel("frequency bin")
            top.set_xlabel("time frame")
        else:
            top.set_yticklabels([])
    fig.colorbar(mesh, ax=axes[0, :].tolist(), label=SPEC_LABEL, fraction=0.03, pad=0.02)
    return fig


def weights_by_level(report: dict, noisy: str, levels) -> dict[str, np.ndarray]:
    """{modality: (len(levels),) mean fusion weight} with ``noisy`` at each level."""
    out = {m: [] for m in MODALITIES}
    for level in levels:
        entry = report["protocols"][protocol_label(noisy, int(level))]
        if "mean_weights" not in entry:
            raise KeyError("the report has no fusion weights (a method without weights)")
        for m in MODALITIES:
            out[m].append(float(entry["mean_weights"][m]))
    return {m: np.array(v) for m, v in out.items()}


def plot_weights_by_level(reports: dict[str, dict], levels) -> Figure:
    """Mean fusion weights of each method with weights (one line style per method) against the
    level of the corrupted modality: audio noisy (left), visual noisy (right)."""
    reports = {m: r for m, r in reports.items()
               if "mean_weights" in r["protocols"]["clean"]}
    if not reports:
        raise ValueError("no report has fusion weights")
    levels = [int(l) for l in levels]
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(7.4, 3.1), sharey=True)
    styles = ["-", "--", ":", "-."]
    for ax, noisy in zip(axes, MODALITIES):
        for i, (method, report) in enumerate(reports.items()):
            w = weights_by_level(report, noisy, levels)
            for m in MODALITIES:
                ax.plot(levels, w[m], styles[i % 4], marker="o", ms=3,
                        color=modality_color(m, list(MODALITIES)), label=f"{method_label(method)}: $w$ {m}")
        ax.axhline(1.0, color="0.6", lw=1)
        ax.set_title(f"{noisy} noisy")
        ax.set_xlabel("noise level $l$")
        ax.set_xticks(levels)
    axes[0].set_ylabel("mean fusion weight")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_decision(spectrogram: Tensor, image: Tensor, probs: Tensor, weights: dict[str, float],
                  s_hat: dict[str, float], unimodal: dict[str, int], title: str,
                  spec_range: tuple[float, float], image_range: tuple[float, float]) -> Figure:
    """What the model sees and decides for one pair: the corrupted spectrogram (1, F, T) and
    image (1, H, W), the fused class probabilities (10,), and per modality its weight, its
    estimated noise level s_hat and what its own branch predicts."""
    apply_style()
    fig, axes = plt.subplots(1, 3, figsize=(10.0, 3.0), gridspec_kw={"width_ratios": [1.6, 0.8, 1.4]})
    spec_ax, img_ax, bar_ax = axes
    spec_ax.imshow(torch.as_tensor(spectrogram)[0].cpu().numpy(), origin="lower", aspect="auto",
                   vmin=spec_range[0], vmax=spec_range[1], cmap="magma")
    spec_ax.set_title(f"audio: $w$ {weights['audio']:.2f}, $\\hat s$ {s_hat['audio']:.1f}, "
                      f"says {unimodal['audio']}", fontsize=9)
    spec_ax.set_xlabel("time frame")
    spec_ax.set_ylabel("frequency bin")
    img_ax.imshow(torch.as_tensor(image)[0].cpu().numpy(), cmap="gray_r", vmin=image_range[0],
                  vmax=image_range[1])
    img_ax.set_title(f"image: $w$ {weights['visual']:.2f}, $\\hat s$ {s_hat['visual']:.1f}, "
                     f"says {unimodal['visual']}", fontsize=9)
    img_ax.set_xticks([])
    img_ax.set_yticks([])
    for ax in (spec_ax, img_ax):
        ax.grid(False)
    p = torch.as_tensor(probs).detach().cpu().float().numpy()
    bar_ax.bar(np.arange(p.size), p, color="#7570b3")
    bar_ax.set_xticks(np.arange(p.size))
    bar_ax.set_ylim(0, 1)
    bar_ax.set_xlabel("digit")
    bar_ax.set_title(f"fused: {int(p.argmax())} (p = {p.max():.2f})", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
