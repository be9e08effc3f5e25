"""Tests of udml.plotting.dependency: curves read from histories, alpha, and the two figures."""
import numpy as np
import pytest

from udml.plotting import dependency as plots


def _history():
    """Three epochs; the first has no dependency yet, the last is noisy."""
    return [
        {"epoch": 0, "noisy": False},
        {"epoch": 1, "noisy": False, "dependency": {"b": 1.0, "a": 3.0}},
        {"epoch": 2, "noisy": True, "dependency": {"a": 2.0, "b": 2.0}},
    ]


def _results(modalities=("a", "b"), levels=(3, 11)):
    out = {}
    for k, method in enumerate(("static", "naive", "udml")):
        accs = {"clean": 0.9 - 0.01 * k}
        for m in modalities:
            for l in levels:
                accs[f"one:{m}@{l}"] = 0.9 - 0.03 * l - 0.01 * k
        out[method] = accs
    return out


def test_dependency_curves_reads_rows_with_a_dependency_in_sorted_order():
    epochs, values = plots.dependency_curves(_history())
    np.testing.assert_array_equal(epochs, [1.0, 2.0])
    assert list(values) == ["a", "b"]
    np.testing.assert_array_equal(values["a"], [3.0, 2.0])
    np.testing.assert_array_equal(values["b"], [1.0, 2.0])


@pytest.mark.parametrize("history, match", [
    ([], "non-empty"),
    ("not a list", "non-empty"),
    ([{"epoch": 0}], "track_dependency"),
    ([{"epoch": 0, "dependency": {"a": 1.0, "b": 1.0}},
      {"epoch": 1, "dependency": {"a": 1.0, "c": 1.0}}], "modalities"),
])
def test_dependency_curves_errors(history, match):
    with pytest.raises(ValueError, match=match):
        plots.dependency_curves(history)


def test_normalised_curves_by_hand():
    # epoch 1: d = (3, 1) -> alpha = 2 * (3, 1) / 4 = (1.5, 0.5); epoch 2: equal -> (1, 1)
    alpha = plots.normalised_curves({"b": np.array([1.0, 2.0]), "a": np.array([3.0, 2.0])})
    np.testing.assert_allclose(alpha["a"], [1.5, 1.0])
    np.testing.assert_allclose(alpha["b"], [0.5, 1.0])
    np.testing.assert_allclose(alpha["a"] + alpha["b"], [2.0, 2.0])


@pytest.mark.parametrize("values, match", [
    ({"a": np.array([1.0])}, "at least 2"),
    ({"a": np.array([1.0]), "b": np.array([-1.0])}, ">= 0"),
    ({"a": np.array([1.0]), "b": np.array([np.nan])}, "finite"),
    ({"a": np.array([0.0]), "b": np.array([0.0])}, "sum to 0"),
])
def test_normalised_curves_errors(values, match):
    with pytest.raises(ValueError, match=match):
        plots.normalised_curves(values)


def test_plot_dependency_history_draws_both_rows_per_run():
    fig = plots.plot_dependency_history({"run 1": _history(), "run 2": _history()},
                                        labels={"a": "a (easy)"})
    axes = np.array(fig.axes[:4]).reshape(2, 2)
    assert axes[0, 0].get_title() == "run 1" and axes[0, 1].get_title() == "run 2"
    assert "D_m" in axes[0, 0].get_ylabel() and "alpha" in axes[1, 0].get_ylabel()
    assert axes[1, 0].get_xlabel() == "epoch"
    # one line per modality, at epochs 2 and 3 (1-based), plus the reference line at 1 below
    top = axes[0, 0].get_lines()
    assert len(top) == 2
    np.testing.assert_array_equal(top[0].get_xdata(), [2.0, 3.0])
    np.testing.assert_allclose(axes[1, 0].get_lines()[0].get_ydata(), [1.5, 1.0])
    # the noisy epoch (3 on the plot) is shaded
    assert len(axes[0, 0].patches) == 1
    legend = axes[1, 0].get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["noisy phase", "a (easy)", "b"]


def test_plot_dependency_history_without_noisy_phase_has_no_shading():
    history = [{"epoch": 0, "noisy": False, "dependency": {"a": 1.0, "b": 2.0}}]
    fig = plots.plot_dependency_history({"clean only": history})
    assert len(fig.axes[0].patches) == 0


def test_plot_dependency_history_errors():
    with pytest.raises(ValueError, match="non-empty dict"):
        plots.plot_dependency_history({})
    with pytest.raises(ValueError, match="track_dependency"):
        plots.plot_dependency_history({"run": [{"epoch": 0}]})


def test_plot_accuracy_vs_level_one_row_per_run_one_line_per_method():
    runs = {"r1": _results(), "r2": _results()}
    panels = {"r1": ["b", "a"], "r2": ["a"]}
    fig = plots.plot_accuracy_vs_level(runs, panels, [3, 11], titles={"r1": {"b": "b is hard"}})
    axes = np.array(fig.axes).reshape(2, 2)
    assert axes[0, 0].get_title() == "b is hard"
    assert axes[0, 1].get_title() == "r1: a noisy"
    assert not axes[1, 1].get_visible()  # r2 corrupts one modality only
    assert axes[0, 0].get_ylabel() == "test accuracy"
    assert "noise level" in axes[1, 0].get_xlabel()
    lines = axes[0, 0].get_lines()
    assert len(lines) == 3
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 3, 11])
    np.testing.assert_allclose(lines[0].get_ydata(), [0.9, 0.81, 0.57])
    legend = axes[0, 0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["static fusion", "naive dynamic", "UDML"]


@pytest.mark.parametrize("runs, panels, levels, match", [
    ({}, {}, [3], "non-empty dict"),
    ({"r": _results()}, {"r": ["a"]}, [], "levels"),
    ({"r": _results()}, {"r": ["a"]}, [1, 3], "levels"),
    ({"r": _results()}, {}, [3], "no modality"),
    ({"r": _results()}, {"r": ["a"]}, [6], "lacks protocols"),
    ({"r": {}}, {"r": ["a"]}, [3], "no methods"),
])
def test_plot_accuracy_vs_level_errors(runs, panels, levels, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_accuracy_vs_level(runs, panels, levels)
