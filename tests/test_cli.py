import json

import pytest

from udml.training.checkpoint import load_checkpoint
from udml.cli import _parse_overrides, main


def test_train_writes_a_complete_results_file_and_checkpoint(tmp_path, capsys):
    out, ckpt = tmp_path / "r.json", tmp_path / "m.pt"
    rc = main(["train", "--dataset", "synthetic", "--method", "udml", "--seed", "1",
               "--set", "epochs=2", "progress=False", "gamma=0.5",
               "--protocols", "clean", "one:m1@11", "random",
               "--out", str(out), "--checkpoint", str(ckpt)])
    assert rc == 0 and "clean test accuracy" in capsys.readouterr().out
    record = json.loads(out.read_text())
    assert record["format"] == "udml-results" and record["seed"] == 1
    assert record["config"]["model"]["gamma"] == 0.5 and record["config"]["train"]["epochs"] == 2
    assert set(record["config"]["noise"]) == {"m0", "m1"}
    assert {"torch", "udml", "device"} <= set(record["environment"])
    assert set(record["metrics"]["protocols"]) == {"clean", "one:m1@11", "random"}
    assert len(record["history"]) == 2
    model, saved = load_checkpoint(ckpt)
    assert model.config.method == "udml" and saved["train_config"]["seed"] == 1


def test_overrides_are_routed_and_checked():
    assert _parse_overrides(["gamma=0", "epochs=3", "estimator=affine"]) == (
        {"gamma": 0, "estimator": "affine"}, {"epochs": 3})
    with pytest.raises(SystemExit, match="unknown setting 'gama'"):
        _parse_overrides(["gama=0"])
    with pytest.raises(SystemExit, match="key=value"):
        _parse_overrides(["gamma"])


def test_bad_method_is_refused():
    with pytest.raises(SystemExit):
        main(["train", "--method", "magic", "--out", "x.json"])
