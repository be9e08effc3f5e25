"""The paper's claims, each answered from merged results files with a verdict computed from the
numbers (never typed): the analysis behind the experiments chapter.

Every function takes merged results files (`udml.experiments.files.Results`, one dataset each) and
returns a dict of numbers with ``verdict`` (one of VERDICTS) and ``text`` (one sentence that
states the verdict with its numbers). One statistical rule for every verdict: a difference counts
only when its paired t-test over the seeds (`udml.analysis.comparisons.compare`) stays below 0.05
after Holm's correction within its family (the protocol groups of one comparison, the (modality,
range, rival) cells of claim 1, the protocols scanned by claim 3); a method missing from a file
gives "not measured" rather than an error.

    level_tracking(merged)            1. the estimate tracks the true level (Spearman per range)
    dependency_bias(merged)           2. the network relies on the easy modality, from early on
    dual_suppression(merged)          3. naive dynamic fusion loses to static somewhere; UDML?
    beats(a, "udml", b, "static")     4./5. one method (or variant) against another per group
    comparison(merged)                4. UDML against static and naive, and where it stands
"""
from __future__ import annotations

import math

import numpy as np
from scipy.stats import binomtest

from .comparisons import (DEFAULT_VARIANT, compare, has_method, modalities, paired_groups,
                          series, summary)
from .queries import values
from .stats import holm
from ..experiments.files import Results
from ..experiments.jobs import SEEN_KIND
from ..method.dependency import normalised_dependency
from ..training.metrics import ALL, HALVES, LOWER_HALF, UPPER_HALF

VERDICTS = ("holds", "partly holds", "does not hold", "not measured")
RANGES = HALVES  # the random protocol is scored on all levels and on each half
ESTIMATE, RIVALS = "udml", ("pe", "qmf")  # the noise-aware estimate and the scores it must beat
POINTS = 100.0  # accuracies are fractions; the text reports percentage points
CHANCE = 0.025  # share of protocols below another method beyond the 95% CI under no effect
CLAIM_TITLES = {"tracking": "1. the estimate tracks the noise level",
                "dependency": "2. the network relies on the easy modality, from early on",
                "suppression": "3. naive dynamic fusion loses to static; UDML removes it",
                "comparison": "4. UDML beats static and naive dynamic fusion"}


def _not_measured(why: str, **extra) -> dict:
    return {"verdict": "not measured", "text": f"not measured: {why}", **extra}


def _pts(x: float) -> str:
    return f"{POINTS * x:+.1f}"


def _ci(c: dict, scale: float = POINTS, digits: int = 1) -> str:
    if math.isnan(c["low"]):
        return "no CI: one seed"
    return f"95% CI [{scale * c['low']:+.{digits}f}, {scale * c['high']:+.{digits}f}]"


# --- claim 1 -------------------------------------------------------------------------------------

def level_tracking(merged: Results, variant: str = DEFAULT_VARIANT, kind: str = SEEN_KIND,
                   estimate: str = ESTIMATE, rivals=RIVALS) -> dict:
    """Spearman of each method's unreliability score with the true level (random protocol), per
    modality and range, and the estimate against each rival on the lower and on the upper half of
    the levels.

    holds: the estimate's Spearman over all levels is above 0 (beyond the seed spread) for every
    modality and it beats every rival on both halves for every modality; does not hold: it beats
    none there. The files store Spearman only, not per-level means, so a strictly monotone rise is
    not tested here (``per_level`` False).
    """
    methods = [m for m in (estimate, "naive", *rivals, "tmc") if has_method(merged, m, variant)]
    rivals = [r for r in rivals if r in methods]
    if estimate not in methods or not rivals:
        return _not_measured(f"needs {estimate} and one of {list(RIVALS)}", per_level=False)
    mods = modalities(merged)
    rho = {m: {r: {meth: series(merged, meth, "spearman", variant, kind=kind, modality=m, range=r)
                   for meth in methods} for r in RANGES} for m in mods}
    table = {m: {r: {meth: summary(v) for meth, v in by.items()} for r, by in rr.items()}
             for m, rr in rho.items()}
    rises = {m: compare(rho[m][ALL][estimate], {s: 0.0 for s in rho[m][ALL][estimate]})
             for m in mods}
    cmps = [{"modality": m, "range": r, "rival": riv,
             **compare(rho[m][r][estimate], rho[m][r][riv])}
            for m in mods for r in (LOWER_HALF, UPPER_HALF) for riv in rivals]
    ps = [c["p"] for c in cmps]  # Holm over the family of (modality, range, rival) cells
    for c, adj in zip(cmps, holm(ps) if not any(math.isnan(p) for p in ps) else ps):
        c["p_holm"] = adj
    wins = sum(c["direction"] == "better" and c["p_holm"] < 0.05 for c in cmps)
    losses = sum(c["direction"] == "worse" and c["p_holm"] < 0.05 for c in cmps)
    rise_ps = [c["p"] for c in rises.values()]
    rise_holm = holm(rise_ps) if not any(math.isnan(p) for p in rise_ps) else rise_ps
    n_rise = sum(c["direction"] == "better" and adj < 0.05
                 for c, adj in zip(rises.values(), rise_holm))
    verdict = ("holds" if wins == len(cmps) and n_rise == len(mods) else
               "does not hold" if wins == 0 else "partly holds")
    text = (f"the estimate's Spearman with the level is above 0 over all levels for {n_rise} of "
            f"{len(mods)} modalities; against {' and '.join(rivals)} on the lower and on the "
            f"upper half of the levels it is better in {wins}, worse in {losses} and not "
            f"distinguishable in {len(cmps) - wins - losses} of {len(cmps)} (modality, range, "
            f"rival) cases, after Holm's correction; signed ρ: a rival whose score falls with "
            f"the noise loses even when the size of its ρ is large")
    return {"verdict": verdict, "text": text, "table": table, "rises": rises,
            "comparisons": cmps, "wins": wins, "losses": losses, "methods": methods,
            "per_level": False}


# --- claim 2 -------------------------------------------------------------------------------------

def easy_modality(merged: Results, variant: str = DEFAULT_VARIANT, method: str = "static") -> dict:
    """The easy modality: the planted one where the data says so (synthetic), and the one whose
    unimodal branch is most accurate on clean data (``method``'s, else the first method's)."""
    infos = list(merged["config"]["data"].values())
    planted = infos[0].get("easy") if infos else None
    have = [m for m in merged["methods"] if has_method(merged, m, variant)]
    if not have:
        raise ValueError(f"{merged['dataset']}: no methods under variant {variant!r}")
    ref = method if method in have else have[0]
    acc = {m: summary(series(merged, ref, "unimodal_accuracy", variant, kind=SEEN_KIND,
                             protocol="clean", modality=m))
           for m in modalities(merged)}
    by_acc = max(acc, key=lambda m: acc[m]["mean"])
    easy = planted[0] if planted else by_acc
    return {"easy": easy, "planted": planted, "by_accuracy": by_acc, "unimodal": acc,
            "reference_method": ref}


def dependency_history(merged: Results, method: str, variant: str = DEFAULT_VARIANT) -> dict:
    """Per-epoch alpha per modality: {"epochs": [1..E], "seeds": [...], "alpha": {m: [[per
    epoch] per seed]}, "first_noisy": first epoch (1-based) on noisy data, or None}."""
    where = f"{merged['dataset']}/{variant}/{method}"
    rows = values(merged, method, "epoch_dependency", variant=variant)
    if rows.empty:
        raise KeyError(f"{where}: no per-epoch dependency")
    mods = modalities(merged)
    # a row per (seed, epoch), a column per modality: the seeds with every modality tracked
    d = rows.pivot(index=["seed", "epoch"], columns="modality", values="value")
    by_seed = dict(iter(d.reindex(columns=mods).dropna().groupby(level="seed")))
    seeds = [s for s in merged["seeds"] if s in by_seed]
    if not seeds:
        raise ValueError(f"{where}: no seed has a dependency history")
    alpha = {m: [] for m in mods}
    for seed in seeds:
        normalised = normalised_dependency(np.array(by_seed[seed].to_numpy().T))  # (M, E)
        for j, m in enumerate(mods):
            alpha[m].append(normalised[j].tolist())
    noisy = values(merged, method, "noisy", variant=variant)
    flags = noisy[noisy.seed == noisy.seed.iloc[0]] if len(noisy) else noisy  # the first seed's
    on = flags.epoch[flags.value != 0].tolist()
    return {"epochs": list(range(1, len(alpha[mods[0]][0]) + 1)), "seeds": seeds,
            "alpha": alpha, "first_noisy": min(on) if on else None}


def dependency_bias(merged: Results, variant: str = DEFAULT_VARIANT, methods=("udml", "oracle"),
                    early_fraction: float = 0.1) -> dict:
    """Whether the trained network relies most on the easy modality (alpha_easy > 1 beyond the
    seed spread, alpha from modality dropout), and already early in training (at the end of the
    first ``early_fraction`` of the epochs).  Measured on the first of ``methods`` that tracks it.

    holds: alpha_easy > 1 at the end and early; partly: at one of the two; does not hold: neither.
    """
    if not 0.0 < early_fraction <= 1.0:
        raise ValueError(f"early_fraction must be in (0, 1], got {early_fraction}")
    method = next((m for m in methods if has_method(merged, m, variant)
                   and len(values(merged, m, "epoch_dependency", variant=variant))), None)
    if method is None:
        return _not_measured(f"none of {list(methods)} tracked the dependency")
    easy = easy_modality(merged, variant)
    mods = modalities(merged)
    final = {m: series(merged, method, "dependency_normalised", variant, modality=m)
             for m in mods}
    hist = dependency_history(merged, method, variant)
    e0 = max(1, math.ceil(early_fraction * len(hist["epochs"])))  # 1-based early epoch
    early = {m: dict(zip(hist["seeds"], (a[e0 - 1] for a in hist["alpha"][m]))) for m in mods}
    e = easy["easy"]
    one = {s: 1.0 for s in final[e]}
    at_end, at_early = compare(final[e], one), compare(early[e], one)
    most = max(mods, key=lambda m: summary(final[m])["mean"])
    n_biased = sum(c["direction"] == "better" for c in (at_end, at_early))
    verdict = ("holds", "partly holds", "does not hold")[2 - n_biased]
    text = (f"the easy modality {e} ({'planted' if easy['planted'] else 'most accurate alone'}) "
            f"has alpha = {summary(final[e])['mean']:.2f} at the end of training "
            f"({_ci(at_end, 1.0, 2)} of alpha - 1) and {summary(early[e])['mean']:.2f} after "
            f"epoch {e0} ({_ci(at_early, 1.0, 2)}); the most relied-on modality is {most} "
            f"({method})")
    return {"verdict": verdict, "text": text, "method": method, "easy": easy, "most": most,
            "final": {m: summary(v) for m, v in final.items()},
            "early": {m: summary(v) for m, v in early.items()}, "early_epoch": e0,
            "at_end": at_end, "at_early": at_early, "history": hist}


# --- claim 3 -------------------------------------------------------------------------------------

def dual_suppression(merged: Results, variant: str = DEFAULT_VARIANT, naive: str = "naive",
                     static: str = "static", fix: str = "udml", alpha: float = 0.05,
                     kinds=None) -> dict:
    """Where naive dynamic fusion is below static fusion (every protocol of ``kinds``, default
    every kind in the file, paired over seeds), and whether ``fix`` (UDML) removes the shortfall
    there.

    ``kinds=(SEEN_KIND,)`` asks the claim's own question: dual suppression is the hard modality
    suppressed by the network's bias and by an uncertainty estimate that reads the damage it was
    trained on.  Under a kind never seen in training the estimate itself can be wrong (it may
    read a damaged input as clean), and a shortfall there has that simpler cause.

    The claim is a scan ("somewhere") over many protocols, and about 2.5% of them fall below
    static beyond the seed spread by chance alone.  So the shortfall counts as found when one
    of them survives Holm's correction over all the protocols, or when more protocols fall
    below the spread than chance explains (one-sided binomial test of the count against a rate
    of 2.5%, at ``alpha``; approximate, since neighbouring protocols are correlated).
    UDML removes a shortfall when it is not below static beyond the spread there *and* above
    naive beyond the spread (a wide interval that merely includes 0 is not a removal).
    holds: found, and UDML removes every shortfall; partly: found, and some shortfall stays;
    does not hold: not found.
    """
    if not all(has_method(merged, m, variant) for m in (naive, static, fix)):
        return _not_measured(f"needs {naive}, {static} and {fix}")
    unknown = [k for k in (kinds or ()) if k not in merged["protocols"]]
    if unknown:
        raise ValueError(f"{merged['dataset']}: no protocols of the kinds {unknown}; the file "
                         f"has {list(merged['protocols'])}")
    rows = []
    for kind, labels in merged["protocols"].items():
        if kinds is not None and kind not in kinds:
            continue
        for p in labels:
            acc = {m: series(merged, m, "accuracy", variant, kind=kind, protocol=p)
                   for m in (naive, static, fix)}
            rows.append({"kind": kind, "protocol": p, "naive_vs_static": compare(acc[naive],
                         acc[static]), "fix_vs_static": compare(acc[fix], acc[static]),
                         "fix_vs_naive": compare(acc[fix], acc[naive])})
    n, ps = len(rows), [r["naive_vs_static"]["p"] for r in rows]
    adjusted = holm(ps) if not any(math.isnan(p) for p in ps) else [math.nan] * n
    for r, adj in zip(rows, adjusted):  # Holm over the family of protocols
        r["naive_vs_static"]["p_holm"] = adj
    worst = min(rows, key=lambda r: r["naive_vs_static"]["diff"])
    spread = [r for r in rows if r["naive_vs_static"]["direction"] == "worse"]
    n_holm = sum(r["naive_vs_static"]["p_holm"] < alpha for r in spread)
    p_count = float(binomtest(len(spread), n, CHANCE, alternative="greater").pvalue)
    found = n_holm > 0 or p_count < alpha
    below = [r for r in spread if r["fix_vs_static"]["direction"] == "worse"]
    still = [r for r in spread if r in below or r["fix_vs_naive"]["direction"] != "better"]
    top = min(spread or [worst], key=lambda r: r["naive_vs_static"]["diff"])
    w, f, where = top["naive_vs_static"], top["fix_vs_static"], f"{top['kind']} {top['protocol']}"
    if not spread:
        verdict = "does not hold"
        text = (f"naive dynamic fusion is nowhere below static fusion by more than the seed "
                f"spread ({n} protocols); its largest shortfall is {_pts(w['diff'])} points at "
                f"{where} ({_ci(w)})")
    else:
        verdict = ("does not hold" if not found else "holds" if not still else "partly holds")
        text = (f"naive dynamic fusion is below static fusion beyond the seed spread at "
                f"{len(spread)} of {n} protocols ({'more than' if p_count < alpha else 'about'} "
                f"the {CHANCE * n:.1f} chance gives, binomial p = {p_count:.2g}; {n_holm} "
                f"survive Holm's correction); the largest of these drops is {_pts(w['diff'])} "
                f"points at {where} ({_ci(w)}), where UDML against static is {_pts(f['diff'])} "
                f"points ({_ci(f)}); UDML stays below static at {len(below)} of the "
                f"{len(spread)} protocols")
    return {"verdict": verdict, "text": text, "rows": rows, "worst": worst, "largest": top,
            "suppressed": spread, "below_static": below, "not_removed": still, "count_p": p_count,
            "significant_after_holm": n_holm, "found": found}


# --- claims 4 and 5 ------------------------------------------------------------------------------

def beats(a: Results, a_method: str, b: Results, b_method: str, a_variant: str = DEFAULT_VARIANT,
          b_variant: str = DEFAULT_VARIANT, groups=None) -> dict:
    """Whether a's accuracy is above b's, per protocol group, paired over seeds.

    A group counts as above (below) when a's paired difference is positive (negative) with a
    Holm-corrected p below 0.05 over the groups of this comparison (each gets "p_holm"). holds:
    above in at least one group and below in none; does not hold: above in none; partly: above
    in some, below in others.  The text also gives the uncorrected counts (95% interval excludes
    0), labelled as such.
    """
    if not (has_method(a, a_method, a_variant) and has_method(b, b_method, b_variant)):
        return _not_measured(f"needs {a_method} ({a_variant}) and {b_method} ({b_variant})")
    per = paired_groups(a, a_method, b, b_method, a_variant, b_variant)
    if groups is not None:
        per = {g: c for g, c in per.items() if g in groups}
        if not per:
            raise ValueError(f"none of the groups {list(groups)} is shared by the two files")
    ps = [c["p"] for c in per.values()]
    adjusted = holm(ps) if not any(math.isnan(p) for p in ps) else [math.nan] * len(ps)
    per = {g: {**c, "p_holm": adj} for (g, c), adj in zip(per.items(), adjusted)}
    raw_better = [g for g, c in per.items() if c["direction"] == "better"]
    raw_worse = [g for g, c in per.items() if c["direction"] == "worse"]
    better = [g for g in raw_better if per[g]["p_holm"] < 0.05]
    worse = [g for g in raw_worse if per[g]["p_holm"] < 0.05]
    big = max(per, key=lambda g: abs(per[g]["diff"]))
    verdict = ("does not hold" if not better else "holds" if not worse else "partly holds")
    text = (f"above in {len(better)}, below in {len(worse)} of {len(per)} protocol groups after "
            f"Holm's correction (uncorrected: above in {len(raw_better)}, below in "
            f"{len(raw_worse)}); largest difference {_pts(per[big]['diff'])} points ({big}, "
            f"{_ci(per[big])})")
    return {"verdict": verdict, "text": text, "groups": per, "better": better, "worse": worse,
            "raw_better": raw_better, "raw_worse": raw_worse, "holm_kept": better + worse,
            "largest": big}


def comparison(merged: Results, variant: str = DEFAULT_VARIANT, focus: str = "udml",
               must_beat=("static", "naive"),
               others=("pe", "late", "qmf", "tmc", "oracle")) -> dict:
    """``focus`` against each other method per protocol group (`beats`); the claim is that it
    beats every method of ``must_beat``: holds if it holds against each, does not hold if against
    none, partly otherwise."""
    if not has_method(merged, focus, variant):
        return _not_measured(f"needs {focus}")
    against = {m: beats(merged, focus, merged, m, variant, variant)
               for m in (*must_beat, *others) if has_method(merged, m, variant)}
    core = [against[m]["verdict"] for m in must_beat if m in against]
    if not core:
        return _not_measured(f"needs one of {list(must_beat)}", against=against)
    verdict = ("holds" if all(v == "holds" for v in core) else
               "does not hold" if all(v == "does not hold" for v in core) else "partly holds")
    text = "; ".join(f"against {m}: {against[m]['verdict']} ({against[m]['text']})"
                     for m in must_beat if m in against)
    return {"verdict": verdict, "text": text, "against": against}


def variant_effects(results: dict, main: dict, method_map=None, reverse: bool = False) -> dict:
    """Every (variant, method) of another experiment against main's default run of the same
    dataset and seeds: {dataset: {(variant, method): beats(variant, main)}} -- or, with
    ``reverse``, beats(main, variant) (for ablations: does full UDML beat the changed one?).
    ``method_map`` names main's method to pair with a method (default: the same method)."""
    out = {}
    for dataset, merged in results.items():
        if dataset not in main:
            continue
        out[dataset] = {}
        for variant in merged["variants"]:  # the experiment's order, not the file's sorted keys
            for method in merged["methods"]:
                ref = (method_map or {}).get(method, method)
                pair = ((main[dataset], ref, merged, method, DEFAULT_VARIANT, variant) if reverse
                        else (merged, method, main[dataset], ref, variant, DEFAULT_VARIANT))
                out[dataset][(variant, method)] = beats(*pair)
    return out


def main_claims(main: dict) -> dict:
    """Claims 1-4 on every dataset of the main experiment: {claim: {dataset: result}}."""
    funcs = {"tracking": level_tracking, "dependency": dependency_bias,
             "suppression": dual_suppression, "comparison": comparison}
    return {name: {d: f(merged) for d, merged in main.items()} for name, f in funcs.items()}
