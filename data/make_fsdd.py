"""Pack the Free Spoken Digit Dataset's WAV files into ``fsdd.npz``.

Usage::

    python data/make_fsdd.py RECORDINGS_FOLDER [--out data/fsdd.npz]

RECORDINGS_FOLDER holds the 3,000 files ``{digit}_{speaker}_{index}.wav`` of FSDD (mono PCM
WAV, 8 kHz, 16-bit): digits 0-9, six speakers, indices 0-49.

The archive is an ordinary ``.npz`` (``numpy.load`` reads it), written byte for byte
reproducibly (sorted members, fixed time stamps, LZMA), so the SHA-256 printed at the end
matches the one in ``data/README.md`` and in ``udml/data/files.py``:

- ``samples``  int16 (S,)   every recording's PCM samples, concatenated, unchanged,
- ``offsets``  int64 (N+1,) recording i is ``samples[offsets[i]:offsets[i + 1]]``,
- ``digit``    int64 (N,)   the spoken digit 0-9 (the class),
- ``speaker``  int64 (N,)   index into ``speakers``,
- ``index``    int64 (N,)   the recording's index 0-49 (the official test split is 0-4),
- ``speakers`` str (6,)     speaker names, sorted,
- ``sample_rate`` int64 (1,) 8000.
Recordings are sorted by (speaker, digit, index). The packing is lossless: the samples are the
WAV files' 16-bit integers. This script needs only NumPy and deliberately does not import
``udml``.
"""
from __future__ import annotations

import argparse
import hashlib
import re
import sys
import wave
import zipfile
from pathlib import Path

import numpy as np

SAMPLE_RATE = 8000
NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed zip time stamp -> reproducible bytes


def read_pcm16(path: Path) -> np.ndarray:
    """The int16 samples of a mono 16-bit PCM WAV file at SAMPLE_RATE, checking its format."""
    with wave.open(str(path), "rb") as f:
        fmt = (f.getnchannels(), f.getsampwidth(), f.getframerate())
        raw = f.readframes(f.getnframes())
    if fmt != (1, 2, SAMPLE_RATE):
        raise ValueError(f"{path}: expected mono 16-bit PCM at {SAMPLE_RATE} Hz, got "
                         f"{fmt[0]} channel(s), {8 * fmt[1]} bits, {fmt[2]} Hz")
    x = np.frombuffer(raw, "<i2")
    if x.size == 0:
        raise ValueError(f"{path}: no samples")
    return x


def convert(folder: Path) -> dict[str, np.ndarray]:
    """Read every recording of ``folder`` and return the archive's arrays by member name."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of FSDD recordings")
    entries = []
    for path in folder.iterdir():
        match = NAME.match(path.name)
        if match is None:
            if path.suffix.lower() == ".wav":
                raise ValueError(f"{path}: name is not '{{digit}}_{{speaker}}_{{index}}.wav'")
            continue
        entries.append((match.group(2), int(match.group(1)), int(match.group(3)), path))
    if not entries:
        raise ValueError(f"no '{{digit}}_{{speaker}}_{{index}}.wav' recordings in {folder}")
    entries.sort()
    speakers = sorted({e[0] for e in entries})
    clips = [read_pcm16(e[3]) for e in entries]
    offsets = np.zeros(len(clips) + 1, "<i8")
    offsets[1:] = np.cumsum([c.size for c in clips])
    return {"samples": np.concatenate(clips).astype("<i2"), "offsets": offsets,
            "digit": np.array([e[1] for e in entries], "<i8"),
            "speaker": np.array([speakers.index(e[0]) for e in entries], "<i8"),
            "index": np.array([e[2] for e in entries], "<i8"),
            "speakers": np.array(speakers, dtype="<U16"),
            "sample_rate": np.array([SAMPLE_RATE], "<i8")}


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays as a reproducible .npz: members in sorted order, fixed dates, LZMA."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_LZMA
            info.external_attr = 0o644 << 16
            with archive.open(info, "w") as member:
                np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]),
                                          allow_pickle=False)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recordings", type=Path, help="folder with {digit}_{speaker}_{index}.wav")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("fsdd.npz"),
                        help="output archive (default: fsdd.npz beside this script)")
    args = parser.parse_args(argv)
    arrays = convert(args.recordings)
    write_npz(args.out, arrays)
    for name in sorted(arrays):
        print(f"{name:11s} {str(arrays[name].dtype):6s} {arrays[name].shape}")
    print(f"{arrays['digit'].size} recordings of {arrays['speakers'].size} speakers")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    print(f"sha256 {sha256(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
