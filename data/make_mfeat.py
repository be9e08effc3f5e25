"""Regenerate ``mfeat.npz`` from the six CSV files of UCI Multiple Features.

Usage::

    python data/make_mfeat.py CSV_FOLDER [--out data/mfeat.npz]

CSV_FOLDER holds ``mfeat-{fac,fou,kar,mor,pix,zer}.csv``: one header row, then one row per digit
whose last column is the label 0-9; row i is the same handwritten digit in all six files.

The archive is an ordinary ``.npz`` (``numpy.load`` reads it) with one array per view plus
``labels``.  It is written byte for byte reproducibly (sorted members, fixed time stamps), so the
SHA-256 printed at the end matches the one in ``data/README.md`` and in ``udml/data/files.py``.
Members are LZMA-compressed (about 20% smaller than the default deflate; ``zipfile`` reads them).

Conversion, all lossless with respect to the CSV text:
- pix: 240 grey levels 0..6 -> uint8 image (16, 15): 16 rows of 15 pixels, row-major,
- fac: integer profile correlations 0..1353 -> uint16,
- fou, kar, zer, mor: float32 (the CSV has at most 6 significant digits),
- labels: int64.
This script needs only NumPy and deliberately does not import ``udml``.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import zipfile
from pathlib import Path

import numpy as np

VIEWS = ("fac", "fou", "kar", "mor", "pix", "zer")
NUM_FEATURES = {"fac": 216, "fou": 76, "kar": 64, "mor": 6, "pix": 240, "zer": 47}
PIX_SHAPE = (16, 15)  # rows, columns of the pixel-average image
PIX_MAX = 6           # grey levels are 0..6
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed zip time stamp -> reproducible bytes


def read_view(folder: Path, view: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (features (N, F) float64, labels (N,) int64) of one CSV, checking its layout."""
    path = folder / f"mfeat-{view}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"missing {path}: expected mfeat-{view}.csv in {folder}")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)  # (N, F + 1)
    if table.shape[1] != NUM_FEATURES[view] + 1:
        raise ValueError(f"{path}: {table.shape[1]} columns, expected "
                         f"{NUM_FEATURES[view]} features + 1 label")
    if not np.isfinite(table).all():
        raise ValueError(f"{path}: contains NaN or Inf")
    labels = table[:, -1]
    if not np.array_equal(labels, np.round(labels)) or labels.min() < 0:
        raise ValueError(f"{path}: the last column must hold integer labels >= 0")
    return table[:, :-1], labels.astype(np.int64)


def _exact_integers(x: np.ndarray, name: str, low: int, high: int) -> np.ndarray:
    """Check that x holds integers in [low, high] so that an integer dtype is lossless."""
    if not np.array_equal(x, np.round(x)) or x.min() < low or x.max() > high:
        raise ValueError(f"view {name}: expected integers in [{low}, {high}], "
                         f"found values in [{x.min()}, {x.max()}]")
    return x


def convert(folder: Path) -> dict[str, np.ndarray]:
    """Read all six views and return the arrays stored in the archive, keyed by member name."""
    arrays: dict[str, np.ndarray] = {}
    labels = None
    for view in VIEWS:
        x, y = read_view(folder, view)
        if labels is None:
            labels = y
        elif not np.array_equal(labels, y):
            raise ValueError(f"mfeat-{view}.csv: labels differ from mfeat-{VIEWS[0]}.csv; "
                             "the rows of the six files must be aligned")
        if view == "pix":
            x = _exact_integers(x, view, 0, PIX_MAX)
            arrays[view] = x.reshape(-1, *PIX_SHAPE).astype(np.uint8)  # (N, 16, 15)
        elif view == "fac":
            arrays[view] = _exact_integers(x, view, 0, np.iinfo(np.uint16).max).astype("<u2")
        else:
            arrays[view] = x.astype("<f4")  # (N, F)
    arrays["labels"] = labels.astype("<i8")  # (N,)
    return arrays


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays as a reproducible .npz: members in sorted order, fixed dates, LZMA."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_LZMA
            info.external_attr = 0o644 << 16
            with archive.open(info, "w") as member:
                np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]),
                                          allow_pickle=False)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv_folder", type=Path, help="folder with mfeat-*.csv")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("mfeat.npz"),
                        help="output archive (default: mfeat.npz beside this script)")
    args = parser.parse_args(argv)
    arrays = convert(args.csv_folder)
    write_npz(args.out, arrays)
    for name in sorted(arrays):
        print(f"{name:7s} {str(arrays[name].dtype):8s} {arrays[name].shape}")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    print(f"sha256 {sha256(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
