import math

import pytest
import torch

from udml.config import ModelConfig
from udml.corrupt import NoiseSpec
from udml.data.dataset import MultimodalData
from udml.models.encoders import build_encoders
from udml.training.evaluate import (Predictions, concat_predictions, output_scores,
                                   unreliability_spearman)
from udml.training.level_scores import (collect_scores, level_summary,
                                        level_sweep, percentile_rank)
from udml.models import build_model
from udml.method.output import FusionOutput

SHAPES = {"a": (5,), "b": (1, 4, 4)}
SPECS = {"a": NoiseSpec("gaussian", 3.0), "b": NoiseSpec("gaussian", 3.0)}
L = 4


def _data(n=6):
    g = torch.Generator().manual_seed(0)
    x = {"a": torch.randn(n, 5, generator=g), "b": torch.randn(n, 1, 4, 4, generator=g)}
    return MultimodalData(x, torch.arange(n) % 3)


def _model(method):
    torch.manual_seed(0)
    cfg = ModelConfig(method=method, latent_dim=4, hidden_dim=8, num_levels=L)
    return build_model(build_encoders(SHAPES, cfg), 3, cfg)


def test_output_scores_picks_what_the_output_carries():
    out = FusionOutput(logits=torch.zeros(2, 3), unimodal_logits={},
                       unreliability={"a": torch.tensor([1.0, 2.0])},
                       s_hat={"a": torch.tensor([3.0, 4.0])},
                       extras={"pe_sigma": torch.tensor([[0.1, 0.2], [0.3, 0.4]])})
    scores = output_scores(out, ["a", "b"])
    assert sorted(scores) == ["pe_sigma", "s_hat", "unreliability"]
    assert scores["pe_sigma"]["b"].tolist() == pytest.approx([0.2, 0.4])  # column 1 = "b"
    assert output_scores(FusionOutput(torch.zeros(2, 3), {}), ["a"]) == {}
    with pytest.raises(ValueError, match="pe_sigma"):
        output_scores(out, ["a", "b", "c"])


def test_collect_scores_udml_matches_a_direct_forward():
    model, data = _model("udml"), _data()
    preds = collect_scores(model, data, SPECS, "clean", L, torch.Generator().manual_seed(0))
    assert sorted(preds) == ["pe_sigma", "s_hat", "unreliability"]
    model.eval()
    with torch.no_grad():
        out = model(data.x)
    for i, m in enumerate(model.modalities):
        assert torch.equal(preds["s_hat"].unreliability[m], out.s_hat[m])
        assert torch.equal(preds["unreliability"].unreliability[m], out.unreliability[m])
        assert torch.allclose(preds["pe_sigma"].unreliability[m],
                              torch.exp(0.5 * out.logvar[m]).mean(1))
        assert preds["s_hat"].levels[m].tolist() == [1] * len(data)
    assert torch.equal(preds["s_hat"].logits, out.logits)


def test_collect_scores_restores_training_mode_and_rejects_empty():
    model, data = _model("udml"), _data()
    model.train()
    collect_scores(model, data, SPECS, "random", L, torch.Generator().manual_seed(0))
    assert model.training
    with pytest.raises(ValueError, match="empty"):
        collect_scores(model, data.subset(torch.arange(0)), SPECS, "clean", L,
                       torch.Generator())


def test_collect_scores_qmf_has_only_its_unreliability():
    preds = collect_scores(_model("qmf"), _data(), SPECS, "clean", L,
                           torch.Generator().manual_seed(0))
    assert sorted(preds) == ["unreliability"]


def test_collect_scores_refuses_a_model_without_scores():
    with pytest.raises(ValueError, match="none of the scores"):
        collect_scores(_model("late"), _data(), SPECS, "clean", L, torch.Generator())


def test_level_sweep_pools_every_level_of_one_modality_and_is_seeded():
    model, data = _model("udml"), _data(5)
    sweep = level_sweep(model, data, SPECS, "b", L, seed=3)
    pred = sweep["s_hat"]
    assert pred.levels["b"].tolist() == [1] * 5 + [2] * 5 + [3] * 5 + [4] * 5
    assert pred.levels["a"].tolist() == [1] * 20   # the other modality stays clean
    assert pred.y.tolist() == data.y.tolist() * L
    again = level_sweep(model, data, SPECS, "b", L, seed=3)
    assert torch.equal(again["s_hat"].unreliability["b"], pred.unreliability["b"])
    # level 1 is clean: its scores equal those of the clean protocol
    clean = collect_scores(model, data, SPECS, "clean", L, torch.Generator())
    assert torch.equal(pred.unreliability["b"][:5], clean["s_hat"].unreliability["b"])
    # noise on b changes b's score, not a's (the estimator of a reads a only)
    assert not torch.equal(pred.unreliability["b"][15:], pred.unreliability["b"][:5])
    assert torch.equal(pred.unreliability["a"][15:], pred.unreliability["a"][:5])
    with pytest.raises(ValueError, match="unknown modality"):
        level_sweep(model, data, SPECS, "c", L)


def test_concat_predictions_and_its_errors():
    p = Predictions(torch.zeros(2, 3), {"a": torch.zeros(2, 3)}, {"a": torch.tensor([1., 2.])},
                    None, {"a": torch.tensor([1, 2])}, torch.tensor([0, 1]))
    q = Predictions(torch.ones(1, 3), {"a": torch.ones(1, 3)}, {"a": torch.tensor([5.])},
                    None, {"a": torch.tensor([3])}, torch.tensor([2]))
    both = concat_predictions([p, q])
    assert both.unreliability["a"].tolist() == [1.0, 2.0, 5.0]
    assert both.levels["a"].tolist() == [1, 2, 3]
    assert both.weights is None and both.logits.shape == (3, 3)
    with pytest.raises(ValueError, match="empty"):
        concat_predictions([])
    r = Predictions(torch.ones(1, 3), {"b": torch.ones(1, 3)}, {"b": torch.tensor([5.])},
                    None, {"b": torch.tensor([3])}, torch.tensor([2]))
    with pytest.raises(ValueError, match="modalities"):
        concat_predictions([p, r])
    w = Predictions(q.logits, q.unimodal_logits, q.unreliability, torch.ones(1, 1), q.levels,
                    q.y)
    with pytest.raises(ValueError, match="weights"):
        concat_predictions([p, w])


def test_percentile_rank_by_hand():
    assert percentile_rank(torch.tensor([10.0, 30.0, 20.0])).tolist() == [0.0, 1.0, 0.5]
    # ties share the average rank: ranks 1, 2.5, 2.5, 4 -> (r - 1) / 3
    assert percentile_rank(torch.tensor([1.0, 2.0, 2.0, 3.0])).tolist() == pytest.approx(
        [0.0, 0.5, 0.5, 1.0])
    assert percentile_rank(torch.tensor([7.0])).tolist() == [0.5]
    with pytest.raises(ValueError, match="empty"):
        percentile_rank(torch.tensor([]))


def test_level_summary_by_hand():
    score = torch.tensor([1.0, 3.0, 2.0, 4.0, 6.0, 8.0])
    levels = torch.tensor([1, 1, 2, 3, 3, 3])
    s = level_summary(score, levels, 4)
    assert s["mean"][:3].tolist() == [2.0, 2.0, 6.0]
    assert s["median"][:3].tolist() == [2.0, 2.0, 6.0]
    assert s["q25"][0].item() == 1.5 and s["q75"][0].item() == 2.5  # linear interpolation
    assert s["q25"][2].item() == 5.0 and s["q75"][2].item() == 7.0
    assert s["count"].tolist() == [2, 1, 3, 0]
    assert math.isnan(s["mean"][3].item())
    with pytest.raises(ValueError, match="shape"):
        level_summary(score, levels[:3], 4)


def test_sweep_feeds_unreliability_spearman():
    model, data = _model("udml"), _data(5)
    rho = unreliability_spearman(level_sweep(model, data, SPECS, "a", L)["s_hat"], L)
    assert set(rho) == {"a", "b"} and set(rho["a"]) == {"all", "lower_half", "upper_half"}
    assert math.isnan(rho["b"]["all"])  # b is clean throughout: its level is constant
