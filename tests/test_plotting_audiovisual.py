import math

import numpy as np
import pytest
import torch

from udml.av.frames import IMAGENET_MEAN, IMAGENET_STD
from udml.plotting import audiovisual as av


def _report(acc: dict[str, float], weights=None, spearman=None) -> dict:
    protocols = {}
    for p, a in acc.items():
        protocols[p] = {"accuracy": a, "unimodal": {"audio": a, "visual": a}}
        if weights is not None:
            protocols[p]["mean_weights"] = weights
    rep = {"protocols": protocols}
    if spearman is not None:
        rep["spearman"] = spearman
    return rep


def _history(epochs=3, dependency=True) -> list[dict]:
    rows = []
    for e in range(epochs):
        row = {"epoch": e, "noisy": e >= 1, "use_uncertainty": e >= 2, "loss_total": 2.0 / (e + 1),
               "val_acc_clean": 0.5 + 0.1 * e, "val_acc_noisy": 0.4 + 0.1 * e, "seconds": 1.0}
        if dependency:
            row["dependency"] = {"audio": 1.0 + e, "visual": 1.0}
        rows.append(row)
    return rows


# --- frames and clips ---------------------------------------------------------------------------

def test_denormalise_inverts_the_imagenet_normalisation():
    rgb = torch.tensor([0.0, 0.5, 1.0]).view(3, 1, 1).expand(3, 2, 2)  # (3, 2, 2)
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    normalised = ((rgb - mean) / std)[None, None]  # (1, 1, 3, 2, 2)
    torch.testing.assert_close(av.denormalise_frames(normalised)[0, 0], rgb)
    # values outside the image range are clamped for display
    assert av.denormalise_frames(torch.full((3, 1, 1), 100.0)).max() == 1.0


def test_denormalise_rejects_non_rgb():
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, H, W\)"):
        av.denormalise_frames(torch.zeros(1, 4, 4))


def test_clip_grid_draws_two_rows_per_condition():
    audio = torch.randn(3, 1, 9, 7)
    visual = torch.randn(3, 2, 3, 8, 8)
    fig = av.plot_clip_grid(audio, visual, ["clean", "l 6", "l 11"], frame=1)
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 6
    assert images[0].get_ylabel() == "frequency bin" and images[0].get_xlabel() == "time frame"
    assert [ax.get_title() for ax in images[:3]] == ["clean", "l 6", "l 11"]
    # one colour scale for every spectrogram: that of the first column
    lo, hi = images[1].images[0].get_clim()
    assert lo == pytest.approx(float(audio[0].min())) and hi == pytest.approx(float(audio[0].max()))
    assert "frame 2 of 2" in images[3].get_ylabel()


@pytest.mark.parametrize("audio, visual, titles, frame, match", [
    (torch.zeros(2, 9, 7), torch.zeros(2, 1, 3, 4, 4), ["a", "b"], 0, "audio must be"),
    (torch.zeros(2, 1, 9, 7), torch.zeros(2, 3, 4, 4), ["a", "b"], 0, "visual must be"),
    (torch.zeros(2, 1, 9, 7), torch.zeros(1, 1, 3, 4, 4), ["a", "b"], 0, "as many columns"),
    (torch.zeros(2, 1, 9, 7), torch.zeros(2, 1, 3, 4, 4), ["a"], 0, "as many columns"),
    (torch.zeros(2, 1, 9, 7), torch.zeros(2, 1, 3, 4, 4), ["a", "b"], 1, "out of range"),
    (torch.full((1, 1, 2, 2), math.inf), torch.zeros(1, 1, 3, 4, 4), ["a"], 0, "non-finite"),
])
def test_clip_grid_errors(audio, visual, titles, frame, match):
    with pytest.raises(ValueError, match=match):
        av.plot_clip_grid(audio, visual, titles, frame)


# --- training curves ----------------------------------------------------------------------------

def test_history_plot_shows_loss_accuracy_and_dependency_per_modality():
    fig = av.plot_av_history({"udml": _history(), "static": _history(dependency=False)})
    loss_ax, acc_ax, dep_ax = fig.axes
    assert "loss" in loss_ax.get_ylabel()
    assert "accuracy" in acc_ax.get_ylabel() and "D_m" in dep_ax.get_ylabel()
    assert len(acc_ax.lines) >= 4  # clean and noisy per method
    labels = [l.get_label() for l in dep_ax.lines if not l.get_label().startswith("_")]
    assert labels == ["audio, UDML", "visual, UDML"]
    audio_line = dep_ax.lines[0]
    np.testing.assert_allclose(audio_line.get_xdata(), [1, 2, 3])  # 1-based epochs
    np.testing.assert_allclose(audio_line.get_ydata(), [1.0, 2.0, 3.0])


def test_history_plot_says_when_nothing_tracked_the_dependency():
    fig = av.plot_av_history({"static": _history(dependency=False)})
    assert any("no method tracked" in t.get_text() for t in fig.axes[2].texts)


@pytest.mark.parametrize("histories, match", [
    ({}, "non-empty dict"),
    ({"udml": []}, "non-empty list"),
    ({"udml": [{"epoch": 0}]}, "lacks 'loss_total'"),
])
def test_history_plot_errors(histories, match):
    with pytest.raises(ValueError, match=match):
        av.plot_av_history(histories)


# --- accuracy by level --------------------------------------------------------------------------

def test_protocol_labels():
    assert av.protocol_label("audio", 1) == "clean"
    assert av.protocol_label("visual", 7) == "one:visual@7"
    assert av.protocol_label("all", 11) == "all@11"
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match="level"):
            av.protocol_label("audio", bad)


def test_accuracy_by_level_reads_the_report_in_level_order():
    rep = _report({"clean": 1.0, "one:audio@6": 0.5, "one:audio@11": 0.25, "all@11": 0.2})
    np.testing.assert_allclose(av.accuracy_by_level(rep, "audio", [1, 6, 11]), [1.0, 0.5, 0.25])
    np.testing.assert_allclose(av.accuracy_by_level(rep, "all", [11, 1]), [0.2, 1.0])
    with pytest.raises(KeyError, match="one:visual@6"):
        av.accuracy_by_level(rep, "visual", [1, 6])
    with pytest.raises(ValueError, match="protocols"):
        av.accuracy_by_level({"accuracy": 1.0}, "audio", [1])


def test_accuracy_plot_has_one_panel_per_corrupted_modality_and_a_chance_line():
    acc = {"clean": 1.0, "one:audio@11": 0.4, "one:visual@11": 0.9, "all@11": 0.3}
    fig = av.plot_accuracy_by_level({"udml": _report(acc), "static": _report(acc)}, [1, 11],
                                    chance=1 / 3)
    assert [ax.get_title() for ax in fig.axes] == ["audio noisy", "visual noisy", "both noisy"]
    assert fig.axes[0].get_ylabel() == "test accuracy"
    assert all(ax.get_xlabel() == "noise level $l$" for ax in fig.axes)
    first = fig.axes[0].lines[0]
    np.testing.assert_allclose(first.get_ydata(), [1.0, 0.4])
    assert any(np.allclose(l.get_ydata(), 1 / 3) for l in fig.axes[1].lines)
    with pytest.raises(ValueError, match="non-empty dict"):
        av.plot_accuracy_by_level({}, [1])
    with pytest.raises(ValueError, match="levels"):
        av.plot_accuracy_by_level({"udml": _report(acc)}, [])


# --- tables -------------------------------------------------------------------------------------

def test_results_table_rows_per_method_columns_per_protocol():
    reports = {"udml": _report({"clean": 0.91234, "random": 0.5}),
               "static": _report({"clean": 0.8, "random": 0.25})}
    table = av.results_table(reports, ["clean", "random"]).splitlines()
    assert table[0] == "| method | `clean` | `random` |"
    assert table[2] == "| UDML | 0.912 | 0.500 |"
    assert table[3] == "| static fusion | 0.800 | 0.250 |"
    with pytest.raises(KeyError, match="'all@11'"):
        av.results_table(reports, ["all@11"])
    with pytest.raises(ValueError, match="protocols"):
        av.results_table(reports, [])


def test_weights_table_skips_methods_without_weights():
    reports = {"udml": _report({"clean": 1.0}, weights={"audio": 0.25, "visual": 1.75}),
               "static": _report({"clean": 1.0})}
    table = av.weights_table(reports, ["clean"]).splitlines()
    assert table[2:] == ["| UDML | 0.25 / 1.75 |"]
    with pytest.raises(ValueError, match="no report carries fusion weights"):
        av.weights_table({"static": _report({"clean": 1.0})}, ["clean"])


def test_spearman_table_shows_nan_as_not_available():
    rho = {"audio": {"all": 0.5, "lower_half": math.nan, "upper_half": -0.25},
           "visual": {"all": 0.0, "lower_half": 0.1, "upper_half": 0.2}}
    table = av.spearman_table({"udml": _report({"random": 1.0}, spearman=rho)},
                              {"udml": "s_hat"}).splitlines()
    assert table[0].startswith("| method (score) | audio, all | audio, lower half | audio, upper half")
    assert table[2] == "| UDML (s_hat) | 0.50 | n/a | -0.25 | 0.00 | 0.10 | 0.20 |"
    with pytest.raises(KeyError, match="spearman"):
        av.spearman_table({"udml": _report({"clean": 1.0})})
    with pytest.raises(ValueError, match="non-empty"):
        av.spearman_table({})
