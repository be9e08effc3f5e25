# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A template chapter
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/REPLACE-WITH-OWNER/udml-book/blob/main/book/00_template.ipynb)
#
# This page exercises the machinery of the book on a toy problem, with the skeleton every chapter
# follows: purpose, setup, short steps with prose before each cell, a result with a check, a
# summary and exercises. It is executed by papermill (`python book/build.py`), rendered by
# Jupyter Book from its stored outputs, re-run and compared by nbval, and opened in Colab by the
# badge above. **Run time:** a few seconds on a CPU.
#
# **What you will build:** a Monte-Carlo check that the mean of $n$ samples of spread $\sigma$
# scatters by $\sigma / \sqrt{n}$, the arithmetic behind every inverse-variance weight in this
# book.

# %%
# Install guard: installs `udml` (with its data) from the book's
# repository when it is missing, as on Colab; a no-op otherwise.
try:
    import udml  # noqa: F401
except ImportError:
    # %pip install --quiet "udml @ git+https://github.com/REPLACE-WITH-OWNER/udml-book@main"

# %% [markdown]
# ## Setup
#
# The next cell is the chapter's `parameters` cell: `python book/build.py --device cuda --profile
# gpu` (papermill) injects new values right after it. `profile` picks the size of the run:
# `tiny` for the tests, `default` for the CPU run whose outputs are stored, `gpu` for a longer run.

# %% tags=["parameters"]
device = "auto"  # "auto" (cuda when available, else cpu), "cpu" or "cuda"
seed = 0  # the one seed of everything random in this chapter
profile = "default"  # "tiny", "default" or "gpu"

# %%
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display
from tqdm import tqdm

from udml.seed import seed_everything

try:
    from myst_nb import glue  # puts computed numbers into the prose
except ImportError:  # no book renderer (on Colab, say): print them

    def glue(name, value, display=True):
        print(f"{name} = {value}")


# sample sizes n and repetitions of the experiment, per run profile
PROFILES = {
    "tiny": {"sizes": [4, 16, 64], "repeats": 50},
    "default": {"sizes": [4, 16, 64, 256, 1024], "repeats": 400},
    "gpu": {"sizes": [4, 16, 64, 256, 1024, 4096, 16384], "repeats": 4000},
}
if profile not in PROFILES:
    raise ValueError(f"profile must be in {sorted(PROFILES)}: {profile!r}")
if device not in ("auto", "cpu", "cuda"):
    raise ValueError(f"device must be auto, cpu or cuda: {device!r}")
if device == "auto":
    device = "cuda" if torch.cuda.is_available() else "cpu"
settings = PROFILES[profile]
generator = seed_everything(seed)
started = time.perf_counter()
print(f"device={device} profile={profile} seed={seed}")

# %% [markdown]
# ## The experiment
#
# Draw `repeats` independent samples of size $n$ from $\mathcal{N}(0, \sigma^2)$, take each
# sample's mean, and measure how much the means scatter. Theory says
#
# $$
# \operatorname{SE}(\bar x_n) = \frac{\sigma}{\sqrt{n}} .
# $$
#
# The same arithmetic drives the fusion weights of UDML, where a modality's weight grows with the
# inverse of its squared uncertainty:
#
# \begin{align}
# u_m &= \frac{1}{s_m^2 D_m}, & w_m &= M \, \frac{u_m}{\sum_k u_k} .
# \end{align}

# %%
sigma = 2.0
rows = []
for n in tqdm(settings["sizes"], desc="sample sizes"):
    noise = torch.randn(settings["repeats"], n, generator=generator)
    samples = sigma * noise.to(device)  # (R, n)
    means = samples.mean(dim=1)  # (R,)
    empirical = means.std().item()
    rows.append({"n": n, "empirical": empirical, "theory": sigma / n**0.5})

# %% [markdown]
# ## Result
#
# The table compares the measured scatter with the formula; the check below fails the chapter
# if any ratio strays further than four standard errors of a standard deviation estimate,
# $4 / \sqrt{2R}$ for $R$ repeats.

# %%
lines = [
    "| $n$ | measured SE | $\\sigma/\\sqrt{n}$ | ratio |",
    "| ---: | ---: | ---: | ---: |",
]
for row in rows:
    ratio = row["empirical"] / row["theory"]
    lines.append(f"| {row['n']} | {row['empirical']:.4f} "
                 f"| {row['theory']:.4f} | {ratio:.3f} |")
display(Markdown("\n".join(lines)))

worst = max(abs(row["empirical"] / row["theory"] - 1) for row in rows)
tolerance = 4 / (2 * settings["repeats"]) ** 0.5
assert worst < tolerance, f"SE off by {worst:.3f} > {tolerance:.3f}"
glue("worst_deviation", worst, display=False)
glue("repeats", settings["repeats"], display=False)

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
ns = [row["n"] for row in rows]
theory = [row["theory"] for row in rows]
measured = [row["empirical"] for row in rows]
ax.loglog(ns, theory, "-", color="0.5", label=r"$\sigma/\sqrt{n}$")
ax.loglog(ns, measured, "o", label="measured")
ax.set_xlabel("sample size $n$")
ax.set_ylabel("scatter of the mean")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# Over {glue:text}`repeats` repeats, the largest relative deviation from the formula is
# {glue:text}`worst_deviation:.3f`.
#
# ## Explore
#
# Move the slider to draw the sample means for another $n$; the curve is the normal density that
# theory predicts. (The rendered book shows the stored state; run the notebook to make it live.)
# The cell is tagged `nbval-ignore-output`: a widget's output is drawn by the front end, which
# nbval does not emulate, so nbval runs the cell but does not compare what it shows.

# %% tags=["nbval-ignore-output"]
def show_means(n):
    """Histogram of the sample means for size n (own generator per n)."""
    local = torch.Generator().manual_seed(seed * 100_003 + n)
    draws = torch.randn(settings["repeats"], n, generator=local)  # (R, n)
    means = (sigma * draws).mean(dim=1)  # (R,)
    se = sigma / n**0.5
    grid = torch.linspace(-3, 3, 200) * se
    density = torch.exp(-0.5 * (grid / se) ** 2) / (se * (2 * torch.pi) ** 0.5)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(means.numpy(), bins=30, density=True, alpha=0.6,
            label="sample means")
    ax.plot(grid.numpy(), density.numpy(), color="0.2", label="theory")
    ax.set_xlabel(r"$\bar x_n$")
    ax.legend()
    plt.show()


sizes = settings["sizes"]
slider = widgets.SelectionSlider(options=sizes, value=sizes[1],
                                 description="n")
display(widgets.interactive(show_means, n=slider))

# %% [markdown]
# ## Summary
#
# - The parameters cell, the seed and the device follow the book's conventions.
# - The measured scatter of the mean follows $\sigma/\sqrt{n}$; the assertion keeps it so.

# %%
print(f"wall time: {time.perf_counter() - started:.2f} s")

# %% [markdown]
# ## Exercises
#
# 1. By how much does the scatter shrink when $n$ grows by a factor of 16?
#
# :::{admonition} Solution
# :class: dropdown
#
# By a factor of $\sqrt{16} = 4$.
# :::
