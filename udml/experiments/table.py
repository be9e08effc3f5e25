"""The merged results files as one tidy table: one row per stored value, read and checked by one
reader, so that every comparison, table and figure is a query on the same rows.

    t = results_table("results/main")          # a file, a list of files, a folder or a record
    t[(t.metric == "accuracy") & (t.protocol == "clean")].pivot_table(
        index="method", columns="dataset", values="value")

Columns (COLUMNS): dataset, variant, method, kind, protocol, level, modality, score, range,
epoch, seed, metric, value; a coordinate a metric does not have is empty (None / <NA>). The
metrics and the entry of a merged file (`udml.experiments.merge.merge_runs`) each comes from:

    accuracy               accuracy/kind/protocol
    unimodal_accuracy      unimodal/kind/protocol/modality
    weight                 mean_weights/kind/protocol/modality  (the mean fusion weight)
    score                  mean_scores/kind/protocol/score/modality
    spearman               spearman/kind/modality/range  (the quality with the level, measured
                           under the kind's random protocol; range overall, low or high)
    calibration_mean, _std calibration/kind/score/modality/mean|std  (one value per level)
    calibration_spearman   calibration/kind/score/modality/spearman/range  (all, low or high)
    dependency, dependency_normalised     dependency[_normalised]/modality
    train_acc, val_acc_clean, val_acc_noisy, loss_total, noisy, use_uncertainty
                           history/<field>  (one value per epoch; noisy and use_uncertainty 1/0)
    epoch_dependency       history/dependency/modality  (one value per epoch)
    seconds, cpu_seconds   wall clock and CPU time of the job

``level`` is the noise level a protocol names (clean 1, one:m@7 and all@7 7, random none), or
the level a calibration mean or std is taken at.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .files import check_entries
from .merge import HISTORY_FIELDS, LAYOUT, MERGED_ENTRIES, read_merged

COORDINATES = ("dataset", "variant", "method", "kind", "protocol", "level", "modality", "score",
               "range", "epoch")
COLUMNS = (*COORDINATES, "seed", "metric", "value")
INTEGER_COLUMNS = ("level", "epoch")  # nullable integers; seed is always set, value a float
# (metric, where a method's entry holds it, the column its innermost lists run over): a path
# segment "{column}" stands for every key at that depth and names the column it fills
SCHEMA = (
    ("accuracy", "accuracy/{kind}/{protocol}", None),
    ("unimodal_accuracy", "unimodal/{kind}/{protocol}/{modality}", None),
    ("weight", "mean_weights/{kind}/{protocol}/{modality}", None),
    ("score", "mean_scores/{kind}/{protocol}/{score}/{modality}", None),
    ("spearman", "spearman/{kind}/{modality}/{range}", None),
    ("calibration_mean", "calibration/{kind}/{score}/{modality}/mean", "level"),
    ("calibration_std", "calibration/{kind}/{score}/{modality}/std", "level"),
    ("calibration_spearman", "calibration/{kind}/{score}/{modality}/spearman/{range}", None),
    ("dependency", "dependency/{modality}", None),
    ("dependency_normalised", "dependency_normalised/{modality}", None),
    *((field, f"history/{field}", "epoch") for field in HISTORY_FIELDS),
    ("epoch_dependency", "history/dependency/{modality}", "epoch"),
    ("seconds", "seconds", None),
    ("cpu_seconds", "cpu_seconds", None),
)


def _trie() -> dict:
    """SCHEMA as nested dicts {segment: child} ending in (metric, inner column) tuples; a
    "{column}" segment is alone at its depth."""
    root: dict = {}
    for metric, path, inner in SCHEMA:
        *parents, last = path.split("/")
        node = root
        for segment in parents:
            node = node.setdefault(segment, {})
        node[last] = (metric, inner)
    return root


TRIE = _trie()


def _wildcard(node: dict) -> str | None:
    """The column of a "{column}" depth of the trie, None for a depth of fixed names."""
    key = next(iter(node))
    return key[1:-1] if key.startswith("{") else None


def _metrics(node: dict | tuple) -> set[str]:
    """The metrics at or below a node of the trie."""
    if isinstance(node, tuple):
        return {node[0]}
    return set().union(*map(_metrics, node.values()))


def locate(path: tuple[str, ...]) -> tuple[list[tuple[str | None, str, set[str]]], str | None]:
    """Where a path into a method's entry, as the merged file nests it ("accuracy", "gaussian",
    "clean"), lands in the table: per key, the column it fixes (None for a fixed name such as
    "accuracy") and the metrics still possible after it; and how it ends: "" at one value per
    seed, "level" or "epoch" at a list per seed, None short of the values.  KeyError (with the
    number of keys that matched) for a path the layout cannot hold."""
    node, steps = TRIE, []
    for i, key in enumerate(path):
        column = None if isinstance(node, tuple) else _wildcard(node)
        if column is None and (isinstance(node, tuple) or key not in node):
            raise KeyError(i)
        node = node[f"{{{column}}}"] if column else node[key]
        steps.append((column, key, _metrics(node)))
    return steps, (node[1] or "") if isinstance(node, tuple) else None


def protocol_level(label: str | None) -> int | None:
    """The noise level a protocol label names: clean 1, one:pix@7 / all@7 7, random None."""
    if label is None or label.startswith("random"):
        return None
    from ..corrupt import protocol_from_string
    return getattr(protocol_from_string(label), "level", 1)


def _number(value, where: str, name: str, seed: int, inner: str | None = None, i: int = 0
            ) -> float:
    """``value`` as a float, or a ValueError naming the entry (built only then: this runs once
    per value)."""
    if isinstance(value, (int, float)) and math.isfinite(value):  # (bool is an int: 1 / 0)
        return float(value)
    at = f", {inner} {i}" if inner else ""
    raise ValueError(f"{where}: {name}, seed {seed}{at} is {value!r}: every value must be a "
                     "finite number or null")


class _Rows:
    """The rows of one merged record, as lists in COLUMNS order."""

    def __init__(self, record: dict, where: str):
        self.record, self.where = record, where
        self.rows: list[list] = []
        self.levels: dict[str, int | None] = {}

    def walk(self, node, trie: dict, coords: dict, path: tuple) -> None:
        """Every value under ``node`` (the part of a method's entry at ``path``)."""
        if isinstance(trie, tuple):
            return self.leaf(node, *trie, coords, path)
        name = "/".join(path)
        if not isinstance(node, dict):
            raise ValueError(f"{self.where}: {name} must be an object, got {type(node).__name__}")
        column = _wildcard(trie)
        for key, child in node.items():
            if column is not None:
                self.walk(child, trie[f"{{{column}}}"], {**coords, column: key}, (*path, key))
            elif key in trie:
                self.walk(child, trie[key], coords, (*path, key))
            else:
                known = ", ".join(sorted(trie))
                raise ValueError(f"{self.where}: unknown entry {name}/{key} (known here: {known});"
                                 " the reader does not drop what it does not know")

    def leaf(self, values, metric: str, inner: str | None, coords: dict, path: tuple) -> None:
        """The rows of one list over the seeds (of numbers, or of lists over ``inner``)."""
        seeds, name = self.record["seeds"], "/".join(path)
        if not isinstance(values, list) or len(values) != len(seeds):
            got = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
            raise ValueError(f"{self.where}: {name} holds {got} for the {len(seeds)} seeds "
                             f"{seeds}; every list needs one value (or null) per seed")
        label = coords.get("protocol")
        if label is not None and label not in self.levels:
            self.levels[label] = protocol_level(label)
        base = [coords.get(c) for c in COORDINATES]
        base[COORDINATES.index("level")] = self.levels.get(label)
        position = COORDINATES.index(inner) if inner else None
        for seed, value in zip(seeds, values):
            if value is None:
                continue
            if inner is None:
                self.rows.append([*base, seed, metric, _number(value, self.where, name, seed)])
                continue
            if not isinstance(value, list):
                raise ValueError(f"{self.where}: {name}, seed {seed} must be a list over the "
                                 f"{inner}s, got {type(value).__name__}")
            for i, v in enumerate(value, 1):
                if v is not None:
                    row = [*base, seed, metric, _number(v, self.where, name, seed, inner, i)]
                    row[position] = i
                    self.rows.append(row)


def _check_record(record: dict, where: str) -> None:
    if record.get("layout") != LAYOUT:
        raise ValueError(f"{where} is not a merged sweep file (layout {record.get('layout')!r}, "
                         f"expected {LAYOUT!r})")
    check_entries(where, record, MERGED_ENTRIES, "merged sweep file")
    seeds = record["seeds"]
    if not all(isinstance(s, int) for s in seeds) or len(set(seeds)) != len(seeds):
        raise ValueError(f"{where}: seeds must be distinct integers, got {seeds}")
    for variant, by_method in record["metrics"].items():
        if variant not in record["variants"] or not isinstance(by_method, dict):
            raise ValueError(f"{where}: metrics of variant {variant!r}, which the file does "
                             f"not list (variants {record['variants']}), or not an object")
        unknown = set(by_method) - set(record["methods"])
        if unknown:
            raise ValueError(f"{where}: metrics of methods {sorted(unknown)} under {variant!r}, "
                             f"which the file does not list (methods {record['methods']})")


def _record_table(record: dict, where: str) -> pd.DataFrame:
    _check_record(record, where)
    rows = _Rows(record, where)
    for variant, by_method in record["metrics"].items():
        for method, entry in by_method.items():
            rows.walk(entry, TRIE, {"dataset": record["dataset"], "variant": variant,
                                    "method": method}, (variant, method))
    return _frame(rows.rows)


def _frame(rows: list[list]) -> pd.DataFrame:
    """The rows as a table with its types: text as objects (None where empty), level and epoch
    as nullable integers, seed as integers, value as floats."""
    def typed(name, values):
        if name in INTEGER_COLUMNS:
            return pd.array(values, dtype="Int64")
        if name == "seed":
            return pd.array(values, dtype="int64")
        if name == "value":
            return pd.array(values, dtype="float64")
        return pd.Series(values, dtype=object)
    columns = zip(*rows) if rows else [()] * len(COLUMNS)
    return pd.DataFrame({name: typed(name, list(c)) for name, c in zip(COLUMNS, columns)})


def results_table(source: dict | str | Path | list) -> pd.DataFrame:
    """The tidy table (COLUMNS) of merged results: a record (`udml.experiments.merge.
    read_merged`), a file, a list of files, or an experiment folder (its *.json).

    Every file is checked on the way: its layout and required entries, one value (or null) per
    seed in every list, finite numbers only, and no entry outside SCHEMA; a ValueError names
    the file and the entry. Null values are left out (a seed that lacks an entry has no row).
    """
    if isinstance(source, dict):
        return _record_table(source, f"merged record of {source.get('dataset')!r}")
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        paths = sorted(Path(source).glob("*.json"))
        if not paths:
            raise FileNotFoundError(f"no merged results files (*.json) in {source}")
    else:
        paths = [source] if isinstance(source, (str, Path)) else list(source)
    if not paths:
        return _frame([])
    return pd.concat([_record_table(read_merged(p), str(p)) for p in paths], ignore_index=True)
