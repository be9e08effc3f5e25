import pytest
import torch

from udml.training.level_scores import level_summary
from udml.plotting.estimator import (SCORE_STYLE, plot_fusion_view, plot_kinds,
                                     plot_level_grid, plot_scores_by_level,
                                     plot_training_curves, plot_vector_levels,
                                     spearman_table)


def _history(n=4):
    return [{"epoch": e, "noisy": e >= 2, "use_uncertainty": e >= 3, "loss_ce": 1.0 / (e + 1),
             "loss_unimodal": 2.0, "loss_estimator": 3.0, "val_acc_clean": 0.5,
             "val_acc_noisy": 0.4} for e in range(n)]


def _summary(values):
    score = torch.tensor(values, dtype=torch.float64).repeat_interleave(2)
    levels = torch.arange(1, len(values) + 1).repeat_interleave(2)
    return level_summary(score, levels, len(values))


def test_level_grid_has_one_axis_per_sample_and_level():
    fig = plot_level_grid(torch.zeros(2, 3, 1, 4, 5), [1, 6, 11], (-1, 1), ["0", "7"])
    assert len(fig.axes) == 6
    assert fig.axes[0].get_title() == "$l=1$" and fig.axes[2].get_title() == "$l=11$"
    assert fig.axes[3].get_ylabel() == "7"
    with pytest.raises(ValueError, match="3 columns"):
        plot_level_grid(torch.zeros(2, 3, 4, 5), [1, 2])
    with pytest.raises(ValueError, match=r"\(R, L', H, W\)"):
        plot_level_grid(torch.zeros(3, 4, 5), [1, 2, 3])
    with pytest.raises(ValueError, match="row_labels"):
        plot_level_grid(torch.zeros(2, 3, 4, 5), [1, 2, 3], row_labels=["a"])
    with pytest.raises(ValueError, match="low < high"):
        plot_level_grid(torch.zeros(1, 1, 4, 5), [1], (1, 1))


def test_vector_levels_labels_and_errors():
    fig = plot_vector_levels(torch.zeros(3, 8), [1, 4, 11], clean=torch.zeros(8))
    assert len(fig.axes) == 3
    assert fig.axes[-1].get_xlabel() == "fou feature index"
    assert len(fig.axes[0].get_lines()) == 2  # clean and noisy
    with pytest.raises(ValueError, match="clean"):
        plot_vector_levels(torch.zeros(3, 8), [1, 4, 11], clean=torch.zeros(7))
    with pytest.raises(ValueError, match="2 levels for 3"):
        plot_vector_levels(torch.zeros(3, 8), [1, 4])


def test_kinds_one_panel_each():
    fig = plot_kinds({"gaussian": torch.zeros(1, 4, 5), "salt_pepper": torch.zeros(4, 5)})
    assert [ax.get_title() for ax in fig.axes] == ["gaussian", "salt pepper"]
    with pytest.raises(ValueError, match="non-empty"):
        plot_kinds({})
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        plot_kinds({"blur": torch.zeros(2, 4, 5)})


def test_training_curves_axes_and_errors():
    fig = plot_training_curves(_history(), parts=("ce", "kl", "estimator"))
    left, right = fig.axes
    assert left.get_xlabel() == "epoch" and right.get_ylabel() == "accuracy"
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["fused CE", "estimator MSE"]
    assert len(right.get_lines()) == 4  # two curves and two phase markers
    with pytest.raises(ValueError, match="non-empty"):
        plot_training_curves([])
    with pytest.raises(ValueError, match="val_acc_clean"):
        plot_training_curves([{"epoch": 0}])
    with pytest.raises(ValueError, match="none of the loss parts"):
        plot_training_curves(_history(), parts=("rank",))


def test_scores_by_level_panels_per_modality():
    summaries = {"pix": {"s_hat": _summary([1, 2, 3]), "qmf": _summary([3, 2, 1])},
                 "fou": {"s_hat": _summary([1, 1, 2])}}
    fig = plot_scores_by_level(summaries, ylabel="rank", diagonal=True)
    assert [ax.get_title() for ax in fig.axes] == ["noise on fou only", "noise on pix only"]
    assert fig.axes[1].get_xlabel() == "true noise level $l$"
    labels = fig.axes[1].get_legend_handles_labels()[1]
    assert SCORE_STYLE["s_hat"][0] in labels and "ideal $l$" in labels
    with pytest.raises(ValueError, match="non-empty"):
        plot_scores_by_level({})
    with pytest.raises(ValueError, match="different numbers"):
        plot_scores_by_level({"pix": {"a": _summary([1, 2]), "b": _summary([1, 2, 3])}})
    with pytest.raises(ValueError, match="lacks 'q25'"):
        plot_scores_by_level({"pix": {"a": {"mean": torch.zeros(3)}}})


def test_fusion_view_titles_the_prediction_and_checks_inputs():
    probs = torch.tensor([0.1, 0.7, 0.2])
    fig = plot_fusion_view(torch.zeros(4, 5), torch.zeros(8), {"fou": 2.0, "pix": 1.0},
                           {"fou": 0.4, "pix": 1.6}, probs, title="sample 0")
    assert fig.axes[4].get_title() == "prediction 1 (p = 0.70)"
    assert fig.axes[2].get_ylabel().startswith("estimated level") and "weight" in fig.axes[3].get_ylabel()
    assert fig.axes[1].get_xlabel() == "feature index"
    with pytest.raises(ValueError, match="sum to 1"):
        plot_fusion_view(torch.zeros(4, 5), torch.zeros(8), {"a": 1.0}, {"a": 1.0},
                         torch.tensor([0.5, 0.6]))
    with pytest.raises(ValueError, match="same modalities"):
        plot_fusion_view(torch.zeros(4, 5), torch.zeros(8), {"a": 1.0}, {"b": 1.0}, probs)
    with pytest.raises(ValueError, match=r"\(D,\)"):
        plot_fusion_view(torch.zeros(4, 5), torch.zeros(2, 8), {"a": 1.0}, {"a": 1.0}, probs)


def test_spearman_table_bolds_the_best_per_group():
    rho = {("sweep", "pix"): {"a": {"all": 0.5, "lower_half": float("nan")},
                              "b": {"all": 0.7, "lower_half": 0.1}}}
    text = spearman_table(rho, {"a": "A", "b": "B"}, ranges=("all", "lower_half"))
    lines = text.split("\n")
    assert lines[0] == "| protocol | modality | score | all | lower half |"
    assert lines[2] == "| sweep | `pix` | A | 0.500 | n/a |"
    assert lines[3] == "| sweep | `pix` | B | **0.700** | **0.100** |"
    with pytest.raises(ValueError, match="lacks the scores"):
        spearman_table(rho, {"c": "C"})
    with pytest.raises(ValueError, match="lacks the ranges"):
        spearman_table(rho, {"a": "A"}, ranges=("upper_half",))
    with pytest.raises(ValueError, match="pairs"):
        spearman_table({"pix": rho[("sweep", "pix")]}, {"a": "A"})
    with pytest.raises(ValueError, match="non-empty"):
        spearman_table({}, {"a": "A"})
