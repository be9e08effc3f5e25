import math

import pytest
import torch

from udml.config import ModelConfig, TrainConfig
from udml.corrupt import NoiseSpec
from udml.data import load_dataset
from udml.training.evaluate import (Predictions, evaluate, protocol_level, report_rows,
                                    standard_protocols, unreliability_spearman)
from udml.training.loop import fit

SPECS = {"fou": NoiseSpec("gaussian", 2.0), "pix": NoiseSpec("gaussian", 4.0)}


def test_standard_protocols():
    p = standard_protocols(["pix", "fou"], 3)
    assert p == ["clean", "one:fou@2", "one:fou@3", "one:pix@2", "one:pix@3", "all@2", "all@3",
                 "random"]


def test_unreliability_spearman_ranges():
    lv = torch.tensor([1, 2, 3, 4, 5] * 4)
    q = torch.where(lv <= 3, lv, 6 - lv).float()   # 1 2 3 2 1: rises on 1..3, falls on 3..5
    pred = Predictions(torch.zeros(20, 2), {}, {"a": q}, None, {"a": lv}, torch.zeros(20))
    rho = unreliability_spearman(pred, 5)["a"]
    assert rho["lower_half"] == pytest.approx(1.0)
    assert rho["upper_half"] == pytest.approx(-1.0)
    assert not math.isnan(rho["all"])


def test_evaluate_report_structure():
    splits = load_dataset("mfeat", seed=0)
    model, _ = fit(splits, ModelConfig(method="udml"), TrainConfig(epochs=2, progress=False), SPECS)
    rep = evaluate(model, splits.test, SPECS, 11, ["clean", "one:fou@11", "random"])
    assert set(rep["protocols"]) == {"clean", "one:fou@11", "random"}
    clean = rep["protocols"]["clean"]
    assert set(clean["unimodal"]) == {"fou", "pix"}
    assert sum(clean["mean_weights"].values()) == pytest.approx(2.0)
    assert set(rep["spearman"]["fou"]) == {"all", "lower_half", "upper_half"}
    assert set(rep["dependency"]) == {"fou", "pix"}
    # destroying fou at the top level must not leave the fou-only accuracy intact
    assert rep["protocols"]["one:fou@11"]["unimodal"]["fou"] < clean["unimodal"]["fou"]
    with pytest.raises(ValueError, match="empty"):
        evaluate(model, splits.test.subset(torch.arange(0)), SPECS, 11, ["clean"])
    # mean scores per protocol; no calibration without every level of a modality
    assert set(rep["protocols"]["one:fou@11"]["mean_scores"]) == {"s_hat", "pe_sigma", "unreliability"}
    assert "calibration" not in rep


def test_evaluate_calibrates_the_scores_over_every_level():
    splits = load_dataset("synthetic", seed=0)
    specs = {"m0": NoiseSpec("gaussian", 4.0), "m1": NoiseSpec("gaussian", 2.0)}
    model, _ = fit(splits, ModelConfig(method="udml"), TrainConfig(epochs=2, progress=False),
                   specs)
    L = 4
    model.config.num_levels = L  # a short level grid keeps the test fast
    rep = evaluate(model, splits.test, specs, L, ["clean"] + [f"one:m0@{lv}" for lv in (2, 3, 4)])
    cal = rep["calibration"]
    assert set(cal) == {"s_hat", "pe_sigma", "unreliability"}
    assert set(cal["s_hat"]) == {"m0"}  # m1: clean only
    means = cal["s_hat"]["m0"]["mean"]
    assert len(means) == L
    assert means[0] == pytest.approx(rep["protocols"]["clean"]["mean_scores"]["s_hat"]["m0"])
    assert means[3] == pytest.approx(rep["protocols"]["one:m0@4"]["mean_scores"]["s_hat"]["m0"])
    assert set(cal["s_hat"]["m0"]["spearman"]) == {"all", "low_end", "high_end"}


@pytest.fixture(scope="module")
def small():
    splits = load_dataset("mfeat", seed=0)
    model, _ = fit(splits, ModelConfig(method="static"), TrainConfig(epochs=1, progress=False),
                   SPECS)
    return splits, model


def test_evaluate_refuses_another_number_of_levels(small):
    splits, model = small
    with pytest.raises(ValueError, match="num_levels 5 .* model was built with num_levels = 11"):
        evaluate(model, splits.test, SPECS, 5, ["clean"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_evaluate_on_a_missing_gpu_is_named(small):
    splits, model = small
    with pytest.raises(RuntimeError, match="torch sees no CUDA GPU"):
        evaluate(model, splits.test, SPECS, 11, ["clean"], device="cuda")


def test_evaluate_wants_one_split_and_a_list_of_protocols(small):
    splits, model = small
    with pytest.raises(TypeError, match="one split .e.g. splits.test."):
        evaluate(model, splits, SPECS, 11, ["clean"])
    with pytest.raises(TypeError, match="a list of protocol labels.*\\['clean'\\]"):
        evaluate(model, splits.test, SPECS, 11, "clean")


def test_evaluate_checks_every_protocol_first(small, monkeypatch):
    import udml.training.evaluate as E
    splits, model = small
    calls = []
    real = E.predict
    monkeypatch.setattr(E, "predict", lambda *a, **k: calls.append(1) or real(*a, **k))
    with pytest.raises(ValueError, match="level 12 is above the top level"):
        evaluate(model, splits.test, SPECS, 11, ["clean", "all@12"])
    with pytest.raises(ValueError, match="names modality 'kar'"):
        evaluate(model, splits.test, SPECS, 11, ["clean", "one:kar@3"])
    assert calls == []


def test_evaluate_checks_labels_against_the_model(small):
    from udml.data.dataset import MultimodalData
    splits, model = small
    test = splits.test
    bad = MultimodalData(test.x, test.y + 5)
    with pytest.raises(ValueError, match="labels must lie in 0..9"):
        evaluate(model, bad, SPECS, 11, ["clean"])


def test_protocol_level():
    assert [protocol_level(p) for p in ("clean", "one:pix@7", "all@11", "random")] == [
        1, 7, 11, None]


def test_report_rows_are_the_report_as_rows_of_the_results_table():
    rep = {"protocols": {"one:a@3": {"accuracy": 0.5, "unimodal": {"a": 0.4},
                                     "mean_weights": {"a": 0.7},
                                     "mean_scores": {"s_hat": {"a": 2.5}}}},
           "calibration": {"s_hat": {"a": {"mean": [1.0, 2.0], "std": [0.1, 0.2],
                                           "spearman": {"all": 0.9}}}},
           "dependency_normalised": {"a": 1.0}}
    rows = {(r["metric"], r.get("level"), r.get("score")): r for r in report_rows(rep, "blur")}
    assert rows[("accuracy", 3, None)]["value"] == 0.5
    assert rows[("weight", 3, None)]["modality"] == "a"
    assert rows[("score", 3, "s_hat")]["value"] == 2.5
    assert rows[("calibration_std", 2, "s_hat")]["value"] == 0.2
    assert rows[("calibration_spearman", None, "s_hat")]["range"] == "all"
    assert rows[("dependency_normalised", None, None)]["kind"] is None
    assert {r["kind"] for k, r in rows.items() if k[0] != "dependency_normalised"} == {"blur"}
    assert len(report_rows(rep, "blur")) == 4 + 2 * 2 + 1 + 1
