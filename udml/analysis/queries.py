"""The numbers of a results file (`udml.experiments.files.Results`) as queries on its rows: the
one way the analysis reaches the stored values.

    series(res, "udml", "accuracy", kind="gaussian", protocol="clean")     {seed: value}
    values(res, "udml", "accuracy")                          the rows of one metric
    pivot(res, "udml", "accuracy", ["kind", "protocol"])     seeds x (kind, protocol)
    has_method(res, "qmf"), modalities(res), num_levels(res)

A value that could not be computed is NaN in every answer (missing, not dropped).
"""
from __future__ import annotations

import pandas as pd

from ..experiments.files import Results, frame
from ..experiments.jobs import SEEN_KIND

DEFAULT_VARIANT = "default"


def has_method(res: Results, method: str, variant: str = DEFAULT_VARIANT) -> bool:
    return any(key[:2] == (variant, method) for key in res.parts)


def values(res: Results, method: str, *metrics: str, variant: str = DEFAULT_VARIANT
           ) -> pd.DataFrame:
    """The rows of some metrics of one method, metric by metric (none where it has none); the
    rows are the file's: read them, do not change them."""
    found = [res.parts[k] for k in ((variant, method, m) for m in metrics) if k in res.parts]
    return found[0] if len(found) == 1 else pd.concat(found) if found else frame([])


def pivot(res: Results, method: str, metric: str, columns: list[str],
          variant: str = DEFAULT_VARIANT) -> pd.DataFrame:
    """One metric of one method as a row per seed (sorted) and a column per value of
    ``columns``, e.g. accuracy by ["kind", "protocol"] (columns named by tuples such as
    ("gaussian", "clean")); NaN where a seed lacks a value or the value is missing."""
    wide = values(res, method, metric, variant=variant).pivot(
        index="seed", columns=columns, values="value")
    wide.columns = wide.columns.to_flat_index()
    return wide


def series(res: Results, method: str, metric: str, variant: str = DEFAULT_VARIANT,
           **where) -> dict[int, float]:
    """{seed: value} of ``metric`` of ``method`` at the coordinates ``where`` (columns of the
    table: kind, protocol, modality, score, range, level, epoch), which must leave one value per
    seed; e.g. series(res, "udml", "accuracy", kind="gaussian", protocol="clean")."""
    rows = values(res, method, metric, variant=variant)
    at = f"{res['dataset']}/{variant}/{method}: {metric}"
    if rows.empty:
        raise KeyError(f"{at}: no such rows; the file has methods "
                       f"{sorted({k[1] for k in res.parts if k[0] == variant})} under {variant!r}")
    for column, key in where.items():
        rows = rows[(rows[column] == key).to_numpy(dtype=bool, na_value=False)]
    if rows.empty:
        raise KeyError(f"{at}: no value at {where}")
    if rows.seed.duplicated().any():
        raise ValueError(f"{at} at {where}: {len(rows)} values, more than one per seed")
    return dict(zip(rows.seed.tolist(), rows.value.tolist()))


def modalities(res: Results) -> list[str]:
    """The dataset's modalities, sorted (from the clean unimodal accuracies or, for the bound,
    its calibration)."""
    for metric in ("unimodal_accuracy", "calibration_spearman"):
        for (_, _, m), rows in res.parts.items():
            if m == metric:
                return sorted(set(rows.modality[rows.kind == SEEN_KIND]))
    raise ValueError(f"{res['dataset']}: the file holds no unimodal accuracies")


def num_levels(res: Results) -> int:
    return next(iter(res["config"]["variants"].values()))["model"]["num_levels"]
