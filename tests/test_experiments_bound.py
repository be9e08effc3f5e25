import json

import pytest

import udml.experiments.bound as b
from udml.experiments.registry import Experiment


@pytest.fixture
def one_epoch(monkeypatch):
    """The benchmark's experiment with a one-epoch budget, so that the bound trains in seconds."""
    real = b.get_experiment

    def tiny(name):
        e = real(name)
        return Experiment("tiny", e.datasets, ("udml",), (0,), base={"epochs": 1}, split=e.split)
    monkeypatch.setattr(b, "get_experiment", tiny)


def test_run_bound_writes_one_file_per_dataset(tmp_path, one_epoch):
    (path,) = b.run_bound(["synthetic"], [0, 3], tmp_path, jobs=1, progress=False)
    assert path == tmp_path / "bound" / "synthetic.json"
    rec = b.read_bound(path)
    assert rec["seeds"] == [0, 3] and rec["modalities"] == ["m0", "m1"]
    assert rec["config"]["train"]["epochs"] == 1 and rec["config"]["split"] == "test"
    assert set(rec["config"]["noise"]) == {"0", "3"} and "environment" in rec
    m0 = rec["metrics"]["m0"]
    assert len(m0["mean"]) == 2 and len(m0["mean"][0]) == rec["config"]["model"]["num_levels"]
    assert set(m0["spearman"]) == {"all", "low", "high"} and len(m0["spearman"]["all"]) == 2


def test_unknown_dataset_and_foreign_files_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no bound for dataset"):
        b.run_bound(["mnist"], [0], tmp_path)
    other = tmp_path / "x.json"
    other.write_text(json.dumps({"format": "udml-results", "config": {}, "metrics": {}}))
    with pytest.raises(ValueError, match="not a bound file"):
        b.read_bound(other)


def test_every_benchmarked_dataset_has_a_bound():
    from udml.experiments.registry import AV_DATASET_NAMES, DATASET_NAMES
    assert set(b.BENCHMARK) == set(DATASET_NAMES) | set(AV_DATASET_NAMES)
