"""Draw the opening page's toy example of the two failures: python book/toy_figure.py

Two modalities, A and B, each a smooth signal; B is damaged at levels 1..11 (1 = clean) by the
Gaussian noise a quality score was fitted on, or by a blur it never saw. The score reads the
roughness of the signal (the mean squared step between neighbouring samples), mapped to a level
by a least-squares line fitted on noisy signals in a fraction of a second. Panels: (a) how far
each damage takes B from its clean self; (b) the score against the level; (c) the
inverse-variance weight of B that the score gives (`udml.method.weights.unbiased_weights` with
D_m = 1); (d) the weight of B under the noise when the network relies on A more than on B, with
dependency ratios D_A / D_B read from the committed results (UDML's alpha_m, mean over seeds).
Seeded; writes book/images/toy.png.
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from udml.corrupt import blur, gaussian, levels_to_strength  # noqa: E402
from udml.experiments.files import read_results  # noqa: E402
from udml.method.weights import unbiased_weights  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "book" / "images" / "toy.png"
LEVELS = 11
LENGTH, SAMPLES = 64, 400          # samples of a signal, signals per level
NOISE_TOP, BLUR_TOP = 1.5, 8.0     # noise std (in signal stds) and blur std (in samples) at l = L
RATIOS = {"synthetic set": ("main", "synthetic"), "spoken digits": ("av", "fsdd"),
          "mfeat digits": ("main", "mfeat")}
SEEN, UNSEEN = "#1f77b4", "#d62728"


def signals(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, LENGTH) smooth signals: three sines of 2 to 4 cycles, random phases, unit spread."""
    pos = torch.arange(LENGTH, dtype=torch.float32) / LENGTH                    # (N,)
    cycles = torch.randint(2, 5, (n, 3, 1), generator=generator).float()         # (n, 3, 1)
    phase = 2 * math.pi * torch.rand(n, 3, 1, generator=generator)               # (n, 3, 1)
    x = torch.sin(2 * math.pi * cycles * pos + phase).sum(dim=1)                 # (n, N)
    return (x - x.mean(1, keepdim=True)) / x.std(1, keepdim=True)


def damage(x: torch.Tensor, level: int, kind: str, generator: torch.Generator) -> torch.Tensor:
    """x (n, N) at one level of the Gaussian noise ("noise") or the blur ("blur")."""
    t = levels_to_strength(torch.full((x.shape[0],), level), LEVELS)             # (n,)
    if kind == "noise":
        return gaussian(x, t, NOISE_TOP, generator)
    return blur(x, t, BLUR_TOP)


def roughness(x: torch.Tensor) -> torch.Tensor:
    """(n,) log of the mean squared step between neighbouring samples: noise raises it."""
    return (x[:, 1:] - x[:, :-1]).pow(2).mean(1).log()


def fit_score(generator: torch.Generator):
    """A quality score fitted on noisy signals only: log s_hat = a + b * roughness, by least
    squares against log l over every level. Returns the score, a function of x (n, N) -> (n,)."""
    feats, targets = [], []
    for level in range(1, LEVELS + 1):
        x = damage(signals(SAMPLES, generator), level, "noise", generator)
        feats.append(roughness(x))
        targets.append(torch.full((SAMPLES,), math.log(level)))
    f, y = torch.cat(feats), torch.cat(targets)                                  # (L * n,)
    design = torch.stack([torch.ones_like(f), f], dim=1)                         # (L * n, 2)
    a, b = torch.linalg.lstsq(design, y[:, None]).solution[:, 0]
    return lambda x: torch.exp(a + b * roughness(x))


def dependency_ratio(folder: str, dataset: str) -> float:
    """The larger over the smaller normalised dependency alpha_m of UDML, mean over the seeds."""
    rows = read_results(ROOT / "results" / folder / f"{dataset}.parquet").rows
    alpha = rows[(rows.metric == "dependency_normalised") & (rows.method == "udml")]
    mean = alpha.groupby("modality")["value"].mean()
    return float(mean.max() / mean.min())


def curves(generator: torch.Generator) -> dict:
    """Per kind, per level: distance from clean, mean score of B, mean weight of B (D = 1), and
    under the noise the weight of B for each dependency ratio D_A / D_B."""
    score = fit_score(generator)
    ratios = {name: dependency_ratio(*where) for name, where in RATIOS.items()}
    out = {"levels": list(range(1, LEVELS + 1)), "ratios": ratios}
    for kind in ("noise", "blur"):
        dist, s_b, w_b = [], [], []
        by_ratio = {name: [] for name in ratios}
        for level in out["levels"]:
            a, b = signals(SAMPLES, generator), signals(SAMPLES, generator)      # (n, N) each
            b_hat = damage(b, level, kind, generator)
            dist.append(float(((b_hat - b).norm(dim=1) / b.norm(dim=1)).mean()))
            s = torch.stack([score(a), score(b_hat)], dim=1)                     # (n, 2)
            s_b.append(float(s[:, 1].mean()))
            w_b.append(float(unbiased_weights(s, torch.ones(2))[:, 1].mean()))
            for name, r in ratios.items():
                w = unbiased_weights(s, torch.tensor([r, 1.0]))                  # (n, 2)
                by_ratio[name].append(float(w[:, 1].mean()))
        out[kind] = {"dist": dist, "score": s_b, "weight": w_b, "by_ratio": by_ratio}
    return out


def draw(c: dict) -> plt.Figure:
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.4))
    lv = c["levels"]
    labels = {"noise": "noise (the score was fitted on it)", "blur": "blur (never seen)"}
    colors = {"noise": SEEN, "blur": UNSEEN}
    ax = axes[0, 0]
    for kind in ("noise", "blur"):
        ax.plot(lv, c[kind]["dist"], "o-", ms=3, color=colors[kind], label=labels[kind])
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":", label="as far as a blank signal")
    ax.set_ylabel("distance of B from its clean self\n(relative to its size)")
    ax.set_title("(a) both kinds of damage wreck B", fontsize=10)
    ax = axes[0, 1]
    ax.plot(lv, lv, ":", color="0.5", label="the true level")
    for kind in ("noise", "blur"):
        ax.plot(lv, c[kind]["score"], "o-", ms=3, color=colors[kind], label=labels[kind])
    ax.set_yscale("log")
    ax.set_ylabel(r"score of B, $\hat s_B$ (log scale)")
    ax.set_title("(b) the score reads only the damage it was fitted on", fontsize=10)
    ax = axes[1, 0]
    for kind in ("noise", "blur"):
        ax.plot(lv, c[kind]["weight"], "o-", ms=3, color=colors[kind], label=labels[kind])
    ax.set_ylabel(r"weight of B, $w_B$ ($D_A = D_B$)")
    ax.set_title("(c) inverse-variance weights follow the score", fontsize=10)
    ax = axes[1, 1]
    ax.plot(lv, c["noise"]["weight"], "o-", ms=3, color=SEEN, label=r"$D$ ignored (naive)")
    shades = ["#9ecae1", "#4292c6", "#08306b"]
    for (name, ratio), color in zip(c["ratios"].items(), shades):
        ax.plot(lv, c["noise"]["by_ratio"][name], "s--", ms=3, color=color,
                label=rf"$D_A / D_B$ = {ratio:.2f} ({name})")
    ax.set_ylabel(r"weight of B, $w_B$, under the noise")
    ax.set_title("(d) dividing by the dependency lifts the less-used B", fontsize=10)
    for ax in axes.flat:
        ax.set_xlabel("damage level of B (1 = clean; A stays clean)")
        ax.set_xticks(lv)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, frameon=False)
    for ax in axes[1]:
        ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
        ax.set_ylim(0, 2)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    OUT.parent.mkdir(exist_ok=True)
    draw(curves(torch.Generator().manual_seed(0))).savefig(OUT, dpi=120, bbox_inches="tight",
                                                            metadata={"Software": None})
    print(f"wrote {OUT.relative_to(ROOT)}")
