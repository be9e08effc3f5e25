"""Results files: one tidy table per run, per experiment and dataset, and per bound, in Parquet,
with its record (config, seeds, versions, device; `udml.environment`) as JSON in the file's
key-value metadata; written atomically and read back by one reader.

    write_table(path, rows, record)     rows: a DataFrame or dicts with (some of) COLUMNS
    res = read_results(path)            Results: res.rows (the table), res["seeds"] (the record)
    read_record(path)                   the record alone (the file's footer, not its rows)

A value that could not be computed (the Spearman of a constant score) is missing: NaN in the
rows, null in the file, and shown as missing by whatever uses it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..paths import atomic_write

FORMAT = "udml-results-2"
TEXT = ("dataset", "variant", "method", "kind", "protocol", "modality", "score", "range")
SCHEMA = pa.schema([*((c, pa.string()) for c in TEXT[:5]), ("level", pa.int64()),
                    *((c, pa.string()) for c in TEXT[5:]), ("epoch", pa.int64()),
                    ("seed", pa.int64()), ("metric", pa.string()), ("value", pa.float64())])
COLUMNS = tuple(SCHEMA.names)


@dataclass(frozen=True, eq=False)
class Results:
    """The rows (COLUMNS, in the file's order) and the record of one results file;
    ``res[key]`` reads the record.  Do not change the rows: queries keep parts of them."""

    rows: pd.DataFrame
    record: dict

    def __getitem__(self, key: str):
        return self.record[key]

    def __contains__(self, key: str) -> bool:
        return key in self.record

    @cached_property
    def parts(self) -> dict[tuple, pd.DataFrame]:
        """The rows split once by (variant, method, metric), for queries."""
        return dict(iter(self.rows.groupby(["variant", "method", "metric"], sort=False)))


def _arrow(rows) -> pa.Table:
    """Rows (dicts, or a DataFrame; a column they lack is empty) in the file's schema."""
    return pa.Table.from_pandas(pd.DataFrame(rows, columns=list(COLUMNS)), SCHEMA,
                                preserve_index=False)


def frame(rows) -> pd.DataFrame:
    """Rows (dicts, a DataFrame, or an Arrow table) as the table: COLUMNS, typed: text as
    strings, level and epoch as nullable integers, seed as integers, value as floats (NaN where
    missing)."""
    table = rows if isinstance(rows, pa.Table) else _arrow(rows)
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get).astype(
        {"seed": "int64"})


def write_table(path: str | Path, rows, record: dict) -> Path:
    """Write ``rows`` with ``record`` (JSON-ready; NaN allowed) as a Parquet file, atomically."""
    for key in ("config", "seeds"):
        if key not in record:
            raise ValueError(f"a results record needs a {key!r} entry")
    table = _arrow(rows)
    if table.num_rows == 0:
        raise ValueError(f"no rows to write to {path}: a results file holds at least one value")
    meta = json.dumps({"format": FORMAT, **record}, sort_keys=True)
    table = table.replace_schema_metadata({"udml": meta})
    return atomic_write(path, lambda f: pq.write_table(table, f, compression="zstd"), binary=True)


def _open(path: str | Path) -> pq.ParquetFile:
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not a results file")
    if not path.is_file():
        raise FileNotFoundError(f"no results file at {path}")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise ValueError(f"{path} is not a Parquet file ({e}); is it a results file?") from None


def read_record(path: str | Path, file: pq.ParquetFile | None = None) -> dict:
    """The record of a results file; a ValueError naming what is wrong with any other file."""
    file = file or _open(path)
    meta = (file.schema_arrow.metadata or {}).get(b"udml")
    record = json.loads(meta) if meta else {}
    if record.pop("format", None) != FORMAT:
        raise ValueError(f"{path} is not a udml results file (no {FORMAT!r} record)")
    if file.schema_arrow.names != list(COLUMNS):
        raise ValueError(f"{path} has the columns {file.schema_arrow.names}, expected "
                         f"{list(COLUMNS)}")
    return record


def read_results(path: str | Path) -> Results:
    """The rows and the record of a results file, every one of them: the one reader."""
    file = _open(path)
    record = read_record(path, file)
    if file.metadata.num_rows == 0:
        raise ValueError(f"{path} holds no values (an empty table): not a complete results file")
    return Results(frame(file.read()), record)


HISTORY_FIELDS = ("noisy", "use_uncertainty", "train_acc", "val_acc_clean", "val_acc_noisy",
                  "loss_total")  # the per-epoch fields a run keeps (noisy and use_uncertainty 1/0)


def run_rows(record: dict) -> list[dict]:
    """The rows of a run record (`udml.experiments.single.train_and_evaluate`): every kind's
    evaluation (`udml.training.evaluate.report_rows`; the model's dependency once), the
    HISTORY_FIELDS and the dependency (``epoch_dependency``) per epoch, the wall clock and CPU
    seconds of the run."""
    from ..training.evaluate import report_rows
    cfg = record["config"]
    at = {"dataset": cfg["dataset"], "variant": record.get("job", {}).get("variant", "default"),
          "method": cfg["model"]["method"], "seed": record["seed"]}
    rows = [r for i, (kind, report) in enumerate(record["metrics"].items())
            for r in report_rows(report, kind) if i == 0 or r["kind"] is not None]
    for epoch, entry in enumerate(record.get("history", []), 1):
        rows += [{"epoch": epoch, "metric": f, "value": float(entry[f])}
                 for f in HISTORY_FIELDS if entry.get(f) is not None]
        rows += [{"epoch": epoch, "modality": m, "metric": "epoch_dependency", "value": v}
                 for m, v in entry.get("dependency", {}).items()]
    rows += [{"metric": k, "value": record[k]} for k in ("seconds", "cpu_seconds")
             if record.get(k) is not None]
    return [{**at, **r} for r in rows]


def write_results(path: str | Path, record: dict) -> Path:
    """Write a run record as its rows (`run_rows`) and the rest of it (config, job, seed,
    environment; not the metrics and history the rows hold), with its dataset and seeds."""
    rest = {k: v for k, v in record.items() if k not in ("metrics", "history")}
    return write_table(path, run_rows(record), {**rest, "dataset": record["config"]["dataset"],
                                                "seeds": [record["seed"]]})
