import math

import pytest

from udml.analysis.comparisons import MISSING
from udml.analysis.stats import summary
from udml.plotting.experiments import (plot_dependency_history, plot_effects,
                                       plot_level_curves, plot_spearman)
from udml.plotting import experiments_tables as tables
from udml.plotting.style import method_color
from udml.training.metrics import HALVES


def _curve(mean, half=0.01):
    return {"mean": mean, "low": [m - half for m in mean], "high": [m + half for m in mean]}


def _cmp(diff, exceeds):
    return {"diff": diff, "low": diff - 0.01, "high": diff + 0.01, "exceeds": exceeds}


def test_level_curves_one_panel_per_noisy_modality_in_percent():
    curves = {"pix": {"levels": [1, 2, 3], "udml": _curve([0.9, 0.8, 0.5]),
                      "static": _curve([0.9, 0.7, 0.4])},
              "all": {"levels": [1, 2, 3], "udml": _curve([0.9, 0.6, 0.2])}}
    fig = plot_level_curves(curves, ["static", "udml", "qmf"])
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["pix noisy", "all modalities noisy"]
    assert axes[0].get_xlabel() == "noise level $l$" and "accuracy" in axes[0].get_ylabel()
    udml = [ln for ln in axes[0].get_lines() if ln.get_label() == "UDML"][0]
    assert list(udml.get_ydata()) == pytest.approx([90.0, 80.0, 50.0])
    assert udml.get_color() == method_color("udml")
    assert len(fig.legends) == 1


def test_level_curves_errors():
    with pytest.raises(ValueError, match="non-empty"):
        plot_level_curves({}, ["udml"])
    with pytest.raises(ValueError, match="3 levels"):
        plot_level_curves({"pix": {"levels": [1, 2, 3], "udml": _curve([0.9])}}, ["udml"])
    with pytest.raises(ValueError, match="none of the methods"):
        plot_level_curves({"pix": {"levels": [1], "udml": _curve([0.9])}}, ["qmf"])
    with pytest.raises(ValueError, match="no 'levels'"):
        plot_level_curves({"pix": {"udml": _curve([0.9])}}, ["udml"])


def test_spearman_bars_per_modality_and_range():
    s = {"mean": 0.5, "low": 0.4, "high": 0.6}
    table = {m: {r: {"udml": s, "pe": {**s, "mean": -0.2, "low": math.nan, "high": math.nan}}
                 for r in HALVES} for m in ("fou", "pix")}
    fig = plot_spearman(table, ["udml", "pe"])
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["fou", "pix"]
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["all", "lower half", "upper half"]
    heights = sorted(round(p.get_height(), 6) for p in axes[0].patches)
    assert heights == [-0.2] * 3 + [0.5] * 3
    assert axes[0].get_ylabel() == "Spearman with the level"
    with pytest.raises(ValueError, match="lacks the ranges"):
        plot_spearman({"fou": {"all": {"udml": s}}}, ["udml"])
    with pytest.raises(ValueError, match="none of the methods"):
        plot_spearman(table, ["qmf"])


def test_dependency_history_mean_band_and_reference_lines():
    hist = {"epochs": [1, 2], "alpha": {"a": [[1.5, 1.2], [1.3, 1.4]], "b": [[0.5, 0.8],
                                                                           [0.7, 0.6]]},
            "first_noisy": 2}
    fig = plot_dependency_history({"toy": hist})
    ax = fig.axes[0]
    a = [ln for ln in ax.get_lines() if ln.get_label() == "a"][0]
    assert list(a.get_ydata()) == pytest.approx([1.4, 1.3])  # mean over the two seeds
    assert ax.get_xlabel() == "epoch" and ax.get_title() == "toy"
    assert any(list(ln.get_ydata()) == [1.0, 1.0] for ln in ax.get_lines())  # alpha = 1
    with pytest.raises(ValueError, match="one alpha per epoch"):
        plot_dependency_history({"toy": {**hist, "epochs": [1, 2, 3]}})
    with pytest.raises(ValueError, match="non-empty"):
        plot_dependency_history({})


def test_effects_forest_fills_only_differences_beyond_the_spread():
    effects = {"vs static": {"clean": _cmp(0.02, True), "random": _cmp(-0.01, False)}}
    fig = plot_effects(effects, colors={"vs static": "red"}, title="t")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["clean", "random"]
    markers = [ln for ln in ax.get_lines() if ln.get_marker() == "o" and len(ln.get_xdata())]
    assert [m.get_xdata()[0] for m in markers] == pytest.approx([2.0, -1.0])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "vs static" and any(t.startswith("filled:") for t in legend)
    assert markers[0].get_markerfacecolor() != markers[1].get_markerfacecolor()
    assert ax.get_xlabel() == "paired difference (points)" and ax.get_title() == "t"
    partial = plot_effects({**effects, "vs naive": {"random": _cmp(0.03, True)}})
    assert [t.get_text() for t in partial.axes[0].get_yticklabels()] == ["clean", "random"]
    assert len([ln for ln in partial.axes[0].get_lines()
                if ln.get_marker() == "o" and len(ln.get_xdata())]) == 3
    with pytest.raises(ValueError, match="no entry has the groups"):
        plot_effects(effects, groups=["clean", "all noisy"])
    with pytest.raises(ValueError, match="non-empty"):
        plot_effects({})


def test_effects_axis_keeps_a_small_difference_small_and_labels_plain():
    # differences of a tenth of a point: the axis still spans min_span points around 0
    effects = {"`no KL`": {"clean": _cmp(0.001, False), "random": _cmp(0.002, True)}}
    fig = plot_effects(effects, title="UDML minus `variant`", min_span=4.0)
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert hi - lo >= 4.0 and lo < 0.0 < hi
    assert ax.get_title() == "UDML minus variant"
    assert "`" not in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    first = ax.get_legend().legend_handles[0]  # the entry's colour, filled, though its first
    assert first.get_markerfacecolor() == first.get_color()  # marker is hollow
    wide = plot_effects({"a": {"clean": _cmp(0.3, True)}}, min_span=4.0).axes[0].get_xlim()
    assert wide[0] <= 0.0 and wide[1] >= 31.0  # a large effect sets the range itself
    long = plot_effects({"a": {"a very long protocol group name": _cmp(0.01, True)}})
    assert "\n" in long.axes[0].get_yticklabels()[0].get_text()
    with pytest.raises(ValueError, match="min_span"):
        plot_effects(effects, min_span=0.0)


# --- the tables -----------------------------------------------------------------------------



def _s(mean, half=0.01):
    return {"n": 3, "mean": mean, "low": mean - half, "high": mean + half}


def test_accuracy_markdown_bolds_the_best_method_but_not_the_oracle():
    table = {"groups": ["clean"], "methods": ["static", "udml", "oracle"],
             "cells": {"clean": {"static": _s(0.9), "udml": _s(0.95), "oracle": _s(0.99)}}}
    lines = tables.accuracy_markdown(table).splitlines()
    assert lines[0] == "| protocol group | static fusion | UDML | oracle |"
    assert lines[2] == "| clean | 90.0 ± 1.0 | **95.0 ± 1.0** | 99.0 ± 1.0 |"


def test_paired_and_spearman_markdown():
    c = {"diff": 0.012, "low": 0.003, "high": 0.021, "exceeds": True}
    text = tables.paired_markdown({"UDML − static": {"clean": c}})
    assert text.splitlines()[2] == "| clean | +1.2 [+0.3, +2.1] * |"
    with pytest.raises(ValueError, match="no effects"):
        tables.paired_markdown({})
    both = tables.paired_markdown({"x": {"clean": c}, "y": {"random": c}}).splitlines()
    assert both[2] == "| clean | +1.2 [+0.3, +2.1] * | – |" and both[3].startswith("| random | –")
    sp = {"pix": {"lower_half": {"udml": _s(0.5, 0.1), "pe": {**_s(0.2), "low": math.nan}}}}
    rows = tables.spearman_markdown(sp, ["udml", "pe", "qmf"]).splitlines()
    assert rows[0] == "| modality, levels | UDML | PE dynamic | QMF |"
    assert rows[2] == "| pix, lower half | +0.50 ± 0.10 | +0.20 |  |"
    missing = {"pix": {"lower_half": {"udml": summary([0.5, math.nan, 0.4])}}}  # a constant score
    assert tables.spearman_markdown(missing, ["udml"]).splitlines()[2] == f"| pix, lower half | {MISSING} |"


def test_dependency_and_verdicts_markdown():
    r = {"verdict": "holds", "easy": {"easy": "m0", "planted": ["m0"]}, "most": "m0",
         "final": {"m0": _s(1.4, 0.1)}, "early": {"m0": _s(1.2, 0.1)}, "early_epoch": 4}
    text = tables.dependency_markdown({"synthetic": r, "mfeat": {"verdict": "not measured"}})
    lines = text.splitlines()
    assert lines[2] == ("| synthetic | m0 (planted) | m0 | 1.40 ± 0.10 | 1.20 ± 0.10 (epoch 4) "
                        "| holds |")
    assert lines[3].startswith("| mfeat |") and lines[3].endswith("not measured |")
    v = tables.verdicts_markdown({"tracking": {"mfeat": {"verdict": "holds"}},
                                  "dependency": {"synthetic": {"verdict": "partly holds"}}})
    assert v.splitlines()[0] == "| claim | mfeat | synthetic |"
    assert v.splitlines()[3] == "| dependency |  | partly holds |"
    titled = tables.verdicts_markdown({"tracking": {"mfeat": {"verdict": "holds"}}},
                                      titles={"tracking": "1. tracks"})
    assert titled.splitlines()[2] == "| 1. tracks | holds |"
