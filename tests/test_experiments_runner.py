"""The sweep runner and its results files: one real smoke sweep on two worker processes, then the
runner's bookkeeping (resume, corrupt and stale files, failures) with a stand-in for training."""
import copy as copying
import re
import resource
import shutil

import pytest
import torch

from udml.experiments import runner as sweep
from udml.experiments.jobs import unseen_protocols
from udml.experiments.registry import Experiment, get_experiment, register
from udml.analysis.queries import series
from udml.experiments.files import read_results, write_table
from udml.experiments.merge import merge_runs

# The registered smoke sweep evaluated on four of its 35 gaussian protocols (the unseen kinds keep
# theirs): the runner's bookkeeping is the same, the sweep twice as quick.
_SMOKE = get_experiment("smoke")
SMOKE = register(Experiment(
    "test-runner", _SMOKE.datasets, _SMOKE.methods, _SMOKE.seeds, base=_SMOKE.base,
    protocols=("clean", "one:pix@7", "all@11", "random"), unseen_kinds=_SMOKE.unseen_kinds,
    description="the smoke sweep on four gaussian protocols (tests only)"))
MODALITIES = ["fou", "pix"]


def cpu_seconds():
    """CPU time of this process and of its finished children (the sweep's workers): unlike the
    wall-clock time it does not grow when other programs share the machine."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


RECORDS: dict = {}  # run file name -> the run record the smoke sweep wrote there


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    t0 = cpu_seconds()
    write = sweep.write_results

    def keep(path, record):
        RECORDS[path.name] = copying.deepcopy(record)
        return write(path, record)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sweep, "write_results", keep)
        paths = sweep.run_experiment(SMOKE, jobs=2, out_dir=out, progress=False)
    return out, paths, cpu_seconds() - t0


@pytest.fixture
def copy(smoke, tmp_path):
    """A private copy of the smoke results, for tests that change files."""
    shutil.copytree(smoke[0], tmp_path / "r")
    return tmp_path / "r"


def run_files(out):
    files = (out / SMOKE.name / "runs").rglob("*.parquet")
    return {p.relative_to(out): p.stat().st_mtime_ns for p in files}


def replay(out, calls):
    """A stand-in for `run_job` that records its calls and returns the stored run record."""
    def fake(job, *_):
        calls.append((job.method, job.seed))
        return copying.deepcopy(RECORDS[job.path(out).name])
    return fake


def test_smoke_sweep_writes_every_file(smoke):
    out, paths, cpu = smoke
    assert cpu > 0  # the merged file sums its jobs' CPU time (speed is the benchmark's business)
    assert paths == [out / SMOKE.name / "mfeat.parquet"]
    want = {f"{m}-seed{s}.parquet" for m in SMOKE.methods for s in SMOKE.seeds}
    assert {p.name for p in run_files(out)} == want


def test_merged_file_structure(smoke):
    out, paths, _ = smoke
    d = read_results(paths[0])
    assert d["experiment"] == SMOKE.to_dict() and d["dataset"] == "mfeat"
    assert d["seeds"] == [0, 1] and d["methods"] == list(SMOKE.methods)
    assert d["variants"] == ["default"] and d["kinds"][0] == "gaussian"
    assert set(d["kinds"]) == {"gaussian", "blur", "occlusion", "salt_pepper"}
    assert {"udml", "torch", "numpy", "python", "device"} <= set(d["environment"])
    assert d["device"] == "cpu" and d["environment"]["threads"] == 1
    cfg = d["config"]["variants"]["default"]
    assert cfg["train"]["epochs"] == 2
    assert "method" not in cfg["model"] and "seed" not in cfg["train"]
    assert set(d["config"]["noise"]) == {"0", "1"} and set(d["config"]["data"]) == {"0", "1"}
    assert set(d["config"]["noise"]["0"]) == set(d["kinds"])
    assert d["protocols"]["gaussian"] == list(SMOKE.protocols)
    for kind in ("blur", "occlusion", "salt_pepper"):
        assert d["protocols"][kind] == unseen_protocols(MODALITIES, 11)
    t = d.rows
    for method in SMOKE.methods:
        m = t[t.method == method]
        for kind, protos in d["protocols"].items():
            for p in protos:
                acc = series(d, method, "accuracy", kind=kind, protocol=p)
                assert list(acc) == [0, 1] and all(0.0 <= a <= 1.0 for a in acc.values())
                uni = m[(m.metric == "unimodal_accuracy") & (m.kind == kind) & (m.protocol == p)]
                assert set(uni.modality) == set(MODALITIES)
        assert m[m.metric == "val_acc_clean"].groupby("seed").epoch.max().tolist() == [2, 2]
        assert not m.metric.isin(["loss_ce", "lr"]).any()  # per-epoch details dropped
        assert all(v > 0 for v in series(d, method, "seconds").values())
    udml = t[t.method == "udml"]
    assert set(udml.modality[(udml.metric == "spearman") & (udml.kind == "blur")]) == set(
        MODALITIES)
    assert set(udml.modality[(udml.metric == "weight") & (udml.protocol == "clean")]) == set(
        MODALITIES)
    assert set(udml.modality[udml.metric == "dependency"]) == set(MODALITIES)


def test_resume_skips_finished_jobs(smoke, monkeypatch):
    out, paths, _ = smoke
    before = run_files(out)

    def must_not_train(job, *_):
        raise AssertionError(f"retrained {job}")
    monkeypatch.setattr(sweep, "run_job", must_not_train)
    assert sweep.run_experiment(SMOKE, jobs=2, out_dir=out, progress=False) == paths
    assert run_files(out) == before


def _drop_udml_seed1(copy, monkeypatch) -> list:
    """Delete one run file and swap in a run_job that records its calls and returns that run."""
    gone = copy / SMOKE.name / "runs" / "mfeat" / "default" / "udml-seed1.parquet"
    saved = RECORDS[gone.name]
    gone.unlink()
    calls = []

    def fake(job, *_):
        calls.append((job.method, job.seed))
        return copying.deepcopy(saved)
    monkeypatch.setattr(sweep, "run_job", fake)
    return calls


def test_resume_reruns_only_the_missing_job(copy, monkeypatch):
    merged = read_results(copy / SMOKE.name / "mfeat.parquet")
    calls = _drop_udml_seed1(copy, monkeypatch)
    sweep.run_experiment(SMOKE, jobs=1, out_dir=copy, progress=False)
    assert calls == [("udml", 1)]
    again = read_results(copy / SMOKE.name / "mfeat.parquet").rows
    key = ["method", "seed", "metric", "kind", "protocol", "modality", "score", "range", "level",
           "epoch"]
    assert again.sort_values(key, ignore_index=True).equals(
        merged.rows.sort_values(key, ignore_index=True))


def test_no_resume_reruns_everything_and_restores_threads(copy, monkeypatch):
    calls = []
    monkeypatch.setattr(sweep, "run_job", replay(copy, calls))
    torch.set_num_threads(2)
    try:
        sweep.run_experiment(SMOKE, jobs=1, out_dir=copy, resume=False, progress=False)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)
    assert sorted(calls) == sorted((m, s) for m in SMOKE.methods for s in SMOKE.seeds)


def test_corrupt_run_file_is_named(copy):
    bad = copy / SMOKE.name / "runs" / "mfeat" / "default" / "static-seed0.parquet"
    bad.write_text('{"format": "udml-res')
    with pytest.raises(ValueError, match=rf"corrupt run file {re.escape(str(bad))}"):
        sweep.run_experiment(SMOKE, jobs=2, out_dir=copy, progress=False)
    write_table(bad, [{"seed": 0, "metric": "accuracy", "value": 1.0}], {"config": {}, "seeds": [0]})
    with pytest.raises(ValueError, match=r"corrupt run file .*static-seed0\.parquet.*no \["):
        sweep.run_experiment(SMOKE, jobs=2, out_dir=copy, progress=False)


def test_stale_run_file_is_named(copy):
    changed = Experiment(SMOKE.name, SMOKE.datasets, SMOKE.methods, SMOKE.seeds,
                         base={"epochs": 3}, protocols=SMOKE.protocols,
                         unseen_kinds=SMOKE.unseen_kinds)
    with pytest.raises(ValueError, match=r"stale run file .*static-seed0\.parquet.*\['train'\]"):
        sweep.run_experiment(changed, jobs=1, out_dir=copy, progress=False)


def test_a_run_file_older_than_a_new_config_field_resumes(copy, monkeypatch):
    """A field added to TrainConfig since a run file was written takes its default, which keeps
    the old behaviour: the file is not stale and the job is not run again."""
    old = copy / SMOKE.name / "runs" / "mfeat" / "default" / "static-seed0.parquet"
    run = read_results(old)
    record = copying.deepcopy(run.record)
    del record["config"]["train"]["validate_every"]
    write_table(old, run.rows, record)
    calls = []
    monkeypatch.setattr(sweep, "run_job", replay(copy, calls))
    sweep.run_experiment(SMOKE, jobs=1, out_dir=copy, progress=False)
    assert ("static", 0) not in calls
    record["config"]["train"]["unknown_field"] = 1
    write_table(old, run.rows, record)
    with pytest.raises(ValueError, match=r"stale run file .*static-seed0.*unknown_field"):
        sweep.run_experiment(SMOKE, jobs=1, out_dir=copy, progress=False)


def test_failed_job_is_reported_and_its_dataset_not_merged(copy, monkeypatch):
    (copy / SMOKE.name / "mfeat.parquet").unlink()
    (copy / SMOKE.name / "runs" / "mfeat" / "default" / "udml-seed1.parquet").unlink()

    def boom(job, *_):
        raise FloatingPointError("non-finite loss")
    monkeypatch.setattr(sweep, "run_job", boom)
    with pytest.raises(RuntimeError, match=r"(?s)1 of 1 jobs failed.*udml-seed1\.parquet.*non-finite"):
        sweep.run_experiment(SMOKE, jobs=1, out_dir=copy, progress=False)
    assert not (copy / SMOKE.name / "mfeat.parquet").exists()
    with pytest.raises(FileNotFoundError, match=r"missing run file .*udml-seed1\.parquet"):
        merge_runs(SMOKE, "mfeat", copy)


def test_the_merged_file_reads_as_one_table(smoke):
    out, paths, _ = smoke
    merged = read_results(paths[0])
    t = merged.rows
    acc = t[t.metric == "accuracy"]
    n_protocols = len(SMOKE.protocols) + 3 * len(unseen_protocols(MODALITIES, 11))
    assert len(acc) == len(SMOKE.methods) * len(SMOKE.seeds) * n_protocols
    clean = acc[(acc.method == "udml") & (acc.kind == "gaussian") & (acc.protocol == "clean")]
    run = read_results(out / SMOKE.name / "runs" / "mfeat" / "default" / "udml-seed1.parquet")
    stored = RECORDS["udml-seed1.parquet"]["metrics"]["gaussian"]["protocols"]["clean"]
    assert clean.value.tolist()[1] == stored["accuracy"] == series(
        run, "udml", "accuracy", kind="gaussian", protocol="clean")[1]
    lv = acc[(acc.method == "static") & (acc.kind == "gaussian") & (acc.protocol == "one:pix@7")]
    assert set(lv.level) == {7}
    sp = t[(t.method == "udml") & (t.kind == "blur") & (t.metric == "spearman")
           & (t.modality == "pix") & (t.range == "all")]
    assert sp.seed.tolist() == [0, 1]
    history = t[(t.method == "udml") & (t.metric == "epoch_dependency") & (t.seed == 0)]
    assert history.epoch.max() == merged["config"]["variants"]["default"]["train"]["epochs"]


def test_unseen_protocols():
    assert unseen_protocols(["b", "a"], 11) == [
        "one:a@11", "one:a@6", "one:b@11", "one:b@6", "all@11", "random"]


def test_jobs_grid_and_paths(tmp_path):
    e = Experiment("g", ("mfeat", "synthetic"), ("static", "udml", "tmc"), (0, 1),
                   variants={"gamma=0": {"gamma": 0.0}, "default": {}})
    jobs = sweep.make_jobs(e)
    assert len(jobs) == 2 * 2 * 2 * 3
    assert [(j.method, j.seed) for j in jobs[:4]] == [("static", 0), ("udml", 0), ("tmc", 0),
                                                       ("static", 1)]
    assert jobs[0].config["model"]["gamma"] == 0.0
    want = tmp_path / "g" / "runs" / "mfeat" / "gamma_0" / "static-seed0.parquet"
    assert jobs[0].path(tmp_path) == want


def test_bad_arguments():
    with pytest.raises(ValueError, match="jobs"):
        sweep.run_experiment("smoke", jobs=0)
    with pytest.raises(TypeError, match="Experiment"):
        sweep.run_experiment(3)
    with pytest.raises(ValueError, match="unknown experiment"):
        sweep.run_experiment("nope")


def test_cli_lists_experiments(capsys):
    assert sweep.main(["--list"]) == 0
    text = capsys.readouterr().out
    assert "smoke: 4 jobs" in text and "main: 120 jobs" in text
    assert sweep.main([]) == 2


def test_cli_part_of_an_experiment_never_writes_a_partial_results_file(copy, monkeypatch, capsys):
    merged = copy / SMOKE.name / "mfeat.parquet"
    merged.unlink()
    calls = _drop_udml_seed1(copy, monkeypatch)
    args = [SMOKE.name, "--out", str(copy), "--jobs", "1", "--no-progress", "--seeds"]
    assert sweep.main(args + ["0"]) == 0
    assert calls == [] and not merged.exists()  # seed 0 was done; udml seed 1 is not
    assert "3 of 4 jobs done" in capsys.readouterr().out
    assert sweep.main(args + ["1", "--methods", "udml"]) == 0
    assert calls == [("udml", 1)] and read_results(merged)["seeds"] == [0, 1]  # now whole


def test_merge_target_of_a_part():
    assert sweep.merge_target(SMOKE, SMOKE.subset(seeds=[1], methods=["udml"])) == (SMOKE, SMOKE.name)
    main = get_experiment("main")
    target, folder = sweep.merge_target(main, main.subset(seeds=[101, 100], datasets=["mfeat"]))
    assert folder == "main/seeds-100-101"
    assert target.to_dict() == {**main.to_dict(), "seeds": [100, 101]}


def test_cli_any_seeds(tmp_path, monkeypatch):
    """Seeds other than the registered ones run, and merge beside (never over) its results."""
    args = [SMOKE.name, "--out", str(tmp_path), "--jobs", "1", "--no-progress", "--seeds", "100"]
    assert sweep.main(args) == 0
    merged = tmp_path / SMOKE.name / "seeds-100" / "mfeat.parquet"
    d = read_results(merged)
    assert d["seeds"] == [100] and d["experiment"]["seeds"] == [100]
    assert d["methods"] == list(SMOKE.methods) and d["config"]["data"].keys() == {"100"}
    assert not (tmp_path / SMOKE.name / "mfeat.parquet").exists()
    runs = sorted(p.name for p in (tmp_path / SMOKE.name / "runs").rglob("*.parquet"))
    assert runs == ["static-seed100.parquet", "udml-seed100.parquet"]

    def must_not_train(job, *_):
        raise AssertionError(f"retrained {job}")
    monkeypatch.setattr(sweep, "run_job", must_not_train)  # a subset resumes from the run files
    assert sweep.main(args + ["--methods", "udml"]) == 0
    assert read_results(merged).rows.equals(d.rows)
