"""The book tier: strict nbval runs every chapter once, on a machine that reports another identity.

pytest with ``--nbval`` (pyproject's addopts) re-executes each chapter and compares every output
with the stored one. The kernels start with a ``sitecustomize`` module first on their path that
makes ``platform``, ``socket`` and ``os`` report another platform string, host name and core
count, so this one run is also the portability check: a chapter whose printed output depends on
the machine it runs on fails here rather than on a reader's machine. Only the kernels see it:
PYTHONPATH names the module while nbval starts a chapter's kernel and is restored at once, so the
subprocesses of other tests see this machine. The chapters' cells are marked ``book``
(tests/conftest.py leaves that tier out of a plain ``pytest``).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from nbval.plugin import IPyNbCell

OTHER_PLATFORM = "Otherplatform-9.9-portability-check-x86_64-with-libc0.0"
OTHER_HOST = "portability-check-host"
OTHER_CPUS = 7
SPOOF = f'''"""Report another machine's identity (book/conftest.py, the book tier)."""
import os
import platform
import socket

platform.platform = lambda *args, **kwargs: {OTHER_PLATFORM!r}
platform.node = lambda: {OTHER_HOST!r}
socket.gethostname = lambda: {OTHER_HOST!r}
os.cpu_count = lambda: {OTHER_CPUS}
'''
_FOLDER = pytest.StashKey[Path]()


def write_spoof(folder: Path) -> Path:
    """Write the ``sitecustomize`` module into ``folder``; return the folder to put on a path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SPOOF, encoding="utf-8")
    return folder


def with_spoof(env: dict, folder: Path) -> dict:
    """A copy of ``env`` whose PYTHONPATH starts with ``folder`` (see ``write_spoof``)."""
    paths = [str(folder), env.get("PYTHONPATH", "")]
    return {**env, "PYTHONPATH": os.pathsep.join(path for path in paths if path)}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        if isinstance(item, IPyNbCell):
            item.add_marker(pytest.mark.book)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """Start a chapter's kernel (nbval does it in the set-up of its first cell) on the other
    machine; every other set-up runs in the environment as it was."""
    if not isinstance(item, IPyNbCell) or item.parent.kernel is not None:
        return (yield)
    if _FOLDER not in item.config.stash:
        item.config.stash[_FOLDER] = write_spoof(Path(tempfile.mkdtemp(prefix="other-machine-")))
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = with_spoof(os.environ, item.config.stash[_FOLDER])["PYTHONPATH"]
    try:
        return (yield)
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved


def pytest_unconfigure(config):
    if _FOLDER in config.stash:
        shutil.rmtree(config.stash[_FOLDER], ignore_errors=True)
