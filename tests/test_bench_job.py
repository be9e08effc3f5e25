"""udml.bench.job: the tracer charges every interval to exactly one part, in its context, and the
benchmark of a (tiny) sweep job finds every part of it, the parts adding up to the job.

Nothing here compares with a fixed time: the toy functions spin for a measured while, and the
job's counts (steps, validation passes, evaluation passes) come from the library's own functions.
"""
import math
import time

import pytest

from udml.bench import job as bench
from udml.bench.job import PartTimer, measure_job, protocol_times, summary, sweep_job


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _component():
    _spin(0.04)


def _failing_component():
    _spin(0.02)
    raise RuntimeError("boom")


def _phase():
    _spin(0.03)
    _component()
    try:
        _failing_component()
    except RuntimeError:
        pass
    _spin(0.03)


def test_part_timer_charges_each_interval_to_the_innermost_watched_call_once():
    roles = {_phase.__code__: ("phase", "training"),
             _component.__code__: ("component", "forward"),
             _failing_component.__code__: ("component", "backward")}
    start = time.perf_counter()
    with PartTimer(roles) as timer:
        _spin(0.02)
        _phase()
    outside = time.perf_counter() - start
    wall = timer.wall
    assert set(wall) == {("job", None, "rest"), ("training", None, "rest"),
                         ("training", None, "forward"), ("training", None, "backward")}
    assert wall[("training", None, "forward")] == pytest.approx(0.04, abs=0.015)
    assert wall[("training", None, "backward")] == pytest.approx(0.02, abs=0.015)
    # the phase's own time, after the exception too, stays the phase's: not its children's
    assert wall[("training", None, "rest")] == pytest.approx(0.06, abs=0.02)
    assert sum(wall.values()) == pytest.approx(outside, abs=0.005)
    assert timer.calls[("training", None, "backward")] == 1
    assert not timer._stack  # every watched call closed, the failing one included


def test_watched_codes_follow_the_functions_themselves():
    import torch
    from udml.corrupt import corrupt_batch
    from udml.method.dependency import DependencyTracker
    from udml.models.dynamic import WeightedFusion
    from udml.training.evaluate import evaluate, predict
    from udml.training.loop import run_epochs
    roles = bench.watched_codes()
    assert roles[run_epochs.__code__] == ("phase", "training")
    assert roles[predict.__wrapped__.__code__] == ("phase", "predict")
    assert roles[evaluate.__code__] == ("phase", "evaluation")
    assert roles[corrupt_batch.__code__] == ("component", "corruption")
    assert roles[DependencyTracker.update.__wrapped__.__code__] == ("component", "dependency")
    assert roles[WeightedFusion.forward.__code__] == ("component", "forward")
    assert roles[WeightedFusion.loss.__code__] == ("component", "loss")  # the labels' check
    assert roles[WeightedFusion.loss.__wrapped__.__code__] == ("component", "loss")
    assert roles[torch.Tensor.backward.__code__] == ("component", "backward")


def test_sweep_job_is_the_experiments_job_and_refuses_bad_epochs():
    from udml.experiments.jobs import make_jobs
    from udml.experiments.registry import get_experiment
    job = sweep_job("main", "synthetic", "static", 1)
    want = [j for j in make_jobs(get_experiment("main"))
            if (j.dataset, j.method, j.seed) == ("synthetic", "static", 1)]
    assert want == [job] and job.config == want[0].config
    assert sweep_job("main", "synthetic", "static", 1, epochs=2).config["train"]["epochs"] == 2
    with pytest.raises(ValueError, match="epochs"):
        sweep_job("main", "synthetic", epochs=0)
    with pytest.raises(ValueError, match="threads"):
        measure_job(job, threads=0)


def test_a_tiny_job_is_split_into_every_part_and_the_parts_add_up():
    from udml.data import load_dataset
    from udml.experiments.jobs import unseen_protocols
    from udml.training.evaluate import standard_protocols
    job = sweep_job("main", "synthetic", "udml", 0, epochs=1)
    result = measure_job(job)
    assert result["same_metrics"] is True  # the tracer changes no result
    rows = summary(result)
    labels = [label for label, _ in rows]
    for part in ("loading the data", "training: data", "training: corruption",
                 "training: forward", "training: loss", "training: dependency",
                 "training: backward", "training: optimiser", "validation: forward",
                 "evaluation: corruption", "evaluation: forward",
                 "evaluation: metrics between passes", "writing the run file"):
        assert part in labels
        assert dict(rows)[part] > 0, part
    assert all(sec >= 0 for _, sec in rows)
    for clock in ("wall", "cpu"):  # every interval in exactly one part
        parts = sum(sec for _, sec in summary(result, clock))
        assert parts == pytest.approx(result["traced"][clock], rel=0.1, abs=0.05), clock
    splits = load_dataset("synthetic", seed=0)
    batch = job.config["train"]["batch_size"]
    assert result["steps"] == math.ceil(len(splits.train) / batch)
    assert result["calls"][("validation", None, "rest")] == 2  # clean and noisy, one epoch
    levels = job.config["model"]["num_levels"]
    passes = (len(standard_protocols(splits.modalities, levels))
              + len(job.unseen_kinds) * len(unseen_protocols(splits.modalities, levels)))
    assert len(protocol_times(result)) == passes
    text = bench.report(job, result)
    assert "sum of the parts" in text and f"evaluation: {passes} passes" in text


def test_the_command_line_runs_the_job_benchmark(capsys):
    from udml.cli import main
    assert main(["bench", "job", "--dataset", "synthetic", "--method", "static",
                 "--epochs", "1", "--no-plain", "--no-batching"]) == 0
    out = capsys.readouterr().out
    assert "main/synthetic/default/static seed 0, 1 epochs" in out
    assert "training: dependency" in out and "without the tracer" not in out
    assert "batched" not in out


def test_batching_gain_compares_the_same_work_batched_and_not():
    from udml.data import load_dataset
    from udml.training.evaluate import standard_protocols
    job = sweep_job("main", "synthetic", "udml", 0, epochs=1)
    gain = bench.batching_gain(job, seeds=2, rounds=1)
    splits = load_dataset("synthetic", seed=0)
    assert gain["seeds"] == 2
    assert gain["passes"] == len(standard_protocols(splits.modalities,
                                                    job.config["model"]["num_levels"]))
    for key in ("step", "eval", "step_s", "eval_s"):
        assert math.isfinite(gain[key]) and gain[key] > 0, key
