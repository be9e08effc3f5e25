"""Small conveniences shared by the book's chapters: one set-up call and `glue`.

Kept in the library so that no chapter carries code of its own beyond its teaching cells.
"""
from __future__ import annotations

import time

import torch

from ..numerics import pin_cpu_numerics
from ..seed import seed_everything
from ..training.loop import resolve_device


def glue(name: str, value, display: bool = False):
    """Put a computed value into the prose (myst-nb's glue); print it where myst-nb is absent."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # e.g. on Colab: no book renderer
        print(f"{name} = {value}")
        return value
    myst_glue(name, value, display=display)
    return value


def glue_figure(name: str, fig) -> None:
    """Glue a matplotlib figure for a numbered, captioned MyST figure (```{glue:figure} name```
    in the next Markdown cell); where myst-nb is absent (e.g. on Colab) show it instead."""
    import matplotlib.pyplot as plt
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        from IPython.display import display
        display(fig)
    else:
        myst_glue(name, fig, display=False)
    plt.close(fig)


def setup(device: str, seed: int, profile: str, profiles: dict[str, dict]):
    """Pin the CPU numerics, validate a chapter's parameters cell, seed everything, resolve the
    device.

    The chapters call it before computing anything, so that the pins take (`udml.numerics`: the
    same bits on any x86-64 CPU).
    On the CPU, torch runs on one thread: the chapters' models are small (threads buy little), and
    a seeded computation then gives the same numbers on a laptop, on CI and on Colab whatever the
    number of cores, which is what lets nbval compare the stored outputs.

    Returns (device, settings of the profile, a seeded torch.Generator, the start time).
    """
    pin_cpu_numerics()
    if profile not in profiles:
        raise ValueError(f"profile must be one of {sorted(profiles)}, got {profile!r}")
    dev = resolve_device(device)
    if dev.type == "cpu":
        torch.set_num_threads(1)
    generator = seed_everything(seed)
    print(f"device={dev.type} profile={profile} seed={seed} torch={torch.__version__}")
    return dev, profiles[profile], generator, time.perf_counter()


def report_time(started: float, label: str = "chapter run time") -> float:
    """Print the wall time since ``started`` (masked by the nbval sanitiser) and return it."""
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.1f} s")
    return seconds
