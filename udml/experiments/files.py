"""Results files: one JSON per run or experiment with its config, seeds, versions, device and
metrics (`udml.environment`), written atomically and read back with a check of the format."""
from __future__ import annotations

import json
from pathlib import Path

from ..paths import atomic_write

RESULTS_FORMAT = "udml-results"


def write_results(path: str | Path, record: dict) -> Path:
    """Write ``record`` (must hold 'config' and 'metrics') as JSON, atomically."""
    for key in ("config", "metrics"):
        if key not in record:
            raise ValueError(f"a results record needs a {key!r} entry")
    payload = {"format": RESULTS_FORMAT, **record}

    def dump(f) -> None:
        json.dump(payload, f, indent=1, sort_keys=True, allow_nan=True)
        f.write("\n")
    return atomic_write(path, dump)


RESULTS_ENTRIES = {"config": dict, "metrics": dict}


def read_results(path: str | Path, required: dict[str, type] | None = None) -> dict:
    """The record of a results file: the one reader every results file goes through.

    A ValueError names what is wrong with any other file: not UTF-8, not JSON, not a JSON object,
    no udml format tag, a ``required`` entry (name -> type; default RESULTS_ENTRIES) missing or
    of another type. FileNotFoundError / IsADirectoryError for a missing file or a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not a results file")
    if not path.is_file():
        raise FileNotFoundError(f"no results file at {path}")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text ({e}); is it a results file?") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        kind = "null" if data is None else {list: "list", str: "string"}.get(type(data), "number")
        raise ValueError(f"{path} holds a JSON {kind}, not an object: not a udml results file")
    if data.get("format") != RESULTS_FORMAT:
        raise ValueError(f"{path} is not a udml results file (format {data.get('format')!r}, "
                         f"expected {RESULTS_FORMAT!r})")
    check_entries(path, data, RESULTS_ENTRIES if required is None else required, "results file")
    return data


def check_entries(path, data: dict, required: dict[str, type], what: str) -> None:
    """Raise a ValueError naming the ``required`` entries (name -> Python type of the JSON value)
    that ``data`` lacks or that have another type: what a reader would otherwise fail on later."""
    missing = [k for k in required if k not in data]
    if missing:
        raise ValueError(f"{what} {path} has no {', '.join(map(repr, missing))} "
                         f"entr{'y' if len(missing) == 1 else 'ies'}; it is incomplete")
    names = {dict: "an object", list: "a list", str: "a string", int: "a number"}
    for k, kind in required.items():
        if not isinstance(data[k], kind):
            raise ValueError(f"{what} {path}: {k!r} must be {names.get(kind, kind.__name__)}, "
                             f"got {type(data[k]).__name__}")


def read_layout(path: str | Path, layout: str, required: dict[str, type], what: str) -> dict:
    """A results file of one ``layout`` (a merged sweep file, a bound file) with its ``required``
    entries; a ValueError naming ``what`` for any other file."""
    data = read_results(path)
    if data.get("layout") != layout:
        raise ValueError(f"{path} is not a {what} (layout {data.get('layout')!r}, expected "
                         f"{layout!r})")
    check_entries(path, data, required, what)
    return data
