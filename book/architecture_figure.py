"""Draw the opening page's architecture figure: python book/architecture_figure.py

One sample, two modalities: encoders -> (mu, sigma) -> the estimator behind a stop-gradient ->
the weights; the dependency measured by dropping a modality; the residual rescaling and the head.
Writes book/images/architecture.png. Nothing is trained here.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

OUT = Path(__file__).with_name("images") / "architecture.png"
BLUE, ORANGE, GREY, GREEN = "#dbe9f6", "#fde3c8", "#eeeeee", "#dcefd9"


def box(ax, x, y, text, color=GREY, w=1.5, h=0.62):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04",
                                fc=color, ec="0.3", lw=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5)


def arrow(ax, a, b, style="-|>", ls="-", color="0.25", rad=0.0):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=9, lw=0.9, ls=ls,
                                 color=color, shrinkA=2, shrinkB=2,
                                 connectionstyle=f"arc3,rad={rad}"))


def draw() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(10.5, 4.6))
    ax.set_xlim(0, 15.2)
    ax.set_ylim(0, 6.4)
    ax.axis("off")
    rows = {"image  $x_1$": 4.9, "vector  $x_2$": 1.5}
    for i, (name, y) in enumerate(rows.items(), start=1):
        box(ax, 0.9, y, name, w=1.3)
        box(ax, 2.8, y, f"encoder $f_{i}$", BLUE)
        box(ax, 4.9, y + 0.45, f"$\\mu_{i}$", BLUE, w=1.0, h=0.5)
        box(ax, 4.9, y - 0.45, f"$\\sigma_{i}$", BLUE, w=1.0, h=0.5)
        box(ax, 7.1, y - 0.45, f"estimator $g_{i}$\n$\\hat s_{i}$ = predicted level", ORANGE,
            w=1.9, h=0.75)
        box(ax, 9.4, y + 0.45, f"$(1 + w_{i})\\, z_{i}$", GREEN, w=1.4, h=0.55)
        arrow(ax, (1.55, y), (2.05, y))
        arrow(ax, (3.55, y), (4.4, y + 0.45))
        arrow(ax, (3.55, y), (4.4, y - 0.45))
        arrow(ax, (5.4, y - 0.45), (6.15, y - 0.45), ls="--")
        ax.text(5.78, y - 0.2, "stop-\ngradient", fontsize=6.5, ha="center", color="0.35")
        arrow(ax, (5.4, y + 0.45), (8.7, y + 0.45))
        ax.text(6.9, y + 0.62, f"$z_{i} = \\mu_{i}$ (+ noise in training)", fontsize=7,
                ha="center", color="0.35")
        arrow(ax, (10.1, y + 0.45), (11.55, 3.2 + (0.35 if i == 1 else -0.35)))
        arrow(ax, (8.05, y - 0.45), (8.75, 3.2 + (0.55 if i == 1 else -0.55)), color="#b25f00")
    box(ax, 9.4, 3.2, "weights\n$u_m = 1 / (\\hat s_m^2 D_m)$\n$w_m = M u_m / \\sum_k u_k$",
        GREEN, w=2.3, h=1.05)
    arrow(ax, (9.4, 3.75), (9.4, 5.05))
    arrow(ax, (9.4, 2.67), (9.4, 2.2))
    box(ax, 12.3, 3.2, "fusion head\n$\\pi$ = class logits", GREY, w=1.6, h=0.8)
    box(ax, 12.3, 1.2, "dependency $D_m$:\nhow far $\\pi$ moves when\nmodality $m$ is dropped\n"
        "(running average)", "#f3e1f3", w=2.4, h=1.15)
    arrow(ax, (12.3, 2.8), (12.3, 1.78), ls="--", color="#7a3c7a")
    arrow(ax, (11.1, 1.4), (10.3, 2.75), color="#7a3c7a", rad=-0.2)
    box(ax, 14.35, 3.2, "prediction", GREY, w=1.2, h=0.5)
    arrow(ax, (13.1, 3.2), (13.75, 3.2))
    ax.text(9.4, 3.95, "per sample", fontsize=7.5, ha="left", color="#b25f00")
    ax.text(12.3, 0.25, "one number per modality, from training", fontsize=7.5, ha="center",
            color="#7a3c7a")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    OUT.parent.mkdir(exist_ok=True)
    draw().savefig(OUT, dpi=130, bbox_inches="tight")
    print(f"wrote {OUT}")
