"""The numbers of a merged results file, as queries on its tidy table
(`udml.experiments.table.results_table`): the one way the analysis reaches the stored values.

    series(merged, "udml", "accuracy", "gaussian", "clean")     {seed: value}
    values(merged, "udml", "accuracy")                          the rows of one metric
    pivot(merged, "udml", "accuracy", ["kind", "protocol"])     seeds x (kind, protocol)
    has_method(merged, "qmf"), modalities(merged), num_levels(merged)

A path names an entry as the merged file nests it (`udml.experiments.merge.merge_runs`); the
table's SCHEMA maps it onto the table's columns. A record's table is built on its first query
and kept for the next ones (for the RECENT records queried last), so a record must not be
changed once it has been queried.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd

from ..experiments.jobs import SEEN_KIND
from ..experiments.table import locate, results_table

DEFAULT_VARIANT = "default"
RECENT = 16


class _Table:
    """A record's table, split once by (variant, method, metric) so that a query looks at the
    few hundred rows of one metric rather than at the whole table."""

    def __init__(self, merged: dict):
        self.record = merged
        self.frame = frame = results_table(merged)
        self.parts = dict(iter(frame.groupby(["variant", "method", "metric"], sort=False)))
        self.pivots: dict[tuple, pd.DataFrame] = {}
        self.methods = {variant: list(dict.fromkeys(m for v, m, _ in self.parts if v == variant))
                        for variant in dict.fromkeys(v for v, _, _ in self.parts)}
        clean = frame[(frame.metric == "unimodal_accuracy") & (frame.kind == SEEN_KIND)
                      & (frame.protocol == "clean")]
        self.modalities = sorted(set(clean.modality))


_tables: OrderedDict[int, _Table] = OrderedDict()


def _table(merged: dict) -> _Table:
    key = id(merged)
    hit = _tables.get(key)
    if hit is None or hit.record is not merged:
        hit = _tables[key] = _Table(merged)
        if len(_tables) > RECENT:
            _tables.popitem(last=False)
    _tables.move_to_end(key)
    return hit


def table(merged: dict) -> pd.DataFrame:
    """The record's whole table (COLUMNS of `udml.experiments.table`), in the file's order."""
    return _table(merged).frame


def has_method(merged: dict, method: str, variant: str = DEFAULT_VARIANT) -> bool:
    return method in _table(merged).methods.get(variant, [])


def values(merged: dict, method: str, *metrics: str, variant: str = DEFAULT_VARIANT
           ) -> pd.DataFrame:
    """The table rows of some metrics of one method, metric by metric (none where it has none);
    the rows are the kept ones: read them, do not change them."""
    parts = _table(merged).parts
    found = [parts[k] for k in ((variant, method, m) for m in metrics) if k in parts]
    return found[0] if len(found) == 1 else pd.concat(found) if found else results_table([])


def pivot(merged: dict, method: str, metric: str, columns: list[str],
          variant: str = DEFAULT_VARIANT) -> pd.DataFrame:
    """One metric of one method as a row per seed (sorted) and a column per value of
    ``columns``, e.g. accuracy by ["kind", "protocol"] (columns named by tuples such as
    ("gaussian", "clean")); NaN where a seed lacks a value."""
    t, key = _table(merged), (variant, method, metric, *columns)
    if key not in t.pivots:
        wide = values(merged, method, metric, variant=variant).pivot(
            index="seed", columns=columns, values="value")
        wide.columns = wide.columns.to_flat_index()  # (a flat index finds tuples fast)
        t.pivots[key] = wide
    return t.pivots[key]


def series(merged: dict, method: str, *path: str,
           variant: str = DEFAULT_VARIANT) -> dict[int, float]:
    """{seed: value} of one entry, e.g. series(m, "udml", "accuracy", "gaussian", "clean");
    seeds without the entry are left out."""
    where = f"{merged['dataset']}/{variant}/{method}"
    if not has_method(merged, method, variant):
        have = _table(merged).methods
        raise KeyError(f"{merged['dataset']}: no results for method {method!r} under variant "
                       f"{variant!r}; it has {sorted(have.get(variant, []))} under variants "
                       f"{sorted(have)}")
    try:
        steps, end = locate(path)
    except KeyError as e:
        raise KeyError(f"{where}: no entry {'/'.join(path[:e.args[0] + 1])}") from None
    rows = mask = None
    for i, (column, key, metrics) in enumerate(steps):
        if rows is None:  # the section: every metric it holds
            rows = values(merged, method, *sorted(metrics), variant=variant)
            mask = np.ones(len(rows), dtype=bool)
        elif column is None:
            mask &= rows.metric.isin(metrics).to_numpy()
        else:
            mask &= rows[column].to_numpy() == key
        if not mask.any():
            raise KeyError(f"{where}: no entry {'/'.join(path[:i + 1])}")
    if end != "":
        raise ValueError(f"{where}/{'/'.join(path)} is not a list over the "
                         f"{len(merged['seeds'])} seeds")
    return dict(zip(rows.seed.to_numpy()[mask].tolist(), rows.value.to_numpy()[mask].tolist()))


def modalities(merged: dict) -> list[str]:
    """The dataset's modalities, sorted (from the clean unimodal accuracies)."""
    mods = _table(merged).modalities
    if not mods:
        raise ValueError(f"{merged['dataset']}: the file holds no unimodal accuracies")
    return list(mods)


def num_levels(merged: dict) -> int:
    return next(iter(merged["config"]["variants"].values()))["model"]["num_levels"]
