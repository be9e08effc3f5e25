"""How well an unreliability score follows the noise level, and what the fusion weights do with
it: the estimator measured against the bound, and the dominance condition.

Calibration.  Every method with a score (s_hat, the PE's mean sigma, QMF's and TMC's own
unreliability) is scored level by level in the merged results files (``calibration_*`` rows); the
bound, a regressor of the level on the corrupted input (`udml.training.bound`), in
``results/bound`` (the same rows, method and score "bound").

    calibration_rows(merged, bound)     dataset x modality x range -> Spearman of every score

The dominance condition.  With u_m = 1 / (s_m^2 D_m), a noisy modality n keeps MORE weight than a
clean one c exactly when u_n > u_c, i.e.

    (s_n / s_c)^2  <  D_c / D_n        (the estimate's ratio against the dependency's ratio)

and it gets at most half of c's weight exactly when (s_n / s_c)^2 >= 2 D_c / D_n.  A modality that
the fusion relies on little (small D_n) is boosted by the dependency term; only a large enough
ratio of estimates takes the boost back.  `dominance_rows` measures both sides for every pair
(n noisy at the top level, c clean) on the means over the test samples, for the shipped estimator
and for the bound's estimates with the same D.
"""
from __future__ import annotations

from .comparisons import DEFAULT_VARIANT, modalities, num_levels, series
from .queries import values
from .stats import mean
from ..experiments.files import Results
from ..experiments.jobs import SEEN_KIND
from ..training.metrics import ALL, ENDS

# score -> (method whose runs carry it, the entry name in the results files)
SCORES = {"s_hat": ("udml", "s_hat"), "PE sigma": ("pe", "pe_sigma"),
          "QMF": ("qmf", "unreliability"), "TMC": ("tmc", "unreliability")}
RANGES = ENDS  # a calibration is scored on all levels and on each end


def score_spearman(merged: Results, method: str, score: str, modality: str, rng: str,
                   variant: str = DEFAULT_VARIANT, kind: str = SEEN_KIND) -> dict[int, float]:
    """{seed: Spearman of ``score`` with the level over level range ``rng``} of one method."""
    return series(merged, method, "calibration_spearman", variant, kind=kind, score=score,
                  modality=modality, range=rng)


def score_means(merged: Results, method: str, score: str, modality: str,
                variant: str = DEFAULT_VARIANT, kind: str = SEEN_KIND) -> list[float]:
    """The score's mean per level 1..L, averaged over the seeds."""
    rows = values(merged, method, "calibration_mean", variant=variant)
    rows = rows[(rows.kind == kind) & (rows.score == score) & (rows.modality == modality)]
    if rows.empty:
        raise KeyError(f"{merged['dataset']}/{variant}/{method}: no calibration of {score} for "
                       f"{modality} under {kind}")
    per_level = rows.pivot(index="level", columns="seed", values="value")
    per_level = per_level[[s for s in merged["seeds"] if s in per_level.columns]]
    return [mean(v) for v in per_level.values.tolist()]


def calibration_rows(merged: Results, bound: Results | None = None,
                     variant: str = DEFAULT_VARIANT) -> list[dict]:
    """One row per (modality, range): the mean over seeds of each score's Spearman with the level
    (signed: a score that falls as the noise rises has a negative rho, and its |rho| is NOT a
    win), and the bound's, where the results hold them."""
    rows = []
    for m in modalities(merged):
        for rng in RANGES:
            row = {"dataset": merged["dataset"], "modality": m, "range": rng}
            for label, (method, score) in SCORES.items():
                try:
                    row[label] = mean(score_spearman(merged, method, score, m, rng, variant)
                                      .values())
                except KeyError:
                    continue
            if bound is not None:
                row["bound"] = mean(score_spearman(bound, "bound", "bound", m, rng).values())
            rows.append(row)
    return rows


def dominance_rows(merged: Results, bound: Results | None = None, method: str = "udml",
                   variant: str = DEFAULT_VARIANT) -> list[dict]:
    """One row per (noisy n at the top level, clean c): both sides of the dominance condition and
    the weights the fusion gave, means over seeds.

    estimate_ratio   (s_n / s_c)^2 of ``method``'s s_hat under ``one:n@L`` (n noisy, c clean)
    dependency_ratio D_c / D_n of the same runs
    bound_ratio      (s_n / s_c)^2 with the bound's mean estimates (n at L, c at level 1)
    w_noisy, w_clean the fusion's mean weights under ``one:n@L``
    noisy_keeps_more estimate_ratio < dependency_ratio (the condition, on the means)
    """
    L = num_levels(merged)
    mods = modalities(merged)
    dep = {m: series(merged, method, "dependency", variant, modality=m) for m in mods}
    rows = []
    for n in mods:
        proto = f"one:{n}@{L}"
        s = {m: series(merged, method, "score", variant, kind=SEEN_KIND, protocol=proto,
                       score="s_hat", modality=m) for m in mods}
        w = {m: series(merged, method, "weight", variant, kind=SEEN_KIND, protocol=proto,
                       modality=m) for m in mods}
        for c in mods:
            if c == n:
                continue
            seeds = sorted(set(s[n]) & set(s[c]) & set(dep[n]) & set(dep[c]))
            est = mean([(s[n][k] / s[c][k]) ** 2 for k in seeds])
            dr = mean([dep[c][k] / dep[n][k] for k in seeds])
            row = {"dataset": merged["dataset"], "noisy": n, "clean": c, "estimate_ratio": est,
                   "dependency_ratio": dr, "w_noisy": mean(w[n].values()),
                   "w_clean": mean(w[c].values()), "noisy_keeps_more": est < dr}
            if bound is not None:
                row["bound_ratio"] = (score_means(bound, "bound", "bound", n)[L - 1]
                                      / score_means(bound, "bound", "bound", c)[0]) ** 2
                row["bound_noisy_keeps_more"] = row["bound_ratio"] < dr
            rows.append(row)
    return rows


def top_level_weight_ratio(merged: Results, method: str = "udml", variant: str = DEFAULT_VARIANT
                           ) -> dict[str, dict[int, float]]:
    """For each modality n: {seed: w_n / min over clean c of w_c} under ``one:n@L``, the share
    of a clean modality's weight the destroyed one keeps (the target: at most 0.5)."""
    L = num_levels(merged)
    mods = modalities(merged)
    out = {}
    for n in mods:
        w = {m: series(merged, method, "weight", variant, kind=SEEN_KIND,
                       protocol=f"one:{n}@{L}", modality=m) for m in mods}
        out[n] = {k: w[n][k] / min(w[c][k] for c in mods if c != n) for k in w[n]}
    return out


def lever_rows(merged: Results, method: str = "udml") -> list[dict]:
    """One row per variant of an experiment such as ``levers``, means over seeds: the clean and
    random-protocol accuracy, s_hat's Spearman per modality and range under the training kind,
    its lowest overall Spearman under an unseen kind (the random protocol), and the largest share
    of a clean modality's weight that a modality destroyed at the top level keeps."""
    rows = []
    mods = modalities(merged)
    for variant in merged["variants"]:
        row = {"variant": variant}
        for proto in ("clean", "random"):
            row[f"accuracy {proto}"] = mean(series(merged, method, "accuracy", variant,
                                                   kind=SEEN_KIND, protocol=proto).values())
        for m in mods:
            for rng in RANGES:
                row[f"{m} {rng}"] = mean(score_spearman(merged, method, "s_hat", m, rng,
                                                        variant).values())
        unseen = [k for k in merged["kinds"] if k != SEEN_KIND]
        row["unseen worst"] = min(
            (mean(series(merged, method, "spearman", variant, kind=k, modality=m,
                         range=ALL).values()),
             f"{k}/{m}")
            for k in unseen for m in mods) if unseen else None
        kept = top_level_weight_ratio(merged, method, variant)
        row["kept weight"] = max((mean(kept[m].values()), m) for m in mods)
        rows.append(row)
    return rows


def beta_trade_off(merged: Results, method: str = "udml") -> list[dict]:
    """One row per variant of the experiment ``beta``, means over seeds: beta and the fusion's
    rescaling (from the variant's config), the random-protocol accuracy, the lowest accuracy with
    one modality destroyed (``one:m@L``), s_hat's overall Spearman with the level (mean over the
    modalities), and what a destroyed modality keeps: its weight over a clean one's ("kept
    weight", the largest over modalities; "worst seed" the largest single seed) and the scale it
    enters the head with over a clean one's ("kept", (1 + w_n) / (1 + w_c) for the paper's
    residual fusion, w_n / w_c for the plain one); "unseen worst" is lever_rows' lowest Spearman
    under an unseen kind (NaN where the file has none)."""
    L, mods = num_levels(merged), modalities(merged)
    rows = []
    for lever in lever_rows(merged, method):
        variant = lever["variant"]
        model = merged["config"]["variants"][variant]["model"]
        residual = model.get("rescaling", "residual") == "residual"
        tops = [mean(series(merged, method, "accuracy", variant, kind=SEEN_KIND,
                            protocol=f"one:{m}@{L}").values()) for m in mods]
        shares = top_level_weight_ratio(merged, method, variant)
        kept = []
        for n in mods:
            w = {m: series(merged, method, "weight", variant, kind=SEEN_KIND,
                           protocol=f"one:{n}@{L}", modality=m) for m in mods}
            scale = (lambda v: 1 + v) if residual else (lambda v: v)  # noqa: E731
            kept.append(mean([scale(w[n][s]) / max(scale(w[c][s]) for c in mods if c != n)
                              for s in w[n]]))
        rows.append({"variant": variant, "beta": model["beta"],
                     "rescaling": model.get("rescaling", "residual"),
                     "random": lever["accuracy random"], "worst top": min(tops),
                     "spearman": mean([lever[f"{m} {ALL}"] for m in mods]),
                     "kept weight": lever["kept weight"][0],
                     "worst seed": max(v for m in mods for v in shares[m].values()),
                     "kept": max(kept),
                     "unseen worst": (lever["unseen worst"] or (float("nan"),))[0]})
    return rows
