"""Portability: the book's stored outputs hold on a machine that is not the one that made them,
and a reader's build leaves the checkout as it was.

The stored outputs are compared with a fresh run once, by the book tier (strict nbval), whose
kernels report another platform string, host name and core count (book/conftest.py); CI runs it
on a fresh clone. These tests check that the other machine is really seen by those kernels, that
no stored output names the folder of this checkout (a path that differs on any other machine),
and that a reader's build, from a fresh copy of the checkout, executes into ``_build`` only.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book"))
import bookinfo  # noqa: E402

_spec = importlib.util.spec_from_file_location("book_conftest", ROOT / "book" / "conftest.py")
book_tier = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book_tier)
OTHER = [book_tier.OTHER_PLATFORM, book_tier.OTHER_HOST, str(book_tier.OTHER_CPUS)]
REPORT = "import os, platform, socket; print(platform.platform(), socket.gethostname(), os.cpu_count())"


def _fresh_copy(dest: Path) -> Path:
    """Copy the files a clone of this working tree would hold into `dest`; skip outside git."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot tell tracked files from build outputs")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a deleted but still indexed file is not part of the tree
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def test_the_spoof_changes_what_python_reports(tmp_path):
    """The book tier is only a portability check if Python really reports another machine."""
    env = book_tier.with_spoof(dict(os.environ), book_tier.write_spoof(tmp_path / "spoof"))
    seen = subprocess.run([sys.executable, "-c", REPORT], env=env, capture_output=True, text=True,
                          check=True, timeout=60).stdout.split()
    assert seen == OTHER
    here = subprocess.run([sys.executable, "-c", REPORT], capture_output=True, text=True,
                          check=True, timeout=60).stdout.split()
    assert here != OTHER


def test_the_chapters_kernels_see_the_other_machine_and_other_tests_do_not(tmp_path):
    """Strict nbval with book/conftest.py, on a notebook whose stored output is the other
    machine's identity: it passes only if the kernel started on the other machine; the check of
    this process's environment afterwards fails if the spoof leaked out of the kernel's start;
    the cells, and nothing else, are in the book tier."""
    shutil.copy2(ROOT / "book" / "conftest.py", tmp_path / "conftest.py")
    cell = nbformat.v4.new_code_cell(REPORT, execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=" ".join(OTHER) + "\n")]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, tmp_path / "identity.ipynb")
    (tmp_path / "test_after.py").write_text(
        "import os\n\ndef test_environment_is_as_it_was():\n"
        f"    assert os.environ.get('PYTHONPATH') == {os.environ.get('PYTHONPATH')!r}\n",
        encoding="utf-8")
    pytest_in_tmp = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", os.devnull,
                     "--rootdir", str(tmp_path), "--nbval", "--nbval-current-env",
                     "--strict-markers", "-o", "markers=book", "identity.ipynb", "test_after.py"]
    result = subprocess.run(pytest_in_tmp, cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    marked = subprocess.run(pytest_in_tmp + ["--collect-only", "-q", "-m", "book"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300).stdout
    assert "identity.ipynb::Cell 0" in marked and "1 deselected" in marked, marked


def test_no_stored_output_names_this_checkouts_folder():
    """The book tier runs in the checkout, so the folder is the same as when the outputs were
    made here: a printed path would pass nbval here and fail on any other machine."""
    for chapter in bookinfo.chapters():
        notebook = nbformat.read(chapter, as_version=4)
        outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
        assert str(ROOT) not in outputs, f"{bookinfo.relative(chapter)} prints {ROOT}"


@pytest.mark.slow
def test_a_readers_build_injects_the_parameters_and_leaves_the_tracked_files_unchanged(tmp_path):
    """book/build.py, the README's book command, executes with papermill into _build, never in
    place; its parameters (here the tiny profile) reach the chapter. One chapter, the quickest:
    the book tier executes every chapter, and the machinery is the same for all."""
    clone = _fresh_copy(tmp_path / "clone")
    git = ["git", "-c", "user.name=check", "-c", "user.email=check@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fresh clone"]):
        subprocess.run(git + args, cwd=clone, check=True, capture_output=True, timeout=120)
    chapter = "04_fusion"
    result = subprocess.run([sys.executable, "book/build.py", "--chapters", chapter, "--device",
                             "cpu", "--profile", "tiny", "--no-render"],
                            cwd=clone, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone,
                            capture_output=True, text=True, check=True).stdout
    assert status == "", f"the build changed the checkout:\n{status}"
    run = clone / "_build" / "runs" / "tiny-cpu-seed0" / "book"
    assert (run / "_timings.json").is_file()
    nb = nbformat.read(run / f"{chapter}.ipynb", as_version=4)
    tags = [cell.metadata.get("tags", []) for cell in nb.cells]
    injected = nb.cells[next(i for i, t in enumerate(tags) if "parameters" in t) + 1]
    assert "injected-parameters" in injected.metadata["tags"]
    assert 'device = "cpu"' in injected.source and 'profile = "tiny"' in injected.source
    printed = "".join(output.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                      for output in cell.outputs)
    assert "device=cpu profile=tiny seed=0" in printed
    assert nb.metadata.papermill.exception is None
