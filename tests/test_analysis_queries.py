import pytest
from _toy_results import toy_merged

from udml.analysis.queries import has_method, modalities, num_levels, pivot, series, table, values


def _toy():
    return toy_merged({"static": [0.8, 0.7, 0.9],
                       "udml": ([0.8, 0.7, 0.9], {("gaussian", "one:b@3"): [0.9, 0.8, 1.0]})},
                      spearman={"udml": {("a", "low"): [0.1, 0.2, 0.3]}})


def test_series_is_keyed_by_seed_and_skips_missing_values():
    assert series(_toy(), "static", "accuracy", "gaussian", "clean") == {0: 0.8, 1: 0.7, 2: 0.9}
    m = _toy()
    m["metrics"]["default"]["static"]["accuracy"]["gaussian"]["clean"][1] = None
    assert series(m, "static", "accuracy", "gaussian", "clean") == {0: 0.8, 2: 0.9}
    assert series(m, "udml", "spearman", "blur", "a", "low") == {0: 0.1, 1: 0.2, 2: 0.3}
    assert series(m, "udml", "unimodal", "blur", "random", "b") == {0: 0.6, 1: 0.6, 2: 0.6}
    assert series(m, "udml", "seconds") == {0: 10.0, 1: 10.0, 2: 10.0}


def test_series_errors_name_the_missing_piece():
    m = _toy()
    with pytest.raises(KeyError, match=r"no results for method 'qmf'.*\['static', 'udml'\]"):
        series(m, "qmf", "accuracy")
    with pytest.raises(KeyError, match="accuracy/nope"):
        series(m, "static", "accuracy", "nope")
    with pytest.raises(KeyError, match="static: no entry spearman'$"):
        series(m, "static", "spearman", "blur", "a", "low")
    with pytest.raises(KeyError, match="no entry accuracy/gaussian/clean/a"):
        series(m, "static", "accuracy", "gaussian", "clean", "a")
    with pytest.raises(ValueError, match="not a list over the 3 seeds"):
        series(m, "static", "accuracy", "gaussian")
    with pytest.raises(ValueError, match="not a list over the 3 seeds"):
        series(m, "static", "history", "noisy")  # a list per seed, one value per epoch


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


def test_a_record_is_read_once():
    m = _toy()
    assert table(m) is table(m) and len(table(m)) == len(set(map(tuple, table(m).values.tolist())))
    other = _toy()
    assert table(other) is not table(m) and table(other).equals(table(m))
