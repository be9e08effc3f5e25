"""A Sphinx extension of the book: every image of a numbered figure gets the figure's caption as
its alt text.

The book's figures are glued from the notebooks' outputs (``glue:figure``), which gives the image
no alt text, so the HTML would name the image file instead; a screen reader would then read out a
hash. The caption says what the figure shows, so it is what the image stands for. Loaded by
``_config.yml`` (``sphinx.local_extensions``).
"""
from __future__ import annotations

from docutils import nodes


def caption_as_alt(app, doctree: nodes.document, docname: str) -> None:
    """Set the alt text of each image inside a captioned figure that has none."""
    for figure in doctree.findall(nodes.figure):
        caption = next(iter(figure.findall(nodes.caption)), None)
        if caption is None:
            continue
        text = " ".join(caption.astext().split())
        for image in figure.findall(nodes.image):
            if not image.get("alt"):
                image["alt"] = text


def setup(app) -> dict:
    app.connect("doctree-resolved", caption_as_alt)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
