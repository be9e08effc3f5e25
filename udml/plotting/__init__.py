"""Figures of the book: one style (udml.plotting.style), one module per topic."""
from .style import (METHOD_COLORS, METHOD_LABELS, apply_style, method_color, method_label,
                    modality_color)

__all__ = ["METHOD_COLORS", "METHOD_LABELS", "apply_style", "method_color", "method_label",
           "modality_color"]
