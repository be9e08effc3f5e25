import math

import pyarrow.parquet as pq
import pytest
from _toy_results import toy_merged

from udml.analysis.comparisons import MISSING, fmt_summary, summary
from udml.analysis.queries import has_method, modalities, num_levels, pivot, series, values
from udml.experiments.files import Results, read_results, write_table


def _toy():
    return toy_merged({"static": [0.8, 0.7, 0.9],
                       "udml": ([0.8, 0.7, 0.9], {("gaussian", "one:b@3"): [0.9, 0.8, 1.0]})},
                      spearman={"udml": {("a", "lower_half"): [0.1, 0.2, 0.3]}})


def test_series_is_keyed_by_seed():
    m = _toy()
    assert series(m, "static", "accuracy", kind="gaussian", protocol="clean") == {
        0: 0.8, 1: 0.7, 2: 0.9}
    assert series(m, "udml", "spearman", kind="blur", modality="a", range="lower_half") == {
        0: 0.1, 1: 0.2, 2: 0.3}
    assert series(m, "udml", "unimodal_accuracy", kind="blur", protocol="random",
                  modality="b") == {0: 0.6, 1: 0.6, 2: 0.6}
    assert series(m, "udml", "seconds") == {0: 10.0, 1: 10.0, 2: 10.0}
    assert series(m, "udml", "noisy", epoch=3) == {0: 1.0, 1: 1.0, 2: 1.0}
    rows = m.rows
    dropped = Results(rows[~((rows.method == "static") & (rows.seed == 1))], m.record)
    assert series(dropped, "static", "accuracy", kind="gaussian", protocol="clean") == {
        0: 0.8, 2: 0.9}  # a seed without the value has no row


def test_a_missing_score_is_read_and_shown_as_missing(tmp_path):
    """A score that cannot be computed (NaN) is written as missing (null in the file), read as
    missing, and a table shows it as missing rather than refusing the whole file."""
    m = _toy()
    rows = m.rows.copy()
    at = ((rows.method == "udml") & (rows.metric == "spearman") & (rows.kind == "gaussian")
          & (rows.modality == "a") & (rows.range == "lower_half") & (rows.seed == 1))
    assert at.sum() == 1
    rows.loc[at, "value"] = math.nan
    path = write_table(tmp_path / "toy.parquet", rows, m.record)
    back = read_results(path)
    assert pq.read_table(path).column("value").null_count == 1
    got = series(back, "udml", "spearman", kind="gaussian", modality="a", range="lower_half")
    assert list(got) == [0, 1, 2] and got[0] == 0.1 and math.isnan(got[1]) and got[2] == 0.3
    assert fmt_summary(summary(got)) == MISSING
    # the other values of the file are read as they were
    assert series(back, "udml", "spearman", kind="blur", modality="a", range="lower_half") == {
        0: 0.1, 1: 0.2, 2: 0.3}
    assert fmt_summary(summary(series(back, "static", "accuracy", kind="gaussian",
                                      protocol="clean"))) != MISSING


def test_series_errors_name_the_missing_piece():
    m = _toy()
    with pytest.raises(KeyError, match=r"qmf: accuracy: no such rows.*\['static', 'udml'\]"):
        series(m, "qmf", "accuracy")
    with pytest.raises(KeyError, match="no value at {'kind': 'nope'}"):
        series(m, "static", "accuracy", kind="nope")
    with pytest.raises(KeyError, match="static: spearman: no such rows"):
        series(m, "static", "spearman", kind="blur", modality="a", range="lower_half")
    with pytest.raises(ValueError, match="more than one per seed"):
        series(m, "static", "accuracy", kind="gaussian")


def test_modalities_levels_and_methods():
    m = _toy()
    assert modalities(m) == ["a", "b"] and num_levels(m) == 3
    assert has_method(m, "udml") and not has_method(m, "qmf")
    assert not has_method(m, "udml", variant="other")
    empty = toy_merged({})
    with pytest.raises(ValueError, match="no unimodal accuracies"):
        modalities(empty)


def test_values_and_pivot():
    m = _toy()
    acc = values(m, "udml", "accuracy")
    assert set(acc.metric) == {"accuracy"} and len(acc) == 3 * 14
    both = values(m, "udml", "accuracy", "seconds")
    assert list(dict.fromkeys(both.metric)) == ["accuracy", "seconds"]
    assert values(m, "qmf", "accuracy").empty
    wide = pivot(m, "udml", "accuracy", ["kind", "protocol"])
    assert wide.index.tolist() == [0, 1, 2] and wide.shape == (3, 14)
    assert wide[("gaussian", "one:b@3")].tolist() == [0.9, 0.8, 1.0]
    clean = acc[(acc.protocol == "clean") & (acc.kind == "gaussian")]
    assert dict(zip(clean.seed, clean.value)) == {0: 0.8, 1: 0.7, 2: 0.9}
