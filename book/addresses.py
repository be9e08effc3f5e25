"""Keep the copies of the repository's address outside the notebooks in line with ``_config.yml``.

``_config.yml`` (``repository.url`` and ``repository.branch``) is the one place that holds the
address. ``colab.py`` writes it into the chapters' Colab badges and install cells; this module
writes it into the other files that must name it:

* ``README.md``: the badge block between ``BADGES_START`` and ``BADGES_END`` (the CI status,
  the published book, the first chapter on Colab);
* ``pyproject.toml``: the ``Homepage``, ``Source``, ``Issues`` and ``Changelog`` lines of
  ``[project.urls]``;
* ``CITATION.cff``: its top-level ``repository-code`` and ``url``.

The book's launch buttons (Colab, Binder, the repository button) need no copy: Jupyter Book
builds them from ``repository`` and ``launch_buttons`` in ``_config.yml`` at build time.
``python book/colab.py --check`` / ``--fix`` run this module together with the chapters.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path

import bookinfo

BADGES_START = "<!-- badges: written by `python book/colab.py --fix` from _config.yml -->"
BADGES_END = "<!-- end of badges -->"
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def readme_badges(root: Path = bookinfo.ROOT) -> str:
    """The README's badge block, markers included: CI status, the book, the first chapter on Colab."""
    repo = bookinfo.repository(root)
    workflows = f"{repo['url']}/actions/workflows"
    first = bookinfo.chapters(root)[0]
    return "\n".join([
        BADGES_START,
        f"[![CI]({workflows}/ci.yml/badge.svg?branch={repo['branch']})]({workflows}/ci.yml)",
        f"[![Book]({workflows}/pages.yml/badge.svg?branch={repo['branch']})]"
        f"({bookinfo.pages_url(root)})",
        f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({bookinfo.colab_url(first, root)})",
        BADGES_END,
    ])


def project_urls(root: Path = bookinfo.ROOT) -> dict[str, str]:
    """The address-derived entries of ``[project.urls]`` in ``pyproject.toml``."""
    repo = bookinfo.repository(root)
    return {
        "Homepage": bookinfo.pages_url(root),
        "Source": repo["url"],
        "Issues": f"{repo['url']}/issues",
        "Changelog": f"{repo['url']}/blob/{repo['branch']}/CHANGELOG.md",
    }


def citation_fields(root: Path = bookinfo.ROOT) -> dict[str, str]:
    """The address-derived top-level fields of ``CITATION.cff``."""
    return {"repository-code": bookinfo.repository(root)["url"], "url": bookinfo.pages_url(root)}


def _set_lines(text: str, values: dict[str, str], line: Callable[[str, str], str],
               start: int = 0, end: int | None = None) -> tuple[str, list[str]]:
    """Rewrite the line of each key (as ``line(key, ...)`` shapes it) within text[start:end].

    Returns the new text and the keys that have no such line. A key's line is recognised by
    ``line(key, "")`` up to where the value goes, at the start of a line.
    """
    end = len(text) if end is None else end
    head, body, tail = text[:start], text[start:end], text[end:]
    missing = []
    for key, value in values.items():
        prefix = re.escape(line(key, "").rstrip('"'))
        pattern = re.compile(rf"^{prefix}.*$", re.MULTILINE)
        if not pattern.search(body):
            missing.append(key)
            continue
        body = pattern.sub(lambda _: line(key, value), body, count=1)
    return head + body + tail, missing


def render_readme(text: str, root: Path = bookinfo.ROOT) -> tuple[str, list[str]]:
    """README.md with its badge block rewritten; the block is missing when a marker is."""
    start, end = text.find(BADGES_START), text.find(BADGES_END)
    if start < 0 or end < start:
        return text, ["the badge block (its two marker lines)"]
    return text[:start] + readme_badges(root) + text[end + len(BADGES_END):], []


def render_pyproject(text: str, root: Path = bookinfo.ROOT) -> tuple[str, list[str]]:
    """pyproject.toml with the address-derived lines of ``[project.urls]`` rewritten."""
    header = re.search(r"^\[project\.urls\][ \t]*$", text, re.MULTILINE)
    if not header:
        return text, ["the [project.urls] table"]
    following = re.compile(r"^\[", re.MULTILINE).search(text, header.end())
    new, missing = _set_lines(text, project_urls(root), lambda k, v: f'{k} = "{v}"',
                              header.end(), following.start() if following else None)
    return new, [f"[project.urls] {key}" for key in missing]


def render_citation(text: str, root: Path = bookinfo.ROOT) -> tuple[str, list[str]]:
    """CITATION.cff with its top-level ``repository-code`` and ``url`` rewritten."""
    new, missing = _set_lines(text, citation_fields(root), lambda k, v: f'{k}: "{v}"')
    return new, [f"top-level {key}" for key in missing]


TARGETS: dict[str, Callable[[str, Path], tuple[str, list[str]]]] = {
    "README.md": render_readme,
    "pyproject.toml": render_pyproject,
    "CITATION.cff": render_citation,
}


def _differences(name: str, old: str, new: str) -> list[str]:
    """One message per run of lines that the rewrite would change."""
    a, b = old.splitlines(), new.splitlines()
    runs = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    return [f"{name}: {' / '.join(a[i1:i2]) or '(nothing)'!r} should read "
            f"{' / '.join(b[j1:j2]) or '(nothing)'!r}"
            for tag, i1, i2, j1, j2 in runs if tag != "equal"]


def check(root: Path = bookinfo.ROOT) -> list[str]:
    """What is out of line with ``_config.yml`` in README.md, pyproject.toml and CITATION.cff."""
    found = []
    for name, render in TARGETS.items():
        path = Path(root) / name
        if not path.is_file():
            found.append(f"{name}: missing")
            continue
        text = path.read_text(encoding="utf-8")
        new, missing = render(text, root)
        found += [f"{name}: has no {what} to hold the repository's address" for what in missing]
        if new != text:
            found += _differences(name, text, new)
    return found


def fix(root: Path = bookinfo.ROOT) -> list[Path]:
    """Rewrite the address-derived lines of the three files; return the files changed."""
    changed = []
    for name, render in TARGETS.items():
        path = Path(root) / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        new, _ = render(text, root)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed
