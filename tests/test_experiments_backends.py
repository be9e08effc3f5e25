"""Where a sweep's jobs run: the GPU of each local worker (inspected on a machine that reports two
GPUs, no GPU needed), and a REAL local Dask cluster -- a scheduler process and a worker process
with two workers on the loopback address -- whose merged results equal, number for number, those
of the local process pool on the same jobs; a failing job is reported on both backends while the
others complete."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from udml.experiments import backends
from udml.experiments import runner as sweep
from udml.experiments.files import read_results
from udml.experiments.registry import Experiment, register

# Two methods, two seeds, one epoch, three protocols: a few CPU seconds a job.
TINY = Experiment("tiny", ("mfeat",), ("static", "udml"), (0, 1), base={"epochs": 1},
                  protocols=("clean", "all@11", "random"))
# One job that trains, and one whose huge (finite, so valid) learning rate makes the loss
# non-finite after its first step.
DIVERGING = register(Experiment(
    "test-diverging", ("mfeat",), ("static",), (0,), base={"epochs": 1},
    variants={"default": {}, "diverging": {"lr": 1e30}}, protocols=("clean",),
    description="a sweep with one failing job (tests only)"))
WAIT_S = 120  # bound on every wait for a process of the cluster


def test_worker_device_round_robin():
    assert [backends.worker_device(i, 2) for i in range(5)] == [
        "cuda:0", "cuda:1", "cuda:0", "cuda:1", "cuda:0"]
    assert [backends.worker_device(i, 3) for i in range(4)] == ["cuda:0", "cuda:1", "cuda:2",
                                                                "cuda:0"]
    assert backends.worker_device(0, 0) is None and backends.worker_device(7, 0) is None
    for bad in ((-1, 2), (0, -1), (True, 2), (0.0, 2)):
        with pytest.raises(ValueError, match="int >= 0"):
            backends.worker_device(*bad)


def test_two_local_workers_get_different_gpus(monkeypatch):
    """The pool's initializer, run as two workers would run it, on a machine reporting two GPUs;
    then a job asking for auto trains on the worker's GPU and records the device it asked for."""
    import udml.training.loop as loop
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(backends, "_ASSIGNED_DEVICE", None)
    threads = torch.get_num_threads()
    got = []
    try:
        for index in range(2):
            backends.init_local_worker(index)
            got.append(backends._ASSIGNED_DEVICE)
    finally:
        torch.set_num_threads(threads)
    assert got == ["cuda:0", "cuda:1"]
    assert [backends.assigned_device(d) for d in ("auto", "cuda", "cpu", "cuda:0")] == [
        "cuda:1", "cuda:1", "cpu", "cuda:0"]

    seen = []

    def fit(splits, mcfg, tcfg, specs, *_):
        seen.append(tcfg.device)
        raise KeyboardInterrupt  # stop before any CUDA call; not an Exception, so not caught
    monkeypatch.setattr(loop, "fit", fit)
    job = sweep.make_jobs(TINY)[0]
    assert job.config["train"]["device"] == "auto"
    with pytest.raises(KeyboardInterrupt):
        sweep.run_job(job)
    assert seen == ["cuda:1"]


def test_no_gpu_no_assignment(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(backends, "_ASSIGNED_DEVICE", "cuda:1")
    threads = torch.get_num_threads()
    try:
        backends.init_local_worker(0)
    finally:
        torch.set_num_threads(threads)
    assert backends._ASSIGNED_DEVICE is None and backends.assigned_device("auto") == "auto"


def _start(args: list[str], log, cwd) -> subprocess.Popen:
    """A process in its own session, so that stopping it by its pid also stops its children."""
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                            start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    """Stop ``proc`` and the processes it started (its process group, whose id is its pid)."""
    if proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    else:  # the leader is gone: stop what it may have left in its group
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _address(path, proc, log_path) -> str:
    """The scheduler's address from its scheduler file, waiting at most WAIT_S seconds."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dask scheduler exited: {log_path.read_text()[-2000:]}")
        try:
            return json.loads(path.read_text())["address"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            time.sleep(0.2)
    raise TimeoutError(f"no scheduler address after {WAIT_S} s: {log_path.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A real Dask cluster on 127.0.0.1: ``dask scheduler`` on a free port chosen by the system
    (read back from its scheduler file) and ``dask worker`` with two single-thread workers."""
    from distributed import Client
    tmp = tmp_path_factory.mktemp("dask")
    dask = [sys.executable, "-m", "dask"]
    procs = []
    with open(tmp / "scheduler.log", "w") as slog, open(tmp / "worker.log", "w") as wlog:
        try:
            procs.append(_start(dask + ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                        "--no-dashboard", "--scheduler-file",
                                        str(tmp / "scheduler.json")], slog, tmp))
            address = _address(tmp / "scheduler.json", procs[0], tmp / "scheduler.log")
            assert address.startswith("tcp://127.0.0.1:")
            procs.append(_start(dask + ["worker", address, "--nworkers", "2", "--nthreads", "1",
                                        "--host", "127.0.0.1", "--no-dashboard",
                                        "--local-directory", str(tmp)], wlog, tmp))
            with Client(address, timeout=WAIT_S) as client:
                try:
                    client.wait_for_workers(2, timeout=WAIT_S)
                except TimeoutError as err:
                    raise TimeoutError(f"{err}: {(tmp / 'worker.log').read_text()[-2000:]}")
                assert len(client.scheduler_info()["workers"]) == 2
            yield address
        finally:
            for proc in reversed(procs):
                _stop(proc)


def _without_timing(merged) -> tuple:
    """The merged file's record, and its rows without the wall-clock times as canonical JSON
    (NaN compares equal)."""
    rows = merged.rows[~merged.rows.metric.isin(["seconds", "cpu_seconds"])]
    return merged.record, rows.to_json(orient="split", index=False)


@pytest.mark.slow
def test_cluster_sweep_equals_local_pool(cluster, tmp_path):
    pool = sweep.run_experiment(TINY, jobs=2, out_dir=tmp_path / "pool", progress=False)
    dask = sweep.run_experiment(TINY, out_dir=tmp_path / "dask", progress=False, cluster=cluster)
    assert [p.relative_to(tmp_path / "dask") for p in dask] == [
        p.relative_to(tmp_path / "pool") for p in pool]
    a, b = read_results(pool[0]), read_results(dask[0])
    assert a["seeds"] == [0, 1] and a["environment"]["threads"] == 1
    assert _without_timing(b) == _without_timing(a)
    runs = sorted(p.name for p in (tmp_path / "dask").rglob("*-seed*.parquet"))
    assert runs == ["static-seed0.parquet", "static-seed1.parquet", "udml-seed0.parquet",
                    "udml-seed1.parquet"]
    # resume: the driver's files are found again, nothing is sent to the cluster
    again = sweep.run_experiment(TINY, out_dir=tmp_path / "dask", progress=False,
                                 cluster="tcp://127.0.0.1:1")  # no scheduler there: unused
    assert again == dask


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["pool", "cluster"])
def test_failing_job_is_reported_and_the_others_complete(backend, request, tmp_path, capsys):
    where = (["--jobs", "2"] if backend == "pool"
             else ["--scheduler", request.getfixturevalue("cluster")])
    code = sweep.main(["test-diverging", "--out", str(tmp_path), "--no-progress", *where])
    assert code == 1
    err = capsys.readouterr().err
    failed = tmp_path / "test-diverging" / "runs" / "mfeat" / "diverging" / "static-seed0.parquet"
    assert "1 of 2 jobs failed" in err and f"{failed}:\nTraceback" in err
    assert "FloatingPointError: non-finite loss" in err
    assert (tmp_path / "test-diverging" / "runs" / "mfeat" / "default" / "static-seed0.parquet"
            ).is_file()
    assert not failed.exists() and not (tmp_path / "test-diverging" / "mfeat.parquet").exists()
