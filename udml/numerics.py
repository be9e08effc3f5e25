"""Pinned CPU numerics: the same seeded run gives the same bits on any x86-64 CPU with AVX2.

Seeding fixes every random draw, but not the order in which a CPU adds up floats. Three libraries
inside torch choose their kernels by the processor they find, so a run on an AVX-512 Intel chip
and the same run on an AVX2 AMD chip differ in the last bits after the first matrix product, and
after a few epochs of training in the printed accuracies. `pin_cpu_numerics` pins all three (the
environment variables only where the user has not set them already):

- MKL (dense products): conditional numerical reproducibility, ``MKL_CBWR=COMPATIBLE``, the code
  path that Intel documents as giving the same results on every x86 processor. MKL reads it once,
  at its first call.
- ATen's own vectorised kernels (reductions, element-wise maths): ``ATEN_CPU_CAPABILITY=avx2``,
  the vector width every x86-64 CPU of the last decade has. torch reads it once, at its first
  vectorised operation.
- oneDNN (convolutions): disabled on the CPU (``torch.backends.mkldnn``), so convolutions go
  through ATen and MKL, pinned above; oneDNN picks its kernels and blocking by processor.

Importing `udml` changes none of this: the pins are process-wide, so they are an explicit call,
made by the command line, the sweep's workers, the chapters' `setup` and the test suite. A script
that wants the book's bits makes it first, before any torch computation::

    from udml.numerics import pin_cpu_numerics
    pin_cpu_numerics()

Made after torch has computed, the first two pins cannot take effect any more (each library has
read its setting); the call then says so in a warning instead of failing silently. There is no
undo: a capability once read stays for the life of the process.

GPUs are not affected, and on other architectures (an ARM laptop) the pins are no-ops: a seeded
run there repeats itself, but its last bits differ from an x86-64 run.
"""
from __future__ import annotations

import ctypes
import glob
import os
import warnings

import torch

PINNED_ENVIRONMENT = {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "avx2"}

# MKL's code-path setting as its mkl_cbwr_get(MKL_CBWR_BRANCH) reports it (constants of mkl.h).
_MKL_BRANCH = 1
_MKL_BRANCHES = {1: "OFF", 2: "AUTO", 3: "COMPATIBLE"}

# The ATen capabilities this check can tell the CPU supports (others are not checked).
_SUPPORTED = {"DEFAULT": lambda: True,
              "AVX2": lambda: getattr(torch.cpu, "_is_avx2_supported", bool)(),
              "AVX512": lambda: getattr(torch.cpu, "_is_avx512_supported", bool)()}


def _mkl_cbwr() -> str | None:
    """MKL's code path in force in this process ("COMPATIBLE", "AUTO", "OFF"), None where torch
    has no MKL. Reading it fixes it, as MKL's first call does."""
    for path in glob.glob(os.path.join(os.path.dirname(torch.__file__), "lib", "*torch_cpu.*")):
        try:
            cbwr_get = ctypes.CDLL(path).mkl_serv_cbwr_get  # MKL's service behind mkl_cbwr_get
        except (OSError, AttributeError):
            continue
        cbwr_get.argtypes, cbwr_get.restype = [ctypes.c_int], ctypes.c_int
        branch = cbwr_get(_MKL_BRANCH)
        return _MKL_BRANCHES.get(branch, f"branch {branch}")
    return None


def numerics_in_force() -> dict:
    """The CPU numerics this process computes with, as the libraries report them (not as the
    environment asks): ATen's capability, MKL's code path (None without MKL), whether oneDNN is
    on. Reading them fixes them, as torch's first operation does."""
    return {"cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "MKL_CBWR": _mkl_cbwr(), "mkldnn": torch.backends.mkldnn.enabled}


def _not_taken(in_force: dict) -> list[str]:
    """The pins the environment asks for that ``in_force`` does not show, where that can be told."""
    missed = []
    asked = os.environ["ATEN_CPU_CAPABILITY"].upper()
    if asked in _SUPPORTED and _SUPPORTED[asked]() and in_force["cpu_capability"] != asked:
        missed.append(f"ATen runs {in_force['cpu_capability']} kernels, not the {asked} that "
                      f"ATEN_CPU_CAPABILITY={os.environ['ATEN_CPU_CAPABILITY']} asks for")
    asked = os.environ["MKL_CBWR"]
    if asked == "COMPATIBLE" and in_force["MKL_CBWR"] not in (None, asked):
        missed.append(f"MKL runs its {in_force['MKL_CBWR']} code path, not the {asked} one that "
                      f"MKL_CBWR={asked} asks for")
    return missed


def pin_cpu_numerics() -> dict:
    """Pin MKL, ATen and oneDNN as above (environment variables the user set win); return the
    numerics now in force (`numerics_in_force`). Call it before any torch computation; calling
    it again is harmless. Warns (RuntimeWarning) where a pin did not take effect."""
    for name, value in PINNED_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    torch.backends.mkldnn.enabled = False
    in_force = numerics_in_force()
    missed = _not_taken(in_force)
    if missed:
        warnings.warn(f"pin_cpu_numerics() came too late: {'; '.join(missed)}. torch already ran "
                      f"an operation in this process, and each library reads its setting once, "
                      f"at its first call: seeded results will not have the book's bits. Call "
                      f"pin_cpu_numerics() first, before any torch computation.",
                      RuntimeWarning, stacklevel=2)
    return in_force
