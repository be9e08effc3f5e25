"""Audio-visual splits that the `udml` trainer and evaluator use like in-memory ones.

`AVData.batches(batch_size, shuffle, generator)` yields `udml.data.dataset.Batch`es with
x = {"audio": (B, 1, F, T), "visual": (B, T_v, 3, S, S)}, decoded by a torch DataLoader with
worker processes (persistent between epochs) and pinned memory on cuda. Noise is not injected
here: batches are clean (levels 1) and the trainer corrupts them on the device.

Per-sample seeding: every pass draws, from the caller's generator, the order and one seed per
sample; a sample's random crop, flip, frame choice and audio offset come from a generator
seeded with its own seed inside whichever worker decodes it. No global RNG is touched, and the
result does not depend on the number of workers.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import torch
from torch.utils.data import DataLoader, Dataset

from ..data.dataset import Batch, MultimodalData
from ..data.audio import AudioSpec, load_spectrogram
from .catalog import (Clip, Layout, check_root, class_names, index_clips, read_split_csv,
                      stratified_split)
from .frames import FrameSpec, load_clip_frames

MODALITIES = ("audio", "visual")
EVAL_BATCH_CAP = 128  # unshuffled passes (evaluation) decode at most this many clips per batch


def default_workers() -> int:
    """Decoding processes: one per spare CPU core, at most 8."""
    return max(0, min(8, (os.cpu_count() or 1) - 1))


class ClipDataset(Dataset):
    """Decodes clip ``i`` with seed ``s`` (key ``(i, s)``) to (audio, visual, label, i).

    ``augment`` (training) turns on the random frame choice, crop and flip and the random audio
    offset; without it, or with seed None, decoding is deterministic.
    """

    def __init__(self, clips: list[Clip], audio: AudioSpec, frames: FrameSpec, augment: bool):
        self.clips, self.audio, self.frames, self.augment = list(clips), audio, frames, augment

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, key):
        i, seed = key if isinstance(key, tuple) else (key, None)
        clip = self.clips[i]
        random = self.augment and seed is not None
        gen = torch.Generator().manual_seed(int(seed)) if random else None
        spec = load_spectrogram(clip.audio, self.audio, gen)                   # (1, F, T)
        visual = load_clip_frames(list(clip.frames), self.frames, gen)         # (T_v, 3, S, S)
        return spec, visual, clip.label, i


class _Plan:
    """The batch sampler of the DataLoader: lists of (index, seed), replaced before each pass.

    It lives in the main process, so persistent workers see each new plan."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[int, int]]] = []

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class AVData:
    """One split of an audio-visual dataset (clips on disk, decoded on demand)."""

    def __init__(self, clips: list[Clip], audio: AudioSpec, frames: FrameSpec, augment: bool,
                 num_workers: int | None = None, pin_memory: bool | str = "auto"):
        self.dataset = ClipDataset(clips, audio, frames, augment)
        self.num_workers = default_workers() if num_workers is None else int(num_workers)
        self.pin_memory = torch.cuda.is_available() if pin_memory == "auto" else bool(pin_memory)
        self._plan = _Plan()
        self._loader: DataLoader | None = None

    @property
    def clips(self) -> list[Clip]:
        return self.dataset.clips

    @property
    def modalities(self) -> list[str]:
        return list(MODALITIES)

    @property
    def y(self) -> torch.Tensor:
        """(N,) class labels."""
        return torch.tensor([c.label for c in self.clips], dtype=torch.long)

    def __len__(self) -> int:
        return len(self.dataset)

    def subset(self, index: torch.Tensor) -> "AVData":
        """The clips at ``index``, decoded with the same settings (a rank's shard)."""
        ds = self.dataset
        return AVData([ds.clips[i] for i in index.tolist()], ds.audio, ds.frames, ds.augment,
                      self.num_workers, self.pin_memory)

    def _get_loader(self) -> DataLoader:
        if self._loader is None:
            workers = self.num_workers
            self._loader = DataLoader(
                self.dataset, batch_sampler=self._plan, num_workers=workers,
                pin_memory=self.pin_memory, persistent_workers=workers > 0,
                prefetch_factor=2 if workers > 0 else None)
        return self._loader

    def plan(self, order: torch.Tensor, seeds: torch.Tensor, batch_size: int
             ) -> list[list[tuple[int, int]]]:
        """Cut (index, seed) pairs in ``order`` into batches of ``batch_size``."""
        pairs = list(zip(order.tolist(), seeds[order].tolist()))
        return [pairs[s:s + batch_size] for s in range(0, len(pairs), batch_size)]

    def run(self, batches: list[list[tuple[int, int]]]) -> Iterator[Batch]:
        """Decode planned batches (lists of (index, seed)) into `Batch`es, in order."""
        self._plan.batches = batches
        if not batches:
            return
        for spec, visual, label, index in self._get_loader():
            ones = torch.ones(label.shape[0], dtype=torch.long)
            yield Batch({"audio": spec, "visual": visual}, label.long(), index.long(),
                        {m: ones for m in MODALITIES})

    def to_memory(self, batch_size: int = 64) -> MultimodalData:
        """Decode every clip once into an in-memory `MultimodalData` (same order, same values),
        so that many evaluation passes (one per noise protocol) decode nothing again. Needs
        N x (F T + T_v 3 S S) x 4 bytes; only for splits without random augmentation."""
        if self.dataset.augment:
            raise ValueError("a training split is randomly augmented: decode it per epoch with "
                             "batches(), not once with to_memory()")
        parts = {m: [] for m in MODALITIES}
        ys = []
        for batch in self.batches(batch_size):
            for m in MODALITIES:
                parts[m].append(batch.x[m])
            ys.append(batch.y)
        return MultimodalData({m: torch.cat(v) for m, v in parts.items()}, torch.cat(ys))

    def batches(self, batch_size: int, shuffle: bool = False,
                generator: torch.Generator | None = None) -> Iterator[Batch]:
        """Clean `Batch`es of at most ``batch_size`` clips (at most EVAL_BATCH_CAP when not
        shuffled, to bound the memory of evaluation passes); the order and the per-sample
        seeds come from ``generator`` (fixed seeds 0..N-1 without one)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        n = len(self)
        if shuffle:
            order = torch.randperm(n, generator=generator)
        else:
            order = torch.arange(n)
            batch_size = min(batch_size, EVAL_BATCH_CAP)
        seeds = (torch.randint(0, 2 ** 62, (n,), generator=generator) if generator is not None
                 else torch.arange(n))
        yield from self.run(self.plan(order, seeds, batch_size))


@dataclass
class AVSplits:
    """Train/val/test `AVData` of one dataset; the attributes the trainer needs."""

    train: AVData
    val: AVData
    test: AVData
    num_classes: int
    name: str
    class_names: list[str]
    info: dict = field(default_factory=dict)

    @property
    def modalities(self) -> list[str]:
        return list(MODALITIES)

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """{'audio': (1, F, T), 'visual': (T_v, 3, S, S)}"""
        ds = self.train.dataset
        return {"audio": ds.audio.shape, "visual": ds.frames.shape}


def load_av_splits(root: str | Path, name: str, layout: Layout, known: tuple[str, ...] | None,
                   audio: AudioSpec, frames: FrameSpec, val_share: float = 0.1, seed: int = 0,
                   num_workers: int | None = None, pin_memory: bool | str = "auto",
                   hint: str = "") -> AVSplits:
    """Read the split lists under ``root`` and check every clip (see `udml.av.catalog`).

    The class list comes from the training split. Without a val.csv, a stratified share
    ``val_share`` of the training clips (seeded by ``seed``) becomes the validation split, so
    that nothing is ever selected on the test set.
    """
    root = check_root(root, name, hint)
    train_csv, test_csv, val_csv = (root / layout.train_csv, root / layout.test_csv,
                                    root / layout.val_csv)
    train_rows = read_split_csv(train_csv, name)
    test_rows = read_split_csv(test_csv, name)
    classes = class_names(train_rows, known, train_csv, name)
    if len(classes) < 2:
        raise ValueError(f"{name}: the training split {train_csv} has only the classes {classes}")
    n = frames.num_frames
    train = index_clips(root, train_rows, classes, layout, n, train_csv, name)
    test = index_clips(root, test_rows, classes, layout, n, test_csv, name)
    if val_csv.is_file():
        val = index_clips(root, read_split_csv(val_csv, name), classes, layout, n, val_csv, name)
        val_source = str(layout.val_csv)
    else:
        kept, held = stratified_split([c.label for c in train], val_share,
                                      torch.Generator().manual_seed(seed))
        train, val = [train[i] for i in kept], [train[i] for i in held]
        val_source = f"stratified {val_share:g} of {layout.train_csv}, seed {seed}"
        if not val:
            raise ValueError(f"{name}: holding out {val_share:g} of {train_csv} leaves no "
                             "validation clips (too few clips per class); write a val.csv")
    opts = dict(num_workers=num_workers, pin_memory=pin_memory)
    info = {"dataset": name, "root": str(root), "classes": classes, "val_split": val_source,
            "sizes": {"train": len(train), "val": len(val), "test": len(test)},
            "audio": asdict(audio), "frames": asdict(frames)}
    return AVSplits(AVData(train, audio, frames, True, **opts),
                    AVData(val, audio, frames, False, **opts),
                    AVData(test, audio, frames, False, **opts), len(classes), name, classes, info)
