#!/usr/bin/env python
"""Keep every copy of the repository's address in line with ``_config.yml``: the one command.

``_config.yml`` (``repository.url``, ``repository.branch``) holds the address. Each chapter (a
``.ipynb`` listed in ``_toc.yml``) and its py:percent twin must

* open with a markdown cell that carries an "Open In Colab" badge whose link is the Colab
  address of that very notebook on the repository named in ``_config.yml``, and
* have as its first code cell the idempotent install guard: ``import udml``, and only if that
  fails ``%pip install`` it (with its data) from the same repository. Nothing else is
  installed, so nothing that Colab already ships gets pinned or replaced.

The README's badges, the package's URLs in ``pyproject.toml`` and the addresses in
``CITATION.cff`` are checked and rewritten too (``addresses.py``); the book's launch buttons are
built from ``_config.yml`` by Jupyter Book itself.

    python book/colab.py --check   # list everything out of line; exit 1 if anything is
    python book/colab.py --fix     # rewrite badges, install cells, URLs from _config.yml

Run ``--fix`` after changing the repository's address in ``_config.yml``. It rewrites only the
sources of those cells and lines: the notebooks' stored outputs stay as they are.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import jupytext
import nbformat
from jupytext.config import load_jupytext_config

sys.path.insert(0, str(Path(__file__).resolve().parent))
import addresses  # noqa: E402
import bookinfo  # noqa: E402

BADGE_IMAGE = addresses.COLAB_BADGE_IMAGE
BADGE_PATTERN = re.compile(r"\[!\[Open In Colab\]\([^)\s]*\)\]\([^)\s]*\)")
_HEADING = re.compile(r"^#\s")


def badge(notebook: Path, root: Path = bookinfo.ROOT) -> str:
    """The markdown of the "Open In Colab" badge for one chapter notebook."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({bookinfo.colab_url(notebook, root)})"


def install_source(root: Path = bookinfo.ROOT) -> str:
    """The exact source of the install-guard cell, built from the repository's address."""
    return (
        "# Install guard: installs `udml` (with its data) from the book's\n"
        "# repository when it is missing, as on Colab; a no-op otherwise.\n"
        "try:\n"
        "    import udml  # noqa: F401\n"
        "except ImportError:\n"
        f'    %pip install --quiet "{bookinfo.install_target(root)}"'
    )


def _looks_like_install_guard(source: str) -> bool:
    return "import udml" in source and "pip install" in source


def problems_in(nb: nbformat.NotebookNode, notebook: Path, label: str,
                root: Path = bookinfo.ROOT) -> list[str]:
    """What is wrong with one notebook object's badge and install cell (empty list: all fine)."""
    found = []
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        found.append(f"{label}: the first cell must be a markdown cell with the Colab badge")
    else:
        badges = BADGE_PATTERN.findall(nb.cells[0].source)
        expected = badge(notebook, root)
        if len(badges) != 1:
            found.append(f"{label}: the first cell must carry exactly one Colab badge, "
                         f"found {len(badges)}")
        elif badges[0] != expected:
            found.append(f"{label}: Colab badge is {badges[0]!r}, expected {expected!r}")
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if not code:
        found.append(f"{label}: no code cell; the first one must be the install guard")
    elif code[0].source.strip() != install_source(root):
        found.append(f"{label}: the first code cell is not the install guard built from "
                     f"_config.yml (run `python book/colab.py --fix`)")
    return found


def check(root: Path = bookinfo.ROOT) -> list[str]:
    """Problems of every chapter notebook and of its twin, in toc order."""
    found = []
    for notebook in bookinfo.chapters(root):
        found += problems_in(nbformat.read(notebook, as_version=4), notebook,
                             bookinfo.relative(notebook, root), root)
        twin = bookinfo.twin_of(notebook)
        if not twin.is_file():
            found.append(f"{bookinfo.relative(notebook, root)}: its twin "
                         f"{bookinfo.relative(twin, root)} is missing")
            continue
        found += problems_in(jupytext.read(twin, fmt="py:percent"), notebook,
                             bookinfo.relative(twin, root), root)
    return found


def apply(nb: nbformat.NotebookNode, notebook: Path, root: Path = bookinfo.ROOT) -> bool:
    """Put the expected badge and install cell into a notebook object; True if it changed."""
    before = [(cell.cell_type, cell.source) for cell in nb.cells]
    expected = badge(notebook, root)
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(expected))
    first = nb.cells[0]
    if BADGE_PATTERN.search(first.source):
        first.source = BADGE_PATTERN.sub(lambda _: expected, first.source, count=1)
        # drop any further badges: one per chapter
        head, _, tail = first.source.partition(expected)
        first.source = head + expected + BADGE_PATTERN.sub("", tail)
    else:
        lines = first.source.split("\n")
        if _HEADING.match(lines[0]):  # keep the title first, the badge right under it
            lines = [lines[0], "", expected, ""] + lines[1:]
        else:
            lines = [expected, ""] + lines
        first.source = "\n".join(lines).strip("\n")
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if code and _looks_like_install_guard(code[0].source):
        code[0].source = install_source(root)
    else:
        position = nb.cells.index(code[0]) if code else len(nb.cells)
        nb.cells.insert(position, nbformat.v4.new_code_cell(install_source(root)))
    if nb.nbformat_minor < 5:  # cell ids exist from nbformat 4.5 on
        for cell in nb.cells:
            cell.pop("id", None)
    return before != [(cell.cell_type, cell.source) for cell in nb.cells]


def fix(root: Path = bookinfo.ROOT) -> list[Path]:
    """Rewrite badges and install cells of every chapter and twin; return the files changed."""
    changed = []
    jupytext_config = load_jupytext_config(str(Path(root) / "book"))
    for notebook in bookinfo.chapters(root):
        nb = nbformat.read(notebook, as_version=4)
        if apply(nb, notebook, root):
            nbformat.write(nb, notebook)
            changed.append(notebook)
        twin = bookinfo.twin_of(notebook)
        text = jupytext.read(twin, fmt="py:percent") if twin.is_file() else nb
        if apply(text, notebook, root) or not twin.is_file():
            twin.write_text(jupytext.writes(text, fmt="py:percent", config=jupytext_config),
                            encoding="utf-8")
            changed.append(twin)
    return changed


def main(argv: list[str] | None = None, root: Path = bookinfo.ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="report everything out of line")
    mode.add_argument("--fix", action="store_true",
                      help="rewrite badges, install cells and URLs from _config.yml")
    args = parser.parse_args(argv)
    if bookinfo.is_placeholder(root):
        print(f"note: _config.yml repository.url is still the placeholder "
              f"({bookinfo.repository(root)['url']}); badges and install cells point there.")
    if args.fix:
        for path in fix(root) + addresses.fix(root):
            print(f"rewrote {bookinfo.relative(path, root)}")
    found = check(root) + addresses.check(root)
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        print(f"{len(found)} problem(s); `python book/colab.py --fix` rewrites them",
              file=sys.stderr)
        return 1
    print(f"ok: {len(bookinfo.chapters(root))} chapter(s) carry the badge and install cell, and "
          f"{', '.join(addresses.TARGETS)} the address, of {bookinfo.repository(root)['url']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
