"""The permutation test's figure."""
import numpy as np
import pytest

from udml.plotting.permutation import plot_permutation


def _cell(acc, drop=None, gain=None):
    wrap = lambda d: None if d is None else {"diff": d, "low": d - 0.01, "high": d + 0.01}  # noqa: E731
    return {"accuracy": {"mean": acc}, "drop": wrap(drop), "gain": wrap(gain)}


TABLE = {"groups": ["random", "unseen: blur"], "methods": ["static", "udml", "oracle"],
         "cells": {"random": {"static": _cell(0.8), "udml": _cell(0.9, 0.05, 0.02),
                              "oracle": _cell(0.9, 0.03)},
                   "unseen: blur": {"static": _cell(0.7), "udml": _cell(0.6, -0.01, 0.1),
                                    "oracle": _cell(0.8, 0.0)}}}


def _marks(ax):
    """{legend label: (x positions, means in points)} of one panel's error bars."""
    return {c.get_label(): tuple(np.asarray(a) for a in c.lines[0].get_data())
            for c in ax.containers}


def test_drops_and_gains_in_points_per_method_with_their_intervals():
    fig = plot_permutation(TABLE, ["random", "unseen: blur"])
    random, blur = (_marks(ax) for ax in fig.axes[:2])
    drop, gain = "lost when the scores are permuted", "gained with the true level as the score"
    # static reads no scores: no marks at x = 0; the oracle has a drop and no gain
    assert random[drop][0] == pytest.approx([0.87, 1.87]) and random[drop][1] == pytest.approx([5, 3])
    assert random[gain][0] == pytest.approx([1.13]) and random[gain][1] == pytest.approx([2])
    assert blur[drop][1] == pytest.approx([-1, 0]) and blur[gain][1] == pytest.approx([10])
    bars = fig.axes[0].containers[0].lines[2][0].get_segments()  # the interval of udml's drop
    assert [p[1] for p in bars[0]] == pytest.approx([4, 6])
    assert [a.get_title() for a in fig.axes[:2]] == ["random", "unseen: blur"]


def test_bad_tables_and_groups_are_refused():
    with pytest.raises(ValueError, match="unknown protocol groups"):
        plot_permutation(TABLE, ["all noisy"])
    with pytest.raises(ValueError, match="none of the methods"):
        plot_permutation(TABLE, ["random"], ["tmc"])
    with pytest.raises(ValueError, match="permutation_table"):
        plot_permutation({}, ["random"])
