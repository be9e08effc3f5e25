"""Results files: one tidy table in Parquet with its record in the file's metadata, written
atomically with ordinary permissions and no stray temporary file, read back by one reader that
names what is wrong with any other file; a run record's rows."""
import math
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from udml.experiments.files import (COLUMNS, HISTORY_FIELDS, read_record, read_results, run_rows,
                                    write_results, write_table)

RESULTS = Path(__file__).resolve().parents[1] / "results"
RECORD = {"config": {"seed": 0}, "seeds": [0]}
ROWS = [{"dataset": "d", "method": "udml", "kind": "gaussian", "protocol": "one:a@7", "level": 7,
         "modality": "a", "seed": 0, "metric": "unimodal_accuracy", "value": 0.5},
        {"dataset": "d", "method": "udml", "seed": 0, "metric": "noisy", "epoch": 2,
         "value": 1.0}]


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_written_file_has_ordinary_permissions_and_reads_back(tmp_path, umask_022):
    path = write_table(tmp_path / "r.parquet", ROWS, RECORD)
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["r.parquet"]
    res = read_results(path)
    assert res.record == RECORD and res["seeds"] == [0] and read_record(path) == RECORD
    assert tuple(res.rows.columns) == COLUMNS and len(res.rows) == 2
    first, second = res.rows.iloc[0], res.rows.iloc[1]
    assert (first.level, first.modality, first.value) == (7, "a", 0.5)
    assert second.epoch == 2 and second.level is pd.NA and second.seed == 0
    assert str(res.rows.level.dtype) == "Int64" and str(res.rows.seed.dtype) == "int64"


def test_a_missing_value_is_null_in_the_file_and_nan_when_read(tmp_path):
    path = write_table(tmp_path / "r.parquet", [{**ROWS[0], "value": math.nan}], RECORD)
    assert pq.read_table(path).column("value").null_count == 1
    assert math.isnan(read_results(path).rows.value.iloc[0])


def test_failed_writes_leave_no_temporary_file(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        write_table(tmp_path / "d", ROWS, RECORD)
    with pytest.raises(TypeError):
        write_table(tmp_path / "r.parquet", ROWS, {**RECORD, "x": object()})
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        write_table(tmp_path / "r.parquet", [{**ROWS[0], "value": "high"}], RECORD)
    with pytest.raises(ValueError, match="needs a 'seeds' entry"):
        write_table(tmp_path / "r.parquet", ROWS, {"config": {}})
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_broken_results_files_are_named(tmp_path):
    path = tmp_path / "r.parquet"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ValueError, match="not a Parquet file"):
        read_results(path)
    pq.write_table(pa.table({"x": [1]}), path)
    with pytest.raises(ValueError, match="not a udml results file"):
        read_results(path)
    with pytest.raises(FileNotFoundError):
        read_results(tmp_path / "none.parquet")
    with pytest.raises(IsADirectoryError):
        read_results(tmp_path)


def test_an_empty_table_is_neither_written_nor_read_as_results(tmp_path):
    path = tmp_path / "r.parquet"
    with pytest.raises(ValueError, match="no rows to write"):
        write_table(path, [], RECORD)
    assert not path.exists()
    write_table(path, ROWS, RECORD)
    res = read_results(path)
    empty = pa.Table.from_pandas(res.rows.iloc[:0], preserve_index=False)
    pq.write_table(empty.replace_schema_metadata(pq.ParquetFile(path).schema_arrow.metadata), path)
    with pytest.raises(ValueError, match="holds no values"):
        read_results(path)


def test_a_run_record_becomes_rows():
    report = {"protocols": {"clean": {"accuracy": 0.9, "unimodal": {"a": 0.8}},
                            "random": {"accuracy": 0.7, "unimodal": {"a": 0.6}}},
              "spearman": {"a": {"all": math.nan, "lower_half": 0.1, "upper_half": 0.2}},
              "dependency": {"a": 1.5}}
    record = {"config": {"dataset": "d", "model": {"method": "udml"}}, "seed": 3,
              "job": {"variant": "v"}, "metrics": {"gaussian": report, "blur": report},
              "history": [{"noisy": False, "train_acc": 0.5, "lr": 0.1, "dependency": {"a": 1.0}},
                          {"noisy": True, "train_acc": 0.6, "lr": 0.1}],
              "seconds": 2.0, "cpu_seconds": 1.5}
    rows = run_rows(record)
    assert all((r["dataset"], r["variant"], r["method"], r["seed"]) == ("d", "v", "udml", 3)
               for r in rows)
    by = {}
    for r in rows:
        by.setdefault(r["metric"], []).append(r)
    assert [(r["kind"], r["protocol"], r["level"]) for r in by["accuracy"]] == [
        ("gaussian", "clean", 1), ("gaussian", "random", None), ("blur", "clean", 1),
        ("blur", "random", None)]
    assert len(by["dependency"]) == 1 and by["dependency"][0]["kind"] is None  # the model's
    assert math.isnan(by["spearman"][0]["value"])  # missing stays missing
    assert [(r["epoch"], r["value"]) for r in by["noisy"]] == [(1, 0.0), (2, 1.0)]
    assert "lr" not in by and set(by) >= {"train_acc", "epoch_dependency", "seconds"}
    assert by["cpu_seconds"][0]["value"] == 1.5 and set(HISTORY_FIELDS) >= {"noisy", "train_acc"}


def test_a_run_file_keeps_its_record_beside_the_rows(tmp_path):
    record = {"config": {"dataset": "d", "model": {"method": "static"}}, "seed": 0,
              "environment": {"torch": "x"}, "metrics": {"gaussian": {"protocols": {
                  "clean": {"accuracy": 1.0, "unimodal": {}}}}}, "history": []}
    res = read_results(write_results(tmp_path / "run.parquet", record))
    assert res.record == {"config": record["config"], "seed": 0, "seeds": [0], "dataset": "d",
                          "environment": {"torch": "x"}}
    assert res.rows.value.tolist() == [1.0] and res.rows.variant.tolist() == ["default"]


@pytest.mark.skipif(not RESULTS.is_dir(), reason="no committed results in this checkout")
def test_every_committed_file_reads_whole():
    for path in sorted(RESULTS.glob("*/*.parquet")):
        res = read_results(path)
        t = res.rows
        assert set(t.seed) == set(res["seeds"]) and set(t.dataset) == {res["dataset"]}
        if path.parent.name == "bound":
            continue
        acc = t[t.metric == "accuracy"]
        n_acc = sum(len(ps) for ps in res["protocols"].values())
        assert len(acc) == len(res["seeds"]) * n_acc * len(res["methods"]) * len(res["variants"])
        assert t.value.notna().all()
