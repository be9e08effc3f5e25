"""REUSE.toml gives each kind of file the licence the README states, including files to come.

`reuse lint` (in .ci/run) checks that every file has a licence and every licence its text; these
tests check WHICH licence a file gets, which `reuse lint` cannot know.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from _reuse import _pattern, licence_ids, licence_of

ROOT = Path(__file__).resolve().parents[1]


def test_reuse_globs_follow_the_specification():
    assert _pattern("book/*.py").match("book/colab.py")
    assert not _pattern("book/*.py").match("book/sub/colab.py")
    assert _pattern("udml/**").match("udml/av/train.py")
    assert not _pattern("data/fsdd*").match("data/mfeat.npz")


@pytest.mark.parametrize("path, expected", [
    ("udml/__init__.py", "MIT"),
    ("tests/test_licences.py", "MIT"),
    ("book/colab.py", "MIT"),
    ("book/check_rendered.py", "MIT"),
    ("data/make_mfeat.py", "MIT"),
    (".github/workflows/ci.yml", "MIT"),
    ("book/intro.md", "CC-BY-4.0"),
    ("book/images/readme.png", "CC-BY-4.0"),
    ("README.md", "CC-BY-4.0"),
    ("book/02_estimator.ipynb", "CC-BY-4.0 AND MIT"),
    ("book/02_estimator.py", "CC-BY-4.0 AND MIT"),
    ("book/12_later_chapter.py", "CC-BY-4.0 AND MIT"),
    ("results/main/mfeat.json", "CC-BY-4.0"),
    ("data/mfeat.npz", "CC-BY-4.0"),
    ("data/README.md", "CC-BY-4.0"),
    # the spoken-digit recordings and what is made from them, before they land
    ("data/fsdd.npz", "CC-BY-SA-4.0"),
    ("data/fsdd/0_jackson_0.wav", "CC-BY-SA-4.0"),
    ("results/main/fsdd.json", "CC-BY-SA-4.0"),
    ("book/_vendor/static/mathjax/tex-chtml.js", "Apache-2.0"),
    ("book/_vendor/static/mathjax/input/tex/extensions/color.js", "Apache-2.0"),
    ("book/_vendor/static/require/require.js", "MIT"),
    ("book/_vendor/static/widgets/embed-amd.js", "BSD-3-Clause AND MIT"),
    ("book/_vendor/static/widgets/d878b0a6a1144760244f.woff2", "OFL-1.1"),
    ("book/_vendor/static/widgets/config.js", "MIT"),
])
def test_each_kind_of_file_gets_its_licence(path, expected):
    assert licence_of(path) == expected


def test_every_tracked_file_has_a_licence_whose_text_is_in_LICENSES():
    try:
        tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    texts = {p.stem for p in (ROOT / "LICENSES").glob("*.txt")}
    unlicensed = [p for p in tracked if not p.startswith("LICENSES/") and licence_of(p) is None]
    assert unlicensed == []
    missing = {i for p in tracked if not p.startswith("LICENSES/") and (e := licence_of(p))
               for i in licence_ids(e)} - texts
    assert missing == set()
