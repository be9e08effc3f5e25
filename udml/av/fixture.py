"""A tiny audio-visual dataset generated on the fly, in CREMA-D's folder layout.

Each class c has a tone (a sine at its own frequency, with a few harmonics and noise) and a
colour (a rectangle of that colour at a random place on a noisy grey background that moves a
little from frame to frame). Clips have random lengths (so the loader's tiling is exercised)
and 3-5 frames. ``visual_confusion`` is the share of clips whose rectangle takes the colour of
a random class: with it the visual modality is the weaker one, as on CREMA-D.

Everything is drawn from one ``torch.Generator`` seeded with ``seed``: the same seed writes the
same files. Generating the default fixture takes well under a second.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ..data.audio import write_wav
from .catalog import Layout, write_split_csv
from .cremad import CREMAD_CLASSES, CREMAD_LAYOUT

BASE_HZ = 220.0      # tone of class 0; class c has BASE_HZ * 2 ** (c / 2)
MARKER = "fixture.json"


def _colour(c: int, num_classes: int) -> np.ndarray:
    """A saturated RGB colour in [0, 1] per class, evenly spaced in hue."""
    h = c / num_classes * 6.0
    x = 1.0 - abs(h % 2.0 - 1.0)
    table = [(1, x, 0), (x, 1, 0), (0, 1, x), (0, x, 1), (x, 0, 1), (1, 0, x)]
    return np.array(table[int(h) % 6], dtype=np.float32)


def _tone(c: int, n: int, rate: int, noise: float, gen: torch.Generator) -> np.ndarray:
    f = BASE_HZ * 2.0 ** (c / 2.0)
    phase = float(torch.rand((), generator=gen)) * 2 * math.pi
    t = np.arange(n, dtype=np.float64) / rate
    x = sum(np.sin(2 * math.pi * k * f * t + phase) / k for k in (1, 2, 3)) * 0.4
    x = x + noise * torch.randn(n, generator=gen, dtype=torch.float64).numpy()
    return np.clip(x, -1.0, 1.0)


def _frame(colour: np.ndarray, box: tuple[int, int, int, int], size: tuple[int, int],
           gen: torch.Generator) -> np.ndarray:
    """(H, W, 3) uint8: noisy grey background plus a filled rectangle."""
    h, w = size
    img = 0.5 + 0.15 * torch.randn(h, w, 3, generator=gen).numpy()
    top, left, bh, bw = box
    img[top:top + bh, left:left + bw] = colour
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _write_clip(root: Path, layout: Layout, name: str, c: int, shown: int, num_classes: int,
                rate: int, seconds: float, image_size: tuple[int, int], audio_noise: float,
                gen: torch.Generator) -> None:
    from PIL import Image
    n = int(rate * seconds * (0.5 + 0.5 * float(torch.rand((), generator=gen))))
    write_wav(root / layout.audio_dir / f"{name}{layout.audio_suffix}",
              _tone(c, n, rate, audio_noise, gen), rate)
    folder = root / layout.frames_dir / name
    folder.mkdir(parents=True)
    h, w = image_size
    bh, bw = max(2, h // 3), max(2, w // 3)
    top = int(torch.randint(0, h - bh + 1, (), generator=gen))
    left = int(torch.randint(0, w - bw + 1, (), generator=gen))
    for k in range(int(torch.randint(3, 6, (), generator=gen))):
        shift = int(torch.randint(-1, 2, (), generator=gen))
        box = (min(max(top + shift, 0), h - bh), min(max(left + k, 0), w - bw), bh, bw)
        Image.fromarray(_frame(_colour(shown, num_classes), box, image_size, gen)).save(
            folder / f"{k + 1:04d}.jpg", quality=90)


def make_fixture(root: str | Path, num_classes: int = 3, train_per_class: int = 16,
                 test_per_class: int = 6, sample_rate: int = 8000, seconds: float = 1.0,
                 image_size: tuple[int, int] = (40, 48), audio_noise: float = 0.3,
                 visual_confusion: float = 0.3, seed: int = 0,
                 layout: Layout = CREMAD_LAYOUT, exist_ok: bool = False) -> Path:
    """Write the fixture under ``root`` (created; must be empty or absent) and return root.

    Labels are the first ``num_classes`` CREMA-D codes, clip names follow CREMA-D's pattern
    (actor_sentence_EMOTION_level); ``layout`` names the folders (CREMA-D's by default). A
    marker file records the arguments: with ``exist_ok``, a folder holding a fixture made with
    the same arguments is returned as it is.
    """
    if not 2 <= num_classes <= len(CREMAD_CLASSES):
        raise ValueError(f"num_classes must lie in 2..{len(CREMAD_CLASSES)}, got {num_classes}")
    if min(train_per_class, test_per_class) < 2:
        raise ValueError("need at least 2 clips per class in each split")
    if not 0.0 <= visual_confusion <= 1.0:
        raise ValueError(f"visual_confusion is a share in [0, 1], got {visual_confusion}")
    root = Path(root)
    args = dict(num_classes=num_classes, train_per_class=train_per_class,
                test_per_class=test_per_class, sample_rate=sample_rate, seconds=seconds,
                image_size=list(image_size), audio_noise=audio_noise,
                visual_confusion=visual_confusion, seed=seed, layout=asdict(layout))
    if exist_ok and (root / MARKER).is_file() \
            and json.loads((root / MARKER).read_text()) == args:
        return root
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"fixture folder {root} is not empty")
    (root / layout.audio_dir).mkdir(parents=True)
    (root / layout.frames_dir).mkdir(parents=True)
    gen = torch.Generator().manual_seed(seed)
    actor = 1000
    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        rows = []
        for c in range(num_classes):
            for _ in range(per_class):
                actor += 1
                label = CREMAD_CLASSES[c]
                name = f"{actor:04d}_FIX_{label}_XX"
                confused = float(torch.rand((), generator=gen)) < visual_confusion
                shown = int(torch.randint(0, num_classes, (), generator=gen)) if confused else c
                _write_clip(root, layout, name, c, shown, num_classes, sample_rate, seconds,
                            image_size, audio_noise, gen)
                rows.append((name, label))
        write_split_csv(root / getattr(layout, f"{split}_csv"), rows)
    (root / MARKER).write_text(json.dumps(args, indent=1))
    return root
