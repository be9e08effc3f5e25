"""Speed of batched on-device corruption against a per-sample data-loader transform.

Both sides make the same noisy batch: Gaussian noise of std scale * t in data units, with
t = ((l - 1) / (L - 1))^2 as in `levels_to_strength`, clipped to [-3, 3], on an (N, 1, 16, 15)
image modality and an (N, 76) vector modality, at the same random levels 1..L per sample and
modality.
(a) batched: one `apply_noise` call on the whole batch, on the chosen device;
(b) per sample, as a data-loader transform does it in the reference code: for every item and
    modality, convert to numpy, draw the noise with a numpy RNG, add, clip, convert back to a
    tensor; then collate (stack) the items into the batch. Written plainly, without artificial
    slowness: clean items are passed through, noise is drawn in float32.
Run: ``python -m udml.bench.corruption`` (a few seconds on a laptop CPU).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from ..corrupt import NoiseSpec, apply_noise

SHAPES = {"fou": (76,), "pix": (1, 16, 15)}
CLIP = (-3.0, 3.0)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_pair(fa, fb, repeats: int, device: torch.device) -> tuple[float, float]:
    """Median wall times (s) of fa() and fb() over ``repeats`` alternating runs, after a warm-up.

    Alternating the two keeps them under the same machine load; fa may run on ``device``.
    """
    fa()
    fb()
    _sync(device)
    ta, tb = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        fa()
        _sync(device)
        ta.append(time.perf_counter() - start)
        start = time.perf_counter()
        fb()
        tb.append(time.perf_counter() - start)
    return statistics.median(ta), statistics.median(tb)


def per_sample_loop(x: dict[str, torch.Tensor], levels: dict[str, torch.Tensor],
                    scales: dict[str, float], num_levels: int,
                    rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """The per-item numpy transform of a data loader, followed by collation (CPU tensors)."""
    names = sorted(x)
    n = x[names[0]].shape[0]
    items: dict[str, list[torch.Tensor]] = {k: [] for k in names}
    lv = {k: levels[k].tolist() for k in names}
    for i in range(n):
        for k in names:
            arr = x[k][i].numpy()
            level = lv[k][i]
            if level > 1:
                sigma = scales[k] * ((level - 1) / (num_levels - 1)) ** 2  # levels_to_strength
                arr = arr + sigma * rng.standard_normal(arr.shape, dtype=np.float32)
                np.clip(arr, CLIP[0], CLIP[1], out=arr)
            items[k].append(torch.from_numpy(arr))
    return {k: torch.stack(items[k]) for k in names}


def benchmark_corruption(n: int = 2000, repeats: int = 7, num_levels: int = 11,
                         device: str | None = None, threads: int | None = 1,
                         seed: int = 0) -> dict:
    """Time (a) batched `apply_noise` against (b) the per-sample numpy loop, in one run.

    device: where the batched path runs (default cuda if available, else cpu); the loop always
    runs on the CPU, as data-loader workers do. threads: torch CPU threads during the run
    (default 1: the same single core the loop uses, and robust to a busy machine); None keeps
    the current setting. Returns the median seconds of each path, the ratio loop / batched (how
    many times faster the batched path is), and the setting.
    """
    if n < 1 or repeats < 1:
        raise ValueError(f"n and repeats must be >= 1, got n={n}, repeats={repeats}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be >= 1 or None, got {threads}")
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _run(n, repeats, num_levels, device, seed)
    finally:
        torch.set_num_threads(before)


def _run(n: int, repeats: int, num_levels: int, device: str | None, seed: int) -> dict:
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    g = torch.Generator().manual_seed(seed)
    x_cpu = {k: torch.randn((n,) + s, generator=g).clamp_(*CLIP) for k, s in SHAPES.items()}
    levels_cpu = {k: torch.randint(1, num_levels + 1, (n,), generator=g) for k in SHAPES}
    scales = {"fou": 1.0, "pix": 2.0}
    specs = {k: NoiseSpec("gaussian", scales[k], CLIP) for k in SHAPES}

    x_dev = {k: v.to(dev) for k, v in x_cpu.items()}
    levels_dev = {k: v.to(dev) for k, v in levels_cpu.items()}
    g_dev = torch.Generator(device=dev).manual_seed(seed)
    rng = np.random.default_rng(seed)

    batched, loop = _time_pair(
        lambda: apply_noise(x_dev, levels_dev, specs, num_levels, g_dev),
        lambda: per_sample_loop(x_cpu, levels_cpu, scales, num_levels, rng), repeats, dev)

    # Both paths make the same noise: its std at the top level should agree (~ the scale).
    top = {k: levels_cpu[k] == num_levels for k in SHAPES}
    a = apply_noise(x_dev, levels_dev, specs, num_levels, g_dev)
    b = per_sample_loop(x_cpu, levels_cpu, scales, num_levels, rng)
    std = {k: (float((a[k].cpu() - x_cpu[k])[top[k]].std()),
               float((b[k] - x_cpu[k])[top[k]].std())) for k in SHAPES if bool(top[k].any())}
    return {
        "n": n, "repeats": repeats, "device": str(dev), "torch_threads": torch.get_num_threads(),
        "batched_s": batched, "per_sample_loop_s": loop, "speedup": loop / batched,
        "noise_std_at_top_level": std,  # name -> (batched, loop)
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="samples per batch")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1, like the single-core loop; 0 = keep)")
    args = parser.parse_args(argv)
    r = benchmark_corruption(args.n, args.repeats, device=args.device,
                             threads=args.threads or None)
    print(f"corruption of {r['n']} samples (pix 1x16x15 + fou 76, Gaussian, random levels "
          f"1..11), median of {r['repeats']}; batched on {r['device']}, "
          f"{r['torch_threads']} torch thread(s):")
    print(f"  batched apply_noise:                 {r['batched_s'] * 1e3:8.2f} ms")
    print(f"  per-sample numpy loop (data loader): {r['per_sample_loop_s'] * 1e3:8.2f} ms")
    print(f"  speed-up: {r['speedup']:.1f}x (target >= 20x)")
    return r


if __name__ == "__main__":
    main()
