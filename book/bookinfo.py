"""Facts about the book, each read from the one file that holds it.

The chapters and their order come from ``_toc.yml``; the repository's public address (used by the
Colab badges, the install cells, the README's badges, the package's URLs and the citation file)
comes from ``_config.yml``; a chapter ``book/NN_name.ipynb``
has its py:percent twin at ``book/NN_name.py`` (``jupytext.toml``). ``build.py``, ``colab.py``,
``check_rendered.py`` and ``tests/test_book.py`` all ask this module instead of repeating them.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]

# What the `parameters` cell of every chapter defines, with these defaults: the default CPU run.
DEFAULT_PARAMETERS = {"device": "auto", "seed": 0, "profile": "default"}
DEVICES = ("auto", "cpu", "cuda")

# The marker that _config.yml carries while the public address is unknown.
PLACEHOLDER_OWNER = "REPLACE-WITH-OWNER"

_GITHUB = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, with an error that names the file when it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a YAML mapping, got {type(data).__name__}")
    return data


def config(root: Path = ROOT) -> dict[str, Any]:
    """The book's ``_config.yml`` as a dict."""
    return load_yaml(Path(root) / "_config.yml")


def toc_docnames(root: Path = ROOT) -> list[str]:
    """Every file entry of ``_toc.yml`` in reading order, as written (no suffix), root first."""
    toc = load_yaml(Path(root) / "_toc.yml")
    if "root" not in toc:
        raise ValueError(f"{Path(root) / '_toc.yml'} has no `root` entry")
    names = [str(toc["root"])]

    def walk(entries: Any) -> None:
        for entry in entries or []:
            if not isinstance(entry, dict):
                raise ValueError(f"_toc.yml: unexpected entry {entry!r}")
            if "glob" in entry:
                raise ValueError("_toc.yml: `glob` entries are not supported; list each file")
            if "file" in entry:
                names.append(str(entry["file"]))
            for key in ("chapters", "sections", "parts"):
                walk(entry.get(key))

    walk([{key: toc.get(key) for key in ("chapters", "parts", "sections")}])
    return names


def resolve(docname: str, root: Path = ROOT) -> Path:
    """The source file behind a toc entry: exactly one of ``.md`` and ``.ipynb`` must exist."""
    base = Path(root) / docname
    if base.suffix in (".md", ".ipynb"):
        found = [base] if base.is_file() else []
    else:
        candidates = (base.with_name(base.name + ".md"), base.with_name(base.name + ".ipynb"))
        found = [path for path in candidates if path.is_file()]
    if not found:
        raise FileNotFoundError(f"_toc.yml lists {docname!r} but neither {docname}.md nor "
                                f"{docname}.ipynb exists under {root}")
    if len(found) > 1:
        raise ValueError(f"_toc.yml entry {docname!r} matches both {found[0].name} and "
                         f"{found[1].name}: keep one (a .md beside an .ipynb breaks the build)")
    return found[0]


def pages(root: Path = ROOT) -> list[Path]:
    """Source files of every page in the toc, in reading order."""
    return [resolve(name, root) for name in toc_docnames(root)]


def chapters(root: Path = ROOT) -> list[Path]:
    """The executable chapters: the toc's ``.ipynb`` pages, in reading order."""
    return [page for page in pages(root) if page.suffix == ".ipynb"]


def twin_of(notebook: Path) -> Path:
    """The py:percent twin of a chapter notebook (same folder, same stem)."""
    return Path(notebook).with_suffix(".py")


def repository(root: Path = ROOT) -> dict[str, str]:
    """The repository's address split into url, owner, name and branch (from ``_config.yml``)."""
    repo = config(root).get("repository") or {}
    url = str(repo.get("url") or "")
    match = _GITHUB.match(url)
    if not match:
        raise ValueError(f"_config.yml repository.url must look like https://github.com/OWNER/NAME "
                         f"(Colab opens notebooks from GitHub), got {url!r}")
    branch = str(repo.get("branch") or "main")
    return {"url": f"https://github.com/{match['owner']}/{match['name']}", "owner": match["owner"],
            "name": match["name"], "branch": branch}


def is_placeholder(root: Path = ROOT) -> bool:
    """True while ``_config.yml`` still carries the placeholder address."""
    return repository(root)["owner"] == PLACEHOLDER_OWNER


def relative(path: Path, root: Path = ROOT) -> str:
    """A path inside the book as a POSIX string relative to the root (for URLs and messages)."""
    return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()


def colab_url(notebook: Path, root: Path = ROOT) -> str:
    """The address that opens a chapter notebook in Colab, straight from GitHub."""
    repo = repository(root)
    return (f"https://colab.research.google.com/github/{repo['owner']}/{repo['name']}/blob/"
            f"{repo['branch']}/{relative(notebook, root)}")


def pages_url(root: Path = ROOT) -> str:
    """Where GitHub Pages publishes the built book (GitHub lower-cases the owner in the host)."""
    repo = repository(root)
    return f"https://{repo['owner'].lower()}.github.io/{repo['name']}/"


def install_target(root: Path = ROOT) -> str:
    """What ``pip install`` is given to get ``udml`` (with its data) from the repository."""
    repo = repository(root)
    return f"udml @ git+{repo['url']}@{repo['branch']}"
