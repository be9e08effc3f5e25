"""Which licence REUSE.toml gives a path, read the way the REUSE specification reads it.

In an annotation's ``path`` a ``*`` matches within one folder, ``**`` across folders; when
several annotations match a path, the last one applies. Used by the tests that check what the
wheel ships and where files that have not landed yet will fall.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pattern(glob: str) -> re.Pattern:
    parts = re.split(r"(\*\*|\*)", glob)
    wildcard = {"**": ".*", "*": "[^/]*"}
    return re.compile("".join(wildcard.get(part, re.escape(part)) for part in parts) + r"\Z")


def annotations(root: Path = ROOT) -> list[tuple[list[re.Pattern], str]]:
    """(path patterns, SPDX expression) of every annotation of REUSE.toml, in file order."""
    table = tomllib.loads((Path(root) / "REUSE.toml").read_text(encoding="utf-8"))
    found = []
    for entry in table.get("annotations", []):
        paths = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
        found.append(([_pattern(p) for p in paths], entry["SPDX-License-Identifier"]))
    return found


def licence_of(path: str, root: Path = ROOT) -> str | None:
    """The SPDX expression REUSE.toml gives a repository path (POSIX, relative); None if none."""
    matching = [expr for patterns, expr in annotations(root)
                if any(p.match(path) for p in patterns)]
    return matching[-1] if matching else None


def licence_ids(expression: str) -> set[str]:
    """The licence identifiers named in an SPDX expression."""
    return set(re.findall(r"[A-Za-z0-9.+-]+", expression)) - {"AND", "OR", "WITH"}
