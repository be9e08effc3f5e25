"""FSDD x mfeat: real spoken digits paired with handwritten digits of the same class.

The audio is the Free Spoken Digit Dataset (3,000 recordings, 6 speakers x 10 digits x 50,
8 kHz; CC BY-SA 4.0), shipped as ``fsdd.npz`` (see data/README.md). The image is a handwritten
digit of mfeat (the 16 x 15 ``pix`` images, 200 per digit). Pairing a spoken digit with a
written one of the same class is the AV-MNIST construction: two real modalities of one label,
each informative alone.

    load_fsdd(split="official", seed=0)   FSDDSplits (an in-memory MultimodalSplits)
      x["audio"]:  (N, 1, S) waveforms at 8 kHz, tiled and cut to FSDD_AUDIO's clip (the CREMA-D
                   preprocessing of `udml.data.audio`); the encoder turns them into log spectrograms
      x["visual"]: (N, 1, 16, 15) images, standardised with the training images' mean and std

Splits of the recordings (both seeded, both recorded in ``info``):
  official  the dataset's own: recordings with index 0-4 are the test split; of the others, a
            stratified tenth (per digit and speaker, seeded) is the validation split
  speaker   speaker-independent: speaker ``seed % 6`` is the test split, speaker
            ``(seed + 1) % 6`` the validation split, the other four train
Images: each digit's 200 images are split at random (seeded) in the proportions of that digit's
recordings per split, and each split's recordings are paired with its own images, every image
used equally often (at most one use apart). So no recording and no image is in two splits.
"""
from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from .audio import AudioSpec, tile_and_cut
from .dataset import MultimodalData, MultimodalSplits
from .files import DATA_FILES, load_npz
from .mfeat import MFEAT_FILE, PIX_LEVELS
from .splits import Standardiser, stratified_split

FSDD_FILE = "fsdd.npz"
FSDD_AUDIO = AudioSpec(sample_rate=8000, clip_seconds=0.75, n_fft=128, hop_length=128)
FSDD_WIDTH = 4  # base width w of the benchmark's ResNets (`udml.models.fsdd`): features of 8w
SPLITS = ("official", "speaker")
OFFICIAL_TEST = range(0, 5)  # recording indices of the official test split
VAL_SHARE = 0.1  # of the official split's non-test recordings
NUM_CLASSES = 10
PART_NAMES = ("train", "val", "test")
SOURCE = ("Free Spoken Digit Dataset (Jackson et al.), CC BY-SA 4.0, paired with UCI Multiple "
          "Features pix digits (van Breukelen et al. 1998), CC BY 4.0")


def pcm16_to_float(pcm: np.ndarray) -> np.ndarray:
    """16-bit PCM integers -> float32 in [-1, 1), the conversion of `udml.data.audio.read_wav`."""
    return pcm.astype(np.float32) / 32768.0


def wav_bytes(x: np.ndarray | torch.Tensor, sample_rate: int) -> bytes:
    """A mono waveform in [-1, 1] as the bytes of a 16-bit PCM WAV file (for a player widget);
    louder samples are clipped, as a recorder would."""
    pcm = np.clip(np.round(np.asarray(x, np.float64).ravel() * 32768.0), -32768, 32767)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(int(sample_rate))
        f.writeframes(pcm.astype("<i2").tobytes())
    return buffer.getvalue()


def recordings(arrays: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The archive's recordings as float32 waveforms, in archive order."""
    off = arrays["offsets"]
    return [pcm16_to_float(arrays["samples"][off[i]:off[i + 1]]) for i in range(len(off) - 1)]


def waveforms(clips: list[np.ndarray], spec: AudioSpec) -> torch.Tensor:
    """(N, 1, S) clips: each waveform tiled to ``spec``'s length and cut from its start, clipped
    to [-1, 1] (the evaluation path of `udml.data.audio.waveform_to_spectrogram`)."""
    out = [tile_and_cut(torch.from_numpy(c), spec.num_samples).clamp(-1.0, 1.0) for c in clips]
    return torch.stack(out)[:, None]


def recording_split(arrays: dict[str, np.ndarray], split: str, seed: int
                    ) -> tuple[list[torch.Tensor], dict]:
    """(train, val, test) positions of the recordings under ``split``, and what defines them."""
    digit, speaker, index = (torch.from_numpy(arrays[k]) for k in ("digit", "speaker", "index"))
    speakers = [str(s) for s in arrays["speakers"]]
    if split == "official":
        test = torch.nonzero(index < len(OFFICIAL_TEST)).flatten()
        rest = torch.nonzero(index >= len(OFFICIAL_TEST)).flatten()
        strata = digit[rest] * len(speakers) + speaker[rest]
        train, val = stratified_split(strata, (1 - VAL_SHARE, VAL_SHARE),
                                      torch.Generator().manual_seed(seed))
        parts = [rest[train], rest[val], test]
        how = {"test": f"index {OFFICIAL_TEST.start}-{OFFICIAL_TEST.stop - 1}",
               "val": f"stratified {VAL_SHARE:g} (per digit and speaker) of the rest, seed {seed}"}
    elif split == "speaker":
        k = len(speakers)
        test_s, val_s = seed % k, (seed + 1) % k
        parts = [torch.nonzero((speaker != test_s) & (speaker != val_s)).flatten(),
                 torch.nonzero(speaker == val_s).flatten(),
                 torch.nonzero(speaker == test_s).flatten()]
        how = {"test": f"speaker {speakers[test_s]} (seed % {k})",
               "val": f"speaker {speakers[val_s]} ((seed + 1) % {k})",
               "train": [speakers[i] for i in range(k) if i not in (test_s, val_s)]}
    else:
        raise ValueError(f"unknown FSDD split {split!r}; choose one of {SPLITS}")
    return parts, how


def pair_images(rec_labels: list[torch.Tensor], img_labels: torch.Tensor,
                generator: torch.Generator) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Give every recording of every split an image of its class from that split's own images.

    rec_labels: one (N_k,) label tensor per split; img_labels: (M,) labels of all images.
    Each class's images are split at random in the proportions of that class's recordings per
    split (at least one image per split); within a split, the class's recordings take its images
    in a random order, cycling, so every image is used equally often (one use apart).
    Returns (image positions per split, each (N_k,) aligned with the recordings; the image pool
    of each split).
    """
    pairs = [torch.empty(len(r), dtype=torch.long) for r in rec_labels]
    pools: list[list[torch.Tensor]] = [[] for _ in rec_labels]
    for c in torch.unique(img_labels).tolist():
        imgs = torch.nonzero(img_labels == c).flatten()
        imgs = imgs[torch.randperm(len(imgs), generator=generator)]
        counts = [int((r == c).sum()) for r in rec_labels]
        if sum(counts) == 0:
            continue
        if len(imgs) < sum(1 for n in counts if n):
            raise ValueError(f"class {c} has {len(imgs)} images, too few for {len(counts)} splits")
        cuts = np.round(np.cumsum([0] + counts) / sum(counts) * len(imgs)).astype(int)
        for k, n in enumerate(counts):
            if n == 0:
                continue
            lo, hi = cuts[k], max(cuts[k + 1], cuts[k] + 1)
            pool = imgs[lo:hi]
            pools[k].append(pool)
            where = torch.nonzero(rec_labels[k] == c).flatten()
            where = where[torch.randperm(len(where), generator=generator)]
            pairs[k][where] = pool[torch.arange(n) % len(pool)]
    overlap = [set(p.tolist()) for p in pairs]
    for a in range(len(overlap)):
        for b in range(a + 1, len(overlap)):
            if overlap[a] & overlap[b]:  # pragma: no cover - guaranteed by the cuts above
                raise AssertionError("an image was paired in two splits")
    return pairs, [torch.cat(p) if p else torch.empty(0, dtype=torch.long) for p in pools]


@lru_cache(maxsize=2)
def _archive(path) -> tuple[dict[str, np.ndarray], torch.Tensor]:
    """The verified fsdd.npz arrays and all (3000, 1, S) clips under FSDD_AUDIO, read once per
    process (a sweep's worker runs many jobs on the same recordings)."""
    arrays = load_npz(FSDD_FILE, path)
    return arrays, waveforms(recordings(arrays), FSDD_AUDIO)


@dataclass
class FSDDSplits(MultimodalSplits):
    """`MultimodalSplits` of the benchmark, with the audio spec and the encoder width they were
    made for: `udml.models.encoders.encoder_builder` builds their ResNets, and
    `udml.corrupt.scales.default_specs` gives their corruption sets (`udml.corrupt.fsdd_sets`)."""

    audio: AudioSpec = FSDD_AUDIO
    width: int = FSDD_WIDTH


def load_fsdd(split: str = "official", seed: int = 0, audio: AudioSpec = FSDD_AUDIO,
              width: int = FSDD_WIDTH, path=None, image_path=None) -> FSDDSplits:
    """The FSDD x mfeat benchmark under ``split`` (official | speaker), seeded by ``seed``.

    path / image_path: read fsdd.npz / mfeat.npz from there (checksums still enforced).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown FSDD split {split!r}; choose one of {SPLITS}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    arrays, wave = _archive(None if path is None else str(path))
    if audio != FSDD_AUDIO:
        wave = waveforms(recordings(arrays), audio)                      # (3000, 1, S)
    if int(arrays["sample_rate"][0]) != audio.sample_rate:
        raise ValueError(f"fsdd.npz is at {int(arrays['sample_rate'])} Hz, the audio spec at "
                         f"{audio.sample_rate} Hz")
    parts, how = recording_split(arrays, split, seed)
    digit = torch.from_numpy(arrays["digit"]).long()
    images = load_npz(MFEAT_FILE, image_path)
    img_y = torch.from_numpy(images["labels"]).long()
    rec_y = [digit[p] for p in parts]
    pairs, pools = pair_images(rec_y, img_y, torch.Generator().manual_seed(seed + 10_000))
    raw = torch.from_numpy(images["pix"]).float()[:, None]               # (2000, 1, 16, 15)
    scaler = Standardiser("global").fit(raw[pools[0]])
    data = {name: MultimodalData({"audio": wave[p], "visual": scaler.transform(raw[q])}, y)
            for name, p, q, y in zip(PART_NAMES, parts, pairs, rec_y)}
    speakers = [str(s) for s in arrays["speakers"]]
    info = {
        "dataset": "fsdd" if split == "official" else f"fsdd-{split}",
        "source": SOURCE, "file": FSDD_FILE, "sha256": DATA_FILES[FSDD_FILE].sha256,
        "image_file": MFEAT_FILE, "image_sha256": DATA_FILES[MFEAT_FILE].sha256,
        "split": split, "seed": seed, "split_rule": how,
        "sizes": {n: len(p) for n, p in zip(PART_NAMES, parts)},
        "images": {n: len(q) for n, q in zip(PART_NAMES, pools)},
        "speakers": {n: sorted({speakers[int(s)] for s in arrays["speaker"][p.numpy()]})
                     for n, p in zip(PART_NAMES, parts)},
        "audio": {"sample_rate": audio.sample_rate, "clip_seconds": audio.clip_seconds,
                  "n_fft": audio.n_fft, "hop_length": audio.hop_length,
                  "spectrogram": list(audio.shape)},
        "width": width,
        "scaling": {"visual": scaler.describe()},
        "range": {"visual": [scaler.map_value(PIX_LEVELS[0]), scaler.map_value(PIX_LEVELS[1])]},
    }
    return FSDDSplits(data["train"], data["val"], data["test"], NUM_CLASSES,
                      f"fsdd-{split}", info, audio, width)
