"""Shared test set-up.

The CPU numerics are pinned first, before any torch operation, as the CLI and the chapters pin
them: the tests that compare with committed results need the book's bits. Unit tests run on one
torch thread: the workloads are tiny, and it keeps them fast when the machine is shared. Figures
are drawn off-screen (Agg) and closed after every test.
"""
from udml.numerics import pin_cpu_numerics

pin_cpu_numerics()

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
