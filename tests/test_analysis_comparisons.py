import math

import pytest
from _toy_results import SEEDS, toy_merged

from udml.analysis.comparisons import (accuracy_table, compare, find_results, fmt_diff, fmt_summary,
                              group_scores, level_curves, load_experiment, markdown_table,
                              paired_groups, protocol_groups, summary, sweep_cost,
                              top_level_scales)
from udml.experiments.files import Results, write_table

T975_2 = 4.302652729911275  # t quantile 0.975 with 2 degrees of freedom
BASE = [0.8, 0.7, 0.9]


def _toy():
    return toy_merged({"static": [0.8, 0.7, 0.9],
                       "udml": ([0.8, 0.7, 0.9], {("gaussian", "one:b@3"): [0.9, 0.8, 1.0]})})


def _drop(m: Results, **where) -> Results:
    """``m`` without the rows at ``where`` (a seed that lacks an entry has no row)."""
    at = m.rows[list(where)].eq(list(where.values())).all(axis=1)
    assert at.any()
    return Results(m.rows[~at], m.record)


def test_protocol_groups():
    m = _toy()
    groups = protocol_groups(m)
    assert list(groups) == ["clean", "a noisy", "b noisy", "all noisy", "random", "unseen: blur"]
    assert groups["b noisy"] == [("gaussian", "one:b@2"), ("gaussian", "one:b@3")]
    assert len(groups["unseen: blur"]) == 6


def test_group_scores_average_the_protocols_per_seed():
    m = _toy()
    got = group_scores(m, "udml", protocol_groups(m)["b noisy"])
    # (0.8 + 0.9) / 2, (0.7 + 0.8) / 2, (0.9 + 1.0) / 2
    assert got == pytest.approx({0: 0.85, 1: 0.75, 2: 0.95})
    with pytest.raises(ValueError, match="at least one protocol"):
        group_scores(m, "udml", [])
    with pytest.raises(KeyError, match=r"no accuracy under \[\('gaussian', 'one:c@2'\)\]"):
        group_scores(m, "udml", [("gaussian", "clean"), ("gaussian", "one:c@2")])
    m = _drop(_toy(), method="udml", metric="accuracy", kind="gaussian", protocol="one:b@2",
              seed=1)
    assert list(group_scores(m, "udml", protocol_groups(m)["b noisy"])) == [0, 2]  # all or none


def test_summary_by_hand():
    s = summary({0: 1.0, 1: 2.0, 2: 3.0})  # mean 2, std 1
    assert (s["n"], s["mean"], s["std"]) == (3, 2.0, 1.0)
    half = T975_2 / math.sqrt(3)
    assert s["low"] == pytest.approx(2 - half) and s["high"] == pytest.approx(2 + half)
    one = summary({4: 0.5})
    assert one["mean"] == 0.5 and math.isnan(one["low"])
    with pytest.raises(ValueError, match="no values"):
        summary({})


def test_compare_directions_and_errors():
    a = {0: 0.9, 1: 0.8, 2: 1.0}
    b = {0: 0.8, 1: 0.68, 2: 0.92}  # differences 0.10, 0.12, 0.08: mean 0.1, sd 0.02
    c = compare(a, b)
    half = T975_2 * 0.02 / math.sqrt(3)
    assert c["diff"] == pytest.approx(0.1) and c["low"] == pytest.approx(0.1 - half)
    assert c["exceeds"] and c["direction"] == "better"
    assert compare(b, a)["direction"] == "worse"
    assert compare(a, {0: 0.8, 1: 0.9, 2: 0.9})["direction"] == "tie"  # diffs .1 -.1 .1
    assert compare({0: 1.0}, {0: 0.5, 1: 0.2})["n"] == 1  # only the shared seed
    with pytest.raises(ValueError, match="share no seed"):
        compare({0: 1.0}, {1: 1.0})


def test_paired_groups_and_table():
    m = _toy()
    per = paired_groups(m, "udml", m, "static")
    assert per["b noisy"]["diff"] == pytest.approx(0.05)  # +0.1 at one of the two levels
    assert per["clean"]["diff"] == 0.0 and per["clean"]["direction"] == "tie"
    table = accuracy_table(m, ["udml", "static", "qmf"])
    assert table["methods"] == ["udml", "static"] and table["groups"] == list(per)
    assert table["cells"]["clean"]["static"]["mean"] == pytest.approx(0.8)
    other = toy_merged({"static": [0.8, 0.7, 0.9]}, dataset="other")
    with pytest.raises(ValueError, match="cannot pair"):
        paired_groups(m, "udml", other, "static")
    with pytest.raises(ValueError, match="none of the methods"):
        accuracy_table(m, ["qmf"])


def test_paired_groups_keep_only_the_groups_both_files_have():
    m = _toy()
    gauss_only = Results(m.rows, {**m.record, "kinds": ["gaussian"],
                                  "protocols": {"gaussian": m["protocols"]["gaussian"]}})
    per = paired_groups(m, "udml", gauss_only, "static")
    assert "unseen: blur" not in per and per["b noisy"]["diff"] == pytest.approx(0.05)
    assert list(paired_groups(gauss_only, "udml", m, "static")) == list(per)
    other = Results(m.rows, {**gauss_only.record, "protocols": {"gaussian": ["all@3"]}})
    # all noisy at one level only
    assert protocol_groups(other) == {"all noisy": [("gaussian", "all@3")]}
    with pytest.raises(ValueError, match="share no protocol group"):
        paired_groups(m, "udml", other, "static")


def test_level_curves_start_at_the_clean_accuracy_and_can_be_differences():
    m = _toy()
    curves = level_curves(m, ["udml", "static", "tmc"])
    assert list(curves) == ["a", "b", "all"]
    assert curves["b"]["levels"] == [1, 2, 3] and "tmc" not in curves["b"]
    assert curves["b"]["udml"]["mean"] == pytest.approx([0.8, 0.8, 0.9])
    diff = level_curves(m, ["udml"], baseline="static")
    assert diff["b"]["udml"]["mean"] == pytest.approx([0.0, 0.0, 0.1])


def test_sweep_cost_sums_the_runs():
    assert sweep_cost(_toy()) == {"jobs": 6, "cpu_seconds": 30.0, "seconds": 60.0}
    m = _drop(_toy(), method="udml", metric="cpu_seconds", seed=0)  # its wall time counts
    m = _drop(m, method="static", metric="seconds", seed=2)  # no run
    assert sweep_cost(m) == {"jobs": 5, "cpu_seconds": 30.0, "seconds": 50.0}


def test_formatting():
    s = {"n": 3, "mean": 0.9, "low": 0.88, "high": 0.92}
    assert fmt_summary(s) == "90.0 ± 2.0"
    assert fmt_summary({**s, "low": math.nan}) == "90.0"
    c = {"diff": 0.012, "low": 0.003, "high": 0.021, "exceeds": True}
    assert fmt_diff(c) == "+1.2 [+0.3, +2.1] *"
    assert fmt_diff({**c, "low": -0.01, "exceeds": False}) == "+1.2 [-1.0, +2.1]"
    assert markdown_table(["a", "b"], [[1, 2]]) == "| a | b |\n| :--- | ---: |\n| 1 | 2 |"
    assert markdown_table(["a", "b"], [], align="ll") == "| a | b |\n| :--- | :--- |"
    with pytest.raises(ValueError, match="2 cells"):
        markdown_table(["a", "b"], [[1]])
    with pytest.raises(ValueError, match="align"):
        markdown_table(["a", "b"], [], align="lx")


def test_load_experiment_and_find_results(tmp_path):
    folder = tmp_path / "results" / "main"
    folder.mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="udml sweep main"):
        load_experiment(folder)
    for name in ("synthetic", "mfeat"):
        toy = toy_merged({"static": [0.5] * len(SEEDS)}, dataset=name)
        write_table(folder / f"{name}.parquet", toy.rows, toy.record)
    assert list(load_experiment(folder)) == ["mfeat", "synthetic"]  # the registry's order
    deep = tmp_path / "book" / "sub"
    deep.mkdir(parents=True)
    assert find_results(deep) == tmp_path / "results"
    (folder / "bad.parquet").write_text("{}")
    with pytest.raises(ValueError, match="bad.parquet is not a Parquet file"):
        load_experiment(folder)


def test_top_level_scales_residual_floor_and_multiplicative():
    w = {"udml": {"one:a@3": {"a": 0.0, "b": 2.0}, "one:b@3": {"a": 1.5, "b": 0.5}}}
    out = top_level_scales(toy_merged({"udml": BASE}, weights=w))
    assert out["a"]["scale_ratio"] == pytest.approx(1 / 3)  # (1 + 0) / (1 + 2): the floor
    assert out["b"]["scale_ratio"] == pytest.approx(1.5 / 2.5) and out["b"]["level"] == 3
    mult = top_level_scales(toy_merged({"udml": BASE}, weights=w,
                                              rescaling="multiplicative"))
    assert mult["a"]["scale_ratio"] == 0.0 and mult["b"]["scale_ratio"] == pytest.approx(1 / 3)
