"""The shipped data file: location, checksum, and the three ways it can be broken.

Also checks data/make_mfeat.py on tiny hand-written CSVs (layout, reproducible bytes, errors).
"""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from udml.data import files
from udml.data.files import DATA_FILES, DataFileError, find_data_file, load_npz, verify_data_file
from udml.data.mfeat import load_mfeat

ROOT = Path(__file__).resolve().parents[1]
MFEAT = DATA_FILES["mfeat.npz"]


def test_shipped_file_matches_registry():
    path = find_data_file("mfeat.npz")
    assert path.stat().st_size == MFEAT.size
    assert files.sha256_of(path) == MFEAT.sha256
    assert verify_data_file(path, MFEAT) == path


def test_readme_states_the_registered_checksum():
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert f"sha256  {MFEAT.sha256}  mfeat.npz" in readme


def test_archive_members():
    arrays = load_npz("mfeat.npz")
    expected = {"labels": ("int64", (2000,)), "pix": ("uint8", (2000, 16, 15)),
                "fou": ("float32", (2000, 76)), "fac": ("uint16", (2000, 216)),
                "kar": ("float32", (2000, 64)), "zer": ("float32", (2000, 47)),
                "mor": ("float32", (2000, 6))}
    assert {k: (str(v.dtype), v.shape) for k, v in arrays.items()} == expected


def test_unknown_data_file_lists_known_ones():
    with pytest.raises(KeyError, match="mfeat.npz"):
        find_data_file("cifar.npz")


def test_missing_everywhere_names_the_places(monkeypatch, tmp_path):
    places = [tmp_path / "a" / "mfeat.npz", tmp_path / "b" / "mfeat.npz"]
    monkeypatch.setattr(files, "candidate_paths", lambda name: places)
    with pytest.raises(FileNotFoundError) as err:
        find_data_file("mfeat.npz")
    assert str(places[0]) in str(err.value) and str(places[1]) in str(err.value)


def test_missing_explicit_path(tmp_path):
    missing = tmp_path / "mfeat.npz"
    with pytest.raises(FileNotFoundError, match="missing"):
        load_mfeat(path=str(missing))


@pytest.fixture
def copy(tmp_path) -> Path:
    target = tmp_path / "mfeat.npz"
    shutil.copyfile(find_data_file("mfeat.npz"), target)
    return target


def test_intact_copy_loads(copy):
    splits = load_mfeat(path=str(copy))
    assert len(splits.train) + len(splits.val) + len(splits.test) == 2000


def test_truncated_file(copy):
    data = copy.read_bytes()
    copy.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError) as err:
        load_mfeat(path=str(copy))
    message = str(err.value)
    assert str(copy) in message
    assert "not a valid .npz" in message and "truncated" in message
    assert f"{len(data) // 2} bytes" in message


def test_empty_file(copy):
    copy.write_bytes(b"")
    with pytest.raises(DataFileError, match="not a valid .npz"):
        verify_data_file(copy, MFEAT)


def test_tampered_file(copy):
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the compressed members
    copy.write_bytes(bytes(data))
    with pytest.raises(DataFileError) as err:
        load_mfeat(path=str(copy))
    message = str(err.value)
    assert str(copy) in message and "checksum" in message
    assert MFEAT.sha256 in message and files.sha256_of(copy) in message


# ---------------------------------------------------------------- data/make_mfeat.py

def _script():
    spec = importlib.util.spec_from_file_location("make_mfeat", ROOT / "data" / "make_mfeat.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_csvs(folder: Path, n: int = 4, pix_value=None, labels=None) -> dict:
    """Tiny CSVs in the original layout: header row, features, label last."""
    make = _script()
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 2 if labels is None else labels
    tables = {}
    for view, f in make.NUM_FEATURES.items():
        if view == "pix":
            x = rng.integers(0, 7, (n, f)).astype(float)
            if pix_value is not None:
                x[0, 0] = pix_value
        elif view == "fac":
            x = rng.integers(0, 1400, (n, f)).astype(float)
        else:
            x = np.round(rng.normal(size=(n, f)), 4)
        lab = labels[view] if isinstance(labels, dict) else labels
        table = np.column_stack([x, lab])
        header = ",".join(str(i) for i in range(f + 1))
        np.savetxt(folder / f"mfeat-{view}.csv", table, delimiter=",", header=header,
                   comments="", fmt="%.10g")
        tables[view] = x
    return tables


def test_script_layout_and_orientation(tmp_path):
    make = _script()
    tables = _write_csvs(tmp_path)
    arrays = make.convert(tmp_path)
    assert arrays["pix"].shape == (4, 16, 15) and arrays["pix"].dtype == np.uint8
    # CSV column k is image row k // 15, column k % 15
    for k in (0, 14, 15, 100, 239):
        assert arrays["pix"][2, k // 15, k % 15] == tables["pix"][2, k]
    assert arrays["fac"].dtype == np.uint16
    np.testing.assert_array_equal(arrays["fac"], tables["fac"])
    np.testing.assert_allclose(arrays["kar"], tables["kar"], rtol=1e-6)
    np.testing.assert_array_equal(arrays["labels"], [0, 1, 0, 1])


def test_script_output_is_reproducible(tmp_path):
    make = _script()
    _write_csvs(tmp_path)
    make.main([str(tmp_path), "--out", str(tmp_path / "a.npz")])
    make.main([str(tmp_path), "--out", str(tmp_path / "b.npz")])
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with np.load(tmp_path / "a.npz") as archive:
        assert sorted(archive.files) == ["fac", "fou", "kar", "labels", "mor", "pix", "zer"]


def test_script_refuses_misaligned_labels(tmp_path):
    make = _script()
    labels = {v: np.array([0, 1, 0, 1]) for v in make.NUM_FEATURES}
    labels["zer"] = np.array([1, 0, 0, 1])
    _write_csvs(tmp_path, labels=labels)
    with pytest.raises(ValueError, match="mfeat-zer.csv: labels differ"):
        make.convert(tmp_path)


def test_script_refuses_non_integer_pixels(tmp_path):
    _write_csvs(tmp_path, pix_value=2.5)
    with pytest.raises(ValueError, match="view pix: expected integers in"):
        _script().convert(tmp_path)


def test_script_missing_csv(tmp_path):
    _write_csvs(tmp_path)
    (tmp_path / "mfeat-mor.csv").unlink()
    with pytest.raises(FileNotFoundError, match="mfeat-mor.csv"):
        _script().convert(tmp_path)
