"""Pinned CPU numerics: the same seeded run gives the same bits on any x86-64 CPU with AVX2.

Seeding fixes every random draw, but not the order in which a CPU adds up floats. Three libraries
inside torch choose their kernels by the processor they find, so a run on an AVX-512 Intel chip
and the same run on an AVX2 AMD chip differ in the last bits after the first matrix product, and
after a few epochs of training in the printed accuracies. Importing `udml` pins all three (each
only where the user has not set it already):

- MKL (dense products): conditional numerical reproducibility, ``MKL_CBWR=COMPATIBLE``, the code
  path that Intel documents as giving the same results on every x86 processor. MKL reads it at
  its first call, so setting it on import is early enough.
- ATen's own vectorised kernels (reductions, element-wise maths): ``ATEN_CPU_CAPABILITY=avx2``,
  the vector width every x86-64 CPU of the last decade has. torch fixes it at its first
  operation, so `udml` must be imported before any tensor is computed (the chapters import it
  first) for this pin to hold.
- oneDNN (convolutions): disabled on the CPU (``torch.backends.mkldnn``), so convolutions go
  through ATen and MKL, pinned above; oneDNN picks its kernels and blocking by processor.

GPUs are not affected, and on other architectures (an ARM laptop) the pins are no-ops: a seeded
run there repeats itself, but its last bits differ from an x86-64 run.
"""
from __future__ import annotations

import os

PINNED_ENVIRONMENT = {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "avx2"}


def pin_cpu_numerics() -> dict[str, str]:
    """Set the pins above (environment variables the user set win) and return them in force."""
    for name, value in PINNED_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    import torch

    torch.backends.mkldnn.enabled = False
    return {name: os.environ[name] for name in PINNED_ENVIRONMENT}
