"""udml.bench.step and udml.bench.corruption: what they compare is the same work, and they run.

No test here times anything (machines are noisy); the benchmarks print ratios, measured in one run.
"""
import json

import numpy as np
import pytest
import torch

from udml.bench.step import chapter_times, training_step_ratio
from udml.bench.corruption import benchmark_corruption, per_sample_loop
from udml.corrupt import levels_to_strength


def test_per_sample_loop_draws_the_noise_apply_noise_draws():
    n, levels_count = 4000, 11
    x = {"v": torch.zeros(n, 8)}
    levels = {"v": torch.tensor([1, 6, 11] * (n // 3) + [1] * (n % 3))}
    out = per_sample_loop(x, levels, {"v": 0.5}, levels_count, np.random.default_rng(0))
    assert out["v"].shape == (n, 8) and out["v"].dtype == torch.float32
    t = levels_to_strength(torch.tensor([1, 6, 11]), levels_count)
    for level, strength in zip((1, 6, 11), t.tolist()):
        rows = out["v"][levels["v"] == level]
        if level == 1:
            assert torch.equal(rows, torch.zeros_like(rows))  # clean items pass through
        else:
            assert float(rows.std()) == pytest.approx(0.5 * strength, rel=0.05)


def test_corruption_benchmark_reports_both_paths_and_their_ratio():
    r = benchmark_corruption(n=300, repeats=1)
    assert r["batched_s"] > 0 and r["per_sample_loop_s"] > 0
    assert r["speedup"] == pytest.approx(r["per_sample_loop_s"] / r["batched_s"])
    assert r["torch_threads"] == 1
    for name, (batched, loop) in r["noise_std_at_top_level"].items():
        assert batched == pytest.approx(loop, rel=0.15), name


def test_corruption_benchmark_restores_the_thread_count():
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # differs from the benchmark's 1, so a missing restore shows
    try:
        benchmark_corruption(n=20, repeats=1, threads=1)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"repeats": 0}, {"threads": 0}])
def test_corruption_benchmark_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        benchmark_corruption(**kwargs)


def test_training_step_ratio_times_both_methods():
    r = training_step_ratio(batch_size=8, rounds=1, steps=1)
    assert r["static_s"] > 0 and r["udml_s"] > 0
    assert r["ratio"] == pytest.approx(r["udml_s"] / r["static_s"])


def test_chapter_times_read_the_build_timings(tmp_path):
    assert chapter_times(tmp_path / "missing.json") == {}
    path = tmp_path / "timings.json"
    path.write_text(json.dumps({"chapters": {"book/02_estimator.ipynb": {"seconds": 41.5},
                                             "book/03_dependency.ipynb": {"seconds": 52}}}))
    assert chapter_times(path) == {"book/02_estimator.ipynb": 41.5,
                                   "book/03_dependency.ipynb": 52.0}
