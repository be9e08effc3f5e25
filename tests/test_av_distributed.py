"""Two CPU processes with the gloo backend, launched by torchrun, must end identical."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from udml.av import load_av_checkpoint, make_fixture
from udml.av.distributed import main, parse_args

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    data = make_fixture(tmp / "fixture", num_classes=3, train_per_class=6, test_per_class=2)
    out = tmp / "out"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "udml.av.distributed", "--data", str(data), "--profile", "fixture",
           "--epochs", "2", "--max-steps", "2", "--batch-size", "8", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


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
    assert [h["noisy"] for h in summary["history"]] == [False, True]


def test_checkpoint_carries_the_shared_dependency(run):
    summary = json.loads((run / "ranks.json").read_text())
    model, ckpt = load_av_checkpoint(run / "model.pt")
    assert ckpt["extra"]["world_size"] == 2
    assert model.dependency.value.tolist() == summary["ranks"][0]["dependency"]
    assert int(model.dependency.updates) == 2 * 2  # 2 epochs x 2 steps


def test_argument_errors(capsys, monkeypatch):
    with pytest.raises(SystemExit):
        parse_args(["--out", "x"])
    assert "exactly one of --data" in capsys.readouterr().err
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(SystemExit, match="launch with torchrun"):
        main(["--data", "x", "--out", "y"])
