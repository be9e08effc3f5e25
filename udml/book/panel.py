"""Interactive figure panels for the book: controls, and an image of the figure they select.

`figure_panel` lays out ipywidgets controls above an `ipywidgets.Image` that holds a PNG of
the figure ``draw(**values)`` returns, drawn again whenever a control changes.

Why an Image and not an Output widget (which `ipywidgets.interactive` and
`interactive_output` use): a headless executor (papermill through nbclient, hence the book's
build and tests) mirrors every output captured by an Output widget back to the kernel on the
shell channel while it waits on that same channel for the cell's reply, and the reply can then
go unread for ever: a run that hangs at random, most often on a loaded machine. The PNG of an
Image widget is plain widget state: the executor stores it, the rendered book shows it, and a
live kernel replaces it when a control moves, with no message back from the front end.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The PNG bytes of ``fig``, which is closed (nothing is left for the inline backend)."""
    if not isinstance(fig, Figure):
        raise TypeError(f"expected a matplotlib Figure, got {type(fig).__name__}")
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def figure_panel(draw: Callable[..., Figure], controls: dict[str, widgets.ValueWidget],
                 rows: Sequence[Sequence[str]], dpi: int = 100) -> widgets.VBox:
    """Controls laid out in ``rows`` (lists of control names) above the figure they select.

    draw: called as ``draw(**{name: control.value})``, returns a Figure (closed after use).
    Every control must appear in exactly one row. The figure is drawn once now, then each time
    a control's value changes. Returns the panel (display it); ``panel.children[-1]`` is the Image.
    """
    placed = [name for row in rows for name in row]
    if sorted(placed) != sorted(controls):  # keys are unique, so this also bars repeats
        raise ValueError(f"rows must place every control exactly once: controls "
                         f"{sorted(controls)}, rows {[list(r) for r in rows]}")
    image = widgets.Image(format="png")

    def redraw(_change=None) -> None:
        image.value = figure_png(draw(**{k: c.value for k, c in controls.items()}), dpi)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([controls[name] for name in row]) for row in rows]
                        + [image])
