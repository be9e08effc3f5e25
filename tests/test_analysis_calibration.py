import pytest

from tests._toy_results import SEEDS, toy_merged
from udml.analysis.calibration import (calibration_rows, dominance_rows, score_means,
                                       top_level_weight_ratio)

N = len(SEEDS)


def with_scores(merged: dict) -> dict:
    """Add to the toy file's udml: D = (a 1, b 6), s_hat under one:m@3 (noisy m at 2 or 3, the
    clean one at 1), weights, and a calibration whose Spearman rises on a and falls on b."""
    m = merged["metrics"]["default"]["udml"]
    m["dependency"] = {"a": [1.0] * N, "b": [6.0] * N}
    m["mean_scores"] = {"gaussian": {
        "one:a@3": {"s_hat": {"a": [2.0] * N, "b": [1.0] * N}},
        "one:b@3": {"s_hat": {"a": [1.0] * N, "b": [3.0] * N}}}}
    m["mean_weights"] = {"gaussian": {"one:a@3": {"a": [1.2] * N, "b": [0.8] * N},
                                      "one:b@3": {"a": [1.8] * N, "b": [0.2] * N}}}
    m["calibration"] = {"gaussian": {"s_hat": {
        mod: {"mean": [[1.0, 2.0, 3.0]] * N, "std": [[0.1] * 3] * N,
              "spearman": {r: [sign * 0.5] * N for r in ("all", "low", "high")}}
        for mod, sign in (("a", 1), ("b", -1))}}}
    return merged


@pytest.fixture
def merged():
    return with_scores(toy_merged({"udml": [0.8] * N, "static": [0.7] * N}))


def test_dominance_condition_on_both_sides(merged):
    rows = {(r["noisy"], r["clean"]): r for r in dominance_rows(merged)}
    a = rows[("a", "b")]  # (2/1)^2 = 4 < D_b / D_a = 6: the noisy a keeps more weight
    assert a["estimate_ratio"] == pytest.approx(4.0) and a["dependency_ratio"] == pytest.approx(6)
    assert a["noisy_keeps_more"] and a["w_noisy"] > a["w_clean"]
    b = rows[("b", "a")]  # 9 > 1/6: the noisy b loses
    assert b["estimate_ratio"] == pytest.approx(9.0) and not b["noisy_keeps_more"]


def test_dominance_with_the_bound(merged):
    bound = {"seeds": SEEDS, "metrics": {m: {"mean": [[1.0, 4.0, 11.0]] * N} for m in "ab"}}
    rows = {(r["noisy"], r["clean"]): r for r in dominance_rows(merged, bound)}
    assert rows[("a", "b")]["bound_ratio"] == pytest.approx(121.0)
    assert not rows[("a", "b")]["bound_noisy_keeps_more"]  # 121 > 6


def test_calibration_rows_keep_the_sign(merged):
    bound = {"seeds": SEEDS, "metrics": {m: {"spearman": {r: [0.9] * N for r in
                                                          ("all", "low", "high")}} for m in "ab"}}
    rows = calibration_rows(merged, bound)
    assert len(rows) == 6
    b_all = next(r for r in rows if r["modality"] == "b" and r["range"] == "all")
    assert b_all["s_hat"] == pytest.approx(-0.5) and b_all["bound"] == pytest.approx(0.9)
    assert "PE sigma" not in b_all  # no pe runs in this file
    assert score_means(merged, "udml", "s_hat", "a") == [1.0, 2.0, 3.0]


def test_top_level_weight_ratio(merged):
    r = top_level_weight_ratio(merged)
    assert r["a"][0] == pytest.approx(1.2 / 0.8) and r["b"][0] == pytest.approx(0.2 / 1.8)
