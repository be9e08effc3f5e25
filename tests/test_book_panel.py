"""udml.book.panel: an interactive figure panel that needs no Output widget."""
import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest

from udml.book.panel import figure_panel, figure_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _draw(level, kind):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, level], [0, 1 if kind == "a" else -1])
    return fig


def test_figure_png_returns_png_bytes_and_closes_the_figure():
    fig = _draw(3, "a")
    data = figure_png(fig)
    assert data.startswith(PNG_MAGIC)
    assert not plt.fignum_exists(fig.number)


def test_figure_png_rejects_what_is_not_a_figure():
    with pytest.raises(TypeError, match="Figure"):
        figure_png("not a figure")


def test_panel_draws_now_and_redraws_when_a_control_changes():
    calls = []

    def draw(level, kind):
        calls.append((level, kind))
        return _draw(level, kind)

    controls = {"level": widgets.IntSlider(value=1, min=1, max=5),
                "kind": widgets.Dropdown(options=["a", "b"], value="a")}
    panel = figure_panel(draw, controls, [["level"], ["kind"]])
    image = panel.children[-1]
    assert isinstance(image, widgets.Image) and bytes(image.value).startswith(PNG_MAGIC)
    assert calls == [(1, "a")]
    assert [type(c) for c in panel.children[:-1]] == [widgets.HBox, widgets.HBox]
    assert not any(isinstance(w, widgets.Output) for w in panel.children)
    first = bytes(image.value)
    controls["kind"].value = "b"
    assert calls[-1] == (1, "b") and bytes(image.value) != first
    controls["level"].value = 4
    assert calls[-1] == (4, "b")


@pytest.mark.parametrize("rows", [[["level"]], [["level", "kind"], ["kind"]], [["level", "x"]]])
def test_panel_rows_must_place_every_control_once(rows):
    controls = {"level": widgets.IntSlider(value=1), "kind": widgets.Dropdown(options=["a"])}
    with pytest.raises(ValueError, match="exactly once"):
        figure_panel(_draw, controls, rows)
