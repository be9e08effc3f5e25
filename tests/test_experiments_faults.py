"""Faults a long run must survive, each caused for real where the machine allows: an output folder
that is a file, read-only or full; a worker process killed; the driver killed; two sweeps on one
folder; a disk that fails while writing; Ctrl-C in the middle of an epoch.  Each must give a
clear message, lose no finished work, leave no process behind, and, run again, give exactly the
metrics of an uninterrupted run.

The sweeps run the tiny ``test-faults`` experiment (tests/_sweep_cli.py: two jobs of three
epochs); those that train for real in a separate process are marked slow.
"""
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from _pool_jobs import pid_then_sleep, square_or_die
from _sweep_cli import FAULTS

import udml.experiments.runner as sweep
from udml.cli import main as cli
from udml.experiments.files import read_results
from udml.experiments.lock import LOCK_FILE, ResultsLocked, results_lock
from udml.experiments.pool import WorkerDied, run_local

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, str(ROOT / "tests" / "_sweep_cli.py")]
WAIT_S = 300  # bound on every wait for a process


def values(path) -> pd.DataFrame:
    """The rows of a results file, without the wall-clock and CPU times."""
    rows = read_results(path).rows
    rows = rows[~rows.metric.isin(["seconds", "cpu_seconds"])]
    return rows.sort_values(list(rows.columns)).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The merged file of an uninterrupted sweep of test-faults (in this process)."""
    out = tmp_path_factory.mktemp("reference")
    return sweep.run_experiment(FAULTS, jobs=1, out_dir=out, progress=False)[0]


def _default_sigint() -> None:
    """Ctrl-C's default in the child: a shell that starts a job in the background makes it
    ignore SIGINT, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: list[str], log: Path) -> subprocess.Popen:
    """A command line in its own session (its process group and every child it starts), with
    SIGINT at its default however pytest itself was started."""
    with open(log, "ab") as f:
        return subprocess.Popen(CLI + args, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT,
                                start_new_session=True, preexec_fn=_default_sigint)


def wait_for(what, proc: subprocess.Popen | None = None, timeout: float = WAIT_S):
    """Poll ``what()`` until it is true; fail if ``proc`` ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the process ended (exit {proc.returncode}) before the awaited event")
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # state, ppid, pgrp, session, ...


def alive_in_session(sid: int) -> list[int]:
    """The live (not zombie) processes of session ``sid``."""
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            st = _stat(int(p.name))
            if st and st[3] == str(sid) and st[0] != "Z":
                pids.append(int(p.name))
    return pids


def workers_of(pid: int) -> list[int]:
    """The sweep's worker processes: spawned children of ``pid`` (not its resource tracker)."""
    kids = []
    for p in Path("/proc").iterdir():
        st = _stat(int(p.name)) if p.name.isdigit() else None
        if st and st[1] == str(pid) and st[0] != "Z":
            cmd = Path(f"/proc/{p.name}/cmdline").read_bytes()
            if b"spawn_main" in cmd and b"resource_tracker" not in cmd:
                kids.append(int(p.name))
    return kids


def states(out: Path) -> list[Path]:
    return sorted(out.rglob("*.state.pt"))


def run_files(out: Path) -> list[Path]:
    return sorted((out / "test-faults" / "runs").rglob("*-seed*.parquet"))


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


# ---- output folders checked before the first job -------------------------------------------

@pytest.fixture
def no_jobs(monkeypatch):
    def fail(*a, **k):
        raise AssertionError("a job started before the results folder was checked")
    monkeypatch.setattr(sweep, "run_all", fail)


@pytest.mark.parametrize("below", [(), ("deeper",)])
def test_an_output_that_is_a_file_is_refused_before_any_job(tmp_path, capsys, no_jobs, below):
    file = tmp_path / "out"
    file.write_text("x")
    out = file.joinpath(*below)
    with pytest.raises(SystemExit) as exc:
        sweep.main(["smoke", "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.endswith(
        f"error: results folder '{out / 'smoke'}' lies under the file '{file}', not a folder\n")
    with pytest.raises(NotADirectoryError, match="lies under the file"):
        sweep.run_experiment("smoke", out_dir=out)


def _mount_tmpfs(where: Path, options: str) -> bool:
    """Mount a tmpfs with ``options`` at ``where``; whether this machine allowed it (root)."""
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                          capture_output=True)
    return done.returncode == 0


@pytest.fixture
def read_only(tmp_path):
    """A folder on which nothing can be written: a read-only file system where this machine
    lets us mount one, else a folder without write permission (which binds all but root)."""
    where = tmp_path / "ro"
    if _mount_tmpfs(where, "ro,size=1m"):
        yield where
        subprocess.run(["umount", str(where)], check=True)
        return
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere, and may not mount a read-only file system here")
    where.chmod(0o555)
    yield where
    where.chmod(0o755)


def test_a_read_only_output_is_refused_before_any_job(read_only, capsys, no_jobs):
    with pytest.raises(SystemExit) as exc:
        sweep.main(["smoke", "--out", str(read_only / "results"), "--no-progress"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "is not writable" in err and str(read_only) in err


def test_a_read_only_checkpoint_folder_is_refused_before_training(read_only, tmp_path, capsys,
                                                                  monkeypatch):
    import udml.training.loop
    monkeypatch.setattr(udml.training.loop, "fit", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(SystemExit) as exc:
        cli(["train", "--dataset", "synthetic", "--set", "epochs=1", "--out",
             str(tmp_path / "r.parquet"), "--checkpoint", str(read_only / "m.pt")])
    assert exc.value.code == 2 and "--checkpoint" in capsys.readouterr().err


def test_a_disk_without_room_is_refused_before_any_job(tmp_path, capsys, no_jobs):
    """A real small disk where this machine lets us mount one: 64 KiB cannot hold the sweep."""
    small = tmp_path / "small"
    if not _mount_tmpfs(small, "size=64k"):
        pytest.skip("cannot mount a small file system here")
    try:
        with pytest.raises(SystemExit) as exc:
            sweep.main(["smoke", "--out", str(small), "--no-progress"])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and "free on its disk, the run writes up to" in err
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", str(small)], check=True)


# ---- one sweep at a time per folder -----------------------------------------------------------

def test_a_second_sweep_on_a_folder_is_refused_naming_the_first(tmp_path, capsys, no_jobs):
    folder = tmp_path / "smoke"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from udml.experiments.lock import results_lock\n"
         f"with results_lock({str(folder)!r}):\n print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert holder.stdout.readline() == b"held\n"
        assert sweep.main(["smoke", "--out", str(tmp_path), "--no-progress"]) == 1
        err = capsys.readouterr().err
        assert f"in use by another sweep (pid {holder.pid} on " in err and "started 20" in err
        with pytest.raises(ResultsLocked, match=f"pid {holder.pid}"):
            sweep.run_experiment("smoke", out_dir=tmp_path)
    finally:
        holder.kill()  # as kill -9 would: the operating system releases the lock
        holder.wait()
    with results_lock(folder):  # free again, and reentrant within one sweep
        with results_lock(folder):
            assert (folder / LOCK_FILE).read_text().startswith('{"pid": ' + str(os.getpid()))


# ---- the local pool: a dead worker, a dead driver ---------------------------------------------

def test_a_job_whose_worker_dies_is_tried_again_while_the_others_go_on(tmp_path, caplog):
    items = [(n, str(tmp_path / f"m{n}"), deaths) for n, deaths in ((1, 0), (2, 1), (3, -1),
                                                                    (4, 2))]
    got = dict(run_local(square_or_die, items, workers=2, retries=2))
    assert {k[0]: v for k, v in got.items() if not isinstance(v, BaseException)} == {
        1: 1, 2: 4, 4: 16}
    dead = got[items[2]]
    assert isinstance(dead, WorkerDied)
    assert str(dead) == ("its worker process died on each of 3 tries (last: killed by SIGKILL "
                         "(as the out-of-memory killer does))")
    assert (tmp_path / "m3").read_text() == "xxx"  # tried 1 + 2 retries times, then given up
    assert "trying it again (try 2 of 3)" in caplog.text


def test_a_job_whose_worker_died_on_every_try_is_named_with_why(tmp_path, capsys, monkeypatch):
    def dying(fn, work, jobs, cluster, retries):
        for item in work:
            yield item, WorkerDied("its worker process died on each of 3 tries (last: killed by "
                                   "SIGKILL)")
    monkeypatch.setattr(sweep, "run_all", dying)
    code = sweep.main(["smoke", "--out", str(tmp_path), "--methods", "udml", "--no-progress"])
    err = capsys.readouterr().err
    job = tmp_path / "smoke" / "runs" / "mfeat" / "default" / "udml-seed1.parquet"
    assert code == 1 and "2 of 2 jobs failed" in err
    assert (f"{job}: udml.experiments.pool.WorkerDied: its worker process died on each of 3 "
            "tries (last: killed by SIGKILL)") in err
    log = (tmp_path / "smoke" / "sweep.log").read_text()
    assert f"ERROR udml.experiments.runner: [2/2] FAILED {job}: udml.experiments.pool." in log


@needs_proc
def test_workers_end_with_their_driver_even_under_kill_9(tmp_path):
    driver = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.path.insert(0, 'tests')\n"
         "from _pool_jobs import pid_then_sleep\nfrom udml.experiments.pool import run_local\n"
         f"list(run_local(pid_then_sleep, [{str(tmp_path / 'a')!r}, {str(tmp_path / 'b')!r}], "
         "2))"], cwd=ROOT, start_new_session=True)
    try:
        files = [tmp_path / "a", tmp_path / "b"]
        wait_for(lambda: all(f.is_file() and f.read_text() for f in files), driver, 120)
        assert all(_stat(int(f.read_text())) for f in files)  # both workers run
        driver.kill()
        driver.wait()
        wait_for(lambda: not alive_in_session(driver.pid), timeout=30)  # tracker included
    finally:
        for pid in alive_in_session(driver.pid):
            os.kill(pid, signal.SIGKILL)
    assert pid_then_sleep  # the function the driver ran


# ---- a failing disk --------------------------------------------------------------------------

def enospc_on(monkeypatch, module, name: str = "atomic_write", after: int = 0):
    """Make ``module.<name>`` fail as a full disk does, from its ``after + 1``-th call on."""
    real = getattr(module, name)
    calls = []

    def full(path, *a, **k):
        calls.append(path)
        if len(calls) > after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, *a, **k)
    monkeypatch.setattr(module, name, full)
    return calls


TRAIN = ["train", "--dataset", "synthetic", "--method", "udml", "--set", "epochs=2",
         "progress=False", "--protocols", "clean", "random"]


def test_a_full_disk_at_the_results_keeps_the_state_and_the_rerun_does_not_retrain(
        tmp_path, capsys, monkeypatch):
    import udml.experiments.files as files
    want = tmp_path / "want.parquet"
    assert cli(TRAIN + ["--out", str(want)]) == 0
    out = tmp_path / "r.parquet"
    capsys.readouterr()
    with monkeypatch.context() as m:
        enospc_on(m, files)
        assert cli(TRAIN + ["--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    state = tmp_path / "r.state.pt"
    assert err == (f"udml train: results not written: [Errno 28] No space left on device: "
                   f"'{out}'; the training state after epoch 2 is kept in {state}; run the same "
                   "command again to evaluate without retraining")
    assert not out.exists() and state.is_file()
    import udml.training.loop as loop
    monkeypatch.setattr(loop, "run_epochs", lambda *a, **k: None)  # no epoch left to train
    assert cli(TRAIN + ["--out", str(out)]) == 0
    pd.testing.assert_frame_equal(values(out), values(want))
    assert not state.exists()


def test_the_results_are_written_before_the_checkpoint(tmp_path, capsys, monkeypatch):
    import udml.training.checkpoint as checkpoint
    out, ckpt = tmp_path / "r.parquet", tmp_path / "m.pt"
    with monkeypatch.context() as m:
        enospc_on(m, checkpoint)
        assert cli(TRAIN + ["--out", str(out), "--checkpoint", str(ckpt)]) == 1
    err = capsys.readouterr().err
    assert f"wrote the results {out}; checkpoint not written: [Errno 28]" in err
    assert "run the same command with --overwrite" in err
    first = values(out)
    assert not ckpt.exists()
    assert cli(TRAIN + ["--out", str(out), "--checkpoint", str(ckpt), "--overwrite"]) == 0
    assert ckpt.is_file()
    pd.testing.assert_frame_equal(values(out), first)


@pytest.mark.slow
def test_a_disk_failing_mid_sweep_stops_with_one_line_and_keeps_the_finished_jobs(
        tmp_path, capsys, monkeypatch, reference):
    with monkeypatch.context() as m:
        calls = enospc_on(m, sweep, "write_results", after=1)
        code = sweep.main(["test-faults", "--out", str(tmp_path), "--jobs", "1",
                           "--no-progress"])
    err = capsys.readouterr().err
    failed = calls[-1]
    line = [ln for ln in err.splitlines() if ln.startswith("udml sweep:")]
    assert code == 1 and line == [
        f"udml sweep: [Errno 28] No space left on device: '{failed}'; kept 1 of 2 jobs' run "
        f"files and 1 unfinished jobs' training states in {tmp_path / 'test-faults' / 'runs'}; "
        "run the same command again to resume"]
    assert run_files(tmp_path) == [calls[0]] and "Traceback" not in err
    assert sweep.main(["test-faults", "--out", str(tmp_path), "--jobs", "1",
                       "--no-progress"]) == 0
    pd.testing.assert_frame_equal(values(tmp_path / "test-faults" / "mfeat.parquet"),
                                  values(reference))


# ---- interrupted and killed sweeps, run again ------------------------------------------------

@pytest.mark.slow
@needs_proc
def test_ctrl_c_mid_epoch_then_the_same_command_gives_the_uninterrupted_result(tmp_path):
    args = ["train", "--dataset", "mfeat", "--method", "udml", "--set", "epochs=3",
            "--protocols", "clean", "random", "--out"]
    want, out, log = tmp_path / "want.parquet", tmp_path / "r.parquet", tmp_path / "train.log"
    assert start(args + [str(want)], log).wait(WAIT_S) == 0  # uninterrupted, as a process too
    args.append(str(out))
    proc = start(args, log)
    wait_for(lambda: states(tmp_path), proc)  # the first epoch is done: interrupt the second
    os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal does
    assert proc.wait(WAIT_S) == 130
    text = log.read_text()
    assert "Traceback" not in text and text.strip().splitlines()[-1] == (
        f"udml train: interrupted; the training state after epoch 1 is kept in "
        f"{tmp_path / 'r.state.pt'}; run the same command again to resume")
    again = start(args, log)
    assert again.wait(WAIT_S) == 0
    assert "resuming after epoch 1 of 3" in log.read_text()
    pd.testing.assert_frame_equal(values(out), values(want))
    assert not states(tmp_path)


@pytest.mark.slow
@needs_proc
def test_a_killed_worker_is_replaced_and_its_job_resumed(tmp_path, reference):
    log = tmp_path / "sweep.out"
    proc = start(["sweep", "test-faults", "--out", str(tmp_path), "--jobs", "2"], log)
    wait_for(lambda: states(tmp_path), proc)
    victim = workers_of(proc.pid)[0]
    os.kill(victim, signal.SIGKILL)  # as the out-of-memory killer does
    assert proc.wait(WAIT_S) == 0, log.read_text()
    text = log.read_text()
    assert "died (killed by SIGKILL (as the out-of-memory killer does)); trying it again" in text
    pd.testing.assert_frame_equal(values(tmp_path / "test-faults" / "mfeat.parquet"),
                                  values(reference))
    assert not states(tmp_path) and not alive_in_session(proc.pid)


@pytest.mark.slow
@needs_proc
def test_a_killed_driver_leaves_no_process_and_a_second_sweep_meanwhile_is_refused(
        tmp_path, capsys, reference):
    log = tmp_path / "sweep.out"
    args = ["sweep", "test-faults", "--out", str(tmp_path), "--jobs", "2"]
    first = start(args, log)
    wait_for(lambda: states(tmp_path), first)
    assert sweep.main(args[1:] + ["--no-progress"]) == 1  # two sweeps at once: refused
    assert f"in use by another sweep (pid {first.pid} on " in capsys.readouterr().err
    first.kill()  # kill -9 of the driver
    first.wait()
    wait_for(lambda: not alive_in_session(first.pid), timeout=30)
    assert states(tmp_path)  # the unfinished jobs' training states, for the next run
    again = start(args, log)
    assert again.wait(WAIT_S) == 0, log.read_text()
    pd.testing.assert_frame_equal(values(tmp_path / "test-faults" / "mfeat.parquet"),
                                  values(reference))
    assert not states(tmp_path)
    # the workers end just after the driver's exit, as after the first kill: none may linger
    wait_for(lambda: not alive_in_session(again.pid), timeout=30)


@pytest.mark.slow
@needs_proc
def test_ctrl_c_stops_a_sweep_with_one_line_and_no_process_left(tmp_path, reference):
    log = tmp_path / "sweep.out"
    args = ["sweep", "test-faults", "--out", str(tmp_path), "--jobs", "2"]
    proc = start(args, log)
    wait_for(lambda: states(tmp_path), proc)
    os.killpg(proc.pid, signal.SIGINT)  # the whole foreground group, as a terminal does
    assert proc.wait(WAIT_S) == 130
    wait_for(lambda: not alive_in_session(proc.pid), timeout=30)
    text = log.read_text()
    runs = tmp_path / "test-faults" / "runs"
    assert "Traceback" not in text
    assert [ln for ln in text.splitlines() if ln.startswith("interrupted")] == [
        f"interrupted: kept {len(run_files(tmp_path))} of 2 jobs' run files and "
        f"{len(states(tmp_path))} unfinished jobs' training states in {runs}; run the same "
        "command again to resume"]
    assert start(args, log).wait(WAIT_S) == 0
    pd.testing.assert_frame_equal(values(tmp_path / "test-faults" / "mfeat.parquet"),
                                  values(reference))
