#!/usr/bin/env python
"""What a reader of each chapter faces, counted on its stored outputs: words of prose, tables
shown, figures.

    python book/measure.py            # one line per chapter of _toc.yml

Prose is what the rendered page shows as text: the Markdown cells (figure captions included,
code blocks and tables not), with each ``{glue:md}`` role and directive replaced by the glued
text, plus
the Markdown that code cells display. A table is shown when it sits in a Markdown cell or in the
output of a cell whose output is not folded (``hide-output``); a figure is a ``glue:figure``
directive or an image that a cell with unfolded output displays. The book's limits, checked by
tests/test_book.py: at most ``MAX_WORDS`` words and ``MAX_TABLES`` tables shown per chapter.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bookinfo  # noqa: E402

MAX_WORDS, MAX_TABLES = 4000, 10
GLUE_MD = re.compile(r"\{glue:md\}`([^`:]+)(?::[^`]*)?`")  # the role, with or without a format
GLUE_MD_BLOCK = re.compile(r"^(`{3,})\{glue:md\}\s+([^\s:]+)[^\n]*\n(?::[^\n]*\n)*\1", re.M)
FOLDED = {"hide-output", "remove-output", "remove-cell"}
RECORD = "application/papermill.record/"


def glued(nb: nbformat.NotebookNode) -> dict[str, str]:
    """{name: glued Markdown} of a notebook (myst-nb's glue records)."""
    out = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data, name = output.get("data", {}), output.get("metadata", {}).get("scrapbook", {})
            if RECORD + "text/markdown" in data and name.get("name"):
                out[name["name"]] = data[RECORD + "text/markdown"]
    return out


def expand_glue(text: str, glue: dict[str, str]) -> str:
    """``text`` with each ``{glue:md}`` role and directive replaced by its glued Markdown."""
    text = GLUE_MD_BLOCK.sub(lambda m: glue.get(m.group(2), ""), text)
    return GLUE_MD.sub(lambda m: glue.get(m.group(1), ""), text)


def split_markdown(text: str) -> tuple[list[str], int]:
    """(lines of prose, number of tables) of a Markdown text: fenced code and directive options
    are left out (a figure directive's caption is prose), each run of '|' lines is one table."""
    prose, tables, fence, in_table, directive = [], 0, None, False, False
    for line in text.splitlines():
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            elif directive and not stripped.startswith(":"):
                prose.append(line)
            continue
        match = re.match(r"^(`{3,}|~{3,})(\{[^}]+\})?", stripped)
        if match:
            fence, directive = match.group(1), match.group(2) is not None
            continue
        is_table = stripped.startswith("|")
        if is_table and not in_table:
            tables += 1
        in_table = is_table
        if not is_table:
            prose.append(line)
    return prose, tables


def words(lines: list[str]) -> int:
    """Words of prose lines: runs of letters or digits, Markdown and maths markup ignored."""
    return sum(len(re.findall(r"[A-Za-z0-9][A-Za-z0-9'’.,-]*", line)) for line in lines)


def measure(path: Path) -> dict[str, int]:
    """{"words", "tables", "figures"} of one stored chapter."""
    nb = nbformat.read(path, as_version=4)
    glue = glued(nb)
    counts = {"words": 0, "tables": 0, "figures": 0}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            prose, tables = split_markdown(expand_glue(cell.source, glue))
            counts["words"] += words(prose)
            counts["tables"] += tables
            counts["figures"] += cell.source.count("{glue:figure}")
            continue
        if cell.cell_type != "code" or FOLDED & set(cell.metadata.get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/markdown" in data:
                prose, tables = split_markdown(data["text/markdown"])
                counts["words"] += words(prose)
                counts["tables"] += tables
            elif "text/html" in data:
                counts["tables"] += data["text/html"].count("<table")
            if "image/png" in data or "image/svg+xml" in data:
                counts["figures"] += 1
    return counts


def main() -> int:
    print(f"{'chapter':32} {'words':>6} {'tables':>6} {'figures':>7}")
    for path in bookinfo.chapters():
        c = measure(path)
        flag = " (over the limit)" if c["words"] > MAX_WORDS or c["tables"] > MAX_TABLES else ""
        print(f"{bookinfo.relative(path)!s:32} {c['words']:>6} {c['tables']:>6} "
              f"{c['figures']:>7}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
