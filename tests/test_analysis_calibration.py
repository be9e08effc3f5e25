import pandas as pd
import pytest

from tests._toy_results import SEEDS, toy_merged
from udml.experiments.files import Results, frame
from udml.analysis.calibration import (calibration_rows, dominance_rows, score_means,
                                       top_level_weight_ratio)
from udml.training.metrics import ENDS

N = len(SEEDS)


def _rows(method: str, **by) -> list[dict]:
    """Rows of ``method`` (every seed), one per {metric: [(coordinates, value)]} entry."""
    return [{"dataset": "toy", "variant": "default", "method": method, "seed": s, "metric": metric,
             "value": v, **at} for s in SEEDS for metric, entries in by.items()
            for at, v in entries]


def with_scores(merged: Results) -> Results:
    """Add to the toy file's udml: D = (a 1, b 6), s_hat under one:m@3 (noisy m at 2 or 3, the
    clean one at 1), weights, and a calibration whose Spearman rises on a and falls on b."""
    g = {"kind": "gaussian"}
    rows = _rows("udml", dependency=[({"modality": "a"}, 1.0), ({"modality": "b"}, 6.0)],
                 score=[({**g, "protocol": p, "score": "s_hat", "modality": m}, v)
                        for p, vs in (("one:a@3", (2.0, 1.0)), ("one:b@3", (1.0, 3.0)))
                        for m, v in zip("ab", vs)],
                 weight=[({**g, "protocol": p, "modality": m}, v)
                         for p, vs in (("one:a@3", (1.2, 0.8)), ("one:b@3", (1.8, 0.2)))
                         for m, v in zip("ab", vs)],
                 calibration_mean=[({**g, "score": "s_hat", "modality": m, "level": lv}, v)
                                   for m in "ab" for lv, v in zip((1, 2, 3), (1.0, 2.0, 3.0))],
                 calibration_spearman=[({**g, "score": "s_hat", "modality": m, "range": r},
                                        sign * 0.5) for m, sign in (("a", 1), ("b", -1))
                                       for r in ENDS])
    return Results(pd.concat([merged.rows, frame(rows)], ignore_index=True), merged.record)


def bound_file(**by) -> Results:
    """A bound file: method and score "bound", the same values for every seed."""
    return Results(frame(_rows("bound", **by)), {"dataset": "toy", "seeds": SEEDS})


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
    bound = bound_file(calibration_mean=[({"kind": "gaussian", "score": "bound", "modality": m,
                                           "level": lv}, v) for m in "ab"
                                          for lv, v in zip((1, 2, 3), (1.0, 4.0, 11.0))])
    rows = {(r["noisy"], r["clean"]): r for r in dominance_rows(merged, bound)}
    assert rows[("a", "b")]["bound_ratio"] == pytest.approx(121.0)
    assert not rows[("a", "b")]["bound_noisy_keeps_more"]  # 121 > 6


def test_calibration_rows_keep_the_sign(merged):
    bound = bound_file(calibration_spearman=[({"kind": "gaussian", "score": "bound",
                                               "modality": m, "range": r}, 0.9)
                                              for m in "ab" for r in ENDS])
    rows = calibration_rows(merged, bound)
    assert len(rows) == 6
    b_all = next(r for r in rows if r["modality"] == "b" and r["range"] == "all")
    assert b_all["s_hat"] == pytest.approx(-0.5) and b_all["bound"] == pytest.approx(0.9)
    assert "PE sigma" not in b_all  # no pe runs in this file
    assert score_means(merged, "udml", "s_hat", "a") == [1.0, 2.0, 3.0]


def test_top_level_weight_ratio(merged):
    r = top_level_weight_ratio(merged)
    assert r["a"][0] == pytest.approx(1.2 / 0.8) and r["b"][0] == pytest.approx(0.2 / 1.8)


def test_beta_trade_off_on_the_committed_beta_results():
    """On the committed `beta` files: one row per variant with its beta and fusion; with two
    modalities the plain rescaling's kept scale is the kept weight, the residual one's is at
    least 1 / (M + 1); the worst top-level accuracy is the lower of the two one:m@L means."""
    from pathlib import Path

    from udml.analysis.calibration import beta_trade_off
    from udml.experiments.files import read_results
    merged = read_results(Path(__file__).resolve().parents[1] / "results" / "beta" / "mfeat.parquet")
    rows = beta_trade_off(merged)
    assert len(rows) == len(merged["variants"])
    acc = merged.rows[(merged.rows.metric == "accuracy") & (merged.rows.kind == "gaussian")]
    for r in rows:
        model = merged["config"]["variants"][r["variant"]]["model"]
        assert (r["beta"], r["rescaling"]) == (model["beta"], model["rescaling"])
        if r["rescaling"] == "multiplicative":
            assert r["kept"] == pytest.approx(r["kept weight"])
        else:
            assert r["kept"] >= 1 / 3
        mine = acc[acc.variant == r["variant"]]
        tops = [mine[mine.protocol == f"one:{m}@11"].value.mean() for m in ("fou", "pix")]
        assert r["worst top"] == pytest.approx(min(tops))
        assert r["worst seed"] >= r["kept weight"] - 1e-12
        unseen = merged.rows[(merged.rows.metric == "spearman") & (merged.rows.kind != "gaussian")
                             & (merged.rows.variant == r["variant"])
                             & (merged.rows.method == "udml") & (merged.rows["range"] == "all")]
        assert r["unseen worst"] == pytest.approx(
            unseen.groupby(["kind", "modality"]).value.mean().min())
