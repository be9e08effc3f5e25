"""Kinetics-Sounds (audio-visual action recognition) in the reference code's preprocessing.

31-34 classes depending on the version of the list: the count always comes from the training
split (the reference code lists 33 class names and builds 34 outputs; here there is one output
per class present). Audio: 16 kHz, tiled, a 5 s crop (at a random offset of up to 5 s in
training), STFT n_fft 256 hop 128 -> (1, 129, 626). Visual: 3 frames at 1 fps, 224 x 224.

    ROOT/audio/<clip>.wav, ROOT/Image-01-FPS/<clip>/*.jpg, ROOT/train.csv, ROOT/test.csv

with ``clip,label`` rows whose label is the class name; ``<clip>`` may include a class folder.
Pass another `Layout` for other folder names.
"""
from __future__ import annotations

from pathlib import Path

from ..data.audio import KINETICS_SOUNDS_AUDIO, AudioSpec
from .catalog import Layout
from .dataset import AVSplits, load_av_splits
from .frames import KINETICS_SOUNDS_FRAMES, FrameSpec

KINETICS_SOUNDS_LAYOUT = Layout(audio_dir="audio", frames_dir="Image-01-FPS")
HINT = ("Kinetics-Sounds is a subset of Kinetics-400: download the clips of its classes, extract "
        "16 kHz mono WAV files and 1-fps frames (ffmpeg), and write train.csv / test.csv.")


def load_kinetics_sounds(root: str | Path, audio: AudioSpec = KINETICS_SOUNDS_AUDIO,
                         frames: FrameSpec = KINETICS_SOUNDS_FRAMES, val_share: float = 0.1,
                         seed: int = 0, num_workers: int | None = None,
                         pin_memory: bool | str = "auto",
                         layout: Layout = KINETICS_SOUNDS_LAYOUT) -> AVSplits:
    """Kinetics-Sounds splits from ``root``; classes are the sorted labels of the training split."""
    return load_av_splits(root, "Kinetics-Sounds", layout, None, audio, frames, val_share, seed,
                          num_workers, pin_memory, HINT)
