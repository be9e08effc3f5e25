"""Finding the clips of an audio-visual dataset on disk, with errors that say what is missing.

The layout every loader reads (CREMA-D's, as the OGM-GE preprocessing leaves it):

    ROOT/
      AudioWAV/<clip>.wav            one PCM WAV per clip          (``audio_dir``)
      Image-01-FPS/<clip>/*.jpg      the clip's frames at 1 fps    (``frames_dir``)
      train.csv, test.csv            one ``clip,label`` row per clip, no header needed
      val.csv                        optional; else a seeded stratified share of train

``<clip>`` may contain a sub-folder (``class/clip_id``) for layouts sorted by class.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import torch

from .frames import list_frames

SHOWN = 3  # how many missing clips an error message names


@dataclass(frozen=True)
class Layout:
    """Folder and file names of a dataset under its root."""

    audio_dir: str = "AudioWAV"
    frames_dir: str = "Image-01-FPS"
    audio_suffix: str = ".wav"
    train_csv: str = "train.csv"
    test_csv: str = "test.csv"
    val_csv: str = "val.csv"


@dataclass(frozen=True)
class Clip:
    """One clip: its name, class index, WAV path and sorted frame paths."""

    name: str
    label: int
    audio: Path
    frames: tuple[Path, ...]


def check_root(root: str | Path, dataset: str, hint: str) -> Path:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{dataset} root folder {root} does not exist. {hint}")
    return root


def read_split_csv(path: Path, dataset: str) -> list[tuple[str, str, int]]:
    """Rows (clip, label, line number) of a split list; a ``clip,label`` header is skipped."""
    if not path.is_file():
        raise FileNotFoundError(f"{dataset} split list {path} does not exist; it must hold one "
                                f"'clip,label' row per clip")
    rows = []
    with path.open(newline="") as f:
        for line, row in enumerate(csv.reader(f), start=1):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if len(cells) < 2 or not cells[0] or not cells[1]:
                raise ValueError(f"{path}, line {line}: expected 'clip,label', got {row!r}")
            if line == 1 and [c.lower() for c in cells[:2]] == ["clip", "label"]:
                continue
            rows.append((cells[0], cells[1], line))
    if not rows:
        raise ValueError(f"{dataset} split list {path} has no clips")
    names = [r[0] for r in rows]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})[:SHOWN]
        raise ValueError(f"{path} lists some clips twice, e.g. {dup}")
    return rows


def class_names(rows: list[tuple[str, str, int]], known: tuple[str, ...] | None,
                path: Path, dataset: str) -> list[str]:
    """The classes present in the training rows: in ``known``'s order where the dataset has a
    fixed list (an unknown label is an error), else sorted. Their number comes from the data."""
    labels = {r[1] for r in rows}
    if known is None:
        return sorted(labels)
    for clip, label, line in rows:
        if label not in known:
            raise ValueError(f"unknown label {label!r} for clip {clip} ({path}, line {line}); "
                             f"{dataset} labels are {list(known)}")
    return [c for c in known if c in labels]


def write_split_csv(path: str | Path, rows: list[tuple[str, str]]) -> Path:
    """Write ``clip,label`` rows (no header), as the split lists of the reference code."""
    path = Path(path)
    with path.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return path


def _missing(what: str, items: list[tuple[str, Path]], dataset: str) -> str:
    shown = ", ".join(f"clip {c} ({p})" for c, p in items[:SHOWN])
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return f"{dataset}: {what} of {len(items)} clip(s) missing: {shown}{more}"


def index_clips(root: Path, rows: list[tuple[str, str, int]], classes: list[str], layout: Layout,
                num_frames: int, path: Path, dataset: str) -> list[Clip]:
    """Resolve every row to a `Clip`, checking its label, WAV file and frames.

    Raises ValueError for a label outside ``classes`` and FileNotFoundError naming the clips
    whose audio file or frame folder is missing, or that have fewer than ``num_frames`` frames.
    """
    index = {c: i for i, c in enumerate(classes)}
    audio_root, frames_root = root / layout.audio_dir, root / layout.frames_dir
    for folder in (audio_root, frames_root):
        if not folder.is_dir():
            raise FileNotFoundError(f"{dataset}: folder {folder} does not exist")
    clips, no_audio, no_frames, few = [], [], [], []
    for clip, label, line in rows:
        if label not in index:
            raise ValueError(f"unknown label {label!r} for clip {clip} ({path}, line {line}); "
                             f"the training split has the classes {classes}")
        audio = audio_root / f"{clip}{layout.audio_suffix}"
        folder = frames_root / clip
        frames = tuple(list_frames(folder)) if folder.is_dir() else ()
        if not audio.is_file():
            no_audio.append((clip, audio))
        if not folder.is_dir():
            no_frames.append((clip, folder))
        elif len(frames) < num_frames:
            few.append((clip, folder))
        clips.append(Clip(clip, index[label], audio, frames))
    if no_audio:
        raise FileNotFoundError(_missing("the audio file", no_audio, dataset))
    if no_frames:
        raise FileNotFoundError(_missing("the frame folder", no_frames, dataset))
    if few:
        raise FileNotFoundError(_missing(f"frames (need {num_frames} .jpg/.png per clip)", few,
                                         dataset))
    return clips


def stratified_split(labels: list[int], share: float, generator: torch.Generator
                     ) -> tuple[list[int], list[int]]:
    """(kept, held out) positions: each class gives round(share * n_c) of its clips (at least 1
    where it has 2 or more) to the held-out part, chosen by ``generator``."""
    if not 0.0 < share < 1.0:
        raise ValueError(f"the validation share must lie in (0, 1), got {share}")
    kept, held = [], []
    for c in sorted(set(labels)):
        members = [i for i, y in enumerate(labels) if y == c]
        perm = torch.randperm(len(members), generator=generator).tolist()
        k = round(share * len(members))
        k = max(k, 1) if len(members) >= 2 else 0
        held += [members[j] for j in perm[:k]]
        kept += [members[j] for j in perm[k:]]
    return sorted(kept), sorted(held)
