import os

import pytest

from udml.experiments.files import read_results
from udml.training.checkpoint import load_checkpoint
from udml.cli import _parse_overrides, main


def test_train_writes_a_complete_results_file_and_checkpoint(tmp_path, capsys):
    out, ckpt = tmp_path / "r.parquet", tmp_path / "m.pt"
    rc = main(["train", "--dataset", "synthetic", "--method", "udml", "--seed", "1",
               "--set", "epochs=2", "progress=False", "gamma=0.5",
               "--protocols", "clean", "one:m1@11", "random",
               "--out", str(out), "--checkpoint", str(ckpt)])
    assert rc == 0 and "clean test accuracy" in capsys.readouterr().out
    res = read_results(out)
    record, rows = res.record, res.rows
    assert record["seed"] == 1
    assert record["config"]["model"]["gamma"] == 0.5 and record["config"]["train"]["epochs"] == 2
    assert list(record["config"]["noise"]) == ["gaussian"]  # per kind, as in a sweep's run file
    assert set(record["config"]["noise"]["gaussian"]) == {"m0", "m1"}
    assert {"torch", "udml", "device"} <= set(record["environment"])
    assert set(rows.kind.dropna()) == {"gaussian"}
    assert set(rows.protocol.dropna()) == {"clean", "one:m1@11", "random"}
    cpu = rows[rows.metric == "cpu_seconds"].value
    assert len(cpu) == 1 and cpu.iloc[0] > 0 and "job" not in record
    assert set(rows.epoch.dropna()) == {1, 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt", "r.parquet"]  # no state left
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


def _argv(out, *extra):
    return ["train", "--dataset", "synthetic", "--method", "static", "--set", "epochs=1",
            "progress=False", "--protocols", "clean", "--out", str(out), *extra]


@pytest.fixture
def no_training(monkeypatch):
    import udml.training.loop
    def fail(*a, **k):
        raise AssertionError("training started before the output paths were checked")
    monkeypatch.setattr(udml.training.loop, "fit", fail)


@pytest.mark.parametrize("make, flag, msg", [
    (lambda p: (p.mkdir(), p)[1], "--out", "is a directory"),
    (lambda p: (p.write_text("x"), p / "r.json")[1], "--out", "is not a directory"),
    (lambda p: (p.mkdir(), p)[1], "--checkpoint", "is a directory"),
    (lambda p: (p.write_text("x"), p / "m.pt")[1], "--checkpoint", "is not a directory"),
    (lambda p: (p.write_text("{}"), p)[1], "--out", "already exists; pass --overwrite"),
])
def test_bad_output_paths_stop_before_training(tmp_path, capsys, no_training, make, flag, msg):
    bad = make(tmp_path / "x")
    argv = _argv(tmp_path / "r.json") if flag == "--checkpoint" else _argv(bad)
    if flag == "--checkpoint":
        argv += ["--checkpoint", str(bad)]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and msg in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("pair, msg", [
    ("use_dependency=maybe", "use_dependency must be true or false"),
    ("grad_clip=0", "grad_clip must be > 0"),
    ("lr=abc", "lr must be a number"),
    ("epochs=2.5", "epochs must be an integer"),
    ("latent_dim=0", "latent_dim must be >= 1"),
])
def test_bad_settings_stop_before_training(tmp_path, capsys, no_training, pair, msg):
    with pytest.raises(SystemExit) as exc:
        main(_argv(tmp_path / "r.json") + ["--set", pair])
    assert exc.value.code == 2 and msg in capsys.readouterr().err


@pytest.mark.parametrize("proto, msg", [("one:pix@3", "names modality 'pix'"),
                                        ("all@12", "above the top level"),
                                        ("sometimes", "unknown noise protocol")])
def test_bad_protocols_stop_before_training(tmp_path, capsys, no_training, proto, msg):
    argv = _argv(tmp_path / "r.json")
    argv[argv.index("clean")] = proto
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and msg in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_folder_stops_before_training(tmp_path, capsys, no_training):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    with pytest.raises(SystemExit):
        main(_argv(ro / "r.json"))
    assert "not writable" in capsys.readouterr().err


def test_false_is_false_and_overwrite_is_explicit(tmp_path, capsys):
    out = tmp_path / "r.json"
    out.write_text("{}")
    old = os.umask(0o022)
    try:
        assert main(_argv(out, "--overwrite") + ["--set", "amp=false"]) == 0
    finally:
        os.umask(old)
    record = read_results(out).record
    assert record["config"]["train"]["amp"] is False and record["config"]["train"]["epochs"] == 1
    assert out.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
