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
# # The dependency bias, measured by modality dropout
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/REPLACE-WITH-OWNER/udml-book/blob/main/book/03_dependency.ipynb)
#
# Dynamic fusion weighs each modality by how reliable it looks, as if every modality started
# with an equal say. The paper (as its abstract and the authors' reference code state it; see the
# [opening page](intro.md)) argues that
# training breaks this: the network comes to rely on the modality that is easiest to learn, so
# the hard modality is suppressed twice, once by that optimisation bias and once more by its
# higher uncertainty ("dual suppression"), and dynamic fusion can end up worse than static
# fusion. UDML measures the network's reliance on each modality by *dropping* it and divides
# that out of the weights. This chapter measures that reliance, watches it form during
# training, and looks for dual suppression on two datasets.
#
# **Before you start:** chapter 2 (the estimator and the noise levels); a linear classification
# head and the L1 norm.
#
# **What you will build:**
#
# 1. the paper's dependency $d_m = \lVert \pi - \pi_{-m} \rVert_1$ worked out by hand on a tiny
#    fusion head and checked against `udml`, with the reference code's variant $D^{\mathrm{ref}}_m$
#    beside it;
# 2. the running dependency of a static fusion model, epoch by epoch, on a synthetic dataset
#    with a planted easy and hard modality and on the mfeat digits;
# 3. the two formulas side by side on the trained models;
# 4. static, uncertainty-only ("naive") and UDML fusion trained alike and tested as one modality
#    gets noisier, at two weights of the unimodal losses.
#
# **Run time:** {glue:md}`run_time:myst` on a 2-core CPU (default profile).

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
# The parameters and profiles, and how to run the chapter: {doc}`appendix_running`.

# %% tags=["parameters"]
device = "auto"  # "auto" (cuda when available, else cpu), "cpu" or "cuda"
seed = 0  # the one seed of everything random in this chapter
profile = "default"  # "tiny", "default" or "gpu"

# %% tags=["hide-input"]
import torch
from IPython.display import Markdown, display

import udml
from udml.config import ModelConfig, TrainConfig
from udml.data import load_dataset
from udml.method.dependency import dropout_dependency, normalised_dependency, reference_dependency
from udml.training.evaluate import evaluate, predict
from udml.method.heads import ConcatHead
from udml.corrupt.scales import default_specs
from udml.book.notebook import glue, glue_figure, report_time, setup
from udml.plotting import dependency as plots
from udml.training.loop import fit
from udml.method.weights import unbiased_weights

# epochs of every model; the datasets on which the gamma = 0 runs are added to gamma = 1
PROFILES = {
    "tiny": {"epochs": 2, "gamma_zero": ["mfeat"]},
    "default": {"epochs": 12, "gamma_zero": ["mfeat"]},
    "gpu": {"epochs": 60, "gamma_zero": ["synthetic", "mfeat"]},
}
dev, settings, generator, started = setup(device, seed, profile, PROFILES)
epochs = settings["epochs"]
print(f"udml {udml.__version__}, settings: {settings}")

# %% [markdown]
# ## Dropping a modality, by hand
#
# Let $\pi = h(z_1, \dots, z_M)$ be the fused logits of the fusion head $h$ and $\pi_{-m}$ the
# same logits with modality $m$ dropped, i.e. its embedding $z_m$ replaced by zeros. The paper's
# dependency on modality $m$ is how far the logits move, averaged over a batch:
#
# $$
# d_m = \frac{1}{B} \sum_{i=1}^{B} \lVert \pi^{(i)} - \pi^{(i)}_{-m} \rVert_1 .
# $$
#
# During training `udml` keeps a running average of $d_m$ over the batches: that running value is
# the dependency $D_m$ of the fusion weights, and its normalised form is
#
# $$
# \alpha_m = M \, \frac{D_m}{\sum_k D_k} ,
# $$
#
# with $\alpha_m = 1$ for every $m$ when the network has no preference. Both are *global*
# statistics of the network, not per-sample ones. On a single batch, as in the toy below, the
# same normalisation is applied to $d_m$.
#
# Take the default concat head, $\pi = W [z_a; z_b] + b$, with two modalities $a$ and $b$ of two
# features each and two classes, and choose weights by hand: modality $a$ enters through
# $W_a = \begin{pmatrix} 1 & -1 \\ 0 & 2 \end{pmatrix}$ and modality $b$ not at all,
# $W_b = 0$, with bias $b = (0.5, -0.5)$. For a concat head, dropping $a$ removes exactly
# $W_a z_a$ from the logits, so $d_a$ is the batch mean of $\lVert W_a z_a \rVert_1$ and
# $d_b = 0$. The cell below does this arithmetic entry by entry for a batch of two samples and
# asserts that `udml.method.dependency.dropout_dependency` gives the same.

# %%
head = ConcatHead(num_modalities=2, latent_dim=2, num_classes=2)
with torch.no_grad():
    head.fc.weight.copy_(torch.tensor([[1.0, -1.0, 0.0, 0.0],
                                       [0.0, 2.0, 0.0, 0.0]]))  # (C, M K) = [W_a | W_b]
    head.fc.bias.copy_(torch.tensor([0.5, -0.5]))
z = torch.tensor([[[1.0, 2.0], [3.0, 1.0]],
                  [[-1.0, 0.0], [0.0, -2.0]]])  # (B, M, K): sample i, modality (a, b), feature

# by hand: W_a z_a per sample, then its L1 norm; W_b z_b is 0
d_a_by_hand = (abs(1 * 1 - 1 * 2) + abs(0 * 1 + 2 * 2)      # sample 1: |-1| + |4|
               + abs(1 * -1 - 1 * 0) + abs(0 * -1 + 2 * 0)  # sample 2: |-1| + |0|
               ) / 2
d = dropout_dependency(head, z)  # (M,)
torch.testing.assert_close(d, torch.tensor([d_a_by_hand, 0.0]))
alpha = normalised_dependency(d)  # M d_m / sum_k d_k on this one batch, M = 2
print(f"d = {d.tolist()}, alpha = {alpha.tolist()}")
glue("toy_d_a", float(d[0]))
_ = glue("toy_alpha_a", float(alpha[0]))

# %% [markdown]
# The head ignores modality $b$, and dropping it changes nothing: $d_b = 0$, while
# $d_a =$ {glue:text}`toy_d_a:.1f` and $\alpha_a =$ {glue:text}`toy_alpha_a:.0f`, all of the
# reliance.
#
# ## The reference code's variant
#
# The reference code measures something else: the logits of the head fed with modality $m$
# *alone*, the other modalities zeroed, bias included,
#
# $$
# D^{\mathrm{ref}}_m = \frac{1}{B} \sum_{i=1}^{B} \lVert W [0; z^{(i)}_m; 0] + b \rVert_1 .
# $$
#
# For a concat head, $\pi - \pi_{-m} = W_m z_m$, so the two measures differ by the bias only:
# $d_m$ averages $\lVert W_m z_m \rVert_1$ and $D^{\mathrm{ref}}_m$ averages
# $\lVert W_m z_m + b \rVert_1$. That bias is not small change: an ignored modality gets
# $D^{\mathrm{ref}}_m = \lVert b \rVert_1 > 0$, and the bias can make $D^{\mathrm{ref}}_m$ smaller
# or larger than $d_m$ sample by sample. For heads that are not linear
# (a gated head, say) the paper's measure also picks up how the modalities interact, which the
# logits of one modality alone cannot see. The same toy head, by hand:

# %%
b_sum = abs(0.5) + abs(-0.5)  # ||b||_1, what a modality the head ignores still gets
D_ref_a_by_hand = (abs(1 * 1 - 1 * 2 + 0.5) + abs(0 * 1 + 2 * 2 - 0.5)      # sample 1
                   + abs(1 * -1 - 1 * 0 + 0.5) + abs(0 * -1 + 2 * 0 - 0.5)  # sample 2
                   ) / 2
D_ref = reference_dependency(head, z)  # (M,)
torch.testing.assert_close(D_ref, torch.tensor([D_ref_a_by_hand, b_sum]))
print(f"paper d = {d.tolist()}, reference D_ref = {D_ref.tolist()}, normalised: "
      f"{normalised_dependency(d).tolist()} vs {normalised_dependency(D_ref).tolist()}")
glue("toy_Dref_a", float(D_ref[0]))
glue("toy_Dref_b", float(D_ref[1]))
_ = glue("toy_alpha_ref_b", float(normalised_dependency(D_ref)[1]))

# %% [markdown]
# The reference measure gives the ignored modality $D^{\mathrm{ref}}_b =$
# {glue:text}`toy_Dref_b:.1f`, and normalised like $\alpha_m$,
# $M D^{\mathrm{ref}}_b / \sum_k D^{\mathrm{ref}}_k =$ {glue:text}`toy_alpha_ref_b:.2f` instead of 0;
# for the modality that carries all the signal, the bias *lowers* the measure,
# $D^{\mathrm{ref}}_a =$ {glue:text}`toy_Dref_a:.1f` against $d_a =$ {glue:text}`toy_d_a:.1f`.
#
# The reference code also handles the statistic in ways `udml` does not copy:
#
# - it is taken from the **last training batch only**, so it carries that batch's noise; `udml`
#   keeps a running average over all training batches
#   (`udml.method.dependency.DependencyTracker`, an EMA with momentum 0.1);
# - it lives in the **mutable argument object**, so a saved checkpoint does not carry it;
#   here it is a buffer of the model, saved with its weights;
# - it **starts at $D^{\mathrm{ref}} = 32$ (audio) and 10 (visual)**, a hand-set prior rather
#   than a measurement;
#   here it is the first batch's measurement;
# - **evaluation-only runs ignore the learned values** and fall back on 32 and 10.
#
# What those starting values do to the weights: with equal uncertainties $s_m$, the weights are
# set by the dependencies alone.

# %%
start_weights = unbiased_weights(torch.ones(1, 2), torch.tensor([32.0, 10.0]))  # (1, M)
print(f"weights (audio, visual) from D_ref = (32, 10) at equal s: {start_weights[0].tolist()}")
assert torch.isclose(start_weights.sum(), torch.tensor(2.0))
glue("ref_start_w_audio", float(start_weights[0, 0]))
_ = glue("ref_start_w_visual", float(start_weights[0, 1]))

# %% [markdown]
# So a reference model evaluated from a checkpoint gives audio a weight of
# {glue:text}`ref_start_w_audio:.2f` and video {glue:text}`ref_start_w_visual:.2f` at equal
# uncertainty, whatever it measured while training.
#
# (sec-dep-history)=
# ## How the dependency evolves during training
#
# Two datasets. The **synthetic** one has two vector modalities with a planted
# difficulty: in `m0` each class shifts the mean (a linear layer separates the classes at
# once), in `m1` each class is a pair of opposite means (XOR-like: every class has mean 0, so
# the network must learn a non-linear feature). Its `info` records the ground truth, including
# the exact Bayes accuracy of each modality. The **mfeat** digits have a 16 x 15 pixel image
# (`pix`, read by a small CNN) and 76 Fourier coefficients of the contour (`fou`, read by an MLP);
# nobody planted their difficulty.

# %%
data = {name: load_dataset(name) for name in ("synthetic", "mfeat")}
specs = {name: default_specs(splits) for name, splits in data.items()}
truth = data["synthetic"].info
print("synthetic difficulty:", truth["difficulty"], "Bayes accuracy:", truth["bayes_accuracy"])
for name, splits in data.items():
    print(f"{name}: {len(splits.train)} train / {len(splits.val)} val / {len(splits.test)} test, "
          f"{splits.num_classes} classes, shapes {splits.shapes}")
easy_syn, hard_syn = truth["easy"][0], truth["hard"][0]
glue("bayes_easy", truth["bayes_accuracy"][easy_syn])
_ = glue("bayes_hard", truth["bayes_accuracy"][hard_syn])

# %% [markdown]
# We train static fusion (the plain concat of the embeddings, $w_m = 0$) on both, with the
# dependency tracked at every training batch although static fusion does not use it
# (`track_dependency=True`). The training loss is the fused cross-entropy plus
# $\gamma \sum_m \mathrm{CE}(\pi_m, y)$, the unimodal losses, with the default $\gamma = 1$.
# The schedule is the reference one, scaled to the run: clean data for the first half of the
# epochs, then half of the samples noisy at random levels per modality; the learning rate drops
# at 70%.

# %%
train_cfg = TrainConfig(epochs=epochs, seed=seed, progress=True, device=str(dev))
trained = {}  # (dataset, gamma, method) -> (model, history)
for name, splits in data.items():
    trained[name, 1.0, "static"] = fit(
        splits, ModelConfig(method="static", track_dependency=True, gamma=1.0), train_cfg,
        specs[name])
for (name, gamma, method), (model, history) in trained.items():
    print(f"{name} {method} gamma={gamma}: final train accuracy {history[-1]['train_acc']:.3f}, "
          f"val clean {history[-1]['val_acc_clean']:.3f}, noisy {history[-1]['val_acc_noisy']:.3f}")

# %% [markdown]
# {numref}`fig-dependency-history` shows, for each dataset, the running $D_m$ at the end of each
# epoch (top) and the normalised $\alpha_m$ (bottom; the dashed line at 1 is "no preference").
# The grey band is the noisy phase of the schedule: from there on the statistic is measured on
# noisy training batches, and noise in a modality lowers how much the head can rely on it.

# %%
labels = {easy_syn: f"{easy_syn} (easy)", hard_syn: f"{hard_syn} (hard)"}
histories = {"synthetic (planted)": trained["synthetic", 1.0, "static"][1],
             "mfeat (pix + fou)": trained["mfeat", 1.0, "static"][1]}
fig = plots.plot_dependency_history(histories, labels)
glue_figure("fig-dependency-history", fig)
for history in histories.values():
    _, values = plots.dependency_curves(history)
    assert len(next(iter(values.values()))) == epochs, "one dependency value per epoch"
    assert all((v > 0).all() for v in values.values()), "the dependency must be positive"

# %% [markdown]
# ```{glue:figure} fig-dependency-history
# :name: fig-dependency-history
#
# How much the static network relies on each modality as it learns: the running dependency $D_m$
# per epoch (top) and its normalised form $\alpha_m$ (bottom), on the synthetic set and on mfeat;
# the shaded span is the noisy phase.
# ```
#
# The table reads the curves at four moments: after the first epoch, after the second,
# at the end of the clean phase and at the end. It gives each modality's *share*
# $D_m / \sum_k D_k = \alpha_m / M$ (0.5 is no preference), next to the unimodal test
# accuracies of the final model (its head fed with one modality alone, clean test set).

# %%
levels = [3, 6, 9, 11]  # the noise levels tested (1 = clean, 11 = destroyed)
reports = {}  # (dataset, gamma, method) -> evaluate(...) on the test split


def report(key):
    """Evaluate a trained model once on its test split: clean, and each modality alone noisy."""
    if key not in reports:
        model, _ = trained[key]
        splits = data[key[0]]
        protocols = ["clean"] + [f"one:{m}@{l}" for m in splits.modalities for l in levels]
        reports[key] = evaluate(model, splits.test, specs[key[0]], model.config.num_levels,
                                protocols, seed=seed, device=dev)
    return reports[key]


clean_end = max(r["epoch"] for r in trained["synthetic", 1.0, "static"][1] if not r["noisy"])
moments = {"epoch 1": 0, "epoch 2": 1,
           f"end of clean phase (epoch {clean_end + 1})": clean_end, f"end (epoch {epochs})": -1}
shares = {}  # dataset -> moment -> modality -> share
lines = ["| dataset | modality | " + " | ".join(moments) + " | unimodal test acc. |",
         "| --- | --- |" + " ---: |" * (len(moments) + 1)]
for name in data:
    _, values = plots.dependency_curves(trained[name, 1.0, "static"][1])
    alpha = plots.normalised_curves(values)
    uni = report((name, 1.0, "static"))["protocols"]["clean"]["unimodal"]
    shares[name] = {k: {m: float(alpha[m][i]) / len(alpha) for m in alpha}
                    for k, i in moments.items()}
    for m in sorted(values):
        cells = " | ".join(f"{shares[name][k][m]:.2f}" for k in moments)
        lines.append(f"| {name} | {labels.get(m, m)} | {cells} | {uni[m]:.3f} |")
display(Markdown("\n".join(lines)))
for name in shares:
    for k in moments:
        assert abs(sum(shares[name][k].values()) - 1) < 1e-6, "shares must sum to 1"

# %% [markdown]
# What the curves and the table show, computed from them:

# %% tags=["hide-input"]
first, second = "epoch 1", "epoch 2"
end, clean_k = f"end (epoch {epochs})", f"end of clean phase (epoch {clean_end + 1})"
syn = shares["synthetic"]
biased_first = syn[first][easy_syn] > 0.5
biased_second = syn[second][easy_syn] > 0.5
lean = ("more than half both times: the network leans on it first, the optimisation bias the "
        "paper describes" if biased_first and biased_second else
        "more than half at only one of the two moments" if biased_first or biased_second else
        "no more than half at either moment: no early lean towards it")
lasts = ("it keeps more than half to the end" if syn[end][easy_syn] > 0.5 else
         "by the end the hard modality holds the larger share")
finding_syn = (
    f"On the synthetic set the planted easy modality `{easy_syn}` holds "
    f"{syn[first][easy_syn]:.2f} of the dependency after the first epoch and "
    f"{syn[second][easy_syn]:.2f} after the second, {lean}. At the end of the clean phase "
    f"its share is {syn[clean_k][easy_syn]:.2f} and at the end {syn[end][easy_syn]:.2f}: {lasts}.")
mf = shares["mfeat"]
early_fav = max(mf[second], key=mf[second].get)
late_fav = max(mf[end], key=mf[end].get)
uni_mf = report(("mfeat", 1.0, "static"))["protocols"]["clean"]["unimodal"]
stronger = max(uni_mf, key=uni_mf.get)
finding_mf = (
    f"On mfeat the network leans on `{early_fav}` after the second epoch (share "
    f"{mf[second][early_fav]:.2f}) and on `{late_fav}` at the end (share {mf[end][late_fav]:.2f}); "
    f"alone, `{stronger}` is the more accurate ({uni_mf[stronger]:.3f} against "
    f"{min(uni_mf.values()):.3f}), so "
    + ("the modality learned first is the hard one, not the easy one."
       if early_fav != stronger else "the easy modality is also the one learned first."))
glue("finding_syn", Markdown(finding_syn))
_ = glue("finding_mf", Markdown(finding_mf))

# %% [markdown]
# {glue:md}`finding_syn:myst`
#
# {glue:md}`finding_mf:myst`
#
# One caveat of the planted data: with equal signal strength, the XOR-like modality is also
# somewhat less informative (Bayes accuracy {glue:text}`bayes_hard:.3f` against
# {glue:text}`bayes_easy:.3f` for the easy one), so "easy" and "stronger" are not fully separated
# there. On both datasets the shares move through the clean phase and again in the noisy phase:
# a single value measured at one moment, as the reference code's last batch is, describes that
# moment only.
#
# (sec-dep-formulas)=
# ## The two formulas on the trained models
#
# Do the paper's $d_m$ and the reference code's $D^{\mathrm{ref}}_m$ agree on which modality the
# trained network relies on most? Both are computed on the same batch: the embeddings $z$ (the
# means $\mu_m$, as at evaluation) of the whole clean test split. The first column is the running
# $D_m$ that the model carries in its state (`dependency.value`, saved with a checkpoint),
# averaged over the last training batches, which were partly noisy and used sampled $z$; the
# normalised columns divide each measure by its sum over the modalities, times $M$.

# %% tags=["hide-input"]
lines = ["| dataset | modality | running $D_m$ (model state) | $d_m$, test batch | normalised "
         "| $D^{\\mathrm{ref}}_m$, test batch | normalised |",
         "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
agree, alpha_gap = {}, {}
for name in data:
    model, _ = trained[name, 1.0, "static"]
    test = data[name].test
    batch = next(test.batches(len(test))).to(dev)
    with torch.no_grad():
        out = model(batch.x)
    z_test = torch.stack([out.mu[m] for m in model.modalities], 1)  # (N, M, K)
    d_test = dropout_dependency(model.head, z_test).cpu()           # (M,)
    D_ref_test = reference_dependency(model.head, z_test).cpu()     # (M,)
    assert (d_test >= 0).all() and (D_ref_test >= 0).all()
    a_d, a_ref = normalised_dependency(d_test), normalised_dependency(D_ref_test)
    running = model.state_dict()["dependency.value"].cpu()  # (M,) saved with the weights
    for i, m in enumerate(model.modalities):
        lines.append(f"| {name} | {labels.get(m, m)} | {running[i]:.2f} | {d_test[i]:.2f} "
                     f"| {a_d[i]:.2f} | {D_ref_test[i]:.2f} | {a_ref[i]:.2f} |")
    agree[name] = bool(d_test.argmax() == D_ref_test.argmax())
    alpha_gap[name] = float((a_d - a_ref).abs().max())
display(Markdown("\n".join(lines)))
same = [name for name, ok in agree.items() if ok]
gap = max(alpha_gap.values())
rank_text = (("On both datasets the two formulas name the same most-relied-on modality"
              if len(same) == len(agree) else
              f"The two formulas name the same most-relied-on modality on {' and '.join(same)} only"
              if same else "The two formulas name different most-relied-on modalities")
             + f", and their normalised values differ by at most {gap:.3f}"
             + (": the head's bias is small next to the logits that the embeddings produce, so "
                "the bias term that dominated the toy example hardly matters on these models."
                if gap < 0.05 else ": the head's bias moves the measure noticeably even here."))
_ = glue("rank_text", Markdown(rank_text))

# %% [markdown]
# {glue:md}`rank_text:myst` The bias term matters where a modality contributes
# little, since there $\lVert b \rVert_1$ is a floor that $D^{\mathrm{ref}}_m$ cannot go below.
#
# (sec-dep-dual)=
# ## Dual suppression: does naive dynamic fusion fall below static?
#
# Now three methods, with everything else equal (same data, seed, encoders, schedule and
# epochs): **static** ($w_m = 0$), **naive** dynamic fusion (weights from the noise-aware
# estimate $\hat s_m$ alone, $D_m = 1$) and **UDML** ($\hat s_m$ and the running $D_m$). If dual
# suppression happens, naive fusion should fall below static somewhere, most likely when the hard
# modality is noisy, and UDML should close the gap. Each model is tested on the clean test split
# and with one modality at a time corrupted at levels {glue:text}`levels_text`.
#
# The unimodal-loss weight $\gamma$ matters here. With $\gamma = 1$ every modality's own
# classifier is trained, the weak modality included; with $\gamma = 0$ only the fused loss
# trains the network, the setting in which an under-trained weak modality is most likely. The
# default profile trains both values on mfeat, and $\gamma = 1$ on the synthetic data (the `gpu`
# profile adds $\gamma = 0$ there).

# %%
glue("levels_text", ", ".join(map(str, levels)))
grid = [(name, 1.0) for name in data] + [(name, 0.0) for name in settings["gamma_zero"]]
for name, gamma in grid:
    for method in ("static", "naive", "udml"):
        if (name, gamma, method) not in trained:
            trained[name, gamma, method] = fit(
                data[name], ModelConfig(method=method, track_dependency=True, gamma=gamma),
                train_cfg, specs[name])
accuracies = {(name, gamma): {method: {p: e["accuracy"]
                                       for p, e in report((name, gamma, method))["protocols"].items()}
                              for method in ("static", "naive", "udml")}
              for name, gamma in grid}
for key, per_method in accuracies.items():
    for method, accs in per_method.items():
        assert all(0.0 <= a <= 1.0 for a in accs.values())
        assert accs["clean"] > 1.5 / data[key[0]].num_classes, f"{key} {method} near chance"

# %% [markdown]
# Which modality plays which role: on the synthetic data the planted ones; on mfeat there is no
# planted truth, so the **easy** modality is the one that is more accurate alone (the static
# model's unimodal accuracy on the clean test set, the definition of the glossary used in every
# chapter), run by run, since $\gamma$ changes the branches; the **hard** one is the other. Which modality the network happened to lean on after
# the second epoch (the table above) is a different question: that one is the modality *learned
# first*.

# %%
def run_roles(name: str, gamma: float) -> dict:
    """{"easy": m, "hard": m} of one run: planted on the synthetic set; on mfeat the modality
    more accurate alone under that run's own static model (gamma changes the branches)."""
    if name == "synthetic":
        return {"easy": easy_syn, "hard": hard_syn}
    uni = report((name, gamma, "static"))["protocols"]["clean"]["unimodal"]
    easy = max(uni, key=uni.get)
    return {"easy": easy, "hard": next(m for m in uni if m != easy)}


roles = {run: run_roles(*run) for run in accuracies}  # (dataset, gamma) -> roles
runs, panels, titles = {}, {}, {}
for (name, gamma), per_method in accuracies.items():
    run = f"{name}, $\\gamma$={gamma:g}"
    runs[run] = per_method
    panels[run] = [roles[name, gamma]["hard"], roles[name, gamma]["easy"]]
    titles[run] = {m: f"{run}: {m} ({role}) noisy" for role, m in roles[name, gamma].items()}
fig = plots.plot_accuracy_vs_level(runs, panels, levels, titles)
glue_figure("fig-dual-suppression", fig)

# %% [markdown]
# ```{glue:figure} fig-dual-suppression
# :name: fig-dual-suppression
#
# Static, naive dynamic and UDML fusion with one modality corrupted at increasing levels (one panel
# per run and noisy modality, the role of the noisy modality in the title); one seed.
# ```
#
# {numref}`fig-dual-suppression` draws the accuracies; the table gives the same numbers, with the
# differences to static fusion in points of accuracy. With
# a single seed and a few hundred test samples, the binomial standard error of one accuracy (the
# static model's clean accuracy here) is already {glue:text}`se_points:.1f` points on mfeat's
# {glue:text}`n_test_mfeat` test samples, so differences of a point or two are within the noise
# of one run.

# %% tags=["hide-input"]
n_test = len(data["mfeat"].test)
p_ref = accuracies["mfeat", 1.0]["static"]["clean"]
se_points = 100 * (p_ref * (1 - p_ref) / n_test) ** 0.5
glue("se_points", se_points)
glue("n_test_mfeat", n_test)
lines = ["| run | test condition | static | naive | UDML | naive - static | UDML - static |",
         "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
for (name, gamma), per_method in accuracies.items():
    for p in per_method["static"]:
        cond = p if p == "clean" else p.replace("one:", "")
        role = next((r for r, m in roles[name, gamma].items() if p.startswith(f"one:{m}@")),
                    None)
        cond = f"{cond} ({role})" if role else cond
        s, n, u = (per_method[k][p] for k in ("static", "naive", "udml"))
        lines.append(f"| {name}, $\\gamma$={gamma:g} | {cond} | {s:.3f} | {n:.3f} | {u:.3f} "
                     f"| {100 * (n - s):+.1f} | {100 * (u - s):+.1f} |")
display(Markdown("\n".join(lines)))

# %% [markdown]
# Run by run, computed from the table: the conditions where naive fusion is below static by
# more than two *paired* standard errors (the two models are scored on the same
# corrupted test samples, so the standard error is that of the per-sample difference in
# correctness, one per condition), the worst gap, and what UDML does there. One seed, many
# conditions, no correction for multiplicity: an illustration, not evidence (chapter 5 has the
# multi-seed test).

# %% tags=["hide-input"]
def correct(key, protocol):
    """(N,) 1.0 where the model of ``key`` classifies a test sample right under ``protocol``."""
    model, _ = trained[key]
    splits = data[key[0]]
    gen = torch.Generator(device=dev).manual_seed(seed)  # the corrupted samples of `report`
    pred = predict(model, splits.test, specs[key[0]], protocol, model.config.num_levels, gen,
                   device=dev)
    return (pred.logits.argmax(1) == pred.y).double()


def paired_band(name, gamma, a, b, protocol):
    """Two standard errors of the paired difference in accuracy of methods a - b."""
    d = correct((name, gamma, a), protocol) - correct((name, gamma, b), protocol)  # (N,)
    return 2 * float(d.std() / d.numel() ** 0.5)


findings, below_at = [], {}  # below_at: (dataset, gamma) -> conditions where naive < static
for (name, gamma), per_method in accuracies.items():
    gaps = {p: per_method["naive"][p] - per_method["static"][p] for p in per_method["static"]}
    bands = {p: paired_band(name, gamma, "naive", "static", p) for p in gaps}
    worst = min(gaps, key=gaps.get)
    below = [p for p, g in gaps.items() if g < -bands[p]]
    below_at[name, gamma] = below
    head_text = f"On {name} with $\\gamma$ = {gamma:g}, "
    if not below and gaps[worst] >= 0:
        text = (f"naive fusion is at or above static at every condition (its smallest margin is "
                f"{100 * gaps[worst]:+.1f} points, at `{worst}`)")
    elif not below:
        text = (f"naive fusion is never below static by more than two paired standard errors "
                f"(its largest shortfall is {100 * gaps[worst]:+.1f} points, at `{worst}`, where "
                f"two standard errors are {100 * bands[worst]:.1f} points)")
    else:
        fixed = [p for p in below if per_method["udml"][p] - per_method["static"][p]
                 >= -paired_band(name, gamma, "udml", "static", p)]
        worst = min(below, key=gaps.get)
        text = (f"naive fusion is below static beyond two paired standard errors at "
                f"{len(below)} of {len(gaps)} conditions ({', '.join(f'`{p}`' for p in below)}), "
                f"by up to {-100 * gaps[worst]:.1f} points at `{worst}`; UDML is below static "
                f"beyond that band at {len(below) - len(fixed)} of them too (UDML - static at "
                f"`{worst}`: "
                f"{100 * (per_method['udml'][worst] - per_method['static'][worst]):+.1f} points)")
    udml_worst = min(per_method["static"], key=lambda p: per_method["udml"][p] - per_method["static"][p])
    text += (f"; UDML's own worst gap to static is "
             f"{100 * (per_method['udml'][udml_worst] - per_method['static'][udml_worst]):+.1f} "
             f"points, at `{udml_worst}`")
    findings.append(head_text + text)
display(Markdown("\n".join(f"- {v}." for v in findings)))

# %% [markdown]
# To see why, look at what each model does with its modalities: the unimodal test accuracies
# (the head fed with one modality alone, clean data) and the mean fusion weights $w_m$ on the
# clean test set and with each modality at the top level.

# %% tags=["hide-input"]
lines = ["| run | method | unimodal acc. | mean $w$, clean | mean $w$, hard at 11 "
         "| mean $w$, easy at 11 |", "| --- | --- | --- | --- | --- | --- |"]
weights = {}  # (dataset, gamma, method, condition) -> {modality: mean weight}
for name, gamma in grid:
    hard, easy = roles[name, gamma]["hard"], roles[name, gamma]["easy"]
    conds = {"clean": "clean", "hard": f"one:{hard}@11", "easy": f"one:{easy}@11"}
    for method in ("static", "naive", "udml"):
        entries = report((name, gamma, method))["protocols"]
        uni = ", ".join(f"{m} {a:.3f}" for m, a in entries["clean"]["unimodal"].items())
        cells = []
        for cond, p in conds.items():
            w = entries[p].get("mean_weights")
            if w is not None:
                weights[name, gamma, method, cond] = w
                assert abs(sum(w.values()) - len(w)) < 1e-4, "the weights sum to M"
            cells.append(", ".join(f"{m} {v:.2f}" for m, v in w.items()) if w else "-")
        lines.append(f"| {name}, $\\gamma$={gamma:g} | {method} | {uni} | " + " | ".join(cells) + " |")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## What we learned
#
# Each lesson names the figure or the section whose table shows it.

# %% tags=["hide-input"]
mf_easy, mf_hard = roles["mfeat", 1.0]["easy"], roles["mfeat", 1.0]["hard"]
lessons = []
# 1. the two measures
lessons.append(
    f"**Dropping a modality and feeding it alone measure different things.** On the toy head the "
    f"ignored modality gets $d_b = {float(d[1]):.1f}$ by dropout but "
    f"$D^{{\\mathrm{{ref}}}}_b = {float(D_ref[1]):.1f} = \\lVert b \\rVert_1$ from the reference "
    f"code's measure. {rank_text.rstrip('.')} (table in {{ref}}`sec-dep-formulas`).")
# 2. the planted data: learned first, and for how long
syn_end = syn[end][easy_syn]
lessons.append(
    ("**The network leans on the easy modality first**" if biased_first and biased_second else
     "**The network does not clearly lean on the easy modality first**")
    + (", and not for long." if biased_first and biased_second and syn_end <= 0.5 else ".")
    + f" The planted easy `{easy_syn}` holds {syn[first][easy_syn]:.2f} of the dependency after "
    f"the first epoch, {syn[second][easy_syn]:.2f} after the second and {syn_end:.2f} at the "
    f"end ({{numref}}`fig-dependency-history` and the table of shares in "
    f"{{ref}}`sec-dep-history`).")
# 3. mfeat: learned first against easy
lessons.append(
    ("**Learned first is not the same as easy.**" if early_fav != mf_easy else
     "**On mfeat the easy modality is also the one learned first.**")
    + f" On mfeat the network leans on `{early_fav}` after the second epoch and on `{late_fav}` at "
    f"the end (share {mf[end][late_fav]:.2f}), while `{mf_easy}` is the more accurate alone "
    f"({uni_mf[mf_easy]:.3f} against {uni_mf[mf_hard]:.3f}; {{numref}}`fig-dependency-history`).")
# 4. dual suppression in one seed
n_cond = sum(len(per["static"]) for per in accuracies.values())
n_below = sum(len(b) for b in below_at.values())
gaps_all = {(run, p): per["naive"][p] - per["static"][p]
            for run, per in accuracies.items() for p in per["static"]}
lowest, highest = min(gaps_all, key=gaps_all.get), max(gaps_all, key=gaps_all.get)


def where(run_p):
    """'mfeat, gamma = 1, one:pix@11' for a (run, protocol) key."""
    (name, gamma), p = run_p
    return f"{name}, $\\gamma$ = {gamma:g}, `{p}`"


lessons.append(
    ("**In one seed, naive dynamic fusion is never below static by more than two paired "
     "standard errors.**" if not n_below else
     f"**In one seed, naive dynamic fusion falls below static beyond two paired standard "
     f"errors at {n_below} of {n_cond} conditions** ("
     + ", ".join(where((run, p)) for run, below in below_at.items() for p in below) + ").")
    + f" Over all {n_cond} (run, condition) pairs its largest shortfall is "
    f"{100 * gaps_all[lowest]:+.1f} points ({where(lowest)}) and its largest gain "
    f"{100 * gaps_all[highest]:+.1f} points ({where(highest)}; "
    f"{{numref}}`fig-dual-suppression` and its table). Chapter 5 repeats the comparison over five "
    "seeds.")
# 5. the estimate alone on clean inputs
w_hard = {name: weights[name, 1.0, "naive", "clean"][roles[name, 1.0]["hard"]] for name in data}
damped = [name for name, w in w_hard.items() if w < 1]
lessons.append(
    ("**On clean inputs the uncertainty estimate alone already damps the hard modality**"
     if len(damped) == len(w_hard) else
     "**On clean inputs the uncertainty estimate alone does not damp the hard modality**"
     if not damped else
     "**On clean inputs the uncertainty estimate alone damps the hard modality on one dataset "
     "and not on the other**")
    + ": naive fusion gives it a mean weight of "
    + " and ".join(f"{w:.2f} on {name} (`{roles[name, 1.0]['hard']}`)" for name, w in w_hard.items())
    + ", where 1 is an equal share (table of weights in {ref}`sec-dep-dual`). A weight below 1 "
    "there is the uncertainty half of dual suppression.")
# 6. the dependency term against the estimate, with a modality destroyed
late_other = next(m for m in data["mfeat"].modalities if m != late_fav)
other_role = "easy" if late_other == mf_easy else "hard"
w_u = weights["mfeat", 1.0, "udml", other_role][late_other]
w_n = weights["mfeat", 1.0, "naive", other_role][late_other]
at_other = {k: accuracies["mfeat", 1.0][k][f"one:{late_other}@11"] for k in ("naive", "udml")}
lessons.append(
    ("**The dependency term can hand weight back to a destroyed modality.**" if w_u > w_n else
     "**Here the dependency term does not hand weight back to a destroyed modality.**")
    + f" Dividing by $D_m$ boosts the modality the network relies on less, `{late_other}` on "
    f"mfeat, noisy or not: destroyed, it gets a mean weight of {w_u:.2f} from UDML against "
    f"{w_n:.2f} from naive fusion, and UDML scores {100 * (at_other['udml'] - at_other['naive']):+.1f}"
    " points against naive fusion there (table of weights in {ref}`sec-dep-dual`). Chapter 4 "
    "states exactly when this happens (the dominance condition).")
# 7. the residual rescaling
syn_hard11 = {k: accuracies["synthetic", 1.0][k][f"one:{hard_syn}@11"]
              for k in ("static", "naive", "udml")}
uni_syn_easy = report(("synthetic", 1.0, "udml"))["protocols"]["clean"]["unimodal"][easy_syn]
lessons.append(
    "**The residual rescaling cannot switch a modality off.** The head reads $(1 + w_m) z_m$ with "
    "$0 \\le w_m \\le M$, so a weight of 0 still passes $z_m$ on and two modalities' scales differ "
    "by a factor of at most $M + 1$. On the synthetic set with the hard modality at level 11 the "
    "three methods score "
    + ", ".join(f"{a:.3f} ({'UDML' if k == 'udml' else k})" for k, a in syn_hard11.items())
    + (", all below" if max(syn_hard11.values()) < uni_syn_easy else ", not all below")
    + f" the {uni_syn_easy:.3f} that the clean easy modality reaches alone "
    "({numref}`fig-dual-suppression`; table of weights in {ref}`sec-dep-dual`).")
# 8. the unimodal losses
uni_g = {g: report(("mfeat", g, "static"))["protocols"]["clean"]["unimodal"] for g in (1.0, 0.0)
         if ("mfeat", g, "static") in trained}
if len(uni_g) == 2:
    weaker = all(uni_g[0.0][m] < uni_g[1.0][m] for m in uni_g[1.0])
    lessons.append(
        ("**Without the unimodal losses both branches are weaker.**" if weaker else
         "**The unimodal losses change what each branch learns.**")
        + " Static fusion's branches on mfeat score "
        + ", ".join(f"{uni_g[1.0][m]:.3f} (`{m}`)" for m in (mf_easy, mf_hard))
        + " alone with $\\gamma = 1$ and "
        + ", ".join(f"{uni_g[0.0][m]:.3f}" for m in (mf_easy, mf_hard))
        + " with $\\gamma = 0$, where only the fused loss trains them (table of weights in "
        "{ref}`sec-dep-dual`).")
_ = glue("lessons", Markdown("\n".join(f"{i}. {t}" for i, t in enumerate(lessons, 1))))

# %% [markdown]
# ```{glue:md} lessons
# :format: myst
# ```
#
# This is one seed on small data: the lessons illustrate the mechanism, and chapter 5 repeats
# the comparisons over several seeds with their spread.

# %% tags=["nbval-ignore-output"]
run_time = report_time(started)
_ = glue("run_time", Markdown(f"{run_time:.1f} s"))

# %% [markdown]
# ## Exercises
#
# 1. Replace the concat head of the toy example by `udml.method.heads.GatedHead(2, 2, 2)` (random
#    weights after `torch.manual_seed(0)`) and compute both measures on the same `z`. Why is
#    $d_m$ no longer the norm of one modality's own contribution?
#
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# torch.manual_seed(0)
# gated = udml.method.heads.GatedHead(2, 2, 2)
# print(dropout_dependency(gated, z), reference_dependency(gated, z))
# ```
#
# The gated head computes $\pi = W \sum_m g_m z_m + b$ with gates $g = \sigma(V[z_a; z_b] + c)$
# that read *all* modalities. Dropping $a$ removes $g_a z_a$ and also changes the gate $g_b$, so
# $\pi - \pi_{-a} = W\big(g_a z_a + (g_b - g'_b) z_b\big)$: the paper's measure includes how $a$
# steers the use of $b$. The reference measure feeds each modality alone, with gates computed
# from that input only, and cannot see this interaction; there is no longer a simple relation
# "$D^{\mathrm{ref}}_m = d_m$ plus a bias effect".
# :::
#
# 2. Dual suppression on the synthetic data at $\gamma = 0$: run the chapter with
#    `profile = "gpu"` (60 epochs, both datasets at $\gamma = 0$), or add `"synthetic"` to the
#    `gamma_zero` list of the default profile. Does naive fusion fall below static where the hard
#    modality `m1` is noisy?
#
# :::{admonition} Solution
# :class: dropdown
#
# Read the new rows of the table and the findings beneath it. The planted hard modality is
# learned by its
# own encoder through the fused loss alone when $\gamma = 0$; if the final dependency on it is
# low, naive fusion damps it further when it is noisy and the "hard noisy" panel is where the
# gap to static would show. With one seed, compare any gap with the two paired standard errors
# given beneath the table before calling it real.
# :::
#
# 3. The reference measure from the last batch only: train
#    `ModelConfig(method="static", track_dependency=True, dependency_momentum=1.0)` (the running
#    value is then the last batch's) and plot its history next to the default run with
#    `plots.plot_dependency_history`. How much does the end-of-epoch value jump from epoch to
#    epoch?
#
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# last_only, history = fit(data["synthetic"],
#                          ModelConfig(method="static", track_dependency=True,
#                                      dependency_momentum=1.0), train_cfg, specs["synthetic"])
# plots.plot_dependency_history({"EMA 0.1": trained["synthetic", 1.0, "static"][1],
#                                "last batch": history})
# ```
#
# With momentum 1 each epoch's value is one batch's measurement, so expect a jumpier curve, most
# of all in the noisy phase, where each batch carries different noise levels. A weight
# built from it would change with whichever batch happened to come last; the running average
# smooths that out at the cost of reacting a few batches later.
# :::
