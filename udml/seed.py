"""One seeding function for the whole project.

Everything random in `udml` either goes through an explicit `torch.Generator` (noise injection,
batch order, splits) or through the global RNGs seeded here (weight initialisation, dropout).
Seeded CPU runs are therefore bit-for-bit repeatable, which is what lets nbval compare stored
notebook outputs.
"""
from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) and return a CPU generator seeded the same way.

    The returned generator is what callers pass on to functions that take ``generator=``; the
    global seeds only cover what has no generator argument (parameter init, dropout masks).
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)
