"""UCI Multiple Features: 2000 handwritten digits (10 classes, 200 each) seen through six views.

The views are computed from the same scanned digit, so they form a small real multi-view task:

    pix  (1, 16, 15) image, pixel averages in 2x3 windows, grey levels 0..6
    fou  (76,)  Fourier coefficients of the character contour
    fac  (216,) profile correlations
    kar  (64,)  Karhunen-Loeve coefficients
    zer  (47,)  Zernike moments
    mor  (6,)   morphological features

The default fusion task is pix (an image for a small CNN) + fou (a contour spectrum, the harder
modality).  Data: van Breukelen et al. (1998), UCI Machine Learning Repository, CC BY 4.0; see
data/README.md for provenance and the checksum enforced here.
"""
from __future__ import annotations

from typing import Sequence

import torch

from .dataset import MultimodalData, MultimodalSplits
from .files import DATA_FILES, load_npz
from .splits import Standardiser, stratified_split

MFEAT_FILE = "mfeat.npz"
VIEWS = ("fac", "fou", "kar", "mor", "pix", "zer")
DEFAULT_VIEWS = ("fou", "pix")
IMAGE_VIEWS = {"pix": (1, 16, 15)}  # channels, rows, columns
PIX_LEVELS = (0, 6)  # raw grey-level range of pix
NUM_CLASSES = 10


def _check_views(views: Sequence[str]) -> list[str]:
    if isinstance(views, str):
        raise TypeError(f"views must be a sequence of view names, not the string {views!r}; "
                        f"e.g. views=('pix', 'fou')")
    views = list(views)
    unknown = [v for v in views if v not in VIEWS]
    if unknown:
        raise ValueError(f"unknown mfeat view(s) {unknown}; choose from {list(VIEWS)}")
    if len(set(views)) != len(views):
        raise ValueError(f"duplicate mfeat views in {views}")
    if len(views) < 2:
        raise ValueError(f"multimodal fusion needs at least 2 views, got {views}; for a "
                         f"single-view model load two views and use one of them")
    return sorted(views)


def _name(views: list[str]) -> str:
    if views == sorted(DEFAULT_VIEWS):
        return "mfeat"
    if views == sorted(VIEWS):
        return "mfeat-all"
    return "mfeat-" + "+".join(views)


def load_mfeat(views: Sequence[str] = ("pix", "fou"), seed: int = 0, val_fraction: float = 0.15,
               test_fraction: float = 0.2, path: str | None = None) -> MultimodalSplits:
    """Load mfeat with a stratified, seeded train/val/test split, standardised on train.

    views:         at least two of fac, fou, kar, mor, pix, zer (processed in sorted order)
    seed:          seeds the split through a local torch.Generator (no global reseeding)
    val_fraction, test_fraction: shares of every class; train gets the rest
    path:          read the archive from here instead of the shipped copy (checksum still enforced)

    Scaling: vector views get per-feature mean/std, the pix image one global mean/std, all fitted
    on the training split.  info["range"]["pix"] gives where the raw grey levels 0 and 6 land, so
    corruptions can clip to the valid range.  Raises ValueError for unknown or too few views.
    """
    views = _check_views(views)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 < f < 1.0:
            raise ValueError(f"{name} must lie in (0, 1), got {f}")
    train_fraction = round(1.0 - val_fraction - test_fraction, 12)
    if train_fraction <= 0.0:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got "
                         f"{val_fraction} + {test_fraction}")

    arrays = load_npz(MFEAT_FILE, path)
    y = torch.from_numpy(arrays["labels"]).long()  # (N,)
    generator = torch.Generator().manual_seed(seed)
    parts = stratified_split(y, (train_fraction, val_fraction, test_fraction), generator)
    train_idx, val_idx, test_idx = parts

    x_split: dict[str, dict[str, torch.Tensor]] = {"train": {}, "val": {}, "test": {}}
    scaling, value_range = {}, {}
    for view in views:
        raw = torch.from_numpy(arrays[view]).float()  # (N, F) or (N, 16, 15)
        if view in IMAGE_VIEWS:
            raw = raw.reshape(-1, *IMAGE_VIEWS[view])  # (N, 1, 16, 15)
            scaler = Standardiser("global").fit(raw[train_idx])
            value_range[view] = [scaler.map_value(PIX_LEVELS[0]), scaler.map_value(PIX_LEVELS[1])]
        else:
            scaler = Standardiser("feature").fit(raw[train_idx])
        scaling[view] = scaler.describe()
        for split, idx in zip(("train", "val", "test"), parts):
            x_split[split][view] = scaler.transform(raw[idx]).contiguous()

    data = {s: MultimodalData(x_split[s], y[idx]) for s, idx in zip(x_split, parts)}
    info = {
        "dataset": "mfeat",
        "source": "UCI Multiple Features (van Breukelen et al. 1998), CC BY 4.0",
        "file": MFEAT_FILE,
        "sha256": DATA_FILES[MFEAT_FILE].sha256,
        "views": views,
        "seed": seed,
        "fractions": {"train": train_fraction, "val": val_fraction, "test": test_fraction},
        "sizes": {"train": len(train_idx), "val": len(val_idx), "test": len(test_idx)},
        "scaling": scaling,
        "range": value_range,
    }
    return MultimodalSplits(data["train"], data["val"], data["test"], num_classes=NUM_CLASSES,
                            name=_name(views), info=info)
