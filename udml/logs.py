"""Logging: every module logs to its own logger (``logging.getLogger(__name__)``) and the
library adds no handler but the NullHandler of ``udml`` (udml/__init__.py); the command line
sets up where the lines go (`cli_logging`).

Progress reads well wherever it goes: a progress bar where one can be drawn (`interactive`: a
terminal, or a notebook, whose bars are widgets), and otherwise one log line per epoch or per
job, never a carriage-return bar piled onto one line of a redirected file.
"""
from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path

import tqdm.autonotebook
import tqdm.std

FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def interactive() -> bool:
    """Whether a progress bar can be drawn here: in a notebook (tqdm.auto picked its widget
    bar) or with standard error on a terminal."""
    if tqdm.autonotebook.tqdm is not tqdm.std.tqdm:
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


class _ConsoleHandler(logging.Handler):
    """Lines to standard error through `tqdm.write`, so that a progress bar on the terminal
    stays whole below them."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if tqdm.std.tqdm._instances:  # a bar is drawn: write above it
                tqdm.std.tqdm.write(self.format(record), file=sys.stderr)
            else:
                sys.stderr.write(self.format(record) + "\n")
                sys.stderr.flush()
        except Exception:  # noqa: BLE001 (logging's own contract: never raise from emit)
            self.handleError(record)


@contextmanager
def cli_logging(log_file: str | Path | None = None):
    """Inside the block, the ``udml`` loggers' records at INFO and above go to standard error as
    plain lines and, with ``log_file``, are appended to that file with their time, level and
    logger, DEBUG records (a failed job's traceback) included; the handlers are removed
    afterwards."""
    root = logging.getLogger("udml")
    console = _ConsoleHandler(logging.INFO)
    console.setFormatter(logging.Formatter("%(message)s"))
    handlers: list[logging.Handler] = [console]
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
        handlers[-1].setFormatter(logging.Formatter(FILE_FORMAT))
    old_level = root.level
    root.setLevel(logging.DEBUG if log_file is not None else logging.INFO)
    for h in handlers:
        root.addHandler(h)
    try:
        yield
    finally:
        for h in handlers:
            root.removeHandler(h)
            h.close()
        root.setLevel(old_level)
