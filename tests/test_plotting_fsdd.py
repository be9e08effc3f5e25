"""Figures of the FSDD benchmark: they draw from plain data and refuse malformed input."""
from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure

from udml.plotting.fsdd import plot_decision, plot_pair_grid, plot_weights_by_level, weights_by_level


def _report(w_audio_at_11: float) -> dict:
    protos = {"clean": {"accuracy": 1.0, "mean_weights": {"audio": 1.0, "visual": 1.0}}}
    for m in ("audio", "visual"):
        for level in (6, 11):
            wa = w_audio_at_11 if (m == "audio" and level == 11) else 0.9
            protos[f"one:{m}@{level}"] = {"accuracy": 0.5,
                                          "mean_weights": {"audio": wa, "visual": 2 - wa}}
    return {"protocols": protos}


def test_pair_grid_and_its_checks():
    fig = plot_pair_grid(torch.randn(3, 1, 65, 47), torch.randn(3, 1, 16, 15), ["a", "b", "c"],
                         (-1.0, 1.0))
    assert isinstance(fig, Figure) and len(fig.axes) == 7  # 6 panels and a colour bar
    with pytest.raises(ValueError, match="titles"):
        plot_pair_grid(torch.randn(2, 1, 65, 47), torch.randn(2, 1, 16, 15), ["a"])
    with pytest.raises(ValueError, match="need spectrograms"):
        plot_pair_grid(torch.randn(2, 65, 47), torch.randn(2, 1, 16, 15), ["a", "b"])


def test_weights_by_level():
    w = weights_by_level(_report(0.2), "audio", [1, 6, 11])
    assert w["audio"].tolist() == pytest.approx([1.0, 0.9, 0.2])
    assert (w["audio"] + w["visual"]).tolist() == pytest.approx([2.0] * 3)
    fig = plot_weights_by_level({"udml": _report(0.2), "static": {"protocols": {
        "clean": {"accuracy": 1.0}}}}, [1, 6, 11])
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="no report"):
        plot_weights_by_level({"static": {"protocols": {"clean": {"accuracy": 1.0}}}}, [1])


def test_decision_view():
    fig = plot_decision(torch.randn(1, 65, 47), torch.randn(1, 16, 15),
                        torch.softmax(torch.randn(10), 0), {"audio": 0.4, "visual": 1.6},
                        {"audio": 9.0, "visual": 1.0}, {"audio": 3, "visual": 7}, "t",
                        (-5.0, 2.0), (-1.0, 1.0))
    assert len(fig.axes) == 3
