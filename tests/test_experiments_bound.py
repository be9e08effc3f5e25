import pytest

import udml.experiments.bound as b
from udml.analysis.queries import series
from udml.experiments.files import read_results
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
    assert path == tmp_path / "bound" / "synthetic.parquet"
    rec = read_results(path)
    assert rec["seeds"] == [0, 3] and rec["modalities"] == ["m0", "m1"]
    assert rec["config"]["train"]["epochs"] == 1 and rec["config"]["split"] == "test"
    assert set(rec["config"]["noise"]) == {"0", "3"} and "environment" in rec
    t = rec.rows
    assert set(t.method) == {"bound"} and set(t.score.dropna()) == {"bound"}
    mean = t[(t.metric == "calibration_mean") & (t.modality == "m0") & (t.seed == 3)]
    assert mean.level.tolist() == list(range(1, rec["config"]["model"]["num_levels"] + 1))
    rho = t[(t.metric == "calibration_spearman") & (t.modality == "m0")]
    assert set(rho.range) == {"all", "low_end", "high_end"} and len(rho) == 2 * 3
    assert set(series(rec, "bound", "seconds")) == {0, 3}


def test_an_unknown_dataset_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no bound for dataset"):
        b.run_bound(["mnist"], [0], tmp_path)


def test_every_benchmarked_dataset_has_a_bound():
    from udml.experiments.registry import AV_DATASET_NAMES, DATASET_NAMES
    assert set(b.BENCHMARK) == set(DATASET_NAMES) | set(AV_DATASET_NAMES)
