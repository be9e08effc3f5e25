"""Find the data files shipped with `udml` and check them before anything reads them.

There is one canonical copy of each file, in the repository's ``data/`` folder.  Building the
wheel copies it into the package as ``udml/_data/`` (see ``setup.py``), so the same loader works
in a checkout, in an editable install and after ``pip install`` from a wheel (as on Colab).

Every file is registered with its size and SHA-256.  `verify_data_file` tells apart the three
ways a file can be bad: it is missing, it is not a readable archive (a truncated copy), or it
reads but its checksum differs (modified or replaced).
"""
from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class DataFile:
    """A shipped file: its name, expected byte size and SHA-256 hex digest."""

    name: str
    size: int
    sha256: str


# The one place the checksums live; data/README.md repeats them (a test keeps the two in step).
DATA_FILES = {
    "mfeat.npz": DataFile(
        "mfeat.npz", 1613446,
        "2a8362329ed5730d18cceeae2188db08004f4e27b642355267fc210768b670d3"),
    "fsdd.npz": DataFile(
        "fsdd.npz", 13349845,
        "5966893a4bbebc6b0c1459b2acfce7419a2c1f2786bec1f0be3ebf3d01e7b5d3"),
}

_PACKAGE_DIR = "_data"  # inside the installed package: udml/_data/
_CHECKOUT_DIR = Path(__file__).resolve().parents[2] / "data"  # repository root / data


class DataFileError(ValueError):
    """A data file exists but is unusable: truncated, not an archive, or checksum mismatch."""


def registered(name: str) -> DataFile:
    """Return the registry entry of a shipped file, or raise naming the known files."""
    try:
        return DATA_FILES[name]
    except KeyError:
        raise KeyError(f"unknown data file {name!r}; shipped files: {sorted(DATA_FILES)}") from None


def candidate_paths(name: str) -> list[Path]:
    """Where `name` is looked for, in order: inside the installed package, then the checkout."""
    paths = []
    try:
        packaged = resources.files("udml") / _PACKAGE_DIR / name
        paths.append(Path(str(packaged)))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - udml not importable as package
        pass
    paths.append(_CHECKOUT_DIR / name)
    return paths


def find_data_file(name: str) -> Path:
    """Return the path of a shipped data file, or raise FileNotFoundError saying where we looked."""
    registered(name)
    paths = candidate_paths(name)
    for path in paths:
        if path.is_file():
            return path
    looked = ", ".join(str(p) for p in paths)
    raise FileNotFoundError(
        f"data file {name!r} not found (looked in: {looked}). In a checkout it lives in data/ "
        f"(regenerate it with data/make_{Path(name).stem}.py); an installed udml carries it in "
        f"udml/_data/: reinstall the package.")


def sha256_of(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_data_file(path: str | Path, expected: DataFile) -> Path:
    """Check that `path` exists, is a complete zip archive and has the expected SHA-256.

    Raises FileNotFoundError (missing) or DataFileError (truncated / not an archive / tampered),
    each message naming the file and what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} is missing")
    size = path.stat().st_size
    if not zipfile.is_zipfile(path):
        raise DataFileError(
            f"data file {path} is not a valid .npz archive ({size} bytes, expected "
            f"{expected.size}): it is truncated or corrupted; restore it from the repository "
            f"or reinstall udml")
    actual = sha256_of(path)
    if actual != expected.sha256:
        raise DataFileError(
            f"data file {path} failed its checksum: SHA-256 is {actual}, expected "
            f"{expected.sha256} ({size} bytes, expected {expected.size}); the file was modified "
            f"or replaced; restore it from the repository or reinstall udml")
    return path


def load_npz(name: str, path: str | Path | None = None) -> dict[str, np.ndarray]:
    """Verify and read a registered .npz, returning its arrays by member name.

    path overrides where the file is read from (the checksum of `name` is still enforced).
    """
    expected = registered(name)
    path = find_data_file(name) if path is None else Path(path)
    verify_data_file(path, expected)
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (ModuleNotFoundError, NotImplementedError, RuntimeError) as err:
        # zip members are LZMA-compressed: a Python built without the lzma module cannot read them
        raise DataFileError(f"cannot decompress {path}: {err}; this needs a Python with the "
                            f"standard lzma module") from err
