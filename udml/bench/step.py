"""Speed benchmark: ``python -m udml bench`` (or ``python -m udml.bench.step``).

Prints ratios measured within one run (absolute times on shared machines are noise):
1. UDML's training step against static fusion's, same encoders and batch (the cost of the
   estimator, the dependency statistic and the weights);
2. batched on-device corruption against a per-sample NumPy loop like a data-loader transform;
3. the per-chapter execution time of the book, from the timings the book's build recorded.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import torch

from ..config import ModelConfig, TrainConfig
from ..data.dataset import Batch
from ..models.encoders import build_encoders
from ..models import build_model
from ..seed import seed_everything
from ..training.loop import make_optimizer

SHAPES = {"fou": (76,), "pix": (1, 16, 15)}  # the default mfeat task


def _step_fn(method: str, batch: Batch):
    seed_everything(0)
    cfg = ModelConfig(method=method)
    model = build_model(build_encoders(SHAPES, cfg), 10, cfg).train()
    opt = make_optimizer(model, TrainConfig())  # the trainer's optimiser

    def step():
        out = model(batch.x, batch.levels)
        loss, _ = model.loss(out, batch, 0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 40.0, foreach=True)  # as the trainer
        opt.step()
    return step


def training_step_ratio(batch_size: int = 64, rounds: int = 15, steps: int = 10) -> dict:
    """Median time of ``steps`` UDML steps over the same for static fusion, interleaved rounds."""
    g = torch.Generator().manual_seed(0)
    x = {k: torch.randn(batch_size, *s, generator=g) for k, s in SHAPES.items()}
    levels = {k: torch.randint(1, 12, (batch_size,), generator=g) for k in SHAPES}
    batch = Batch(x, torch.randint(0, 10, (batch_size,), generator=g), torch.arange(batch_size), levels)
    fns = {m: _step_fn(m, batch) for m in ("static", "udml")}
    times = {m: [] for m in fns}
    for fn in fns.values():  # warm-up
        for _ in range(steps):
            fn()
    for _ in range(rounds):
        for m, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                fn()
            times[m].append((time.perf_counter() - t0) / steps)
    med = {m: statistics.median(v) for m, v in times.items()}
    return {"static_s": med["static"], "udml_s": med["udml"], "ratio": med["udml"] / med["static"]}


def chapter_times(path: str | Path = "book/_timings.json") -> dict[str, float]:
    """Seconds per chapter from the book build's timing file ({} if the book was not built)."""
    path = Path(path)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {k: float(v["seconds"] if isinstance(v, dict) else v)
            for k, v in data.get("chapters", data).items()}


def main() -> int:
    from .corruption import benchmark_corruption
    torch.set_num_threads(1)
    # the reference batch, and one where compute outweighs the per-module overhead
    for batch_size, rounds, steps in ((64, 15, 10), (512, 7, 3)):
        step = training_step_ratio(batch_size, rounds, steps)
        print(f"training step, UDML / static fusion (batch {batch_size}, mfeat pix+fou, 1 thread): "
              f"{step['ratio']:.3f}x  ({step['udml_s'] * 1e3:.2f} ms vs "
              f"{step['static_s'] * 1e3:.2f} ms)")
    cor = benchmark_corruption()
    print(f"corruption, per-sample NumPy loop / batched torch: {cor['speedup']:.1f}x faster  "
          f"({cor['per_sample_loop_s'] * 1e3:.1f} ms vs {cor['batched_s'] * 1e3:.2f} ms)")
    chapters = chapter_times()
    if chapters:
        total = sum(chapters.values())
        print("book chapters (seconds, last build): " +
              ", ".join(f"{k} {v:.0f}" for k, v in chapters.items()) + f"; total {total:.0f}")
    else:
        print("book chapters: no timings yet (run book/build.py)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
