"""One plotting style for every figure: colours per method and per modality, readable defaults."""
from __future__ import annotations

import matplotlib as mpl

METHOD_LABELS = {
    "static": "static fusion", "late": "late fusion", "pe": "PE dynamic",
    "naive": "naive dynamic", "udml": "UDML", "oracle": "oracle", "qmf": "QMF", "tmc": "TMC",
    "udml-r": "UDML-R (ours)",
}
METHOD_COLORS = {
    "static": "#7f7f7f", "late": "#bcbd22", "pe": "#ff7f0e", "naive": "#9467bd",
    "udml": "#d62728", "oracle": "#2ca02c", "qmf": "#1f77b4", "tmc": "#17becf",
    "udml-r": "#8c564b",
}
_MODALITY_CYCLE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]


def apply_style() -> None:
    """Matplotlib defaults for the book (call once per chapter)."""
    mpl.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (6.0, 3.6),
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
        "grid.alpha": 0.3, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
        "legend.frameon": False, "font.size": 10, "image.cmap": "viridis",
    })


def method_label(method: str) -> str:
    """A method's name in legends and tables (METHOD_LABELS), else the name itself."""
    return METHOD_LABELS.get(method, method)


def words(name: str) -> str:
    """A code name shown to a reader (a kind of damage, a level range, a protocol group) in
    words: 'salt_pepper' -> 'salt pepper', 'lower_half' -> 'lower half'."""
    return name.replace("_", " ")


def method_color(method: str) -> str:
    """Colour of a method; extension variants (e.g. 'udml+mult') take their base method's."""
    return METHOD_COLORS.get(method, METHOD_COLORS.get(method.split("+")[0], "#000000"))


def modality_color(modality: str, modalities: list[str]) -> str:
    """A fixed colour per modality, by its position in the sorted list."""
    return _MODALITY_CYCLE[sorted(modalities).index(modality) % len(_MODALITY_CYCLE)]
