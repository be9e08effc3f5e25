"""Audio preprocessing of the audio-visual benchmarks (method.md section 7).

A clip's waveform is read from a PCM WAV file, mixed to mono, resampled to the dataset's rate,
tiled (repeated) until it is long enough, cut to the clip length (at a random offset in
training where the dataset asks for one), clipped to [-1, 1], and turned into a log-magnitude
spectrogram log(|STFT| + 1e-7) of shape (1, F, T) with

    F = n_fft // 2 + 1,   T = 1 + n_samples // hop_length     (centred frames)

CREMA-D: 22,050 Hz, 3 s, n_fft 512, hop 353 -> (1, 257, 188).
Kinetics-Sounds: 16 kHz, 5 s crop, n_fft 256, hop 128.
The window is the periodic Hann window and centred frames are padded with zeros, as librosa's
``stft`` does by default since version 0.10.
"""
from __future__ import annotations

import wave
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

LOG_EPS = 1e-7  # log(|STFT| + LOG_EPS): the reference's floor, about -16.1 in log units


@dataclass(frozen=True)
class AudioSpec:
    """How one dataset turns a WAV file into a spectrogram.

    sample_rate:   Hz the waveform is resampled to
    clip_seconds:  length of the analysed clip
    n_fft:         STFT window and FFT size, in samples
    hop_length:    STFT hop, in samples
    max_offset_seconds: in training the clip starts at a uniform random offset in
                   [0, max_offset_seconds] of the tiled waveform; 0 = always from the start.
                   Evaluation always starts at 0.
    """

    sample_rate: int = 22050
    clip_seconds: float = 3.0
    n_fft: int = 512
    hop_length: int = 353
    max_offset_seconds: float = 0.0

    def __post_init__(self) -> None:
        for name in ("sample_rate", "n_fft", "hop_length"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"AudioSpec.{name} must be a positive int, got {v!r}")
        if not self.clip_seconds > 0 or self.max_offset_seconds < 0:
            raise ValueError("AudioSpec needs clip_seconds > 0 and max_offset_seconds >= 0, got "
                             f"{self.clip_seconds}, {self.max_offset_seconds}")
        if self.num_samples < self.n_fft // 2 + 1:
            raise ValueError(f"a clip of {self.num_samples} samples is too short for n_fft "
                             f"{self.n_fft}")

    @property
    def num_samples(self) -> int:
        """Samples in one analysed clip."""
        return int(round(self.sample_rate * self.clip_seconds))

    @property
    def max_offset(self) -> int:
        return int(round(self.sample_rate * self.max_offset_seconds))

    @property
    def shape(self) -> tuple[int, int, int]:
        """(1, F, T) of the spectrogram, from the STFT size formula with centred frames."""
        return (1, self.n_fft // 2 + 1, 1 + self.num_samples // self.hop_length)


CREMAD_AUDIO = AudioSpec(22050, 3.0, 512, 353, 0.0)
KINETICS_SOUNDS_AUDIO = AudioSpec(16000, 5.0, 256, 128, 5.0)


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """(samples (N,) float32 in [-1, 1], sample rate) of a PCM WAV file, channels averaged.

    Integer PCM of 8, 16, 24 or 32 bits is read with the standard library; other encodings
    (float WAV, compressed audio) raise a ValueError that says how to convert them.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file {path} does not exist")
    try:
        with wave.open(str(path), "rb") as f:
            channels, width, rate = f.getnchannels(), f.getsampwidth(), f.getframerate()
            raw = f.readframes(f.getnframes())
    except (wave.Error, EOFError) as err:
        raise ValueError(f"{path} is not a PCM WAV file ({err}); convert it with "
                         f"`ffmpeg -i IN -ac 1 -acodec pcm_s16le OUT.wav`") from None
    if width == 1:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width in (2, 4):
        x = np.frombuffer(raw, f"<i{width}").astype(np.float32) / float(2 ** (8 * width - 1))
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (np.where(v >= 2 ** 23, v - 2 ** 24, v) / float(2 ** 23)).astype(np.float32)
    else:
        raise ValueError(f"{path}: unsupported sample width of {width} bytes")
    if x.size == 0:
        raise ValueError(f"audio file {path} contains no samples")
    x = x.reshape(-1, channels).mean(axis=1)  # (N,) mono
    return x.astype(np.float32), rate


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write mono float samples in [-1, 1] as 16-bit PCM (used by the fixture)."""
    path = Path(path)
    pcm = np.clip(np.round(np.asarray(samples, np.float64) * 32767.0), -32768, 32767)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(int(sample_rate))
        f.writeframes(pcm.astype("<i2").tobytes())
    return path


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Polyphase resampling (scipy.signal.resample_poly) from rate_in to rate_out Hz."""
    if rate_in == rate_out:
        return x
    try:
        from scipy.signal import resample_poly
    except ImportError:  # pragma: no cover - scipy ships with the book's environment
        raise ImportError(f"resampling audio from {rate_in} Hz to {rate_out} Hz needs scipy: "
                          "`pip install scipy`") from None
    g = gcd(rate_in, rate_out)
    return resample_poly(x, rate_out // g, rate_in // g).astype(np.float32)


def tile_and_cut(x: Tensor, length: int, offset: int = 0) -> Tensor:
    """Repeat x (N,) until it covers offset + length samples; keep [offset, offset + length)."""
    if x.numel() == 0:
        raise ValueError("cannot tile an empty waveform")
    need = offset + length
    reps = -(-need // x.numel())  # ceil
    return x.repeat(reps)[offset:need]


def log_spectrogram(x: Tensor, n_fft: int, hop_length: int) -> Tensor:
    """log(|STFT(x)| + 1e-7) of a waveform (N,): (1, n_fft // 2 + 1, 1 + N // hop_length)."""
    window = torch.hann_window(n_fft, periodic=True, dtype=x.dtype)
    spec = torch.stft(x, n_fft, hop_length=hop_length, win_length=n_fft, window=window,
                      center=True, pad_mode="constant", normalized=False, onesided=True,
                      return_complex=True)  # (F, T)
    return torch.log(spec.abs() + LOG_EPS).unsqueeze(0)  # (1, F, T)


def waveform_to_spectrogram(x: np.ndarray | Tensor, spec: AudioSpec,
                            generator: torch.Generator | None = None) -> Tensor:
    """Tile, cut (random offset only with a generator and spec.max_offset > 0), clip to [-1, 1]
    and transform a waveform at spec.sample_rate: (N,) -> (1, F, T) float32."""
    x = torch.as_tensor(np.asarray(x, np.float32))
    offset = 0
    if generator is not None and spec.max_offset > 0:
        offset = int(torch.randint(0, spec.max_offset + 1, (1,), generator=generator))
    clip = tile_and_cut(x, spec.num_samples, offset).clamp(-1.0, 1.0)  # (num_samples,)
    return log_spectrogram(clip, spec.n_fft, spec.hop_length)


def load_spectrogram(path: str | Path, spec: AudioSpec,
                     generator: torch.Generator | None = None) -> Tensor:
    """The (1, F, T) log spectrogram of a WAV file under ``spec``."""
    x, rate = read_wav(path)
    return waveform_to_spectrogram(resample(x, rate, spec.sample_rate), spec, generator)
