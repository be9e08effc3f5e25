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
# # The experiments: every claim, side by side
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/REPLACE-WITH-OWNER/udml-book/blob/main/book/05_experiments.ipynb)
#
#
# This chapter puts every claim of the paper (as {doc}`intro` summarises them) to one fair trial:
# every method trained with the same encoders, splits, budget and seeds, and scored on the same
# corrupted test sets. It reads the committed results files, re-runs one job to show that they
# reproduce, and states what the numbers show for each claim, including where it does not hold.
#
# **Before you start:** chapters 2-4.
#
# **What you will build:** for each claim a figure or table and the findings read off it; the
# permutation test of the quality scores; one step beyond the paper, with a clearly labelled
# extension.
#
# **Run time:** {glue:md}`run_time:myst` on a 2-core CPU (the default profile).

# %% [markdown]
# ## Setup
#
# The profiles (where the results come from) and the parameters: {doc}`appendix_running`.

# %%
# Install guard: installs `udml` (with its data) from the book's
# repository when it is missing, as on Colab; a no-op otherwise.
try:
    import udml  # noqa: F401
except ImportError:
    # %pip install --quiet "udml @ git+https://github.com/REPLACE-WITH-OWNER/udml-book@main"

# %% tags=["parameters"]
device = "auto"  # "auto" (cuda when available, else cpu), "cpu" or "cuda"
seed = 0  # the seed of the job that is re-run to check the results files
profile = "default"  # "tiny", "default", "full" or "gpu"
results_dir = ""  # another folder of results to read; "": the committed one

# %% tags=["hide-input"]
import tempfile
from pathlib import Path

import torch
from IPython.display import Markdown, display

import udml
from udml.analysis import claims
from udml.analysis.permutation import permutation_finding, permutation_table
from udml.analysis.calibration import (calibration_rows, dominance_rows, score_means,
                                       top_level_weight_ratio)
from udml.analysis.comparisons import (accuracy_table, find_results, fmt_diff, has_method,
                                       level_curves, load_experiment, markdown_table, modalities,
                                       num_levels, series, sweep_cost, top_level_scales)
from udml.config import METHODS
from udml.corrupt import protocol_from_string
from udml.experiments.jobs import SEEN_KIND
from udml.experiments.registry import DATASET_NAMES, get_experiment
from udml.book.notebook import glue, glue_figure, report_time, setup
from udml.plotting import experiments as plots
from udml.plotting import experiments_tables as tables
from udml.plotting import permutation as perm_plots
from udml.plotting.style import METHOD_LABELS, method_label, words
from udml.experiments.reproduce import find_job, rerun, rerun_difference
from udml.experiments.files import read_results
from udml.experiments.runner import make_jobs, run_experiment
from udml.plotting.calibration import plot_calibration
from udml.training.metrics import ALL, LOW_END, level_halves, level_ranges
from udml.method.weights import unbiased_weights

EXPERIMENTS = ("main", "gamma", "ablation", "extension")
# where the results come from; the job (experiment, dataset, method) re-run with `seed`
PROFILES = {
    "tiny": {"source": "smoke", "rerun": ("smoke", "mfeat", "udml")},
    "default": {"source": "committed", "rerun": ("main", "synthetic", "udml")},
    "full": {"source": "sweep", "out": None, "rerun": ("main", "mfeat", "udml")},
    "gpu": {"source": "sweep", "out": "_build/results-gpu", "rerun": None},
}
dev, settings, generator, started = setup(device, seed, profile, PROFILES)
print(f"udml {udml.__version__}, settings: {settings}")


def pts(x: float) -> str:
    """An accuracy difference (a fraction) in signed percentage points."""
    return f"{100 * x:+.1f}"


def listing(items) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def key(dataset: str) -> str:
    """A dataset's name as part of a glue name."""
    return dataset.replace("-", "_")


# %% [markdown]
# ## The experiments
#
# Four experiments carry the evidence: `main` trains every method on every dataset; `gamma`
# switches off the unimodal losses; `ablation` changes one component of UDML at a time;
# `extension` tries a variant that is *not* the paper's method. Every job has the same budget:
# {glue:md}`budget:myst`. Each seed fixes the split, the initialisation and the test noise, so methods
# are compared *paired*, seed by seed. No method was tuned more than another.

# %% tags=["hide-input"]
resolved = get_experiment("main").resolve("default", "udml", seed)
train_cfg, model_cfg = resolved["train"], resolved["model"]
L = model_cfg["num_levels"]
glue("budget", Markdown(
    f"{train_cfg['optimizer']} (learning rate {train_cfg['lr']:g}, weight decay "
    f"{train_cfg['weight_decay']:g}, batch {train_cfg['batch_size']}) for {train_cfg['epochs']} "
    f"epochs, clean data for the first {train_cfg['warmup']:.0%} of them, then noisy data "
    f"({train_cfg['clean_share']:.0%} of the samples kept clean), uncertainty weights from "
    f"{train_cfg['uncertainty_start']:.0%} of the epochs on, learning rate x0.1 after "
    f"{train_cfg['lr_drop']:.0%}; unimodal loss weight γ = {model_cfg['gamma']:g}, "
    f"{L} noise levels"))
glue("levels_text", f"2..{L}")
glue("random_clean", protocol_from_string("random").clean_share)
glue("ranges_text", Markdown("levels " + " and ".join(
    f"{lo}-{hi}" for name, (lo, hi) in level_halves(L).items() if name != ALL)))
rows = []
for name in EXPERIMENTS:
    exp = get_experiment(name)
    rows.append([name, ", ".join(exp.datasets), ", ".join(exp.methods),
                 len(exp.seeds), ", ".join(exp.variants), len(make_jobs(exp)), exp.description])
display(Markdown(markdown_table(
    ["experiment", "datasets", "methods", "seeds", "variants", "jobs", "what"], rows,
    align="lllrlrl")))

# %% [markdown]
# The methods: static concatenation (`static`), late fusion (`late`), dynamic fusion weighted by
# a probabilistic embedding's variance (`pe`), by the noise-aware estimate alone (`naive`), UDML
# (`udml`), UDML given the true level (`oracle`: not an upper bound, since the true levels also
# change training), QMF {cite:p}`zhang2023qmf` and TMC {cite:p}`han2021tmc`, late fusions that
# read a modality's quality score off its own classifier, never told a level.
#
# Each job is scored on clean data, with one modality and with all modalities at each Gaussian
# level {glue:text}`levels_text`, under the random protocol ({glue:text}`random_clean:.0%` of the
# samples clean, the rest at random levels per modality), and under unseen kinds (blur,
# occlusion, salt-and-pepper). Tables group these as *clean*, one per noisy modality (*fou
# noisy*, mean over the levels), *all noisy*, *random* and one per unseen kind (*unseen: blur*).
#
# ## The results files, and do they reproduce?

# %% tags=["hide-input", "hide-output"]
def obtain_results(settings: dict, results_dir: str, scratch: Path) -> Path:
    """The folder that holds <experiment>/<dataset>.parquet, made by the sweep if the profile asks."""
    if results_dir:
        return Path(results_dir)
    if settings["source"] == "smoke":  # seconds: two methods, two seeds, two epochs
        run_experiment("smoke", jobs=1, out_dir=scratch, progress=False)
        return scratch
    if settings["source"] == "sweep":  # every job of every experiment (see the cost table)
        root = Path(settings["out"] or find_results(packaged=False) or "results")
        for name in EXPERIMENTS:
            run_experiment(name, jobs=2, out_dir=root)
        return root
    root = find_results()
    if root is None:
        raise FileNotFoundError("no results files found: work in a clone of the repository, "
                                "install udml from it (its wheel carries the results files) "
                                "or run with profile='full'")
    return root


scratch = tempfile.TemporaryDirectory(prefix="udml-results-")  # removed at the end
root = obtain_results(settings, results_dir, Path(scratch.name))
results = {name: load_experiment(root / name) for name in (*EXPERIMENTS, "smoke")
           if any((root / name).glob("*.parquet"))}
main_name = "main" if "main" in results else "smoke"
main = results[main_name]
for name, by_dataset in results.items():
    for dataset, merged in by_dataset.items():
        assert len(merged["seeds"]) >= 2, f"{name}/{dataset}: too few seeds to compare"
        print(f"{name}/{dataset}: {len(merged['methods'])} methods, seeds {merged['seeds']}, "
              f"variants {merged['variants']}, {merged['environment']['device']}, "
              f"torch {merged['environment']['torch']}")

# %% tags=["hide-input", "hide-output"]
rows, total_cpu = [], 0.0
for name, by_dataset in results.items():
    jobs = sum(sweep_cost(m)["jobs"] for m in by_dataset.values())
    cpu = sum(sweep_cost(m)["cpu_seconds"] for m in by_dataset.values())
    total_cpu += cpu
    rows.append([f"`python -m udml sweep {name} --jobs 2`", jobs, f"{cpu / 3600:.2f}",
                 f"{cpu / jobs:.0f}"])
display(Markdown(markdown_table(["command", "jobs", "CPU hours", "CPU s per job"], rows)))
assert rows, "no results files to read"
_ = glue("total_cpu_hours", total_cpu / 3600)

# %% [markdown]
# In all the results took {glue:text}`total_cpu_hours:.1f` CPU hours (folded above: the cost of
# each experiment). The next cell re-runs one job through the sweep's own function and compares
# every metric with the stored one.

# %% tags=["hide-input"]
if settings["rerun"] is not None:
    exp_name, rerun_dataset, rerun_method = settings["rerun"]
    job = find_job(exp_name, rerun_dataset, rerun_method, seed)
    stored = results[exp_name][rerun_dataset]
    saved_model = stored["config"]["variants"][job.variant]["model"]
    assert {k: v for k, v in job.config["model"].items() if k != "method"} == saved_model, \
        "the registry's configuration differs from the one the file was made with"
    check = rerun_difference(rerun(job, device="cpu"), stored, rerun_method, seed)
    # Seeded CPU runs reproduce bit for bit on this machine kind, whatever its name; a CPU or a
    # torch build that rounds differently can drift over the epochs, which is reported, and a
    # re-run far from the file (another configuration, a changed method) is an error.
    exact = check["max_abs_diff"] <= 1e-6
    assert exact or check["median_rel_diff"] <= 0.05, check
    outcome = ("all equal to the stored values within 1e-6" if exact else
               f"not bit for bit: largest difference {check['max_abs_diff']:.3g} (at "
               f"{check['worst']}), median relative difference {check['median_rel_diff']:.2g}")
    print(f"re-ran {exp_name}/{rerun_dataset}/{rerun_method}, seed {seed}: {check['compared']} "
          f"metrics compared, {outcome}")
    rerun_text = (f"The re-run of `{exp_name}`, `{rerun_dataset}`, `{rerun_method}`, seed {seed} "
                  f"compares {check['compared']} stored metrics of that job: {outcome}")
else:  # this profile made the files itself: nothing to check them against
    rerun_text = "This profile regenerated the files itself, so no job was re-run"
_ = glue("rerun_text", Markdown(rerun_text))

# %% [markdown]
# ## How a finding is decided
#
# Every comparison is paired over the seeds: per seed the difference between two methods, then
# the mean difference, its 95 % confidence interval (t distribution) and its p-value. A difference
# *counts* when its p-value stays below 0.05 after Holm's correction within its family; one whose
# uncorrected interval excludes 0 is *beyond the seed spread* (tables mark it `*`). Each claim's
# verdict (table below) follows from these counts by these rules:
#
# * **claim 1** (the estimate tracks the level) *holds* when $\hat s_m$'s Spearman with the level
#   is above 0 beyond the seed spread for every modality and above every rival's on both halves
#   of the levels; *does not hold* when it is above no rival there;
# * **claim 2** (the network relies on the easy modality, early) *holds* when the easy modality's
#   $\alpha$ is above 1 beyond the spread both early and at the end; *partly* at one of the two;
# * **claim 3** (dual suppression) *holds* when a shortfall of naive fusion below static is
#   found (a protocol survives Holm's correction, or more protocols fall below the spread than
#   chance explains) and UDML removes every one; *partly* when some stay;
# * **claim 4** (UDML beats a rival) *holds* when UDML counts as above it in at least one
#   protocol group and below it in none; *partly* above in some and below in others.
#
# A claim holds in this sense on small margins too: the tables give the sizes.

# %% tags=["hide-input"]
found = claims.main_claims(main)
# Claim 3 is about the damage the estimator was trained on (see its section): the verdict scans
# those protocols; the scan over every kind is kept for what it shows about unseen damage.
every_kind = found["suppression"]
found["suppression"] = {d: claims.dual_suppression(m, kinds=(SEEN_KIND,)) if has_method(m, "naive")
                        else every_kind[d] for d, m in main.items()}
missing = {"verdict": "not measured", "text": "not measured: no results file for this dataset"}
titles = {**claims.CLAIM_TITLES, "suppression": "3. naive dynamic fusion loses to static under "
          "the damage it was trained on; UDML removes it"}
for per_dataset in found.values():
    assert all(r["verdict"] in claims.VERDICTS for r in per_dataset.values())
display(Markdown(tables.verdicts_markdown(found, titles)))


def evidence(per_entry: dict, entries=None, what: str = "dataset") -> None:
    """A table of each entry's verdict with the numbers behind it (the folded evidence)."""
    entries = [e for e in (entries or per_entry) if e in per_entry]
    display(Markdown(markdown_table(
        [what, "verdict", "the numbers behind it"],
        [[e, per_entry[e]["verdict"], per_entry[e]["text"]] for e in entries], "lll")))

# %% [markdown]
# ## Claim 1: the estimate tracks the noise level
#
# *The noise-aware estimate $\hat s_m$ rises with the true noise level over the whole range, and
# tracks it better than the PE variance and QMF's energy at low and at high levels.*
# {numref}`fig-spearman-mfeat` and {numref}`fig-spearman-synthetic` give each quality score's
# Spearman $\rho$ with the level over all levels and each half ({glue:md}`ranges_text:myst`). A score
# that *falls* as the noise rises (negative $\rho$) misleads the fusion, so the sign counts.

# %% tags=["hide-input"]
score_methods = ["udml", "naive", "pe", "qmf", "tmc"]
for dataset in ("mfeat", "synthetic"):
    result = found["tracking"].get(dataset, missing)
    if result["verdict"] != "not measured":
        for by_range in result["table"].values():  # a correlation lies in [-1, 1]
            assert all(-1 <= s["mean"] <= 1 for r in by_range.values() for s in r.values())
        glue_figure(f"fig-spearman-{dataset}", plots.plot_spearman(result["table"],
                                                                   score_methods))


def tracking_finding(dataset: str, r: dict) -> str:
    """What the Spearman table shows about the estimate on one dataset, in sentences."""
    if r["verdict"] == "not measured":
        return f"On {dataset} the estimate was not measured."
    rho = {m: by[ALL]["udml"]["mean"] for m, by in r["table"].items()}
    halves = [(by[h]["udml"]["mean"], m, h) for m, by in r["table"].items()
              for h in by if h != ALL]
    weakest = min(halves)
    n = len(r["comparisons"])
    rivals = listing(METHOD_LABELS[m] for m in ("pe", "qmf") if m in r["methods"])
    return (f"On {dataset}, UDML's estimate ranks the levels with ρ = "
            + listing(f"{v:.2f} ({m})" for m, v in rho.items()) + " over all levels. Against "
            f"{rivals} on each half of the levels it is better in {r['wins']} and worse in "
            f"{r['losses']} of {n} comparisons; its weakest half is {weakest[1]}'s "
            f"{words(weakest[2])} (ρ = {weakest[0]:.2f})." + tmc_clause(r))


def tmc_clause(r: dict) -> str:
    """TMC's uncertainty mass against UDML's estimate on the same halves (the claim names PE and
    QMF only; TMC is the strongest score of the table, so the reader should see it)."""
    pairs = [(by[h]["udml"]["mean"], by[h]["tmc"]["mean"]) for by in r["table"].values()
             for h in by if h != ALL and "tmc" in by[h]]
    if not pairs:
        return ""
    better = sum(t > u for u, t in pairs)
    return (f" TMC's uncertainty mass, outside the claim, ranks the levels better than UDML's "
            f"estimate on {better} of the {len(pairs)} halves.")


for dataset, r in found["tracking"].items():
    glue(f"tracking_finding_{key(dataset)}", Markdown(tracking_finding(dataset, r)))

# %% [markdown]
# ```{glue:figure} fig-spearman-mfeat
# :name: fig-spearman-mfeat
#
# mfeat: Spearman correlation of each method's quality score with the true level under the
# random protocol, per modality and level range, mean over the seeds with the 95 % interval.
# ```
#
# ```{glue:figure} fig-spearman-synthetic
# :name: fig-spearman-synthetic
#
# The synthetic set: the same as {numref}`fig-spearman-mfeat`.
# ```
#
# - {glue:md}`tracking_finding_mfeat:myst`
# - {glue:md}`tracking_finding_mfeat_all:myst`
# - {glue:md}`tracking_finding_synthetic:myst`

# %% tags=["hide-input", "hide-output"]
for dataset, result in found["tracking"].items():
    if result["verdict"] != "not measured":
        display(Markdown(f"**{dataset}**: Spearman with the level, mean ± CI half-width"))
        display(Markdown(tables.spearman_markdown(result["table"], score_methods)))
evidence(found["tracking"])
# the same Spearman of UDML's estimate under the kinds of damage it was not trained on
unseen_rho = []  # (rho, dataset, kind, modality), mean over the seeds
for d, merged in main.items():
    if has_method(merged, "udml"):
        for kind in merged["kinds"][1:]:
            for m in modalities(merged):
                v = series(merged, "udml", "spearman", kind=kind, modality=m, range=ALL)
                unseen_rho.append((sum(v.values()) / len(v), d, kind, m))
display(Markdown("**Under the unseen kinds**: Spearman of UDML's estimate with the level, all "
                 "levels, mean over the seeds"))
display(Markdown(markdown_table(["dataset", "kind", "modality", "ρ"],
                                [[d, k, f"`{m}`", f"{r:.2f}"] for r, d, k, m in unseen_rho],
                                align="lllr")))

# %% [markdown]
# ### The estimate's scale: the bound and the dominance condition
#
# The weights use $1/\hat s^2$, so the estimate's *scale* decides how hard a noisy modality is
# damped: by the **dominance condition** (chapter 4) a noisy modality $n$ keeps more weight than
# a clean $c$ exactly when $(\hat s_n / \hat s_c)^2 < D_c / D_n$. {numref}`fig-calibration` sets
# the estimate beside the **bound** (chapter 2).

# %% tags=["hide-input"]
bound_dir = root / "bound"
bounds = {d: read_results(bound_dir / f"{d}.parquet") for d in main
          if (bound_dir / f"{d}.parquet").is_file()}
curves = {(d, m): {"s_hat": score_means(main[d], "udml", "s_hat", m),
                   **({"bound": score_means(bounds[d], "bound", "bound", m)} if d in bounds else {})}
          for d in main for m in modalities(main[d])}
glue_figure("fig-calibration", plot_calibration(curves, ncols=5))
RANGE_LABELS = {k: f"{lo}-{hi}" for k, (lo, hi) in
                level_ranges(num_levels(next(iter(main.values())))).items()}
cal_rows = [r for d in main for r in calibration_rows(main[d], bounds.get(d))]
near = [r for r in cal_rows if "bound" in r and r["bound"] - r["s_hat"] <= 0.05]
glue("bound_near", len(near))
glue("bound_cells", sum("bound" in r for r in cal_rows))
low = [r for r in cal_rows if r["range"] == LOW_END and "bound" in r]
low_text = (
    f"at levels {RANGE_LABELS[LOW_END]} the estimate's ρ with the level is "
    f"{min(r['s_hat'] for r in low):.2f} to {max(r['s_hat'] for r in low):.2f}, the bound's "
    f"{min(r['bound'] for r in low):.2f} to {max(r['bound'] for r in low):.2f}" if low else
    "no bound was fitted for these datasets")
_ = glue("low_end_text", Markdown(low_text))

# %% [markdown]
# ```{glue:figure} fig-calibration
# :name: fig-calibration
#
# The estimate against the bound: mean estimate per noise level of UDML's $\hat s$ and of the
# bound (a regressor that reads the corrupted input), each modality corrupted alone, mean over
# the seeds, log scale; dotted: the ideal $\hat s = l$.
# ```
#
# The estimate comes within 0.05 of the bound's Spearman in {glue:text}`bound_near` of
# {glue:text}`bound_cells` (dataset, modality, level range) cells; {glue:md}`low_end_text:myst`. The
# table gives both sides of the dominance condition for each destroyed modality against its
# least-weighted clean partner, and the share of the partner's weight it keeps (mean over seeds, seed 0,
# the oracle); the goal is at most 0.5.

# %% tags=["hide-input"]
dom_rows = []
for d in main:
    kept = top_level_weight_ratio(main[d])
    oracle_kept = top_level_weight_ratio(main[d], "oracle") if has_method(main[d], "oracle") \
        else None
    by_noisy = {}
    for r in dominance_rows(main[d], bounds.get(d)):
        share = r["w_noisy"] / r["w_clean"]
        if r["noisy"] not in by_noisy or share > by_noisy[r["noisy"]][0]:
            by_noisy[r["noisy"]] = (share, r)
    for n, (_, r) in by_noisy.items():
        est, dr = r["estimate_ratio"], r["dependency_ratio"]
        dom_rows.append({"dataset": d, "noisy": n, "clean": r["clean"], "est": est,
                         "bound": r.get("bound_ratio"), "dep": dr,
                         "kept": sum(kept[n].values()) / len(kept[n]),
                         "kept_first": kept[n][min(kept[n])],
                         "oracle": (sum(oracle_kept[n].values()) / len(oracle_kept[n])
                                    if oracle_kept else None)})
fmt = lambda v, digits=2: "–" if v is None else f"{v:.{digits}f}"  # noqa: E731
display(Markdown(markdown_table(
    ["dataset", "destroyed", "clean", "$(\\hat s_n/\\hat s_c)^2$", "bound's ratio", "$D_c/D_n$",
     "weight kept", "seed 0", "oracle"],
    [[r["dataset"], r["noisy"], r["clean"], fmt(r["est"], 1), fmt(r["bound"], 1),
      fmt(r["dep"], 2), fmt(r["kept"]), fmt(r["kept_first"]), fmt(r["oracle"])]
     for r in dom_rows], "lllrrrrrr")))
halved = [r for r in dom_rows if r["kept"] <= 0.5 and r["kept_first"] <= 0.5]
glue("halved", len(halved))
glue("halved_of", len(dom_rows))
glue("not_halved", Markdown(", ".join(f"{r['dataset']} `{r['noisy']}` ({r['kept']:.2f}, "
                                      f"estimate's ratio {r['est']:.1f} against twice the "
                                      f"dependency ratio {2 * r['dep']:.1f})"
                                      for r in dom_rows if r not in halved) or "none"))
bound_suffices = [r for r in dom_rows if r["bound"] is not None and r["bound"] >= 2 * r["dep"]]
glue("bound_suffices", len(bound_suffices))
_ = glue("bound_of", sum(r["bound"] is not None for r in dom_rows))

# %% [markdown]
# In {glue:text}`halved` of {glue:text}`halved_of` cases the destroyed modality keeps at most half
# of its partner's weight, on average and for seed 0; not in: {glue:md}`not_halved:myst`. The bound's
# ratio clears twice the dependency ratio in {glue:text}`bound_suffices` of the
# {glue:text}`bound_of` cases with a bound: the formula *could* damp a destroyed modality if the
# estimate read the level as well as the input allows. Folded: the Spearman table behind
# {numref}`fig-calibration` and UDML minus the oracle per level.

# %% tags=["hide-input", "hide-output"]


def signed(r: dict, key: str) -> str:
    """A Spearman cell with its sign and, where it is negative, its magnitude."""
    if key not in r:
        return "–"
    return f"{r[key]:.2f}" + (f" (\\|{abs(r[key]):.2f}\\|)" if r[key] < 0 else "")


display(Markdown(markdown_table(
    ["dataset", "modality", "levels", "$\\hat s$", "bound", "PE σ", "QMF", "TMC"],
    [[r["dataset"], r["modality"], RANGE_LABELS[r["range"]], signed(r, "s_hat"),
      signed(r, "bound"), signed(r, "PE sigma"), signed(r, "QMF"), signed(r, "TMC")]
     for r in cal_rows], "lllrrrrr")))
gap_rows = []
for d in main:
    if not (has_method(main[d], "udml") and has_method(main[d], "oracle")):
        continue
    for panel, curve in level_curves(main[d], ["udml"], baseline="oracle").items():
        gap_rows.append([d, "all noisy" if panel == "all" else f"{panel} noisy"]
                        + [f"{100 * v:+.1f}" for v in curve["udml"]["mean"]])
levels_header = [str(lv) for lv in range(1, num_levels(next(iter(main.values()))) + 1)]
if gap_rows:
    display(Markdown("UDML minus the oracle, per level (points)"))
    display(Markdown(markdown_table(["dataset", "protocol"] + levels_header, gap_rows,
                                    "ll" + "r" * len(levels_header))))

# %% [markdown]
# ## Claim 2: the network relies on the easy modality, from early on
#
# *Training biases the network toward the easy modality, and the bias exists from early
# training.* The normalised dependency $\alpha_m$ comes from modality dropout during UDML's
# training ($\alpha_m = 1$: no preference); "early" is the end of the first tenth of the epochs.
# The table gives the easy modality's $\alpha$; {numref}`fig-dependency` its whole course.

# %% tags=["hide-input"]
display(Markdown(tables.dependency_markdown(found["dependency"])))
histories = {d: r["history"] for d, r in found["dependency"].items()
             if r["verdict"] != "not measured"}
for r in found["dependency"].values():
    if r["verdict"] != "not measured":  # alpha sums to M over the modalities
        assert abs(sum(s["mean"] for s in r["final"].values()) - len(r["final"])) < 1e-6
if histories:
    glue_figure("fig-dependency", plots.plot_dependency_history(histories))


def side(c: dict) -> str:
    """Where alpha lies against 1, by its interval."""
    return {"better": "above 1", "worse": "below 1"}.get(c["direction"], "not distinguishable "
                                                                          "from 1")


def dependency_finding(dataset: str, r: dict) -> str:
    """What the dependency table shows on one dataset, in one or two sentences."""
    if r["verdict"] == "not measured":
        return f"On {dataset} the dependency was not tracked."
    e = r["easy"]["easy"]
    text = (f"On {dataset} the easy modality `{e}` ends training with α = "
            f"{r['final'][e]['mean']:.2f} ({side(r['at_end'])}) and had "
            f"{r['early'][e]['mean']:.2f} after epoch {r['early_epoch']} ({side(r['at_early'])})")
    if r["most"] != e:
        text += f"; the network ends up relying most on `{r['most']}`, a hard modality"
    first_noisy = r["history"]["first_noisy"]
    if r["at_early"]["direction"] == "worse" and r["at_end"]["direction"] == "better":
        text += ": the bias toward the easy modality is not there from the start"
        if first_noisy and first_noisy + 1 <= len(r["history"]["epochs"]):
            per_seed = r["history"]["alpha"][e]  # [[alpha per epoch] per seed]
            at = lambda k: sum(a[k - 1] for a in per_seed) / len(per_seed)  # noqa: E731
            text += (f"; it appears with the noisy data: α = {at(first_noisy - 1):.2f} at the "
                     f"last clean epoch, {at(first_noisy + 1):.2f} two epochs later "
                     "(noise in a modality changes how much dropping it moves the logits)")
    elif r["at_early"]["direction"] == "better" and r["at_end"]["direction"] == "worse":
        text += ": the early bias toward the easy modality turns around by the end"
    return text + "."


for dataset, r in found["dependency"].items():
    glue(f"dependency_finding_{key(dataset)}", Markdown(dependency_finding(dataset, r)))

# %% [markdown]
# ```{glue:figure} fig-dependency
# :name: fig-dependency
#
# The normalised dependency $\alpha_m$ of each modality over the epochs of UDML's training, one
# panel per dataset: mean over the seeds (band: smallest to largest seed); dashed: $\alpha = 1$;
# dotted: the first epoch on noisy data.
# ```
#
# - {glue:md}`dependency_finding_mfeat:myst`
# - {glue:md}`dependency_finding_mfeat_all:myst`
# - {glue:md}`dependency_finding_synthetic:myst`

# %% tags=["hide-input", "hide-output"]
evidence(found["dependency"])

# %% [markdown]
# ## Claim 3: dual suppression
#
# *Uncertainty-only ("naive") dynamic fusion does worse than static fusion somewhere, because the
# hard modality is suppressed twice, once by the network relying on the easy modality and once
# more by its high uncertainty; UDML removes this.* The mechanism assumes an estimate that reads
# the damage, so the verdict scans the seen kind ({glue:text}`seen_kind`). About 2.5 % of the
# protocols would fall below static beyond the seed spread by chance, so a shortfall counts only
# when one survives Holm's correction or their count exceeds chance (a one-sided binomial test).
# UDML removes a shortfall when it is above naive there and not below static. The table lists
# the protocols of *any* kind where naive falls furthest below static;
# {numref}`fig-suppression-mfeat`, {numref}`fig-suppression-mfeat-all` and
# {numref}`fig-suppression-synthetic` show the seen kind level by level.

# %% tags=["hide-input"]
glue("seen_kind", SEEN_KIND)
sup_rows = []


def damaged(protocol: str, easy: str) -> str:
    """Which modality a protocol damages, named by its role."""
    p = protocol_from_string(protocol)
    name = getattr(p, "name", None)
    if name is None:
        return "all" if hasattr(p, "level") else "random per sample"
    return f"`{name}` ({'easy' if name == easy else 'hard'})"


for dataset, result in every_kind.items():
    if result["verdict"] == "not measured":
        continue
    easy = found["dependency"][dataset]["easy"]["easy"]
    for r in sorted(result["rows"], key=lambda r: r["naive_vs_static"]["diff"])[:4]:
        sup_rows.append([dataset, r["kind"] + (" (trained)" if r["kind"] == SEEN_KIND else ""),
                         r["protocol"], damaged(r["protocol"], easy),
                         fmt_diff(r["naive_vs_static"]),
                         f"{r['naive_vs_static']['p_holm']:.2f}",
                         fmt_diff(r["fix_vs_static"]), fmt_diff(r["fix_vs_naive"])])
display(Markdown(markdown_table(["dataset", "kind", "protocol", "damaged", "naive − static",
                                 "Holm p", "UDML − static", "UDML − naive"], sup_rows,
                                "llllrrrr")))
for dataset in main:
    if not has_method(main[dataset], "naive"):
        continue
    diff_curves = level_curves(main[dataset], ["naive", "udml", "pe"], baseline="static")
    glue_figure(f"fig-suppression-{dataset}",
                plots.plot_level_curves(diff_curves, ["pe", "naive", "udml"], zero_line=True,
                                        ylabel="minus static (points)"))


def estimate_rho(merged, kind: str, modality: str) -> float:
    """Naive fusion's estimate against the level under one kind of damage: mean Spearman."""
    v = series(merged, "naive", "spearman", kind=kind, modality=modality, range=ALL)
    return sum(v.values()) / len(v)


def suppression_finding(dataset: str) -> str:
    """What the scan shows on one dataset: the trained kind, then the unseen kinds."""
    seen, every, merged = found["suppression"][dataset], every_kind[dataset], main[dataset]
    if seen["verdict"] == "not measured":
        return f"On {dataset} naive, static or UDML fusion is missing."
    n, short = len(seen["rows"]), seen["suppressed"]
    text = (f"On {dataset}, under {SEEN_KIND} noise naive fusion falls below static beyond the "
            f"seed spread at {len(short)} of {n} protocols, where chance alone gives "
            f"{claims.CHANCE * n:.1f}")
    if short:
        text += (" (" + listing(f"{r['protocol']}: {pts(r['naive_vs_static']['diff'])} points, "
                                f"UDML {pts(r['fix_vs_static']['diff'])}" for r in short) + ")"
                 + f"; {seen['significant_after_holm'] or 'none'} of them "
                 f"{'survive' if seen['significant_after_holm'] > 1 else 'survives'} Holm's "
                 f"correction, and the count is "
                 f"{'more than' if seen['count_p'] < 0.05 else 'within what'} chance "
                 f"{'gives' if seen['count_p'] < 0.05 else 'explains'} (binomial p = "
                 f"{seen['count_p']:.2f})")
        if seen["found"]:
            text += (f"; UDML removes {len(short) - len(seen['not_removed'])} of these "
                     "shortfalls")
    text += "."
    unseen = [r for r in every["suppressed"] if r["kind"] != SEEN_KIND]
    if unseen:
        easy = found["dependency"][dataset]["easy"]["easy"]
        one = [(r, protocol_from_string(r["protocol"]).name) for r in unseen
               if hasattr(protocol_from_string(r["protocol"]), "name")]
        on_easy = [(r, m) for r, m in one if m == easy]
        text += (f" Under the unseen kinds it falls below static at {len(unseen)} "
                 "protocols, by up to "
                 f"{pts(min(r['naive_vs_static']['diff'] for r in unseen))} points")
        if on_easy:
            text += (f"; of those that damage a single modality, {len(on_easy)} of {len(one)} "
                     f"damage `{easy}`, the easy one, and there the estimate's ρ with the level "
                     "is "
                     + listing(f"{estimate_rho(merged, r['kind'], m):.2f} ({r['kind']})"
                               for r, m in on_easy)
                     + ": naive fusion leans on an input it reads as clean, a failure of the "
                     "estimate on unseen damage, not the hard modality suppressed twice")
        text += "."
    return text


for dataset in main:
    glue(f"suppression_finding_{key(dataset)}", Markdown(suppression_finding(dataset)))
easy_noisy = []
for dataset, merged in main.items():
    if has_method(merged, "naive") and has_method(merged, "static"):
        e = found["dependency"][dataset]["easy"]["easy"]
        c = claims.beats(merged, "naive", merged, "static")["groups"][f"{e} noisy"]
        easy_noisy.append(f"{pts(c['diff'])} points on {dataset} (`{e}` noisy, "
                          f"{'beyond' if c['exceeds'] else 'within'} the seed spread)")
_ = glue("easy_noisy_text", Markdown(listing(easy_noisy) if easy_noisy else "not measured"))

# %% [markdown]
# ```{glue:figure} fig-suppression-mfeat
# :name: fig-suppression-mfeat
#
# mfeat: accuracy of PE, naive dynamic and UDML fusion minus static fusion, paired over seeds (mean
# and 95 % interval), against the Gaussian noise level of one modality (one panel each) and of
# all.
# ```
#
# ```{glue:figure} fig-suppression-mfeat-all
# :name: fig-suppression-mfeat-all
#
# mfeat-all: the same as {numref}`fig-suppression-mfeat`.
# ```
#
# ```{glue:figure} fig-suppression-synthetic
# :name: fig-suppression-synthetic
#
# The synthetic set: the same as {numref}`fig-suppression-mfeat`.
# ```
#
# - {glue:md}`suppression_finding_mfeat:myst`
# - {glue:md}`suppression_finding_mfeat_all:myst`
# - {glue:md}`suppression_finding_synthetic:myst`
#
# With the easy modality noisy, naive minus static averages {glue:md}`easy_noisy_text:myst`. Folded:
# the verdicts of both scans.

# %% tags=["hide-input", "hide-output"]
display(Markdown("**Scan of the trained kind** (the verdict)"))
evidence(found["suppression"])
display(Markdown("**Scan of every kind** (unseen damage included)"))
evidence(every_kind)

# %% [markdown]
# ## Claim 4: UDML against every method
#
# *UDML beats static and naive dynamic fusion; where does it stand against QMF, TMC, late
# fusion, PE and the oracle?* {numref}`fig-levels-mfeat`, {numref}`fig-levels-mfeat-all` and
# {numref}`fig-levels-synthetic` show every method's accuracy against the noise level; the table
# gives mfeat's accuracy per group (mean ± CI half-width; bold: the best non-oracle mean).

# %% tags=["hide-input"]
acc_tables = {}
for dataset, merged in main.items():
    acc_tables[dataset] = accuracy_table(merged, list(METHODS))
    for cells in acc_tables[dataset]["cells"].values():
        assert all(0.0 <= s["mean"] <= 1.0 for s in cells.values())
    glue_figure(f"fig-levels-{dataset}", plots.plot_level_curves(level_curves(merged, METHODS),
                                                                 list(METHODS)))
first = next(iter(acc_tables))
display(Markdown(f"**{first}**: accuracy (%)"))
display(Markdown(tables.accuracy_markdown(acc_tables[first])))


def beats_finding(r: dict, rival: str) -> str:
    """Where UDML is above and below one rival after Holm's correction, with the differences."""
    if r["verdict"] == "not measured":
        return f"against {METHOD_LABELS[rival]} not measured"
    g = r["groups"]
    parts = [f"{where} {METHOD_LABELS[rival]} in " + listing(
        f"*{x}* ({pts(g[x]['diff'])} points)" for x in groups) for where, groups in
        (("above", r["better"]), ("below", r["worse"])) if groups]
    return "; ".join(parts) or (f"not distinguishable from {METHOD_LABELS[rival]} in any of the "
                                f"{len(g)} groups")


for dataset, result in found["comparison"].items():
    against = result.get("against", {})
    text = (f"On {dataset} UDML is " + "; it is ".join(
        beats_finding(against.get(m, missing), m) for m in ("static", "naive")) + ".")
    glue(f"comparison_finding_{key(dataset)}", Markdown(text))
rows = []
for dataset, result in found["comparison"].items():
    for m, a in result.get("against", {}).items():
        if a["verdict"] != "not measured":
            rows.append([dataset, METHOD_LABELS[m], len(a["better"]), len(a["worse"]),
                         len(a["groups"]) - len(a["better"]) - len(a["worse"])])
_ = glue("comparison_counts", Markdown(markdown_table(
    ["dataset", "UDML against", "above", "below", "not distinguishable"], rows, align="llrrr")))

# %% [markdown]
# ```{glue:figure} fig-levels-mfeat
# :name: fig-levels-mfeat
#
# mfeat: test accuracy against the noise level of one modality (one panel each, the other clean)
# and of all modalities (last panel), every method, mean over the seeds with the 95 % interval.
# ```
#
# ```{glue:figure} fig-levels-mfeat-all
# :name: fig-levels-mfeat-all
#
# mfeat-all (six views): the same as {numref}`fig-levels-mfeat`.
# ```
#
# ```{glue:figure} fig-levels-synthetic
# :name: fig-levels-synthetic
#
# The synthetic set (a planted easy and hard modality): the same as {numref}`fig-levels-mfeat`.
# ```
#
# After Holm's correction over the protocol groups:
#
# - {glue:md}`comparison_finding_mfeat:myst`
# - {glue:md}`comparison_finding_mfeat_all:myst`
# - {glue:md}`comparison_finding_synthetic:myst`
#
# Against every method, the groups where UDML is above, below or neither:
#
# ```{glue:md} comparison_counts
# :format: myst
# ```
#
# Folded: the other accuracy tables, the paired differences and the verdicts.

# %% tags=["hide-input", "hide-output"]
for dataset, merged in main.items():
    if dataset != first:
        display(Markdown(f"**{dataset}**: accuracy (%)"))
        display(Markdown(tables.accuracy_markdown(acc_tables[dataset])))
    against = found["comparison"][dataset].get("against", {})
    if against:
        display(Markdown(f"**{dataset}**: UDML minus each method (points)"))
        display(Markdown(tables.paired_markdown(
            {f"UDML − {METHOD_LABELS[m]}": a["groups"] for m, a in against.items()})))
evidence(found["comparison"])

# %% [markdown]
# ## Claim 5: ablations, the unimodal losses, and the schedule
#
# Each component of UDML is changed alone: the PE variance instead of the estimator, the
# reference code's dependency, the target MSE$(\hat s, l)$ instead of
# MSE$(\log \hat s, \log l)$, no KL term, no warm-up, and no dependency term (naive fusion).
# {numref}`fig-ablation-mfeat` and {numref}`fig-ablation-synthetic` give full UDML minus each
# variant, paired: a marker right of 0 means the component helps.

# %% tags=["hide-input"]
ablation = results.get("ablation", {})
abl_effects = claims.variant_effects(ablation, main, reverse=True)
abl_table = {}  # {dataset: {label: full UDML against the variant}}
for dataset in main:
    effects = {"without dependency (naive)": claims.beats(main[dataset], "udml",
                                                          main[dataset], "naive")}
    effects.update({variant: r for (variant, _), r in abl_effects.get(dataset, {}).items()})
    effects = {k: r for k, r in effects.items() if r["verdict"] != "not measured"}
    if effects:
        abl_table[dataset] = effects
for dataset in ("mfeat", "synthetic"):
    if dataset in abl_table:
        glue_figure(f"fig-ablation-{dataset}", plots.plot_effects(
            {k: r["groups"] for k, r in abl_table[dataset].items()},
            xlabel="full UDML minus the variant (points)"))


def ablation_finding(dataset: str, per: dict) -> str:
    """Which components help, which hurt and which make no difference after Holm's correction."""
    helps = {k: r for k, r in per.items() if r["better"] and not r["worse"]}
    hurts = {k: r for k, r in per.items() if r["worse"] and not r["better"]}
    mixed = {k: r for k, r in per.items() if r["worse"] and r["better"]}
    none = [k for k, r in per.items() if not r["worse"] and not r["better"]]

    def at(r, groups):
        return listing(f"*{g}*, {pts(r['groups'][g]['diff'])}" for g in groups)

    parts = []
    if helps:
        parts.append("full UDML is above " + listing(f"*{k}* ({at(r, r['better'])})"
                                                     for k, r in helps.items()))
    if hurts:
        parts.append("it is below " + listing(f"*{k}* ({at(r, r['worse'])})"
                                              for k, r in hurts.items())
                     + ", so there the changed variant is the better one")
    if mixed:
        parts.append("above and below in different groups: " + ", ".join(f"*{k}*" for k in mixed))
    if none:
        parts.append("no difference survives Holm's correction for " + listing(
            f"*{k}*" for k in none))
    return f"On {dataset}, " + "; ".join(parts) + " (points)."


for dataset, per in abl_table.items():
    glue(f"ablation_finding_{key(dataset)}", Markdown(ablation_finding(dataset, per)))

# %% [markdown]
# ```{glue:figure} fig-ablation-mfeat
# :name: fig-ablation-mfeat
#
# mfeat: full UDML minus each variant with one component changed, per protocol group, paired over
# the seeds (mean and 95 % interval; filled: the interval excludes 0). The ablation runs are not
# scored under the unseen kinds; there only the variant without the dependency (naive fusion,
# from `main`) has a marker.
# ```
#
# ```{glue:figure} fig-ablation-synthetic
# :name: fig-ablation-synthetic
#
# The synthetic set: the same as {numref}`fig-ablation-mfeat`.
# ```
#
# - {glue:md}`ablation_finding_mfeat:myst`
# - {glue:md}`ablation_finding_synthetic:myst`

# %% tags=["hide-input", "hide-output"]
for dataset, per in abl_table.items():
    display(Markdown(f"**{dataset}**: UDML minus the variant (points)"))
    display(Markdown(tables.paired_markdown({k: r["groups"] for k, r in per.items()})))
    evidence(per, what="full UDML against")

# %% [markdown]
# **The unimodal losses.** $\gamma$ weights the losses $\sum_m \mathrm{CE}(\pi_m, y)$ that train
# each modality's own branch. The `gamma` experiment repeats static, naive and UDML fusion with
# $\gamma = 0$ on mfeat.

# %% tags=["hide-input"]
gamma = results.get("gamma", {})
gamma_effects = claims.variant_effects(gamma, main)
for dataset, per in gamma_effects.items():
    display(Markdown(f"**{dataset}**: accuracy with γ = 0 minus γ = 1 (points)"))
    display(Markdown(tables.paired_markdown({METHOD_LABELS[m]: r["groups"]
                                             for (_, m), r in per.items()})))
    lines = [f"{METHOD_LABELS[m]} is below its γ = 1 run in {len(r['worse'])} and above it in "
             f"{len(r['better'])} of {len(r['groups'])} protocol groups" for (_, m), r in per.items()]
    glue(f"gamma_finding_{key(dataset)}", Markdown(
        f"On {dataset} with γ = 0, after Holm's correction, " + listing(lines) + "."))
g0 = {}
for dataset, merged in gamma.items():
    variant = merged["variants"][0]
    g0[dataset] = {"comparison": claims.comparison(merged, variant),
                   "suppression": claims.dual_suppression(merged, variant, kinds=(SEEN_KIND,))}
    against = g0[dataset]["comparison"].get("against", {})
    glue(f"gamma0_finding_{key(dataset)}", Markdown(
        "UDML is " + "; it is ".join(beats_finding(against.get(m, missing), m)
                                     for m in ("static", "naive"))
        + f" (points); under {SEEN_KIND} noise naive falls below static beyond the spread at "
        f"{len(g0[dataset]['suppression'].get('suppressed', []))} of "
        f"{len(g0[dataset]['suppression'].get('rows', []))} protocols, where chance alone gives "
        f"{claims.CHANCE * len(g0[dataset]['suppression'].get('rows', [])):.1f}"))

# %% [markdown]
# {glue:md}`gamma_finding_mfeat:myst` Within the $\gamma = 0$ runs,
# {glue:md}`gamma0_finding_mfeat:myst`.

# %% tags=["hide-input", "hide-output"]
for dataset, merged in gamma.items():
    display(Markdown(f"**{dataset}, γ = 0**: accuracy (%)"))
    display(Markdown(tables.accuracy_markdown(accuracy_table(merged,
                                                             variant=merged["variants"][0]))))
    evidence({dataset: g0[dataset]["comparison"]}, [dataset])
    evidence({dataset: g0[dataset]["suppression"]}, [dataset])

# %% [markdown]
# ## Do the scores decide anything? The permutation test
#
# A score that follows the level need not change the decision. The **permutation test**
# {cite:p}`moon2026permutation` asks directly: with the trained model and the inputs fixed,
# permute each method's quality scores across the test examples ({glue:text}`n_permutations`
# permutations, the same for every method of a seed) and measure the accuracy again; then put
# the true level in place of the scores in the same formula (the **oracle control**: what the
# same frozen fusion could do with a perfect score). If the scores decide per example, permuting
# them must cost accuracy. The figures show the random protocol, where every example has its own
# levels, and the unseen kinds, where the estimate meets damage it was not trained on.

# %% tags=["hide-input"]
perm_dir = root / "permutation"
perm = load_experiment(perm_dir) if any(perm_dir.glob("*.parquet")) else {}
PERM_METHODS = ["pe", "naive", "udml", "oracle", "qmf", "tmc"]
PERM_GROUPS = ["random", "unseen: blur", "unseen: occlusion", "unseen: salt_pepper"]
glue("n_permutations", get_experiment("permutation").permutations)
ptables = {}
if perm:
    for dataset, merged in perm.items():
        ptable = ptables[dataset] = permutation_table(merged, PERM_METHODS)
        fig = perm_plots.plot_permutation(ptable, [g for g in PERM_GROUPS
                                                   if g in ptable["groups"]])
        glue_figure(f"fig-permutation-{dataset}", fig)
        glue(f"perm_finding_{key(dataset)}",
             Markdown(permutation_finding(ptable, method_label)))
else:
    print("no results of the permutation experiment in this folder")
    for dataset in DATASET_NAMES:
        glue(f"perm_finding_{key(dataset)}", Markdown("(not run in this folder)"))

# %% [markdown]
# ```{glue:figure} fig-permutation-mfeat
# :name: fig-permutation-mfeat
#
# The permutation test on mfeat, in points: the accuracy each method loses when its quality scores
# are permuted across the test examples (orange) and gains when the true level replaces them
# (green), under the random protocol and the unseen kinds; mean paired difference over the seeds,
# 95 % interval. Static and late fusion read no scores; the oracle's score is the true level
# already.
# ```
#
# ```{glue:figure} fig-permutation-mfeat-all
# :name: fig-permutation-mfeat-all
#
# mfeat-all: the same as {numref}`fig-permutation-mfeat`.
# ```
#
# ```{glue:figure} fig-permutation-synthetic
# :name: fig-permutation-synthetic
#
# The synthetic set: the same as {numref}`fig-permutation-mfeat`.
# ```
#
# - mfeat: {glue:md}`perm_finding_mfeat:myst`
# - mfeat-all: {glue:md}`perm_finding_mfeat_all:myst`
# - The synthetic set: {glue:md}`perm_finding_synthetic:myst`
#
# Chapters 6 and 7 run the test on the spoken digits and on held-out families.

# %% [markdown]
# ## One step beyond the paper
#
# **The residual rescaling has a floor.** UDML feeds $(1 + w_m)\, z_m$ to the head, with weights
# summing to $M$, so a destroyed modality keeps at least $1/(M + 1)$ of the largest scale
# (chapter 4). The table gives the trained models' weights with one modality destroyed.

# %% tags=["hide-input"]
rows = []
for dataset, merged in main.items():
    if not has_method(merged, "udml"):
        continue
    floor = 1 / (len(modalities(merged)) + 1)
    scales = top_level_scales(merged, "udml")
    for mod, s in scales.items():
        rows.append([dataset, f"{mod} @ {s['level']}", f"{s['weight_noisy']:.3f}",
                     f"{s['weight_max_other']:.3f}", f"{s['scale_ratio']:.3f}", f"{floor:.3f}"])
        assert s["scale_ratio"] >= floor - 1e-9  # the residual form cannot go below the floor
    if dataset == "mfeat":
        glue("floor_mfeat", floor)
        glue("ratio_mfeat", Markdown(" and ".join(
            f"{s['scale_ratio']:.2f} (`{m}` destroyed)" for m, s in scales.items())
            + " of its partner's scale"))
if rows:
    display(Markdown(markdown_table(["dataset", "destroyed modality", "its weight",
                                     "largest other weight", "scale ratio", "floor 1/(M+1)"],
                                    rows, align="llrrrr")))

# %% [markdown]
# On mfeat a destroyed modality still enters the head at {glue:md}`ratio_mfeat:myst` (the floor is
# {glue:text}`floor_mfeat:.3f`): the weights alone cannot switch it off.
#
# {glue:md}`overrule_head:myst` By the dominance condition a modality the network relies on
# little needs a much larger estimate before it is damped (folded: the break-even factor
# $\hat s_n / \hat s_c = \sqrt{D_c / D_n}$). Destroyed modalities that UDML still weighted at
# least as much as their clean partner: {glue:md}`overruled:myst`.

# %% tags=["hide-input", "hide-output"]
rows, overruled = [], []
for dataset, merged in main.items():
    dep = found["dependency"].get(dataset, missing)
    if dep["verdict"] == "not measured" or len(dep["final"]) != 2:
        continue
    (a, alpha_a), (b, alpha_b) = ((m, s["mean"]) for m, s in dep["final"].items())
    for noisy, d_n, d_c in ((a, alpha_a, alpha_b), (b, alpha_b, alpha_a)):
        ratio = (d_c / d_n) ** 0.5
        w = unbiased_weights(torch.tensor([[ratio, 1.0]]), torch.tensor([d_n, d_c]))  # (1, 2)
        torch.testing.assert_close(w, torch.ones(1, 2))  # the break-even point, by udml
        rows.append([dataset, noisy, f"{d_n:.2f}", f"{d_c:.2f}", f"{ratio:.2f}"])
    for mod, s in top_level_scales(merged, "udml").items():
        if s["weight_noisy"] >= s["weight_max_other"]:
            overruled.append(f"`{mod}` on {dataset} (weight {s['weight_noisy']:.2f} against "
                             f"{s['weight_max_other']:.2f} for the clean partner)")
if rows:
    display(Markdown(markdown_table(["dataset", "noisy modality n", "$\\alpha_n$",
                                     "$\\alpha_c$ (clean partner)",
                                     "break-even $\\hat s_n / \\hat s_c$"], rows, align="llrrr")))
glue("overrule_head", Markdown("**The dependency term can overrule the uncertainty.**" if overruled
                               else "**Here the dependency term never overrules the uncertainty.**"))
_ = glue("overruled", Markdown(
    "; ".join(overruled) + ". There the dependency correction outweighs the estimated noise"
    if overruled else "none: every destroyed modality gets less weight than its partner"))

# %% [markdown]
# ### Extension (not the paper's method): multiplicative rescaling
#
# The `extension` experiment feeds $w_m z_m$ instead of $(1 + w_m) z_m$ to the head (plain
# rescaling), so a modality whose weight goes to 0 is switched off: an extension, not a result
# about UDML. {numref}`fig-extension-mfeat` and {numref}`fig-extension-synthetic` compare it with
# residual rescaling and with static fusion.

# %% tags=["hide-input"]
extension = results.get("extension", {})
ext_effects = claims.variant_effects(extension, main)
ext_vs_static = claims.variant_effects(extension, main, method_map={"udml": "static",
                                                                    "naive": "static"})
ext = {}
for dataset, per in ext_effects.items():
    effects = {f"{METHOD_LABELS[m]}: mult. − residual": r for (_, m), r in per.items()}
    effects.update({f"{METHOD_LABELS[m]} mult. − static": r
                    for (_, m), r in ext_vs_static[dataset].items()})
    ext[dataset] = effects
    glue_figure(f"fig-extension-{dataset}", plots.plot_effects(
        {k: r["groups"] for k, r in effects.items()}))
    udml_key = next((k for k in per if k[1] == "udml"), None)
    if udml_key is not None:
        r = per[udml_key]
        g = r["groups"]
        glue(f"extension_finding_{key(dataset)}", Markdown(
            f"on {dataset} multiplicative UDML is " + "; ".join(
                f"{where} the residual one in " + listing(f"*{x}* ({pts(g[x]['diff'])} points)"
                                                         for x in groups)
                for where, groups in (("above", r["better"]), ("below", r["worse"])) if groups)
            if r["better"] or r["worse"] else
            f"on {dataset} multiplicative and residual UDML are not distinguishable"))

# %% [markdown]
# ```{glue:figure} fig-extension-mfeat
# :name: fig-extension-mfeat
#
# mfeat, extension (not the paper's method): multiplicative minus residual rescaling for naive and
# UDML fusion, and multiplicative fusion minus static fusion, per protocol group, paired over the
# seeds (filled: the 95 % interval excludes 0).
# ```
#
# ```{glue:figure} fig-extension-synthetic
# :name: fig-extension-synthetic
#
# The synthetic set: the same as {numref}`fig-extension-mfeat`.
# ```
#
# After Holm's correction, {glue:md}`extension_finding_mfeat:myst`;
# {glue:md}`extension_finding_synthetic:myst`.

# %% tags=["hide-input", "hide-output"]
for dataset, effects in ext.items():
    display(Markdown(f"**{dataset}** (extension, points)"))
    display(Markdown(tables.paired_markdown({k: r["groups"] for k, r in effects.items()})))
    evidence(effects, what="comparison")
    mult = extension[dataset]
    scales = top_level_scales(mult, "udml", mult["variants"][0])
    print(f"{dataset}: scale ratio with one modality destroyed (multiplicative): "
          + ", ".join(f"{m} {s['scale_ratio']:.3f}" for m, s in scales.items()))

# %% [markdown]
# ## What we learned

# %% tags=["hide-input"]
lessons = []
if any("bound" in r for r in cal_rows):
    lessons.append(
        f"**The estimator reads much less than the input carries**: {low_text}. The level is "
        "visible in the input, "
        "but the spread σ of the embedding keeps little of it.")
if dom_rows:
    keeps = [r for r in dom_rows if r["kept"] > 1]
    over_half = [r for r in dom_rows if 0.5 < r["kept"] <= 1]
    undamped = keeps + over_half
    raised = [r for r in undamped if r["dep"] > 1]  # the dependency makes the bar higher
    lessons.append(
        "**A destroyed modality is not always damped.** It keeps *more* weight than its least-weighted "
        f"clean partner in {len(keeps)} and more than half of it in {len(over_half)} of "
        f"{len(dom_rows)} (dataset, destroyed modality) cases. In {len(raised)} of these "
        f"{len(undamped)} the dependency term raises the bar the estimate's ratio must clear; "
        f"in {len(undamped) - len(raised)} it lowers it, and the estimate is too flat to clear "
        "even that (the dominance table).")
if unseen_rho:
    backwards = [u for u in unseen_rho if u[0] < 0]
    worst = min(unseen_rho)
    lessons.append(
        "**Under the unseen kinds the estimate can run backwards.** In "
        f"{len(backwards)} of {len(unseen_rho)} (dataset, kind, modality) cases its ρ with the "
        f"level is negative, down to {worst[0]:.2f} ({worst[1]}, {worst[2]}, `{worst[3]}`): a "
        "blurred or covered input looks *cleaner* to it, so the fusion up-weights it (folded "
        "table at the end of claim 1).")
if ptables:
    drop = {d: t["cells"]["random"]["udml"]["drop"] for d, t in ptables.items()}
    decide = [d for d, c in drop.items() if c["exceeds"] and c["diff"] > 0]
    gains = [(t["cells"][g]["udml"]["gain"]["diff"], d, g[len("unseen: "):],
              t["cells"][g]["udml"]["gain"]["exceeds"])
             for d, t in ptables.items() for g in t["groups"]
             if g.startswith("unseen: ") and t["cells"][g]["udml"]["gain"]]
    best = max(gains)
    title = ("The estimate decides per example" if len(decide) == len(drop) else
             "Following the level is not always deciding" if decide else
             "Following the level is not deciding")
    lessons.append(
        f"**{title}.** Under the random protocol, permuting UDML's estimate across the test "
        f"examples costs {pts(min(c['diff'] for c in drop.values()))} to "
        f"{pts(max(c['diff'] for c in drop.values()))} points; beyond the seed spread on "
        f"{listing(decide) if decide else 'no dataset'} ({len(decide)} of {len(drop)}). Under "
        f"the unseen kinds the true level in the same frozen fusion would gain up to "
        f"{pts(best[0])} points ({best[1]}, {best[2]}; {{numref}}`fig-permutation-{best[1]}`)"
        + (": the fusion could use a better score than its estimate." if best[3] and best[0] > 0
           else ", within the seed spread."))
found_seen = [d for d, r in found["suppression"].items() if r.get("found")]
misread = []  # datasets whose largest unseen shortfall damages the easy modality, misread
for d, r in every_kind.items():
    unseen = [x for x in r.get("suppressed", []) if x["kind"] != SEEN_KIND]
    if not unseen:
        continue
    top = min(unseen, key=lambda x: x["naive_vs_static"]["diff"])
    name = getattr(protocol_from_string(top["protocol"]), "name", None)
    if name == found["dependency"][d]["easy"]["easy"] and estimate_rho(main[d], top["kind"],
                                                                       name) < 0:
        misread.append(f"{d} ({top['kind']} {top['protocol']}, "
                       f"{pts(top['naive_vs_static']['diff'])} points)")
lessons.append(
    ("**Dual suppression shows under the seen kind** on "
     + listing(found_seen) if found_seen else
     "**Dual suppression does not show under the seen kind**")
    + f" ({len(found_seen)} of {len(found['suppression'])} datasets)."
    + (" The largest drops of naive fusion below static come from unseen damage of the easy "
       "modality that its estimate reads as clean: " + listing(misread) + "." if misread else ""))
warmup = []  # (clause, verdict) per dataset with the no-warm-up ablation
for dataset, per in abl_table.items():
    r = per.get("no warm-up")
    if r is None:
        continue
    gains = {g: -c["diff"] for g, c in r["groups"].items()}  # variant minus full UDML
    best_g = max(gains, key=gains.get)
    helps = sum(c["p_holm"] < 0.05 and c["diff"] < 0 for c in r["groups"].values())
    hurts = sum(c["p_holm"] < 0.05 and c["diff"] > 0 for c in r["groups"].values())
    verdict = ("removing it *improves* accuracy: the warm-up is the reference schedule, not a "
               "tuned choice" if helps and not hurts else
               "the warm-up helps in some groups and hurts in others" if helps else
               "the warm-up helps there" if hurts else
               "no difference survives Holm's correction")
    warmup.append((f"{pts(-r['groups'][best_g]['diff'])} points on {dataset} (*{best_g}*; "
                   f"better in {helps} and worse in {hurts} protocol groups)", verdict))
if warmup:
    same = len({v for _, v in warmup}) == 1  # one verdict for every dataset: say it once
    lessons.append(
        "**Without the clean warm-up** UDML scores, against full UDML and after Holm's "
        "correction, up to " + listing(c if same else f"{c}: {v}" for c, v in warmup)
        + (f": {warmup[0][1]}." if same else "."))
if "mfeat-all" in main and has_method(main["mfeat-all"], "naive"):
    c = acc_tables["mfeat-all"]["cells"].get("unseen: occlusion")
    if c is not None:
        drop = c["naive"]["mean"] - c["static"]["mean"]
        lessons.append(
            f"**A wrong estimate can cost accuracy.** On mfeat-all under occlusion naive fusion "
            f"scores {100 * c['naive']['mean']:.1f} % against static's "
            f"{100 * c['static']['mean']:.1f} % ({pts(drop)} points) and UDML's "
            f"{100 * c['udml']['mean']:.1f} %" + (
                ": weighting by a backwards estimate is worse than not weighting at all."
                if drop < 0 else "."))
tmc_wins, cells_n = 0, 0
for d, merged in main.items():
    if has_method(merged, "tmc") and has_method(merged, "udml"):
        for r in calibration_rows(merged):
            if "TMC" in r and "s_hat" in r:
                cells_n += 1
                tmc_wins += r["TMC"] >= r["s_hat"]
if cells_n:
    lessons.append(
        f"**A score never told a level can rank levels as well.** TMC's uncertainty mass ranks "
        f"them at least as well as the estimate in {tmc_wins} of {cells_n} (dataset, modality, "
        "range) cells.")
_ = glue("lessons", Markdown("\n".join(f"{i}. {t}" for i, t in enumerate(lessons, 1))))

# %% [markdown]
# ```{glue:md} lessons
# :format: myst
# ```
#
# Run time of this chapter:

# %%
run_time = report_time(started)
# the chapter's run time, for the closing sentence
_ = glue("run_time", Markdown(f"{run_time:.1f} s"))
scratch.cleanup()

# %% [markdown]
# ## Exercises
#
# 1. With five seeds, what is the smallest two-sided p-value an exact Wilcoxon signed-rank test
#    can give? Why does the chapter use the t interval instead?
#
# :::{admonition} Solution
# :class: dropdown
#
# All five differences of one sign give $p = 2 \cdot 2^{-5} = 0.0625$: the test can never reach
# 0.05 with five seeds, whatever the effect. The t interval of the mean paired difference can, at
# the price of assuming roughly normal differences;
# `udml.analysis.stats.paired(..., test="wilcoxon")` reports the rank test as a check.
# :::
#
# 2. Re-run another job of the grid, for example QMF on the synthetic data with seed 3, and
#    compare it with the stored numbers.
#
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# record = rerun(find_job("main", "synthetic", "qmf", 3))
# print(rerun_difference(record, main["synthetic"], "qmf", 3))
# ```
# :::
#
# 3. Which protocol group separates the methods most on mfeat-all, and is the gap larger than the
#    seed spread?
#
# :::{admonition} Solution
# :class: dropdown
#
# ```python
# from udml.analysis.comparisons import paired_groups
#
# table = accuracy_table(main["mfeat-all"])
# gap = {g: max(c[m]["mean"] for m in c) - min(c[m]["mean"] for m in c)
#        for g, c in table["cells"].items()}
# group = max(gap, key=gap.get)
# per = paired_groups(main["mfeat-all"], "udml", main["mfeat-all"], "static")
# print(group, gap[group], per[group])
# ```
# :::
