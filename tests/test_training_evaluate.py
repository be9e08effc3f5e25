import math

import pytest
import torch

from udml.config import ModelConfig, TrainConfig
from udml.corrupt import NoiseSpec
from udml.data import load_dataset
from udml.training.evaluate import Predictions, evaluate, quality_spearman, standard_protocols
from udml.training.loop import fit

SPECS = {"fou": NoiseSpec("gaussian", 2.0), "pix": NoiseSpec("gaussian", 4.0)}


def test_standard_protocols():
    p = standard_protocols(["pix", "fou"], 3)
    assert p == ["clean", "one:fou@2", "one:fou@3", "one:pix@2", "one:pix@3", "all@2", "all@3",
                 "random"]


def test_quality_spearman_ranges():
    lv = torch.tensor([1, 2, 3, 4, 5] * 4)
    q = torch.where(lv <= 3, lv, 6 - lv).float()   # 1 2 3 2 1: rises on 1..3, falls on 3..5
    pred = Predictions(torch.zeros(20, 2), {}, {"a": q}, None, {"a": lv}, torch.zeros(20))
    rho = quality_spearman(pred, 5)["a"]
    assert rho["low"] == pytest.approx(1.0)
    assert rho["high"] == pytest.approx(-1.0)
    assert not math.isnan(rho["overall"])


def test_evaluate_report_structure():
    splits = load_dataset("mfeat", seed=0)
    model, _ = fit(splits, ModelConfig(method="udml"), TrainConfig(epochs=2, progress=False), SPECS)
    rep = evaluate(model, splits.test, SPECS, 11, ["clean", "one:fou@11", "random"])
    assert set(rep["protocols"]) == {"clean", "one:fou@11", "random"}
    clean = rep["protocols"]["clean"]
    assert set(clean["unimodal"]) == {"fou", "pix"}
    assert sum(clean["mean_weights"].values()) == pytest.approx(2.0)
    assert set(rep["spearman"]["fou"]) == {"overall", "low", "high"}
    assert set(rep["dependency"]) == {"fou", "pix"}
    # destroying fou at the top level must not leave the fou-only accuracy intact
    assert rep["protocols"]["one:fou@11"]["unimodal"]["fou"] < clean["unimodal"]["fou"]
    with pytest.raises(ValueError, match="empty"):
        evaluate(model, splits.test.subset(torch.arange(0)), SPECS, 11, ["clean"])
