"""The environment recorded beside every result: library versions, platform, device, threads
and the CPU numerics in force (`udml.numerics.numerics_in_force`: what torch and MKL compute
with, read from them, not what the environment variables ask for)."""
from __future__ import annotations

import platform
import sys

import numpy as np
import torch

from .numerics import numerics_in_force


def environment(device: str | torch.device = "cpu") -> dict:
    """Library versions, the device and the CPU numerics, recorded beside every result."""
    from . import __version__
    return {"udml": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": sys.version.split()[0], "platform": platform.platform(terse=True),
            "device": str(device), "threads": torch.get_num_threads(),
            "numerics": numerics_in_force()}
