"""The environment recorded beside every result: library versions, platform, device, threads."""
from __future__ import annotations

import platform
import sys

import numpy as np
import torch


def environment(device: str | torch.device = "cpu") -> dict:
    """Library versions and the device, recorded beside every result."""
    from . import __version__
    return {"udml": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": sys.version.split()[0], "platform": platform.platform(terse=True),
            "device": str(device), "threads": torch.get_num_threads()}
