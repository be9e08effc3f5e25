"""Results files: written atomically with ordinary permissions and no stray temporary file,
read back by one validating reader that names what is wrong with a broken file."""
import os

import pytest

from udml.experiments.files import read_results, write_results
from udml.experiments.merge import read_merged

RECORD = {"config": {"seed": 0}, "metrics": {"accuracy": 0.5}}


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_written_file_has_ordinary_permissions(tmp_path, umask_022):
    path = write_results(tmp_path / "r.json", RECORD)
    assert path.stat().st_mode & 0o777 == 0o644
    assert read_results(path)["metrics"] == RECORD["metrics"]
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_failed_writes_leave_no_temporary_file(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        write_results(tmp_path / "d", RECORD)
    with pytest.raises(TypeError):
        write_results(tmp_path / "r.json", {**RECORD, "metrics": {"x": object()}})
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


@pytest.mark.parametrize("content, msg", [
    (b"\xff\xfe{}", "not UTF-8 text"),
    (b"[1, 2]", "holds a JSON list, not an object"),
    (b"null", "holds a JSON null, not an object"),
    (b"{", "not valid JSON"),
    (b'{"format": "other"}', "not a udml results file"),
    (b'{"format": "udml-results", "config": {}}', "has no 'metrics' entry"),
    (b'{"format": "udml-results", "config": [], "metrics": {}}', "'config' must be an object"),
])
def test_broken_results_files_are_named(tmp_path, content, msg):
    path = tmp_path / "r.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=msg):
        read_results(path)


def test_a_directory_or_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_results(tmp_path / "none.json")
    with pytest.raises(IsADirectoryError):
        read_results(tmp_path)


def test_merged_file_missing_entries_is_named(tmp_path):
    path = write_results(tmp_path / "m.json", {**RECORD, "layout": "udml-sweep-1",
                                               "dataset": "mfeat"})
    with pytest.raises(ValueError, match="merged sweep file .* has no .*'seeds'"):
        read_merged(path)
