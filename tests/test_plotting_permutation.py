"""The permutation test's figure."""
import pytest

from udml.plotting.permutation import plot_permutation


def _cell(acc, drop=None, gain=None):
    wrap = lambda d: None if d is None else {"diff": d}  # noqa: E731
    return {"accuracy": {"mean": acc}, "drop": wrap(drop), "gain": wrap(gain)}


TABLE = {"groups": ["random", "unseen: blur"], "methods": ["static", "udml"],
         "cells": {"random": {"static": _cell(0.8), "udml": _cell(0.9, 0.05, 0.02)},
                   "unseen: blur": {"static": _cell(0.7), "udml": _cell(0.6, -0.01, 0.1)}}}


def test_three_bars_per_method_as_computed_permuted_and_oracle():
    fig = plot_permutation(TABLE, ["random", "unseen: blur"])
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    # as computed (static, udml), permuted (static: none, udml: 0.9 - 0.05), oracle (udml + 0.02)
    assert heights[:2] == pytest.approx([80, 90])
    assert heights[3] == pytest.approx(85) and heights[5] == pytest.approx(92)
    assert heights[2] != heights[2]  # static has no permuted bar (NaN)
    assert [a.get_title() for a in fig.axes[:2]] == ["random", "unseen: blur"]


def test_every_bar_of_every_panel_shows_on_the_shared_axis():
    low = {**TABLE, "cells": {**TABLE["cells"], "random": {
        "static": _cell(0.3), "udml": _cell(0.9, 0.05, 0.02)}}}
    fig = plot_permutation(low, ["random", "unseen: blur"])
    for ax in fig.axes[:2]:
        bottom, top = ax.get_ylim()
        tops = [p.get_height() for p in ax.patches if p.get_height() == p.get_height()]
        assert all(bottom < h <= top for h in tops), (ax.get_title(), bottom, tops)


def test_bad_tables_and_groups_are_refused():
    with pytest.raises(ValueError, match="unknown protocol groups"):
        plot_permutation(TABLE, ["all noisy"])
    with pytest.raises(ValueError, match="none of the methods"):
        plot_permutation(TABLE, ["random"], ["tmc"])
    with pytest.raises(ValueError, match="permutation_table"):
        plot_permutation({}, ["random"])
