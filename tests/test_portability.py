"""Portability: the book's stored outputs hold on a machine that is not the one that made them,
and a reader's build leaves the checkout as it was.

Both tests work on a fresh copy of the checkout's files (tracked and untracked-but-not-ignored,
as a clone with this working tree would hold them: no `_build`, no earlier run), in a temporary
folder, so that nothing a previous build left behind can make them pass.

The "other machine" is this one reporting another identity: a `sitecustomize` module on the
kernel's path makes `platform`, `socket` and `os` report another platform string, host name and
core count, and the copy lives under another path. A chapter whose printed output depends on any
of these fails strict nbval there.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OTHER_PLATFORM = "Otherplatform-9.9-portability-check-x86_64-with-libc0.0"
OTHER_HOST = "portability-check-host"
OTHER_CPUS = 7
SPOOF = f'''"""Report another machine's identity (see tests/test_portability.py)."""
import os
import platform
import socket

platform.platform = lambda *args, **kwargs: {OTHER_PLATFORM!r}
platform.node = lambda: {OTHER_HOST!r}
socket.gethostname = lambda: {OTHER_HOST!r}
os.cpu_count = lambda: {OTHER_CPUS}
'''


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


def _other_machine_env(tmp_path: Path, clone: Path) -> dict:
    spoof = tmp_path / "spoof"
    spoof.mkdir()
    (spoof / "sitecustomize.py").write_text(SPOOF, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(spoof), str(clone)])
    return env


def test_the_spoof_changes_what_python_reports(tmp_path):
    """The check below is only worth something if the kernel really sees another machine."""
    clone = tmp_path / "clone"
    clone.mkdir()
    env = _other_machine_env(tmp_path, clone)
    code = ("import os, platform, socket; "
            "print(platform.platform(terse=True), socket.gethostname(), os.cpu_count())")
    seen = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, timeout=60).stdout.split()
    assert seen == [OTHER_PLATFORM, OTHER_HOST, str(OTHER_CPUS)]


def test_stored_outputs_hold_on_another_machine_from_a_fresh_clone(tmp_path):
    clone = _fresh_copy(tmp_path / "clone")
    assert not (clone / "_build").exists()
    env = _other_machine_env(tmp_path, clone)
    # the project's own pytest settings: strict nbval with the sanitiser, bounded waits
    result = subprocess.run([sys.executable, "-m", "pytest", "book", "-q", "-p", "no:cacheprovider",
                             "--durations=0"], cwd=clone, env=env, capture_output=True, text=True,
                            timeout=1100)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    assert result.returncode == 0, f"stored outputs differ on another machine:\n{tail}"
    assert " passed" in tail and "failed" not in tail


def test_a_readers_build_leaves_the_tracked_files_unchanged(tmp_path):
    """book/build.py, the README's book command, executes into _build, never in place."""
    clone = _fresh_copy(tmp_path / "clone")
    git = ["git", "-c", "user.name=check", "-c", "user.email=check@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fresh clone"]):
        subprocess.run(git + args, cwd=clone, check=True, capture_output=True, timeout=120)
    chapter = "06_audiovisual"  # the quickest chapter: the behaviour is the same for all
    result = subprocess.run([sys.executable, "book/build.py", "--chapters", chapter, "--no-render"],
                            cwd=clone, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone,
                            capture_output=True, text=True, check=True).stdout
    assert status == "", f"the build changed the checkout:\n{status}"
    assert (clone / "_build" / "runs" / "default-cpu-seed0" / "book" / f"{chapter}.ipynb").is_file()
    assert (clone / "_build" / "runs" / "default-cpu-seed0" / "book" / "_timings.json").is_file()
