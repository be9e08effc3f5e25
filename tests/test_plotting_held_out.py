"""Figures of the held-out chapter: the beta trade-off and the per-family bars."""
import pandas as pd
import pytest

from udml.plotting.held_out import plot_beta_trade_off, plot_family_bars


def test_the_beta_figure_draws_both_fusions_per_dataset():
    rows = [{"beta": b, "rescaling": r, "random": 0.8, "worst top": 0.7, "kept": k}
            for r, k in (("residual", 0.4), ("multiplicative", 0.05)) for b in (1e-3, 1.0)]
    fig = plot_beta_trade_off({"mfeat": rows, "synthetic": rows})
    top, bottom = fig.axes[0], fig.axes[2]
    assert top.get_title() == "mfeat" and bottom.get_xscale() == "log"
    assert len(top.get_lines()) == 4 and len(bottom.get_lines()) == 2 + 1  # and the 0.1 line
    with pytest.raises(ValueError, match="rows lack"):
        plot_beta_trade_off({"mfeat": [{"beta": 1.0}]})
    with pytest.raises(ValueError, match="non-empty"):
        plot_beta_trade_off({})


def test_the_family_bars_show_the_mean_over_modalities():
    table = pd.DataFrame([{"family": f, "method": m, "modality": mod, "spearman": v}
                          for f in ("noise", "smear") for m in ("udml", "udml-r")
                          for mod, v in (("a", 0.2), ("b", 0.6))])
    fig = plot_family_bars(table, "spearman", ["udml", "udml-r", "qmf"], "rho", reference=0.5)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([0.4] * 4)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["noise", "smear"]
    with pytest.raises(ValueError, match="none of the methods"):
        plot_family_bars(table, "spearman", ["qmf"], "rho")
    with pytest.raises(ValueError, match="columns"):
        plot_family_bars(table, "kept", ["udml"], "kept")
