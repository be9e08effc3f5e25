"""Output paths: checked before any work is done, and written atomically.

A run that trains for minutes and then finds it cannot write its results has lost that time, so
the command line checks every output first: `check_output_path` for a file, `check_output_folder`
for a folder (a real write is tried, so a read-only file system is caught as such, also for
root, and the free space is compared with what the run will write).  `atomic_write` writes beside
the target, flushes it to the disk and renames, so a reader never sees half a file, even after a
crash; it removes its temporary file on any failure and raises an OSError naming the target (a
full disk: ``[Errno 28] No space left on device: '<path>'``).  Files get ordinary permissions
(0666 less the umask, e.g. 0644), not the 0600 of `tempfile.mkstemp`.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Callable, IO


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (missing folders are created on writing)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _size(n: float) -> str:
    return f"{n / 2 ** 20:.1f} MiB"


def check_output_folder(path: str | Path, what: str = "output folder",
                        need_bytes: int = 0) -> Path:
    """Raise, naming ``what``, unless ``path`` is a folder (or can be created as one) that this
    process can write in, on a disk with ``need_bytes`` free; return it as a Path.

    NotADirectoryError: ``path`` or a parent is a file; PermissionError (or OSError with the
    errno, e.g. EROFS for a read-only file system): a write in the nearest existing folder fails;
    OSError (ENOSPC): too little free space.  Nothing is left behind.
    """
    path = Path(path)
    base = _nearest_existing(path)
    if not base.is_dir():
        where = "is a file" if base == path else f"lies under the file {str(base)!r}"
        raise NotADirectoryError(f"{what} {str(path)!r} {where}, not a folder")
    try:
        with tempfile.TemporaryFile(dir=base) as probe:  # what a write really does here
            probe.write(b"0")
            probe.flush()
    except OSError as e:
        raise OSError(e.errno, f"{what} {str(path)!r}: folder {str(base)!r} is not writable "
                               f"({e.strerror})") from None  # PermissionError for EACCES
    free = shutil.disk_usage(base).free
    if free < need_bytes:
        raise OSError(28, f"{what} {str(path)!r}: {_size(free)} free on its disk, the run "
                          f"writes up to {_size(need_bytes)}; free some space or choose another")
    return path


def check_output_path(path: str | Path, what: str = "output", overwrite: bool = True,
                      need_bytes: int = 0) -> Path:
    """Raise, naming ``what``, if a file cannot be written at ``path``; return it as a Path.

    IsADirectoryError: path is a directory; NotADirectoryError: a parent is a file;
    FileExistsError: path exists and ``overwrite`` is False; PermissionError or OSError
    (ENOSPC): as `check_output_folder` for its folder.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{what} {str(path)!r} is a directory; give a file name")
    base = _nearest_existing(path.parent)
    if not base.is_dir():
        raise NotADirectoryError(f"{what} {str(path)!r}: {str(base)!r} is not a directory")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{what} {str(path)!r} already exists; pass --overwrite to replace it")
    check_output_folder(path.parent, what, need_bytes)
    return path


def atomic_write(path: str | Path, write: Callable[[IO], None], binary: bool = False) -> Path:
    """Create ``path``'s folders, call ``write(f)`` on a temporary file beside it, flush it to the
    disk and rename it into place; on any error the temporary file is removed and the error
    propagates (an OSError as one naming ``path``: what could not be written)."""
    path = check_output_path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(e, OSError) and e.filename != str(path):
            raise OSError(e.errno, e.strerror or str(e), str(path)) from e
        raise
    return path
