"""Two CPU processes with the gloo backend, launched by torchrun, must end identical; a run whose
rank is killed mid-training and restarted by torchrun must end as if nothing had happened."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from udml.av import load_av_checkpoint, make_fixture
from udml.av.distributed import STATE_FILE, main, parse_args
from udml.experiments.files import read_results
from udml.training.state import read_state

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 4
# steps per epoch: enough that an epoch outlasts the poll below on a loaded machine, so the kill
# lands mid-run (15 training clips per class: 45, 23 a rank, 3 batches of 8)
STEPS = 3


def torchrun(data: Path, out: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           *extra, "-m", "udml.av.distributed", "--data", str(data), "--profile", "fixture",
           "--epochs", str(EPOCHS), "--max-steps", str(STEPS), "--batch-size", "8", "--out", str(out),
           "--protocols", "clean", "one:audio@11", "random"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]


def worker_of_rank(launcher: int, rank: int) -> int:
    """The pid of the torchrun worker with LOCAL_RANK ``rank`` (a child of ``launcher``)."""
    children = Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()
    for pid in children:
        env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if f"LOCAL_RANK={rank}".encode() in env:
            return int(pid)
    raise LookupError(f"no worker of rank {rank} under {launcher}")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_fixture(tmp_path_factory.mktemp("ddp") / "fixture", num_classes=3,
                        train_per_class=15, test_per_class=2)


@pytest.fixture(scope="module")
def run(data):
    out = data.parent / "whole"
    finish(torchrun(data, out))
    return out


@pytest.fixture(scope="module")
def restarted(data):
    """The same run, its rank 1 killed once the state after epoch 1 is written."""
    out = data.parent / "killed"
    proc = torchrun(data, out, "--max-restarts", "1")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        state = out / STATE_FILE
        if state.exists() and read_state(state)["epoch"] >= 1:
            os.kill(worker_of_rank(proc.pid, 1), signal.SIGKILL)
            break
        time.sleep(0.02)
    finish(proc)
    return out


@pytest.mark.slow
def test_both_ranks_end_with_identical_weights_and_dependency(run):
    summary = json.loads((run / "ranks.json").read_text())
    assert summary["world_size"] == 2 and summary["backend"] == "gloo"
    r0, r1 = summary["ranks"]
    assert (r0["rank"], r1["rank"]) == (0, 1)
    assert r0["params"] == r1["params"]
    assert r0["buffers"] == r1["buffers"]          # batch-norm statistics averaged too
    assert r0["dependency"] == r1["dependency"]
    # the ranks saw different clips: their own updates differed before the all-reduce ...
    assert r0["dependency_before_average"] != r1["dependency_before_average"]
    # ... and the shared value is their mean
    mean = [(a + b) / 2 for a, b in zip(r0["dependency_before_average"],
                                        r1["dependency_before_average"])]
    assert r0["dependency"] == pytest.approx(mean, rel=1e-6)
    assert [h["noisy"] for h in summary["history"]] == [False, False, True, True]
    assert summary["resumed_from_epoch"] == 0 and summary["restart"] == 0


@pytest.mark.slow
def test_checkpoint_carries_the_shared_dependency(run):
    summary = json.loads((run / "ranks.json").read_text())
    model, ckpt = load_av_checkpoint(run / "model.pt")
    assert ckpt["extra"]["world_size"] == 2
    assert model.dependency.value.tolist() == summary["ranks"][0]["dependency"]
    assert int(model.dependency.updates) == EPOCHS * STEPS


@pytest.mark.slow
def test_sharded_evaluation_equals_one_process_on_clean_data(run, data):
    """The test split, predicted in two shards and gathered, scores as one pass over it."""
    from udml.av.distributed import LOADERS
    from udml.av.profiles import get_profile
    from udml.training.evaluate import evaluate
    results = read_results(run / "results.parquet")
    model, _ = load_av_checkpoint(run / "model.pt")
    prof = get_profile("fixture", "cremad")
    splits = LOADERS["cremad"](data, audio=prof.audio, frames=prof.frames, seed=0, num_workers=0)
    from udml.av import av_noise_specs, measure_spread
    specs = av_noise_specs("gaussian", splits.shapes, measure_spread(splits.train))
    whole = evaluate(model, splits.test.to_memory(), specs, 11, ["clean"])
    rows = results.rows[(results.rows.protocol == "clean")
                        & results.rows.metric.isin(["accuracy", "unimodal_accuracy"])]
    sharded = dict(zip(rows.modality.fillna("fused"), rows.value))
    assert sharded == {"fused": whole["protocols"]["clean"]["accuracy"],
                       **whole["protocols"]["clean"]["unimodal"]}
    assert set(results.rows.protocol.dropna()) == {"clean", "one:audio@11", "random"}
    assert results["seed"] == 0 and results["config"]["world_size"] == 2


@pytest.mark.slow
def test_a_killed_rank_restarts_and_resumes_exactly(run, restarted):
    whole = json.loads((run / "ranks.json").read_text())
    again = json.loads((restarted / "ranks.json").read_text())
    assert again["restart"] == 1                     # torchrun restarted the workers ...
    assert 2 <= again["resumed_from_epoch"] < EPOCHS  # ... which resumed from the state
    for a, b in zip(whole["ranks"], again["ranks"]):
        assert (a["params"], a["buffers"], a["dependency"]) == \
            (b["params"], b["buffers"], b["dependency"])
    drop = {"seconds"}
    assert [{k: v for k, v in h.items() if k not in drop} for h in whole["history"]] == \
        [{k: v for k, v in h.items() if k not in drop} for h in again["history"]]
    m1, m2 = (read_results(r / "results.parquet").rows for r in (run, restarted))
    keep = ~m1.metric.isin(["seconds", "cpu_seconds"])
    assert m1[keep].equals(m2[keep])


def test_argument_errors(capsys, monkeypatch):
    with pytest.raises(SystemExit):
        parse_args(["--out", "x"])
    assert "exactly one of --data" in capsys.readouterr().err
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(SystemExit, match="launch with torchrun"):
        main(["--data", "x", "--out", "y"])
