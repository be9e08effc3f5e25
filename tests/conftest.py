"""Shared test set-up.

The CPU numerics are pinned first, before any torch operation, as the CLI and the chapters pin
them: the tests that compare with committed results need the book's bits. Unit tests run on one
torch thread: the workloads are tiny, and it keeps them fast when the machine is shared. Figures
are drawn off-screen (Agg) and closed after every test.

The tests come in tiers (markers registered in pyproject.toml): a plain ``pytest`` runs the unit
tier, leaving out ``book`` (every chapter re-executed by strict nbval, book/conftest.py) and
``slow`` (real worker processes, torchrun, a Dask cluster, a wheel, a reader's build).
``--all-tiers`` runs everything (the README's test command, CI), ``-m`` picks tiers
(``-m book``), and a command that names files or folders runs every test in them.
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


UNIT_TIER = "not book and not slow"


def pytest_addoption(parser):
    parser.addoption("--all-tiers", action="store_true",
                     help="run every tier: unit, book and slow (what CI runs)")


def pytest_configure(config):
    """A plain ``pytest`` (no paths, no ``-m``) runs the unit tier only."""
    if (not config.getoption("all_tiers") and not config.option.markexpr
            and config.args_source is not pytest.Config.ArgsSource.ARGS):
        config.option.markexpr = UNIT_TIER


def pytest_report_header(config):
    if config.option.markexpr == UNIT_TIER:
        return f"tiers: unit only (-m '{UNIT_TIER}'); --all-tiers adds the book and slow tests"
    return f"tiers: {'-m ' + repr(config.option.markexpr) if config.option.markexpr else 'all'}"
