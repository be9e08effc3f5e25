"""Results files: one JSON per run or experiment with its config, seeds, versions, device and
metrics (`udml.environment`), written atomically and read back with a check of the format."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

RESULTS_FORMAT = "udml-results"


def write_results(path: str | Path, record: dict) -> Path:
    """Write ``record`` (must hold 'config' and 'metrics') as JSON, atomically."""
    for key in ("config", "metrics"):
        if key not in record:
            raise ValueError(f"a results record needs a {key!r} entry")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": RESULTS_FORMAT, **record}
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(payload, f, indent=1, sort_keys=True, allow_nan=True)
        f.write("\n")
    os.replace(tmp, path)
    return path


def read_results(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no results file at {path}")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from e
    if data.get("format") != RESULTS_FORMAT:
        raise ValueError(f"{path} is not a udml results file")
    return data
