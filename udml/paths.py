"""Output paths: checked before any work is done, and written atomically.

A run that trains for minutes and then finds it cannot write its results has lost that time, so
the command line calls `check_output_path` on every output first.  `atomic_write` writes beside
the target and renames, so a reader never sees half a file, and removes its temporary file on
any failure.  Files get ordinary permissions (0666 less the umask, e.g. 0644), not the 0600 of
`tempfile.mkstemp`.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable, IO


def check_output_path(path: str | Path, what: str = "output", overwrite: bool = True) -> Path:
    """Raise, naming ``what``, if a file cannot be written at ``path``; return it as a Path.

    IsADirectoryError: path is a directory; NotADirectoryError: a parent is a file;
    FileExistsError: path exists and ``overwrite`` is False; PermissionError: the nearest
    existing parent folder is not writable (missing folders are created on writing).
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{what} {str(path)!r} is a directory; give a file name")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(f"{what} {str(path)!r}: {str(parent)!r} is not a directory")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{what} {str(path)!r} already exists; pass --overwrite to replace it")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"{what} {str(path)!r}: folder {str(parent)!r} is not writable")
    return path


def atomic_write(path: str | Path, write: Callable[[IO], None], binary: bool = False) -> Path:
    """Create ``path``'s folders, call ``write(f)`` on a temporary file beside it, rename it into
    place; on any error the temporary file is removed and the error propagates."""
    path = check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
