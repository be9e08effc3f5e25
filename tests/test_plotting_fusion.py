import pytest
import torch

from udml.plotting.fusion import (plot_fused_scales, plot_fusion_panel,
                                  plot_schedule, plot_weight_sweep)
from udml.training.schedule import Schedule


def test_fused_scales_draws_both_forms_and_the_floor():
    ratio = torch.tensor([1.0, 10.0, 100.0])
    weights = torch.tensor([[1.0, 1.0], [1.98, 0.02], [2.0, 0.0]])
    fig = plot_fused_scales(ratio, weights, ["fou", "pix"])
    left, right = fig.axes
    assert left.get_xscale() == "log" and left.get_xlabel() == "noise ratio"
    assert len(left.get_lines()) >= 4  # 1 + w and w for each modality
    residual, plain = right.get_lines()[:2]
    # smallest / largest scale: (1 + 0) / (1 + 2) = 1/3 at the last ratio, 0 / 2 = 0 for plain w
    assert residual.get_ydata()[-1] == pytest.approx(1 / 3)
    assert plain.get_ydata()[-1] == pytest.approx(0.0)
    assert residual.get_ydata()[0] == pytest.approx(1.0)
    assert "1/3" in right.get_legend().get_texts()[-1].get_text()


def test_fused_scales_errors():
    with pytest.raises(ValueError, match="2 rows for 3 ratios"):
        plot_fused_scales(torch.ones(3), torch.ones(2, 2), ["a", "b"])
    with pytest.raises(ValueError, match="1 names for 2"):
        plot_fused_scales(torch.ones(2), torch.ones(2, 2), ["a"])
    with pytest.raises(ValueError, match="positive"):
        plot_fused_scales(torch.tensor([0.0, 1.0]), torch.ones(2, 2), ["a", "b"])
    with pytest.raises(ValueError, match="dimension"):
        plot_fused_scales(torch.ones(2), torch.ones(2), ["a", "b"])


def test_schedule_has_one_panel_per_schedule_with_phase_ticks():
    fig = plot_schedule({"reference": Schedule(100), "this run": Schedule(10)},
                        lr_drops={"reference": 70})
    top, bottom = fig.axes
    assert list(top.get_xticks()) == [0, 50, 60, 70, 100]  # phases and the lr drop
    assert list(bottom.get_xticks()) == [0, 5, 6, 10]
    assert bottom.get_xlabel() == "epoch"
    assert len(top.patches) == 4  # three phases and the dependency bar
    assert top.get_title(loc="left").startswith("reference")
    assert any(line.get_xdata()[0] == 70 for line in top.get_lines())


def test_schedule_errors():
    with pytest.raises(ValueError, match="empty"):
        plot_schedule({})
    with pytest.raises(TypeError, match="Schedule"):
        plot_schedule({"x": 100})
    with pytest.raises(ValueError, match="unknown schedules"):
        plot_schedule({"a": Schedule(4)}, lr_drops={"b": 2})


def _sweep(n=3, m=2):
    return {"weights": torch.ones(n, m), "accuracy": torch.linspace(0.9, 0.5, n)}


def test_weight_sweep_rows_per_corrupted_modality():
    sweeps = {"udml": {"fou": _sweep(), "pix": {**_sweep(), "band": torch.ones(3, 2, 2)}},
              "naive": {"fou": _sweep(), "pix": _sweep()}}
    fig = plot_weight_sweep([1, 6, 11], sweeps, ["fou", "pix"])
    assert len(fig.axes) == 4
    wax, aax = fig.axes[:2]
    assert wax.get_ylabel() == "mean weight $w_m$" and aax.get_ylabel().startswith("test accuracy")
    assert aax.get_ylim() != (0, 1)  # fitted to the data, so that small gaps show
    assert wax.get_xlabel() == "noise level of fou"
    assert len(aax.get_lines()) == 2  # one accuracy line per method
    assert list(aax.get_lines()[0].get_ydata()) == pytest.approx([0.9, 0.7, 0.5])
    assert fig.axes[2].collections  # the band of the pix row
    assert "`" not in wax.get_title() + aax.get_title()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "$w$ fou, UDML" in labels and "naive dynamic" in labels


def test_weight_sweep_accuracy_axis_spans_at_least_five_points():
    narrow = {"weights": torch.ones(3, 2), "accuracy": torch.tensor([0.97, 0.9775, 0.985])}
    fig = plot_weight_sweep([1, 6, 11], {"udml": {"fou": narrow}}, ["fou", "pix"])
    low, high = fig.axes[1].get_ylim()
    assert high - low >= 0.05 and low < 0.97 and high > 0.985


def test_weight_sweep_errors():
    with pytest.raises(ValueError, match="empty"):
        plot_weight_sweep([1, 2, 3], {}, ["a", "b"])
    with pytest.raises(ValueError, match=r"must be \(3, 2\)"):
        plot_weight_sweep([1, 2, 3], {"udml": {"a": _sweep(n=2)}}, ["a", "b"])
    with pytest.raises(ValueError, match="lacks 'accuracy'"):
        plot_weight_sweep([1, 2, 3], {"udml": {"a": {"weights": torch.ones(3, 2)}}}, ["a", "b"])
    with pytest.raises(ValueError, match="not in"):
        plot_weight_sweep([1, 2, 3], {"udml": {"c": _sweep()}}, ["a", "b"])


def test_fusion_panel_shows_values_and_prediction():
    probs = torch.tensor([0.1, 0.7, 0.2])
    fig = plot_fusion_panel(torch.zeros(1, 4, 5), {"fou": 1.5, "pix": 0.5}, {"fou": 1, "pix": 3},
                            {"fou": 0.4, "pix": 1.6}, probs, label=2, value_range=(-1, 1))
    assert len(fig.axes) == 5
    assert fig.axes[1].get_ylim()[1] == 2  # weights axis up to M
    assert [t.get_text() for t in fig.axes[1].texts] == ["1.50", "0.50"]
    assert "prediction 1" in fig.axes[4].get_title()
    assert "true: 2" in fig.axes[4].get_xlabel()
    assert fig.axes[4].patches[2].get_linewidth() == 1.5


def test_fusion_panel_names_the_normalised_dependency_alpha():
    # the bars are alpha_m = M D_m / sum_k D_k (summing to M), not the running D_m: the panel
    # must use the symbol of the normalised value and draw the values it is given
    fig = plot_fusion_panel(torch.zeros(4, 5), {"fou": 1.0, "pix": 1.0}, {"fou": 1, "pix": 1},
                            {"fou": 0.4, "pix": 1.6}, torch.tensor([0.5, 0.5]))
    title = fig.axes[3].get_title()
    assert r"\alpha_m" in title and "D_m" not in title
    assert [t.get_text() for t in fig.axes[3].texts] == ["0.40", "1.60"]


def test_fusion_panel_errors():
    good = dict(weights={"a": 1, "b": 1}, s_hat={"a": 1, "b": 1}, alpha={"a": 1, "b": 1})
    with pytest.raises(ValueError, match="sum"):
        plot_fusion_panel(torch.zeros(4, 5), probs=torch.tensor([0.5, 0.6]), **good)
    with pytest.raises(ValueError, match="image"):
        plot_fusion_panel(torch.zeros(2, 4, 5), probs=torch.tensor([0.5, 0.5]), **good)
    with pytest.raises(ValueError, match="s_hat must name"):
        plot_fusion_panel(torch.zeros(4, 5), probs=torch.tensor([0.5, 0.5]),
                          **{**good, "s_hat": {"a": 1}})
    with pytest.raises(ValueError, match="alpha must name"):
        plot_fusion_panel(torch.zeros(4, 5), probs=torch.tensor([0.5, 0.5]),
                          **{**good, "alpha": {"a": 1}})
    with pytest.raises(ValueError, match="label 5"):
        plot_fusion_panel(torch.zeros(4, 5), probs=torch.tensor([0.5, 0.5]), label=5, **good)
