"""Datasets of the book, all returned as `MultimodalSplits` (modalities as a dict keyed by name).

    load_dataset("mfeat")      UCI Multiple Features, pix (image) + fou (contour spectrum)
    load_dataset("mfeat-all")  the same digits with all six views
    load_dataset("synthetic")  a planted easy and hard modality with known ground truth
    load_dataset("fsdd")       real spoken digits paired with handwritten ones (udml.data.fsdd);
                               "fsdd-speaker": the same with whole speakers held out
"""
from __future__ import annotations

from functools import partial
from typing import Callable

from .dataset import Batch, MultimodalData, MultimodalSplits
from .files import DataFileError, find_data_file, verify_data_file
from .fsdd import load_fsdd
from .mfeat import VIEWS as MFEAT_VIEWS
from .mfeat import load_mfeat
from .splits import Standardiser, stratified_split
from .synthetic import make_synthetic


def _mfeat_all(**kwargs) -> MultimodalSplits:
    if "views" in kwargs:
        raise TypeError("'mfeat-all' always uses all six views; use 'mfeat' with views=... instead")
    return load_mfeat(views=MFEAT_VIEWS, **kwargs)


DATASETS: dict[str, Callable[..., MultimodalSplits]] = {
    "mfeat": load_mfeat,
    "mfeat-all": _mfeat_all,
    "synthetic": make_synthetic,
    "fsdd": partial(load_fsdd, split="official"),
    "fsdd-speaker": partial(load_fsdd, split="speaker"),
}


def load_dataset(name: str, **kwargs) -> MultimodalSplits:
    """Load a dataset by name; keyword arguments go to its loader (e.g. seed=0)."""
    try:
        loader = DATASETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}") from None
    return loader(**kwargs)


__all__ = [
    "Batch", "MultimodalData", "MultimodalSplits", "DATASETS", "load_dataset", "load_fsdd", "load_mfeat",
    "make_synthetic", "stratified_split", "Standardiser", "DataFileError", "find_data_file",
    "verify_data_file", "MFEAT_VIEWS",
]
