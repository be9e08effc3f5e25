"""Leave one kind out, read back: what each method does on the family of damage it never saw.

For one merged results file of the experiment `held-out` (or `robust-choice`), per held-out
family, method and modality m (means over seeds; the variant "held out: f" holds f out):

    spearman    the score's Spearman with the level under the random protocol of f (s_hat for
                the estimator methods); above 0 the score rises with the damage
    top         accuracy with m destroyed by f (``one:m@L``)
    branch      the accuracy of m's own branch there: how much of m the damage left (near
                chance: m is destroyed in fact, not only in name)
    fallback    top - the accuracy of the other modality's own branch under the same protocol:
                0 when the fusion falls back fully on what still works; NaN with more than two
                modalities, where no single branch is what is left
    vs_static   top - static's top, paired over seeds; likewise vs_naive
    kept        the scale a destroyed m enters the head with, over the largest clean one's: at
                ``one:m@L`` of f and, for "kept_seen", the largest over the six seen families;
                (1 + w_m) / (1 + w_k) for the paper's residual fusion, w_m / w_k for the
                multiplicative one (UDML-R)

and per family and method the clean and the random-protocol accuracy of f.

    held_out_table(merged)        one row per (family, method, modality), a pandas DataFrame
    held_out_comparison(merged, method, base)   paired over seeds at every level, Holm-corrected
    held_out_permutation(merged)  the permutation test on each held-out family
    reads_choice(results)         what UDML-R's estimator reads, chosen on validation data
    epochs_choice(merged)         the epochs of `held-out-av`, chosen on validation data
    python -m udml.analysis.held_out [FOLDER]     prints it (default: results/held-out)
"""
from __future__ import annotations

import argparse

import pandas as pd

from ..corrupt.families import FAMILY_NAMES
from ..experiments.files import Results
from ..models.dynamic import ROBUST
from .comparisons import compare, find_results, load_experiment
from .queries import num_levels
from .stats import holm


def _values(rows: pd.DataFrame, **where) -> dict[int, float]:
    """{seed: value} of the rows matching ``where`` (column: value)."""
    mask = pd.Series(True, index=rows.index)
    for col, val in where.items():
        mask &= rows[col] == val
    part = rows[mask]
    return dict(zip(part["seed"].astype(int), part["value"].astype(float)))


def _mean(v: dict[int, float]) -> float:
    return sum(v.values()) / len(v) if v else float("nan")


def _residual(merged: Results, method: str, variant: str) -> bool:
    model = merged["config"]["variants"][variant]["model"]
    rescaling = ROBUST["rescaling"] if method == "udml-r" else model.get("rescaling", "residual")
    return rescaling == "residual"


def _split(rows: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """One variant's rows by (method, kind): every lookup of the table names both, so each scans
    a small frame instead of the whole file."""
    return {key: part for key, part in rows.groupby(["method", "kind"], sort=False)}


def _weights(rows: pd.DataFrame) -> dict[tuple, dict[int, float]]:
    """(method, kind, protocol, modality) -> {seed: mean weight} of one variant's rows, built once
    (the kept scales read them for every family, method and modality)."""
    w = rows[rows["metric"] == "weight"]
    return {key: dict(zip(g["seed"].astype(int), g["value"].astype(float)))
            for key, g in w.groupby(["method", "kind", "protocol", "modality"], sort=False)}


def _kept(weights, method, family, m, others, top, residual) -> float:
    w = {k: _mean(weights.get((method, family, f"one:{m}@{top}", k), {})) for k in [m, *others]}
    if any(v != v for v in w.values()):  # no weights (static)
        return float("nan")
    clean = max(w[k] for k in others)
    return (1 + w[m]) / (1 + clean) if residual else w[m] / max(clean, 1e-12)


def held_out_table(merged: Results) -> pd.DataFrame:
    """The table of the module doc for one dataset's merged results file."""
    uni = merged.rows[merged.rows["metric"] == "unimodal_accuracy"]
    mods, top = sorted(set(uni["modality"].dropna())), num_levels(merged)
    methods = list(merged["methods"])
    out = []
    for family in FAMILY_NAMES:
        variant = next((v for v in merged["config"].get("variants", {})
                        if merged["config"]["variants"][v]["train"].get("held_out") == family),
                       None)
        if variant is None:
            continue
        rows = merged.rows[merged.rows["variant"] == variant]
        parts, weights = _split(rows), _weights(rows)
        empty = merged.rows.iloc[:0]

        def values(meth, **where):
            """{seed: value} of method ``meth`` under the held-out family's kind."""
            return _values(parts.get((meth, family), empty), **where)

        tops = {meth: {m: values(meth, protocol=f"one:{m}@{top}", metric="accuracy")
                       for m in mods} for meth in methods}
        for meth in methods:
            residual = _residual(merged, meth, variant)
            clean = _mean(values(meth, protocol="clean", metric="accuracy"))
            random = _mean(values(meth, protocol="random", metric="accuracy"))
            for m in mods:
                others = [k for k in mods if k != m]
                row = {"family": family, "method": meth, "modality": m, "clean": clean,
                       "random": random, "top": _mean(tops[meth][m])}
                row["spearman"] = _mean(values(meth, modality=m, range="all", metric="spearman"))
                row["branch"] = _mean(values(meth, protocol=f"one:{m}@{top}", modality=m,
                                             metric="unimodal_accuracy"))
                row["fallback"] = float("nan")
                if len(others) == 1:
                    branch = values(meth, protocol=f"one:{m}@{top}", modality=others[0],
                                    metric="unimodal_accuracy")
                    row["fallback"] = _mean(tops[meth][m]) - _mean(branch)
                for base in ("static", "naive"):
                    if base in methods and base != meth and tops[base][m]:
                        c = compare(tops[meth][m], tops[base][m])
                        row[f"vs_{base}"], row[f"p_vs_{base}"] = c["diff"], c["p"]
                row["kept"] = _kept(weights, meth, family, m, others, top, residual)
                seen = [_kept(weights, meth, f, m, others, top, residual)
                        for f in FAMILY_NAMES if f != family]
                row["kept_seen"] = max(seen) if seen else float("nan")
                out.append(row)
    if not out:
        raise ValueError(f"{merged['dataset']}: no variant holds a family out; is this a "
                         "results file of the leave-one-kind-out protocol?")
    return pd.DataFrame(out)


def _held_out_noisy(merged: Results):
    """(family, rows) per variant that holds a family out: the rows of that family's noisy
    protocols (every one but clean) under that variant."""
    for variant, cfg in merged["config"]["variants"].items():
        family = cfg["train"].get("held_out")
        if family:
            rows = merged.rows
            yield family, rows[(rows["variant"] == variant) & (rows["kind"] == family)
                               & (rows["protocol"] != "clean")]


def held_out_comparison(merged: Results, method: str, base: str) -> pd.DataFrame:
    """``method`` against ``base`` on every noisy protocol of each held-out family (each modality
    alone and all modalities at every level, and the random protocol), paired over seeds, with
    Holm's correction over all of the dataset's protocols: one row per (family, protocol) with
    the mean difference, its 95 % CI, the raw and the Holm-adjusted p-value, and "below" (the CI
    excludes 0 on the negative side and the adjusted p < 0.05)."""
    out = []
    for family, noisy in _held_out_noisy(merged):
        rows = noisy[noisy["metric"] == "accuracy"]
        for protocol in dict.fromkeys(rows["protocol"]):
            at = rows[rows["protocol"] == protocol]
            a, b = (dict(zip(at["seed"][at["method"] == m].astype(int),
                             at["value"][at["method"] == m])) for m in (method, base))
            if a and b:
                c = compare(a, b)
                out.append({"family": family, "protocol": protocol, "diff": c["diff"],
                            "low": c["low"], "high": c["high"], "p": c["p"]})
    if not out:
        raise ValueError(f"{merged['dataset']}: no held-out family with both {method!r} and "
                         f"{base!r}")
    table = pd.DataFrame(out)
    finite = table["p"].notna()
    table["p_holm"] = float("nan")
    if finite.any():
        table.loc[finite, "p_holm"] = holm(table.loc[finite, "p"].tolist())
    table["below"] = (table["high"] < 0) & (table["p_holm"] < 0.05)
    return table


def held_out_permutation(merged: Results, methods=("naive", "udml", "udml-r")) -> pd.DataFrame:
    """The permutation test on each held-out family: per family and method, the accuracy over
    the family's noisy protocols (every one but clean) as computed, the drop when the scores are
    permuted and the gain of the oracle control, each paired over seeds (`compare` dicts: "diff",
    "low", "high", "exceeds")."""
    out = []
    for family, rows in _held_out_noisy(merged):
        for method in methods:
            wide = rows[rows["method"] == method].pivot_table(
                index=["seed", "protocol"], columns="metric", values="value")
            if "accuracy_permuted" not in wide:
                continue
            wide = wide[wide["accuracy_permuted"].notna()]  # the protocols the test ran under
            per_seed = wide.groupby(level="seed").mean()
            acc = per_seed["accuracy"].to_dict()
            oracle = (per_seed["accuracy_oracle"].dropna().to_dict()
                      if "accuracy_oracle" in per_seed else {})
            out.append({"family": family, "method": method, "accuracy": _mean(acc),
                        "drop": compare(acc, per_seed["accuracy_permuted"].to_dict()),
                        "gain": compare(oracle, acc) if oracle else None})
    if not out:
        raise ValueError(f"{merged['dataset']}: no permutation test of a held-out family in the "
                         "file")
    return pd.DataFrame(out)


def reads_choice(results: dict[str, Results]) -> pd.DataFrame:
    """What UDML-R's estimator should read, from the experiment `robust-choice` (validation
    split): per dataset and input, the accuracy under the held-out family's protocols (every one
    but clean, averaged), the Spearman of s_hat with the level under its random protocol (over
    modalities), and the accuracy under the random protocols of the seen families; each a mean
    over held-out families and seeds.  The input with the highest held-out accuracy, averaged
    over the datasets, is the choice."""
    out = []
    for dataset, merged in results.items():
        for variant, cfg in merged["config"]["variants"].items():
            family = cfg["train"]["held_out"]
            rows = merged.rows[merged.rows["variant"] == variant]
            acc = rows[(rows["kind"] == family) & (rows["metric"] == "accuracy")
                       & (rows["protocol"] != "clean")]
            rho = rows[(rows["kind"] == family) & (rows["metric"] == "spearman")
                       & (rows["range"] == "all")]
            seen = rows[rows["kind"].isin([f for f in FAMILY_NAMES if f != family])
                        & (rows["protocol"] == "random") & (rows["metric"] == "accuracy")]
            out.append({"dataset": dataset, "reads": cfg["model"]["estimator_input"],
                        "family": family, "held_out_accuracy": acc["value"].mean(),
                        "spearman": rho["value"].mean(), "seen_random": seen["value"].mean()})
    table = pd.DataFrame(out).groupby(["dataset", "reads"], sort=False)[
        ["held_out_accuracy", "spearman", "seen_random"]].mean().reset_index()
    return table


def chosen_reads(table: pd.DataFrame) -> str:
    """The input of `reads_choice`'s table with the highest held-out accuracy over datasets."""
    return str(table.groupby("reads")["held_out_accuracy"].mean().idxmax())


def epochs_choice(merged: Results) -> pd.DataFrame:
    """The budget of `held-out-av`, from the experiment `held-out-av-budget` (validation split):
    per number of epochs, UDML's and UDML-R's clean accuracy (means over held-out families and
    seeds) and UDML-R's minus UDML's ("gap"), sorted by epochs."""
    out = []
    for variant, cfg in merged["config"]["variants"].items():
        rows = merged.rows[(merged.rows["variant"] == variant)
                           & (merged.rows["metric"] == "accuracy")
                           & (merged.rows["protocol"] == "clean")]
        for method, acc in rows.groupby("method")["value"]:
            out.append({"epochs": cfg["train"]["epochs"], "method": method, "clean": acc.mean()})
    if not out:
        raise ValueError(f"{merged['dataset']}: no clean accuracy in the file")
    table = pd.DataFrame(out).groupby(["epochs", "method"])["clean"].mean().unstack("method")
    missing = {"udml", "udml-r"} - set(table.columns)
    if missing:
        raise ValueError(f"{merged['dataset']}: no {sorted(missing)} in the file")
    return table.assign(gap=table["udml-r"] - table["udml"]).reset_index()


def chosen_epochs(table: pd.DataFrame, tolerance: float = 0.005) -> int:
    """The fewest epochs of `epochs_choice`'s table at which UDML-R's clean accuracy is within
    ``tolerance`` of UDML's; where none is, the epochs with the smallest gap."""
    close = table[table["gap"] >= -tolerance]
    row = close.iloc[0] if len(close) else table.loc[table["gap"].idxmax()]
    return int(row["epochs"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m udml.analysis.held_out",
                                     description="leave one kind out: the table per dataset")
    parser.add_argument("folder", nargs="?", help="an experiment folder of merged results files")
    folder = parser.parse_args(argv).folder
    if folder is None:
        root = find_results()
        if root is None:
            parser.error("no results folder found; name the experiment folder")
        folder = root / "held-out"
    with pd.option_context("display.width", 200, "display.max_rows", 500,
                           "display.float_format", "{:.3f}".format):
        for dataset, merged in load_experiment(folder).items():
            print(f"{dataset}:\n{held_out_table(merged).to_string(index=False)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
