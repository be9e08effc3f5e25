"""One sweep at a time per results folder.

Two sweeps on one folder would both run every job (each sees the other's jobs unfinished) and
write the same files.  `results_lock` takes an exclusive lock on ``<folder>/sweep.lock`` for the
sweep's duration and writes into it who holds it; a second sweep is refused with a
`ResultsLocked` naming the first (pid, host, start time, command).  The lock is the operating
system's (``flock``; ``msvcrt.locking`` on Windows), so it is released whenever its process
ends, ``kill -9`` included: a stale lock file never blocks a later sweep.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "sweep.lock"
_held: dict[Path, int] = {}  # folders this process holds: nested locks of one sweep are free


class ResultsLocked(RuntimeError):
    """Another process holds the results folder's lock."""


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock of the open file ``fd`` without waiting; whether it was free."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> str:
    try:
        who = json.loads(path.read_text(encoding="utf-8"))
        return (f"pid {who['pid']} on {who['host']}, started {who['started']}: "
                f"{who['command']}")
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not yet written its name"


@contextmanager
def results_lock(folder: str | Path):
    """Hold the lock of the results folder ``folder`` (created if missing) inside the block;
    raise `ResultsLocked`, naming the holder, if another process holds it."""
    folder = Path(folder).resolve()
    if folder in _held:
        _held[folder] += 1
        try:
            yield
        finally:
            _held[folder] -= 1
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if not _try_lock(fd):
            raise ResultsLocked(f"results folder {folder} is in use by another sweep "
                                f"({_holder(path)}); wait for it to end, or give another --out")
        who = {"pid": os.getpid(), "host": socket.gethostname(),
               "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
               "command": " ".join(sys.argv) or sys.executable}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(who).encode())  # at offset 0: the file was just opened
        _held[folder] = 1
        try:
            yield
        finally:
            del _held[folder]
            os.ftruncate(fd, 0)  # the lock itself goes with the descriptor
    finally:
        os.close(fd)
