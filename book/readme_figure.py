"""Draw the README's figure from the committed results: python book/readme_figure.py

Accuracy against the noise level on mfeat (pix + fou), each modality made noisy alone, for every
method of the `main` experiment (mean over its seeds with the 95% interval), from
results/main/mfeat.parquet.  Nothing is trained here.
"""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from udml.analysis.comparisons import level_curves  # noqa: E402
from udml.config import METHODS  # noqa: E402
from udml.plotting.experiments import plot_level_curves  # noqa: E402
from udml.experiments.files import read_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    source = ROOT / "results" / "main" / "mfeat.parquet"
    target = ROOT / "book" / "images" / "readme.png"
    curves = level_curves(read_results(source), list(METHODS))
    curves = {k: v for k, v in curves.items() if k != "all"}
    fig = plot_level_curves(curves, list(METHODS), ncols=2)
    fig.set_size_inches(10, 3.8)  # room for the one-row legend of eight methods
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    fig.savefig(target, dpi=110, bbox_inches="tight", metadata={"Software": None})
    print(f"wrote {target.relative_to(ROOT)} from {source.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
