"""What a public repository needs besides the code: citation, changelog, GitHub workflows.

The schema of CITATION.cff and the workflows' syntax are checked by check-jsonschema and
actionlint in .ci/run; these tests check what those tools cannot know.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

import udml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def _yaml(path: Path) -> dict:
    # PyYAML reads a workflow's `on:` key as True (YAML 1.1); give it its name back
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {("on" if key is True else key): value for key, value in data.items()}


def test_citation_changelog_and_package_name_one_version():
    citation = _yaml(ROOT / "CITATION.cff")
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    first = re.search(r"^## (\S+)", changelog, re.MULTILINE)
    assert first, "CHANGELOG.md has no '## VERSION' heading"
    assert citation["version"] == first[1] == udml.__version__


def test_citation_names_the_paper_and_the_licences():
    citation = _yaml(ROOT / "CITATION.cff")
    (paper,) = citation["references"]
    assert paper["title"] == "Unbiased Dynamic Multimodal Fusion"
    assert [a["family-names"] for a in paper["authors"]] == ["Wei", "Zhang", "Chen", "He", "Duan"]
    assert "2603.19681" in paper["url"]
    assert set(citation["license"]) == {"MIT", "CC-BY-4.0"}


def test_ci_workflow_runs_the_ci_script_on_push_and_pull_request():
    ci = _yaml(WORKFLOWS / "ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    runs = [step.get("run") for job in ci["jobs"].values() for step in job["steps"]]
    assert ".ci/run" in runs
    assert all(job.get("timeout-minutes", 360) <= 90 for job in ci["jobs"].values())


def test_pages_workflow_builds_the_book_and_deploys_it():
    pages = _yaml(WORKFLOWS / "pages.yml")
    assert pages["on"]["push"]["branches"] == ["main"]
    steps = [step for job in pages["jobs"].values() for step in job["steps"]]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "book/build.py" in runs and "book/colab.py --check" in runs
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert [s["with"]["path"] for s in uploads] == ["_build/html"]
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in steps)
    assert pages["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_no_workflow_needs_a_secret():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bsecrets\.", text), f"{path.name} uses a secret"
