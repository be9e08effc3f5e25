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
# # Unbiased fusion weights: the full UDML model
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/REPLACE-WITH-OWNER/udml-book/blob/main/book/04_fusion.ipynb)
#
# The two previous chapters built UDML's two measurements: the noise-aware estimate
# $\hat s_m$ of how noisy modality $m$ is in a given sample, and the dependency $D_m$, how much
# the trained network relies on modality $m$. This chapter puts them together into the fusion
# weights, trains the full model and watches what the weights do when one modality gets noisier.
#
# **Before you start:** chapter 2 (the estimate $\hat s_m$) and chapter 3 (the dependency $D_m$);
# inverse-variance weighting is derived here from scratch.
#
# **What you will build:**
#
# 1. the weights formula, derived in four steps from inverse-variance weighting, each step
#    computed by hand on a tiny tensor and checked against `udml.method.weights`;
# 2. the floor that the residual form $(1 + w_m)\, z_m$ puts under every modality;
# 3. the training schedule (clean warm-up, noisy data, then uncertainty weights), drawn;
# 4. a UDML model and a naive dynamic-fusion model (the same without $D_m$) trained on the mfeat
#    digits, with the weights and the accuracy as one modality's noise rises from level 1 to 11;
# 5. a panel of widgets to play with, and the same model for six modalities.
#
# **Run time:** {glue:md}`run_time:myst` on a 2-core CPU (default profile).

# %% [markdown]
# ## Setup
#
# The parameters and profiles, and how to run the chapter: {doc}`appendix_running`.

# %%
# Install guard: installs `udml` (with its data) from the book's
# repository when it is missing, as on Colab; a no-op otherwise.
try:
    import udml  # noqa: F401
except ImportError:
    # %pip install --quiet "udml @ git+https://github.com/REPLACE-WITH-OWNER/udml-book@main"

# %% tags=["parameters"]
device = "auto"  # "auto" (cuda when available, else cpu), "cpu" or "cuda"
seed = 0  # the one seed of everything random in this chapter
profile = "default"  # "tiny", "default" or "gpu"

# %% tags=["hide-input"]
import ipywidgets as widgets
import torch
from IPython.display import Markdown, display

import udml
from udml.config import ModelConfig, TrainConfig
from udml.corrupt import apply_noise
from udml.data import load_dataset
from udml.models.encoders import build_encoders
from udml.training.evaluate import evaluate, predict
from udml.training.metrics import accuracy
from udml.models import build_model
from udml.corrupt.scales import default_specs
from udml.book.notebook import glue, glue_figure, report_time, setup
from udml.book.panel import figure_panel
from udml.plotting import fusion as plots
from udml.training.schedule import Schedule
from udml.training.loop import fit
from udml.method.weights import rescale, unbiased_weights

# epochs of each model; the noise levels swept; test samples used in the sweep (None = all)
PROFILES = {
    "tiny": {"epochs": 2, "levels": [1, 6, 11], "test_size": 60},
    "default": {"epochs": 24, "levels": list(range(1, 12)), "test_size": None},
    "gpu": {"epochs": 100, "levels": list(range(1, 12)), "test_size": None},
}
dev, settings, generator, started = setup(device, seed, profile, PROFILES)
print(f"udml {udml.__version__}, settings: {settings}")

# %% [markdown]
# ## The weights, step by step
#
# UDML fuses $M$ modalities with per-sample weights
#
# $$
# u_m = \frac{1}{\hat s_m^2 \, D_m}, \qquad w_m = M \, \frac{u_m}{\sum_k u_k}, \qquad
# \text{head input } (1 + w_m)\, z_m ,
# $$
#
# where $\hat s_m$ is the estimated noise level of modality $m$ in this sample (1 = clean),
# $D_m$ the modality's dependency (how much the trained head relies on it; one number per
# modality, not per sample) and $z_m$ its embedding. Each piece has a reason; we build the formula
# one piece at a time on a batch of four samples with two modalities, and check every step
# against `udml`.
#
# ### Step 1: inverse-variance weighting
#
# Suppose each modality gives an independent, unbiased estimate of the same quantity, with
# noise of standard deviation $s_m$. (This is an analogy: $\hat s_m$ is a predicted noise
# *level*, not the standard deviation of a modality's evidence; the formula borrows the form of
# inverse-variance weighting, not its optimality guarantee.) Averaging them with weights $a_m$
# ($\sum_m a_m = 1$) gives an estimate of variance $\sum_m a_m^2 s_m^2$, which is smallest for
# $a_m \propto 1/s_m^2$: the classic inverse-variance weights. Here are four samples, the second
# modality clean in the first, twice as noisy in the second, four times in the third, and the
# first modality three times as noisy in the last:

# %%
s = torch.tensor([[1.0, 1.0],
                  [1.0, 2.0],
                  [1.0, 4.0],
                  [3.0, 1.0]])  # (B, M) noise levels
M = s.shape[1]
u_inverse_variance = 1 / s**2  # (B, M)
print(u_inverse_variance)

# %% [markdown]
# A brute-force check of the optimality for the second sample: scan the weight $a$ of the first
# modality over $[0, 1]$, compute the variance $a^2 s_1^2 + (1 - a)^2 s_2^2$ of the average, and
# compare the best $a$ with $u_1 / (u_1 + u_2)$.

# %%
a = torch.linspace(0, 1, 10_001)
variance = a**2 * s[1, 0] ** 2 + (1 - a) ** 2 * s[1, 1] ** 2  # (10001,)
best = a[variance.argmin()]
share = u_inverse_variance[1, 0] / u_inverse_variance[1].sum()
print(f"best a = {best:.4f}, u_1 / (u_1 + u_2) = {share:.4f}; smallest variance "
      f"{variance.min():.4f}, 1 / sum(u) = {1 / u_inverse_variance[1].sum():.4f}")
assert torch.isclose(best, share, atol=1e-4)

# %% [markdown]
# ### Step 2: the dependency correction
#
# Dynamic fusion assumes that every modality starts with an equal say. Training breaks that: the
# network leans on the modality that is easier to learn, and the other one contributes less
# *before any noise*. Weighting by uncertainty alone then suppresses the hard modality a second
# time whenever it is also the noisier one ("dual suppression", chapter 3). UDML divides by the
# dependency $D_m$, so a modality the network already over-uses (large $D_m$) is damped and the
# under-used one (small $D_m$) is boosted:
#
# $$ u_m = \frac{1}{\hat s_m^2 \, D_m} . $$
#
# Here the head relies on the first modality four times as much as on the second. Only the
# ratio of the dependencies matters (the weights are normalised in step 3), so we use the
# normalised form $\alpha_m = M D_m / \sum_k D_k$, which sums to $M$: $\alpha = (1.6, 0.4)$.
# The library does the same.

# %%
alpha = torch.tensor([1.6, 0.4])  # (M,) normalised dependency alpha_m, sums to M
u = 1 / (s**2 * alpha)  # (B, M): the (M,) vector broadcasts over the batch
print(u)

# %% [markdown]
# ### Step 3: normalise to sum to $M$
#
# Only the ratios of the $u_m$ matter, so they are normalised to sum to $M$; then $w_m = 1$ for
# every modality means "no preference": every embedding enters the head at the same scale
# $1 + w_m = 2$ (static fusion has no weights at all, $w_m = 0$, scale 1). This is what
# `udml.method.weights.unbiased_weights` returns:

# %%
w = M * u / u.sum(dim=1, keepdim=True)  # (B, M)
assert torch.allclose(w, unbiased_weights(s, alpha))
assert torch.allclose(w.sum(1), torch.full((4,), float(M)))
display(Markdown("\n".join(
    ["| sample | $s_1$ | $s_2$ | $w_1$ | $w_2$ |", "| ---: | ---: | ---: | ---: | ---: |"]
    + [f"| {b} | {s[b, 0]:g} | {s[b, 1]:g} | {w[b, 0]:.3f} | {w[b, 1]:.3f} |"
       for b in range(4)])))

# %% [markdown]
# In the first sample both modalities are clean, and the dependency alone makes the second one
# (the under-used one) four times as heavy as the first. In the second sample the second modality
# is twice as noisy, which costs it a factor of four: the two effects cancel exactly and the
# weights are equal.
#
# ### Step 4: the residual rescaling
#
# The weights rescale each modality's embedding $z_m$ before the fusion head; UDML adds them to
# one, $(1 + w_m)\, z_m$, rather than using $w_m z_m$. `udml.method.weights.rescale` does the same.
# On toy embeddings $z$ (0, 1, 2, ... in order), the printout is one sample's rescaled embeddings,
# a row per modality: each row is its $z_m$ times $1 + w_m$.

# %%
z = torch.arange(4 * M * 3, dtype=torch.float32).view(4, M, 3)  # (B, M, K) embeddings, K = 3
fused = (1 + w).unsqueeze(-1) * z  # (B, M, K)
assert torch.allclose(fused, rescale(z, w))
print(fused[1])

# %% [markdown]
# ### Two limits
#
# With equal dependencies the formula is inverse-variance weighting, scaled to sum to $M$; with
# equal noise levels it is $1/D$ weighting, which simply counters the optimisation bias:

# %%
w_equal_d = unbiased_weights(s, torch.ones(M))
w_equal_s = unbiased_weights(torch.ones_like(s), alpha)  # (B, M), every row the same
assert torch.allclose(w_equal_d, M * u_inverse_variance / u_inverse_variance.sum(1, keepdim=True))
assert torch.allclose(w_equal_s, (M * (1 / alpha) / (1 / alpha).sum()).expand(4, M))
# the dependency enters only through its ratios: D_m or alpha_m, scaled or not, same weights
assert torch.allclose(unbiased_weights(s, 10 * alpha), w)
print("equal D:\n", w_equal_d)
print("equal s:", w_equal_s[0])

# %% [markdown]
# ### The dominance condition
#
# The two corrections pull in opposite directions when the under-used modality is the noisy one.
# Take a noisy modality $n$ and a clean one $c$. Since $w_n / w_c = u_n / u_c =
# (\hat s_c^2 D_c) / (\hat s_n^2 D_n)$, the noisy modality keeps **more** weight than the clean
# one exactly when
#
# $$
# \left(\frac{\hat s_n}{\hat s_c}\right)^2 \;<\; \frac{D_c}{D_n} ,
# $$
#
# and at most half of it exactly when $(\hat s_n / \hat s_c)^2 \ge 2\, D_c / D_n$. The left side
# is what the estimator knows, the right side what training did to the fusion. With a perfect
# estimate ($\hat s = l$) a destroyed modality at level 11 against a clean one gives a left side
# of $121$, far above any dependency ratio met in this book; an estimator whose outputs span only
# 2.5 (clean) to 7 (destroyed) gives $(7/2.5)^2 \approx 8$, which a dependency ratio of 6 nearly
# cancels. So the estimator's *scale*, not only its ranking, decides whether UDML damps a
# destroyed modality. Chapter 5 measures both sides on every dataset. The check on the four
# samples above, and on random pairs of ratios:

# %%
estimate_ratio = (s[:, 1] / s[:, 0]) ** 2  # (B,) modality 2 against modality 1
dependency_ratio = alpha[0] / alpha[1]  # = D_1 / D_2
second_keeps_more = estimate_ratio < dependency_ratio
assert torch.equal(second_keeps_more, w[:, 1] > w[:, 0] + 1e-6)
gen = torch.Generator().manual_seed(0)
pairs = 10 ** torch.stack([torch.empty(400).uniform_(-1, 2, generator=gen),
                           torch.empty(400).uniform_(-1, 1.5, generator=gen)], 1)  # (P, 2)
ok = []
for r2, dr in pairs.tolist():  # r2 = (s_2 / s_1)^2, dr = D_1 / D_2
    w2 = unbiased_weights(torch.tensor([[1.0, r2 ** 0.5]]), torch.tensor([dr, 1.0]))[0]
    ok.append((bool(w2[1] > w2[0]) == (r2 < dr)) and (bool(w2[1] <= w2[0] / 2) == (r2 >= 2 * dr)))
assert all(ok)
print(f"the condition holds on {len(ok)} random pairs of ratios; in the four samples above, "
      f"modality 2 keeps more weight than modality 1 in {second_keeps_more.tolist()}")

# %% [markdown]
# ### The floor of the residual form
#
# Since $w_m \ge 0$ and $\sum_m w_m = M$, each weight lies in $[0, M]$, so the scale $(1 + w_m)$
# lies in $[1, M + 1]$. However noisy a modality is, its embedding still enters the head at
# least at scale 1, while a clean partner gets at most $M + 1$: a destroyed modality keeps at
# least $1/(M + 1)$ of the other's largest scale, a third for two modalities. The plain form
# $w_m z_m$ has no such floor. {numref}`fig-floor` sweeps the noise ratio $s_2 / s_1$ from 1 to
# $10^4$ with equal dependencies:

# %%
ratio = torch.logspace(0, 4, 41)  # (R,) s_2 / s_1
s_sweep = torch.stack([torch.ones_like(ratio), ratio], 1)  # (R, M)
w_sweep = unbiased_weights(s_sweep, torch.ones(M))  # (R, M)
scale = 1 + w_sweep  # (R, M)
kept_residual = scale.min(1).values / scale.max(1).values  # (R,)
kept_plain = w_sweep.min(1).values / w_sweep.max(1).values  # (R,)
floor = 1 / (M + 1)
assert (kept_residual >= floor - 1e-6).all()
assert kept_plain[-1] < 1e-6
glue("floor", floor)
glue("kept_residual_top", kept_residual[-1].item())
glue("kept_plain_top", kept_plain[-1].item())
glue("top_ratio", ratio[-1].item())
fig = plots.plot_fused_scales(ratio, w_sweep, ["modality 1", "modality 2"])
glue_figure("fig-floor", fig)

# %% [markdown]
# ```{glue:figure} fig-floor
# :name: fig-floor
#
# The scale at which each modality enters the head as the noise ratio grows, residual form $(1 +
# w_m)$ against the plain form $w_m$, equal dependencies: the residual form never falls below a
# third of its partner's scale.
# ```
#
# At a noise ratio of {glue:text}`top_ratio:.0f` the noisier modality still enters the head at
# {glue:text}`kept_residual_top:.4f` of its partner's scale (the floor is
# $1/(M+1) =$ {glue:text}`floor:.4f`), against {glue:text}`kept_plain_top:.1e` with the plain
# form. The residual form is therefore a *soft* reweighting: it can boost a modality up to
# threefold relative to its partner, but it can never switch one off, so a destroyed modality's
# embedding still reaches the head and the head itself must learn to discount it. This matters
# in chapter 5, where methods are compared with one modality destroyed. (The plain form is
# available as an extension, not the paper's: `ModelConfig(rescaling="multiplicative")`.)
#
# ## The training schedule
#
# The reference code trains for 100 epochs: epochs 0-49 on clean data, noisy data from epoch 50
# and uncertainty weights from epoch 60; the learning rate drops tenfold at epoch 70.
# `udml.training.schedule.Schedule` keeps the same fractions for runs of any length
# ({numref}`fig-schedule`):

# %%
train_defaults = TrainConfig()
reference = Schedule(100, train_defaults.warmup, train_defaults.uncertainty_start)
assert (reference.noisy_from, reference.uncertainty_from) == (50, 60)
epochs = settings["epochs"]
ours = Schedule(epochs, train_defaults.warmup, train_defaults.uncertainty_start)
lr_drop = {"reference code": round(train_defaults.lr_drop * 100),
           "this chapter's run": max(1, round(train_defaults.lr_drop * epochs))}
fig = plots.plot_schedule({"reference code": reference, "this chapter's run": ours}, lr_drop)
glue("epochs", epochs)
glue("noisy_from", ours.noisy_from)
glue("uncertainty_from", ours.uncertainty_from)
glue("lr_drop", lr_drop["this chapter's run"])
glue_figure("fig-schedule", fig)

# %% [markdown]
# ```{glue:figure} fig-schedule
# :name: fig-schedule
#
# The training schedule of the reference code (100 epochs, top) and of this chapter's run
# (bottom). Upper bar: the phases of the data and of the score $s$ in the weights (clean warm-up;
# noisy data with $\hat s_m = 1$; noisy data with the estimate in the weights); lower bar: the
# dependency $D_m$, tracked and used in every epoch; dashed line: the tenfold learning-rate drop.
# ```
#
# Why in this order:
#
# * **Clean warm-up.** The encoders and the head first learn the task on clean data, where the
#   signal is easiest to pick up.
# * **Noisy data.** Then half of each batch stays clean and the other half gets an independent
#   level $1..11$ per modality; the estimator now sees every level and learns to read it from the
#   embedding's spread. Its estimate is not used yet: $\hat s_m$ is taken as 1, so an estimator
#   that is still guessing cannot scramble the head's inputs.
# * **Uncertainty weights.** Only once the estimator has had some epochs of noisy data does
#   $\hat s_m$ enter the weights.
# * **Dependency throughout.** $D_m$ needs no noise labels: it is measured by modality dropout
#   on every training batch from the first epoch on, and it enters the weights from the start
#   (with $\hat s_m = 1$ the weights are the $1/D$ weighting of the second limit above).
#
# This chapter's run has {glue:text}`epochs` epochs: noisy data from epoch
# {glue:text}`noisy_from`, uncertainty weights from epoch {glue:text}`uncertainty_from`, the
# learning-rate drop at epoch {glue:text}`lr_drop` (the lower panel of {numref}`fig-schedule`).
#
# ## The full model on the mfeat digits
#
# The data are the UCI Multiple Features digits of chapter 2, with two views of each handwritten
# digit: `pix`, a 16 x 15 grey-level image, and `fou`, 76 Fourier coefficients of its contour.
# The noise is Gaussian, with the calibrated scale per modality (`udml.corrupt.scales`). We train
# UDML and, for contrast, naive dynamic fusion: the same model, the same estimator, the same
# schedule and seed, but $D_m = 1$.

# %%
splits = load_dataset("mfeat", seed=seed)
specs = default_specs(splits)
L = ModelConfig().num_levels
names = splits.modalities
train_cfg = TrainConfig(epochs=epochs, seed=seed, progress=True, device=str(dev))
models, histories = {}, {}
for method in ("udml", "naive"):
    models[method], histories[method] = fit(splits, ModelConfig(method=method), train_cfg, specs)
    last = histories[method][-1]
    print(f"{method}: validation accuracy clean {last['val_acc_clean']:.3f}, "
          f"under random noise {last['val_acc_noisy']:.3f}")
model = models["udml"]

# %% [markdown]
# Each history row records the phase of its epoch; they follow the schedule drawn above.

# %%
for method, history in histories.items():
    assert [row["noisy"] for row in history] == [ours.phase(e).noisy for e in range(epochs)]
    assert [row["use_uncertainty"] for row in history] == \
        [ours.phase(e).use_uncertainty for e in range(epochs)]
    assert history[-1]["val_acc_clean"] > 0.3, f"{method} should beat chance (0.1) on clean data"

# %% [markdown]
# ### The learned dependency
#
# The running dependency $D_m$ (an average over the training batches of how much the fused
# logits change when modality $m$ is dropped, chapter 3) is stored in the model; the weights use
# its normalised form $\alpha_m = M D_m / \sum_k D_k$. These are one seed's values; chapter 5
# gives their mean and spread over five seeds.

# %%
dep_raw = dict(zip(names, model.dependency.value.tolist()))
dep_norm = dict(zip(names, model.dependency.normalised().tolist()))
assert all(v > 0 for v in dep_raw.values())
assert abs(sum(dep_norm.values()) - M) < 1e-5
display(Markdown("\n".join(
    ["| modality | $D_m$ | normalised $\\alpha_m$ |", "| --- | ---: | ---: |"]
    + [f"| `{n}` | {dep_raw[n]:.3f} | {dep_norm[n]:.3f} |" for n in names])))
relied = max(names, key=dep_norm.get)
underused = min(names, key=dep_norm.get)
w_inverse_d = dict(zip(names, unbiased_weights(torch.ones(1, M),
                                               model.dependency.for_weights())[0].tolist()))
for n in names:
    glue(f"dep_{n}", dep_raw[n])
    glue(f"dep_norm_{n}", dep_norm[n])
display(Markdown(
    f"The head relies most on `{relied}`: dropping it moves the fused logits "
    f"{dep_raw[relied] / dep_raw[underused]:.2f} times as much as dropping `{underused}`. "
    f"Were both modalities estimated equally noisy, UDML's weights would be the $1/D$ weighting: "
    f"{w_inverse_d[underused]:.3f} for `{underused}` and {w_inverse_d[relied]:.3f} for "
    f"`{relied}`."))

# %% [markdown]
# ### The weights as one modality gets noisier
#
# For each modality in turn, corrupt it alone at each level $1..11$ (protocol `one:<m>@<l>`; the
# other modality stays clean) and run the test set through both models.
# `udml.training.evaluate.predict` returns the per-sample weights, from which we take the mean and
# the 10-90 % band of each modality's weight, together with the accuracy. Every protocol draws its
# noise from a generator seeded with `seed`, so both models see the same corrupted test set.
# {numref}`fig-weight-sweep` draws the result.

# %%
test = splits.test
if settings["test_size"] is not None:
    test = test.subset(torch.arange(settings["test_size"]))
levels = settings["levels"]
sweeps = {method: {} for method in models}
for method, m_model in models.items():
    for corrupted in names:
        rows = {"weights": [], "band": [], "accuracy": [], "s_hat": [], "unimodal": []}
        for level in levels:
            protocol = "clean" if level == 1 else f"one:{corrupted}@{level}"
            gen = torch.Generator(device=dev).manual_seed(seed)
            pred = predict(m_model, test, specs, protocol, L, gen, device=dev)
            assert torch.allclose(pred.weights.sum(1), torch.full((len(test),), float(M)),
                                  atol=1e-4)
            rows["weights"].append(pred.weights.mean(0))  # (M,)
            rows["band"].append(pred.weights.quantile(torch.tensor([0.1, 0.9]), dim=0).T)  # (M, 2)
            rows["accuracy"].append(torch.tensor(accuracy(pred.logits, pred.y)))
            rows["s_hat"].append(torch.stack([pred.unreliability[n].mean() for n in names]))  # (M,)
            rows["unimodal"].append(torch.tensor([accuracy(pred.unimodal_logits[n], pred.y)
                                                  for n in names]))  # (M,)
        sweeps[method][corrupted] = {k: torch.stack(v) for k, v in rows.items()}
fig = plots.plot_weight_sweep(levels, sweeps, names)
glue_figure("fig-weight-sweep", fig)

# %% [markdown]
# ```{glue:figure} fig-weight-sweep
# :name: fig-weight-sweep
#
# UDML and naive dynamic fusion as one modality gets noisier, the other clean: mean weights with
# their 10-90 % band (left) and test accuracy (right), one row per noisy
# modality.
# ```
#
# `udml.training.evaluate.evaluate` gives the same means directly (one entry per protocol); a check
# on the top level of each modality:

# %%
top = [f"one:{n}@{levels[-1]}" for n in names]
report = evaluate(model, test, specs, L, protocols=top, seed=seed, device=dev)
for corrupted, label in zip(names, top):
    from_evaluate = torch.tensor([report["protocols"][label]["mean_weights"][n] for n in names])
    assert torch.allclose(from_evaluate, sweeps["udml"][corrupted]["weights"][-1], atol=1e-5)
    assert abs(report["protocols"][label]["accuracy"]
               - sweeps["udml"][corrupted]["accuracy"][-1].item()) < 1e-9
print({label: {k: round(v, 3) for k, v in report["protocols"][label]["mean_weights"].items()}
       for label in top})

# %% [markdown]
# The same sweep in a table, at the clean end and at the top level: the corrupted modality's mean
# weight and mean estimate $\hat s$, the fused accuracy, and the unimodal accuracy of the *clean*
# partner (the head's output with the corrupted modality dropped), which is what a fusion that
# could switch the corrupted modality off entirely would get.

# %% tags=["hide-input"]
LABELS = {"udml": "UDML", "naive": "naive dynamic"}
table = ["| model | noisy modality | $w$ at $l=1$ | $w$ at top | $\\hat s$ at $l=1$ "
         "| $\\hat s$ at top | accuracy at $l=1$ | accuracy at top | clean partner alone at top |",
         "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
for method in models:
    for corrupted in names:
        r, i = sweeps[method][corrupted], names.index(corrupted)
        partner = 1 - i  # the other modality (two modalities here)
        table.append(f"| {LABELS[method]} | `{corrupted}` | {r['weights'][0, i]:.3f} "
                     f"| {r['weights'][-1, i]:.3f} | {r['s_hat'][0, i]:.2f} "
                     f"| {r['s_hat'][-1, i]:.2f} | {r['accuracy'][0]:.3f} "
                     f"| {r['accuracy'][-1]:.3f} | {r['unimodal'][-1, partner]:.3f} |")
display(Markdown("\n".join(table)))
assert all(0 <= sweeps[m][c]["weights"].min() and sweeps[m][c]["weights"].max() <= M
           for m in models for c in names)

# %% [markdown]
# **Reading the result.** On clean data the two models differ only by the dependency: naive
# fusion weighs the modalities by their estimates alone (near 1 each when both are clean and
# estimated alike), UDML also boosts the modality the head under-uses (the $1/D$ weighting
# computed above). When a modality gets noisier, its weight can only fall as far as its
# estimate $\hat s$ rises *relative to its partner's*, and for UDML it must first overcome the
# dependency factor: the boosted modality drops below the neutral weight 1 only when its estimate
# exceeds its partner's by the factor $\sqrt{D_\text{relied} / D_\text{under-used}}$ =
# {glue:text}`break_even:.2f`. What the sweep shows, computed from it:

# %% tags=["hide-input"]
dep_w = model.dependency.for_weights()
break_even = (dep_w.max() / dep_w.min()).sqrt().item()
glue("break_even", break_even)
findings = []
acc_clean = {m: sweeps[m][names[0]]["accuracy"][0].item() for m in models}
diff = acc_clean["udml"] - acc_clean["naive"]


def compare(diff):
    """Words for an accuracy difference UDML - naive (under 0.01: no real difference)."""
    if abs(diff) < 0.01:
        return "no real difference"
    return "UDML better" if diff > 0 else "naive better"


findings.append(f"* **Clean data:** UDML {acc_clean['udml']:.3f}, naive "
                f"{acc_clean['naive']:.3f} ({compare(diff)}, {diff:+.3f}).")
for corrupted in names:
    i = names.index(corrupted)
    acc_top = {m: sweeps[m][corrupted]["accuracy"][-1].item() for m in models}
    diff = acc_top["udml"] - acc_top["naive"]
    s_top = sweeps["udml"][corrupted]["s_hat"][-1]
    s_ratio = (s_top[i] / s_top[1 - i]).item()
    boosted = corrupted == underused
    text = (f"* **`{corrupted}` at level {levels[-1]}:** UDML {acc_top['udml']:.3f}, naive "
            f"{acc_top['naive']:.3f} ({compare(diff)}, {diff:+.3f}). UDML's mean estimate for "
            f"`{corrupted}` is {s_ratio:.2f} times its partner's")
    w_first, w_top = (sweeps["udml"][corrupted]["weights"][k, i].item() for k in (0, -1))
    w_naive = sweeps["naive"][corrupted]["weights"][-1, i].item()
    if boosted and s_ratio < break_even:
        text += (f", short of the break-even factor {break_even:.2f}: the modality UDML boosts "
                 f"keeps a mean weight above 1 ({w_first:.3f} -> {w_top:.3f}) although it is "
                 f"destroyed; naive fusion's falls to {w_naive:.3f}.")
    elif boosted:
        text += (f", beyond the break-even factor {break_even:.2f}: its mean weight falls below "
                 f"1 ({w_first:.3f} -> {w_top:.3f}), but from a boosted start, so it stays "
                 f"{'above' if w_top > w_naive else 'below'} naive fusion's ({w_naive:.3f}).")
    else:
        text += (f"; its mean weight goes from {w_first:.3f} to {w_top:.3f} (naive fusion: "
                 f"{w_naive:.3f}), and it still enters the head at scale $1 + w \\geq 1$.")
    partner_alone = sweeps["udml"][corrupted]["unimodal"][-1, 1 - i].item()
    best = max(acc_top.values())
    relation = ("about as much as" if abs(partner_alone - best) < 0.005 else
                "more than" if partner_alone > best else "less than")
    text += (f" The UDML head with the destroyed modality dropped would score "
             f"{partner_alone:.3f}, {relation} the better fused model.")
    findings.append(text)
    glue(f"acc_gap_top_{corrupted}", diff)
    glue(f"s_ratio_top_{corrupted}", s_ratio)
    glue(f"partner_alone_{corrupted}", partner_alone)
glue("acc_gap_clean", acc_clean["udml"] - acc_clean["naive"])
glue("underused", Markdown(f"`{underused}`"))
for method in models:  # the clean-data weight of the under-used modality, per model
    glue(f"w_clean_{method}", sweeps[method][names[0]]["weights"][0, names.index(underused)].item())
display(Markdown("\n".join(findings)))

# %% [markdown]
# So on this data the dependency correction does what it is designed to do on clean inputs (it
# lifts the under-used modality; accuracy difference {glue:text}`acc_gap_clean:+.3f`), and its
# effect under noise depends on *which* modality gets noisy: the correction stacks the deck for
# the under-used modality, so the estimator has to work harder to take that modality's weight
# away again. Whether the dependency helps on balance, over all noise conditions and seeds, is a
# question for the comparison of chapter 5. Wherever dropping the destroyed modality altogether
# would beat both fused models (the last sentence of each finding says whether it does in this
# run), the floor of the residual form is one reason: a destroyed modality still enters the head
# at scale at least 1, a third of its partner's largest.
#
# ## Explore: one test sample through the fusion
#
# The panel below runs one test sample through a trained model at a noise level of your choice
# for each modality. It shows the image the model sees, the weights $w_m$, the estimates
# $\hat s_m$, the normalised dependency $\alpha_m$ that enters the weights (all ones for naive
# fusion) and the fused class probabilities, the true class outlined. The slider picks a sample
# by its index in the test set; the title gives that index and the sample's true class. The noise
# is drawn from a generator seeded with `seed` plus the sample's index, so a setting always shows
# the same noisy sample, and different samples get different noise.
# The rendered book shows the panel's first state; run the notebook to make it live.
#
# The first state is a typical destroyed modality: `fou` at the top level, `pix` clean, UDML.
# The cell runs every test sample through that setting one at a time, exactly as the panel does,
# and starts the panel on the sample whose `fou` weight is closest to the mean weight over the
# test set, among those the model still classifies correctly.

# %% tags=["hide-input"]
lo, hi = specs["pix"].clip
METHOD_NAMES = {"udml": "UDML", "naive": "naive dynamic fusion"}


def fusion_state(sample, method, pix_level, fou_level):
    """One test sample, corrupted at the given levels, through a model: what the panel shows."""
    one = test.subset(torch.tensor([sample]))
    lv = {"pix": torch.tensor([pix_level]), "fou": torch.tensor([fou_level])}
    gen = torch.Generator().manual_seed(seed + sample)  # a setting always draws the same noise
    x = apply_noise(one.x, lv, specs, L, gen)
    chosen = models[method].eval()
    with torch.no_grad():
        o = chosen({k: v.to(dev) for k, v in x.items()})
    alpha_m = chosen.dependency.for_weights() if chosen.uses_dependency else torch.ones(M)
    probs = torch.softmax(o.logits[0].float().cpu(), 0)  # (C,)
    return {"image": x["pix"][0], "label": int(one.y[0]), "probs": probs,
            "weights": dict(zip(names, o.weights[0].tolist())),
            "s_hat": {n: o.s_hat[n][0].item() for n in names},
            "alpha": dict(zip(names, alpha_m.tolist()))}


destroyed = {i: fusion_state(i, "udml", 1, L) for i in range(len(test))}
w_destroyed = torch.tensor([st["weights"]["fou"] for st in destroyed.values()])  # (N,)
correct = [i for i, st in destroyed.items() if int(st["probs"].argmax()) == st["label"]]
assert correct, "no test sample is classified correctly with fou destroyed"
first = min(correct, key=lambda i: abs(destroyed[i]["weights"]["fou"] - w_destroyed.mean().item()))
shown, clean_state = destroyed[first], fusion_state(first, "udml", 1, 1)
w_clean, w_top = clean_state["weights"]["fou"], shown["weights"]["fou"]
s_ratio_shown = shown["s_hat"]["fou"] / shown["s_hat"]["pix"]
side = ("beyond" if s_ratio_shown > break_even else "short of")
below = "below" if w_top < 1 else "above"
_ = glue("panel_text", Markdown(
    f"The first state is test sample {first}, a {shown['label']}. With both modalities clean, "
    f"UDML gives `fou` a weight of {w_clean:.2f}, {'above' if w_clean > 1 else 'below'} the "
    f"neutral 1 because of its normalised dependency $\\alpha_{{fou}}$ = "
    f"{shown['alpha']['fou']:.2f}. With `fou` destroyed, its "
    f"estimate is {shown['s_hat']['fou']:.2f} against {shown['s_hat']['pix']:.2f} for the clean "
    f"`pix`, {s_ratio_shown:.2f} times as large, {side} the break-even factor {break_even:.2f} "
    f"found above; so its weight {'falls' if w_top < w_clean else 'rises'} to {w_top:.2f}, "
    f"{below} the neutral 1, and `pix` gets "
    f"{shown['weights']['pix']:.2f}. The model still predicts {int(shown['probs'].argmax())}, "
    f"the true class (p = {shown['probs'].max().item():.2f}). Over the whole test set the "
    f"destroyed `fou` keeps a weight between {w_destroyed.min().item():.2f} and "
    f"{w_destroyed.max().item():.2f} (mean {w_destroyed.mean().item():.2f}; the sweep's mean "
    f"above differs a little because the panel draws each sample's noise from its own "
    f"generator): a sample whose estimate stays low keeps more."))

# %% tags=["nbval-ignore-output", "hide-input"]
def show_fusion(sample, method, pix_level, fou_level):
    """Corrupt one test sample at the chosen levels; return a figure of what the model decides."""
    st = fusion_state(sample, method, pix_level, fou_level)
    return plots.plot_fusion_panel(
        st["image"], st["weights"], st["s_hat"], st["alpha"], st["probs"], label=st["label"],
        value_range=(lo, hi),
        title=f"{METHOD_NAMES[method]}: test sample {sample} (true class {st['label']}), "
              f"pix level {pix_level}, fou level {fou_level}")


controls = {
    "sample": widgets.IntSlider(value=first, min=0, max=len(test) - 1,
                                description="test sample"),
    "method": widgets.ToggleButtons(options=[("UDML", "udml"), ("naive", "naive")],
                                    value="udml", description="model"),
    "pix_level": widgets.IntSlider(value=1, min=1, max=L, description="pix level"),
    "fou_level": widgets.IntSlider(value=L, min=1, max=L, description="fou level"),
}
display(figure_panel(show_fusion, controls, [["sample", "method"], ["pix_level", "fou_level"]]))

# %% [markdown]
# {glue:md}`panel_text:myst`
#
# Things to try: set both levels to 1 and switch between UDML and naive fusion to see the
# dependency shift the weights; raise one modality's level step by step and see at which level
# its $\hat s_m$ starts to rise, and whether its weight falls enough to change the prediction.
#
# ## Six modalities
#
# Nothing above is specific to two modalities. The `mfeat-all` dataset has all six views of the
# same digits; the same model class takes them as a dict, and its weights sum to $M = 6$ (an
# untrained model: the point here is the shapes; chapter 5 trains it).

# %%
splits6 = load_dataset("mfeat-all", seed=seed)
cfg6 = ModelConfig(method="udml")
model6 = build_model(build_encoders(splits6.shapes, cfg6), splits6.num_classes, cfg6).eval()
with torch.no_grad():
    out6 = model6(next(splits6.test.batches(4)).x)
print({n: tuple(shape) for n, shape in splits6.shapes.items()})
print("weights (4 samples x 6 modalities):\n", out6.weights)
assert out6.weights.shape == (4, 6)
glue("floor6", 1 / (6 + 1))
assert torch.allclose(out6.weights.sum(1), torch.full((4,), 6.0), atol=1e-5)

# %% [markdown]
# With six modalities the residual floor is $1/(M+1) =$ {glue:text}`floor6:.3f`: a destroyed
# view keeps at least a seventh of the largest scale.
#
# ## What we learned
#
# - **Two corrections in one formula, and they can cancel.** The estimate answers "how noisy is
#   this input now?", the dependency "how much has training already favoured this modality?".
#   Only ratios matter, so a noise ratio can undo a dependency ratio exactly, as the toy batch
#   showed; which one wins is the dominance condition.
# - **The estimator's scale decides, not only its ranking.** On mfeat, the weight of the modality
#   UDML boosts falls below the neutral 1 only once its estimate exceeds its partner's by the
#   break-even factor {glue:text}`break_even:.2f`. An estimator that ranks the levels correctly
#   but squeezes them into a narrow range leaves the weight where the dependency put it.
# - **Reweighting is soft.** The residual form keeps every modality in the head at scale at least
#   1, so a destroyed modality is never switched off; the head itself must learn to discount it.
# - **A different weighting need not change the accuracy.** On clean data UDML gives the
#   under-used {glue:md}`underused:myst` a weight of {glue:text}`w_clean_udml:.2f`, naive fusion
#   {glue:text}`w_clean_naive:.2f`, yet their accuracies differ by
#   {glue:text}`acc_gap_clean:+.3f`; whether the correction pays off over noise conditions and
#   seeds is chapter 5's question.
#
# Run time of this chapter:

# %%
run_time = report_time(started)
# the chapter's run time, for the closing sentence
_ = glue("run_time", Markdown(f"{run_time:.1f} s"))

# %% [markdown]
# ## Exercises
#
# 1. Two modalities with normalised dependencies $\alpha = (1.6, 0.4)$ and estimated levels
#    $\hat s = (1, 2)$: compute $w$ by hand. Then find the level $\hat s_2$ at which the second
#    modality's weight drops to $0.5$.
#
# :::{admonition} Solution
# :class: dropdown
#
# $u = (1/1.6,\ 1/(4 \cdot 0.4)) = (0.625, 0.625)$, so $w = (1, 1)$: the second modality's noise
# exactly cancels the dependency correction. For $w_2 = 0.5$ we need $w_1 = 1.5$, i.e.
# $u_1 / u_2 = 3$, i.e. $\hat s_2^2 \cdot 0.4 / 1.6 = 3$, so $\hat s_2 = \sqrt{12} \approx 3.46$.
# Check: `unbiased_weights(torch.tensor([[1.0, 12 ** 0.5]]), torch.tensor([1.6, 0.4]))`
# gives `[[1.5, 0.5]]`.
# :::
#
# 2. For $M$ modalities, what share of the largest possible scale does a destroyed modality
#    keep under the residual form? Under the plain form $w_m z_m$? Which one lets the fusion
#    switch a modality off, and what does the head have to do in the other case?
#
# :::{admonition} Solution
# :class: dropdown
#
# Residual: $(1 + w_m) \ge 1$ and $(1 + w_k) \le M + 1$, so at least $1/(M + 1)$. Plain: $w_m
# \to 0$ as $\hat s_m \to \infty$, so the share goes to 0 and the modality is switched off. With
# the residual form a destroyed modality's embedding still reaches the head at scale at least 1,
# so the head (and the encoders, trained on noisy data) must themselves learn to map a noisy
# input to an embedding that does little harm.
# :::
#
# 3. Show with `unbiased_weights` that the weights depend on the dependencies only through their
#    ratios, and on the levels only through their ratios within each sample.
#
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# s = torch.tensor([[1.0, 3.0], [2.0, 5.0]])
# D = torch.tensor([3.0, 0.5])
# w = unbiased_weights(s, D)
# assert torch.allclose(unbiased_weights(s, 7 * D), w)
# assert torch.allclose(unbiased_weights(s * torch.tensor([[2.0], [0.5]]), D), w)
# ```
#
# Scaling $D$ by $c$ scales every $u_m$ by $1/c$, scaling a sample's levels by $c$ scales its
# $u_m$ by $1/c^2$; the normalisation $u_m / \sum_k u_k$ cancels both.
# :::
