"""book/addresses.py: README badges, pyproject URLs and CITATION.cff follow _config.yml."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book"))
import addresses  # noqa: E402
import bookinfo  # noqa: E402

_spec = importlib.util.spec_from_file_location("book_colab", ROOT / "book" / "colab.py")
colab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(colab)

README = f"# Title\n\n{addresses.BADGES_START}\nold badges\n{addresses.BADGES_END}\n\nText.\n"
PYPROJECT = """[project]
name = "demo"

[project.urls]
Homepage = "https://old.example/"
Source = "https://old.example/src"
Issues = "https://old.example/issues"
Changelog = "https://old.example/changes"
Paper = "https://arxiv.org/abs/2603.19681"

[tool.other]
Source = "left alone"
"""
CITATION = """cff-version: 1.2.0
repository-code: "https://old.example/src"
url: "https://old.example/"
references:
  - title: A paper
    url: "https://arxiv.org/abs/2603.19681"
"""


def _repo(root: Path, url: str = "https://github.com/Alice/demo", branch: str = "dev") -> Path:
    (root / "book").mkdir(parents=True)
    (root / "_config.yml").write_text(f"repository:\n  url: {url}\n  branch: {branch}\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n"
                                   "  - file: book/01_demo\n")
    (root / "book" / "intro.md").write_text("# Intro\n")
    nbformat.write(nbformat.v4.new_notebook(), root / "book" / "01_demo.ipynb")
    (root / "README.md").write_text(README)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "CITATION.cff").write_text(CITATION)
    return root


def test_the_repository_is_in_line_with_its_config():
    assert addresses.check() == []


def test_pages_url_lower_cases_the_owner(tmp_path):
    _repo(tmp_path)
    assert bookinfo.pages_url(tmp_path) == "https://alice.github.io/demo/"


def test_fix_writes_every_copy_from_the_config(tmp_path):
    root = _repo(tmp_path)
    problems = addresses.check(root)
    assert {p.split(":")[0] for p in problems} == {"README.md", "pyproject.toml", "CITATION.cff"}
    assert set(addresses.fix(root)) == {root / n for n in addresses.TARGETS}
    assert addresses.check(root) == []
    assert addresses.fix(root) == []  # idempotent

    readme = (root / "README.md").read_text()
    assert readme.startswith("# Title\n\n" + addresses.BADGES_START) and readme.endswith("\n\nText.\n")
    assert "old badges" not in readme
    assert ("[![CI](https://github.com/Alice/demo/actions/workflows/ci.yml/badge.svg?branch=dev)]"
            "(https://github.com/Alice/demo/actions/workflows/ci.yml)") in readme
    assert "(https://alice.github.io/demo/)" in readme
    assert "(https://colab.research.google.com/github/Alice/demo/blob/dev/book/01_demo.ipynb)" in readme

    pyproject = (root / "pyproject.toml").read_text()
    assert 'Homepage = "https://alice.github.io/demo/"' in pyproject
    assert 'Source = "https://github.com/Alice/demo"' in pyproject
    assert 'Issues = "https://github.com/Alice/demo/issues"' in pyproject
    assert 'Changelog = "https://github.com/Alice/demo/blob/dev/CHANGELOG.md"' in pyproject
    assert 'Paper = "https://arxiv.org/abs/2603.19681"' in pyproject  # not derived: untouched
    assert 'Source = "left alone"' in pyproject  # outside [project.urls]

    citation = (root / "CITATION.cff").read_text()
    assert 'repository-code: "https://github.com/Alice/demo"' in citation
    assert 'url: "https://alice.github.io/demo/"' in citation
    assert '    url: "https://arxiv.org/abs/2603.19681"' in citation  # the reference's own url


def test_a_changed_address_is_reported_line_by_line_and_fixed(tmp_path):
    root = _repo(tmp_path)
    addresses.fix(root)
    (root / "_config.yml").write_text("repository:\n  url: https://github.com/bob/book.git\n")
    problems = addresses.check(root)
    assert len(problems) == 3  # one run of changed lines in each file
    for problem, name in zip(problems, addresses.TARGETS):
        old, new = problem.removeprefix(f"{name}: ").split(" should read ")
        assert "Alice/demo" in old and "bob/book" in new and "Alice" not in new
    assert "blob/main/CHANGELOG.md" in problems[1]  # the default branch
    addresses.fix(root)
    assert addresses.check(root) == []
    assert "Alice" not in (root / "README.md").read_text()


def test_missing_places_are_named(tmp_path):
    root = _repo(tmp_path)
    (root / "README.md").write_text("# Title\n")
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n\n[project.urls]\n')
    (root / "CITATION.cff").unlink()
    problems = addresses.check(root)
    assert "README.md: has no the badge block (its two marker lines) to hold the repository's " \
           "address" in problems
    assert any("[project.urls] Homepage" in p for p in problems)
    assert "CITATION.cff: missing" in problems
    addresses.fix(root)  # cannot invent the places: still reported
    assert len(addresses.check(root)) == len(problems)


def test_colab_command_checks_and_fixes_everything(tmp_path, capsys):
    root = _repo(tmp_path)
    assert colab.main(["--check"], root=root) == 1
    assert "CITATION.cff" in capsys.readouterr().err
    assert colab.main(["--fix"], root=root) == 0
    assert addresses.check(root) == [] and colab.check(root) == []
