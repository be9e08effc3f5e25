"""CREMA-D (audio-visual emotion recognition) in the reference code's preprocessing.

6 classes in the reference order NEU HAP SAD FEA DIS ANG; the OGM-GE split has 6,698 training
and 744 test clips. Audio: 22,050 Hz, tiled to 3 s, STFT n_fft 512 hop 353 -> (1, 257, 188).
Visual: 1 frame at 1 fps, 224 x 224. The data cannot be downloaded by this package: request
CREMA-D from its authors, then turn the videos into the layout below with
``python -m udml.av.prepare_cremad --videos VideoFlash --out ROOT``.

    ROOT/AudioWAV/<clip>.wav, ROOT/Image-01-FPS/<clip>/*.jpg, ROOT/train.csv, ROOT/test.csv
"""
from __future__ import annotations

from pathlib import Path

from ..data.audio import CREMAD_AUDIO, AudioSpec
from .catalog import Layout
from .dataset import AVSplits, load_av_splits
from .frames import CREMAD_FRAMES, FrameSpec

CREMAD_CLASSES = ("NEU", "HAP", "SAD", "FEA", "DIS", "ANG")
CREMAD_LAYOUT = Layout(audio_dir="AudioWAV", frames_dir="Image-01-FPS")
HINT = ("Request CREMA-D from its authors and prepare it with "
        "`python -m udml.av.prepare_cremad --videos VIDEO_DIR --out ROOT`.")


def load_cremad(root: str | Path, audio: AudioSpec = CREMAD_AUDIO,
                frames: FrameSpec = CREMAD_FRAMES, val_share: float = 0.1, seed: int = 0,
                num_workers: int | None = None, pin_memory: bool | str = "auto",
                layout: Layout = CREMAD_LAYOUT) -> AVSplits:
    """CREMA-D splits from ``root``; the class count is that of the training split.

    ``audio`` and ``frames`` default to the reference preprocessing; smaller ones make the CPU
    fixture fast. Raises FileNotFoundError / ValueError naming what is missing or wrong.
    """
    return load_av_splits(root, "CREMA-D", layout, CREMAD_CLASSES, audio, frames, val_share,
                          seed, num_workers, pin_memory, HINT)
