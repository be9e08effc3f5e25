"""Visual preprocessing of the audio-visual benchmarks (method.md section 7).

Frames are the 1-fps JPEG/PNG images extracted from each clip. A clip contributes T frames
(CREMA-D 1, Kinetics-Sounds 3): in training T distinct frames drawn at random (kept in time
order), in evaluation T evenly spaced frames. Each frame is then
  training:   RandomResizedCrop(size) (area share 0.08-1, aspect ratio 3/4-4/3) + horizontal flip
              with probability 1/2, drawn independently for every frame;
  evaluation: resized to size x size;
and normalised with the ImageNet mean and standard deviation. All randomness comes from an
explicit ``torch.Generator``; resizing is bilinear with antialiasing, so values stay in range.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")
CROP_SCALE = (0.08, 1.0)      # share of the image area a random crop covers
CROP_RATIO = (3 / 4, 4 / 3)   # aspect ratios (width / height) a random crop may have
CROP_ATTEMPTS = 10


@dataclass(frozen=True)
class FrameSpec:
    """num_frames T taken from each clip, square output side ``size`` in pixels."""

    num_frames: int = 1
    size: int = 224

    def __post_init__(self) -> None:
        for name in ("num_frames", "size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"FrameSpec.{name} must be a positive int, got {v!r}")

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(T, 3, size, size), the per-sample shape of the visual modality."""
        return (self.num_frames, 3, self.size, self.size)


CREMAD_FRAMES = FrameSpec(1, 224)
KINETICS_SOUNDS_FRAMES = FrameSpec(3, 224)


def list_frames(folder: Path) -> list[Path]:
    """The image files of one clip's frame folder, in name (= time) order."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)


def read_image(path: str | Path) -> Tensor:
    """(3, H, W) float32 RGB in [0, 1] of a JPEG or PNG file."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        raise ImportError("reading video frames needs Pillow: `pip install pillow`") from None
    try:
        with Image.open(path) as img:
            arr = np.asarray(img.convert("RGB"), dtype=np.uint8)  # (H, W, 3)
    except OSError as err:
        raise ValueError(f"cannot read frame {path}: {err}") from None
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div_(255.0)  # (3, H, W)


def select_frames(available: int, num_frames: int, generator: torch.Generator | None) -> list[int]:
    """Indices of the T frames to use: random distinct ones in time order with a generator,
    evenly spaced ones (the middle frame for T = 1) without."""
    if available < num_frames:
        raise ValueError(f"need {num_frames} frames, the clip has {available}")
    if generator is None:
        return [int((k + 0.5) * available / num_frames) for k in range(num_frames)]
    return sorted(torch.randperm(available, generator=generator)[:num_frames].tolist())


def _uniform(lo: float, hi: float, generator: torch.Generator) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=generator))


def _randint(high: int, generator: torch.Generator) -> int:
    """Uniform integer in [0, high]."""
    return int(torch.randint(0, high + 1, (), generator=generator))


def random_crop_box(height: int, width: int,
                    generator: torch.Generator) -> tuple[int, int, int, int]:
    """(top, left, h, w) of a RandomResizedCrop box: area share in CROP_SCALE, log-uniform aspect
    ratio in CROP_RATIO, up to CROP_ATTEMPTS tries, else the central crop of the nearest ratio."""
    area = height * width
    log_lo, log_hi = math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1])
    for _ in range(CROP_ATTEMPTS):
        target = area * _uniform(*CROP_SCALE, generator)
        ratio = math.exp(_uniform(log_lo, log_hi, generator))
        w = int(round(math.sqrt(target * ratio)))
        h = int(round(math.sqrt(target / ratio)))
        if 0 < w <= width and 0 < h <= height:
            return _randint(height - h, generator), _randint(width - w, generator), h, w
    in_ratio = width / height
    if in_ratio < CROP_RATIO[0]:
        w, h = width, int(round(width / CROP_RATIO[0]))
    elif in_ratio > CROP_RATIO[1]:
        h, w = height, int(round(height * CROP_RATIO[1]))
    else:
        h, w = height, width
    return (height - h) // 2, (width - w) // 2, h, w


def resize(img: Tensor, size: int) -> Tensor:
    """(3, H, W) -> (3, size, size), bilinear with antialiasing (a convex combination of pixels)."""
    return F.interpolate(img[None], size=(size, size), mode="bilinear", align_corners=False,
                         antialias=True)[0]


def normalise(img: Tensor) -> Tensor:
    """ImageNet normalisation of a (3, H, W) image in [0, 1]."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=img.dtype).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=img.dtype).view(3, 1, 1)
    return (img - mean) / std


def transform_frame(img: Tensor, size: int, generator: torch.Generator | None) -> Tensor:
    """One frame (3, H, W) in [0, 1] -> (3, size, size) normalised; random crop + flip with a
    generator (training), plain resize without (evaluation)."""
    if generator is None:
        return normalise(resize(img, size))
    top, left, h, w = random_crop_box(img.shape[1], img.shape[2], generator)
    out = resize(img[:, top:top + h, left:left + w], size)
    if float(torch.rand((), generator=generator)) < 0.5:
        out = out.flip(-1)
    return normalise(out)


def load_clip_frames(paths: list[Path], spec: FrameSpec,
                     generator: torch.Generator | None = None) -> Tensor:
    """(T, 3, size, size) from a clip's sorted frame files (see `select_frames`)."""
    chosen = select_frames(len(paths), spec.num_frames, generator)
    return torch.stack([transform_frame(read_image(paths[i]), spec.size, generator)
                        for i in chosen])  # (T, 3, size, size)
