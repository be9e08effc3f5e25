"""The FSDD x mfeat benchmark: the packing script, the shipped archive, the two splits, the
pairing with images (no recording and no image in two splits) and the audio path (the packed
samples give what the CREMA-D reader gives from the WAV bytes)."""
from __future__ import annotations

import importlib.util
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from udml.data.audio import load_spectrogram, read_wav
from udml.data.fsdd import (FSDD_AUDIO, OFFICIAL_TEST, load_fsdd, pair_images, pcm16_to_float,
                          recording_split, recordings, waveforms)
from udml.models.fsdd import SpectrogramResNet
from udml.data import files, load_dataset
from udml.data.files import DATA_FILES, load_npz

ROOT = Path(__file__).resolve().parents[1]
FSDD = DATA_FILES["fsdd.npz"]


def _script():
    spec = importlib.util.spec_from_file_location("make_fsdd", ROOT / "data" / "make_fsdd.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_pcm(path: Path, pcm: np.ndarray, rate: int = 8000, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(pcm.astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def arrays():
    return load_npz("fsdd.npz")


def test_packing_script_is_lossless_reproducible_and_counts(tmp_path):
    make = _script()
    rng = np.random.default_rng(0)
    folder = tmp_path / "recordings"
    folder.mkdir()
    written = {}
    for speaker in ("bo", "al"):
        for digit in (3, 1):
            for index in (0, 1, 2):
                pcm = rng.integers(-30000, 30000, rng.integers(200, 400)).astype(np.int16)
                _write_pcm(folder / f"{digit}_{speaker}_{index}.wav", pcm)
                written[(speaker, digit, index)] = pcm
    (folder / "notes.txt").write_text("ignored")
    arrays = make.convert(folder)
    assert list(arrays["speakers"]) == ["al", "bo"]
    assert arrays["digit"].size == 12 and arrays["offsets"][-1] == arrays["samples"].size
    for i in range(12):  # sorted by (speaker, digit, index), samples unchanged
        key = (str(arrays["speakers"][arrays["speaker"][i]]), int(arrays["digit"][i]),
               int(arrays["index"][i]))
        got = arrays["samples"][arrays["offsets"][i]:arrays["offsets"][i + 1]]
        np.testing.assert_array_equal(got, written[key])
    assert [tuple(k) for k in zip(arrays["speaker"], arrays["digit"])][:3] == [(0, 1)] * 3
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    make.write_npz(a, arrays)
    make.write_npz(b, make.convert(folder))
    assert make.sha256(a) == make.sha256(b)  # same recordings, same bytes


def test_packing_script_refuses_other_formats(tmp_path):
    make = _script()
    folder = tmp_path / "rec"
    folder.mkdir()
    _write_pcm(folder / "1_al_0.wav", np.zeros(100, np.int16), rate=16000)
    with pytest.raises(ValueError, match="8000 Hz"):
        make.convert(folder)
    (folder / "1_al_0.wav").unlink()
    _write_pcm(folder / "one_al_0.wav", np.zeros(100, np.int16))
    with pytest.raises(ValueError, match="name"):
        make.convert(folder)
    with pytest.raises(FileNotFoundError):
        make.convert(tmp_path / "missing")


def test_shipped_archive_checksum_readme_and_counts(arrays):
    path = files.find_data_file("fsdd.npz")
    assert path.stat().st_size == FSDD.size and files.sha256_of(path) == FSDD.sha256
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert f"sha256  {FSDD.sha256}  fsdd.npz" in readme
    assert "CC BY-SA 4.0" in readme
    assert arrays["digit"].size == 3000 and arrays["speakers"].size == 6
    assert int(arrays["sample_rate"][0]) == 8000
    cells = np.stack([arrays["speaker"], arrays["digit"]], 1)
    _, counts = np.unique(cells, axis=0, return_counts=True)
    assert counts.tolist() == [50] * 60  # 6 speakers x 10 digits x 50 recordings
    assert np.unique(arrays["index"]).tolist() == list(range(50))


def test_packed_samples_read_like_the_wav_file(tmp_path):
    """A recording written back as WAV bytes reads (udml.data.audio.read_wav) to the same
    waveform, and the CREMA-D loader's spectrogram equals the model's front end on the clip."""
    arrays = load_npz("fsdd.npz")
    pcm = arrays["samples"][arrays["offsets"][7]:arrays["offsets"][8]]
    path = _write_pcm(tmp_path / "clip.wav", pcm)
    x, rate = read_wav(path)
    assert rate == 8000
    np.testing.assert_array_equal(x, pcm16_to_float(pcm))
    clip = waveforms([pcm16_to_float(pcm)], FSDD_AUDIO)  # (1, 1, S)
    front = SpectrogramResNet((1, FSDD_AUDIO.num_samples), FSDD_AUDIO).spectrogram(clip)
    torch.testing.assert_close(front[0], load_spectrogram(path, FSDD_AUDIO))


@pytest.mark.parametrize("split", ["official", "speaker"])
@pytest.mark.parametrize("seed", [0, 4])
def test_splits_and_pairing_are_disjoint(arrays, split, seed):
    parts, how = recording_split(arrays, split, seed)
    ids = [set(p.tolist()) for p in parts]
    assert sum(len(s) for s in ids) == 3000 and len(set().union(*ids)) == 3000
    index, speaker = arrays["index"], arrays["speaker"]
    if split == "official":
        assert set(index[parts[2].numpy()]) == set(OFFICIAL_TEST)
        assert min(index[np.concatenate([parts[0], parts[1]])]) == len(OFFICIAL_TEST)
    else:
        spk = [set(speaker[p.numpy()].tolist()) for p in parts]
        assert spk[2] == {seed % 6} and spk[1] == {(seed + 1) % 6} and len(spk[0]) == 4
    images = load_npz("mfeat.npz")["labels"]
    rec_y = [torch.from_numpy(arrays["digit"])[p] for p in parts]
    pairs, pools = pair_images(rec_y, torch.from_numpy(images), torch.Generator().manual_seed(1))
    used = [set(p.tolist()) for p in pairs]
    assert not (used[0] & used[1]) and not (used[0] & used[2]) and not (used[1] & used[2])
    for y, p, pool in zip(rec_y, pairs, pools):
        assert torch.equal(torch.from_numpy(images)[p], y)  # same class
        assert set(p.tolist()) == set(pool.tolist())         # every image of the pool is used
        counts = torch.bincount(p, minlength=len(images))[pool]
        for c in range(10):  # within a class, uses differ by at most one
            cc = counts[torch.from_numpy(images)[pool] == c]
            assert int(cc.max() - cc.min()) <= 1


def test_load_fsdd_is_seeded_and_recorded():
    a, b = load_fsdd("official", seed=3), load_fsdd("official", seed=3)
    assert torch.equal(a.train.x["visual"], b.train.x["visual"])
    assert torch.equal(a.test.x["audio"], b.test.x["audio"])
    c = load_dataset("fsdd-speaker", seed=1)
    assert c.info["split"] == "speaker" and c.info["seed"] == 1
    assert c.info["speakers"]["test"] != c.info["speakers"]["val"]
    assert set(c.info["speakers"]["test"]).isdisjoint(c.info["speakers"]["train"])
    assert a.shapes == {"audio": (1, FSDD_AUDIO.num_samples), "visual": (1, 16, 15)}
    assert a.info["sizes"] == {"train": 2400, "val": 300, "test": 300}
    assert c.info["sizes"] == {"train": 2000, "val": 500, "test": 500}
    assert a.train.x["audio"].abs().max() <= 1.0
    with pytest.raises(ValueError, match="split"):
        load_fsdd("random")
    with pytest.raises(ValueError, match="seed"):
        load_fsdd(seed=-1)


def test_recordings_are_decoded_in_order(arrays):
    clips = recordings(arrays)
    assert len(clips) == 3000 and clips[0].dtype == np.float32
    assert clips[5].size == arrays["offsets"][6] - arrays["offsets"][5]


def test_wav_bytes_play_back_the_waveform(tmp_path):
    from udml.data.fsdd import wav_bytes
    x = np.linspace(-0.5, 0.5, 400, dtype=np.float32)
    path = tmp_path / "x.wav"
    path.write_bytes(wav_bytes(x, 8000))
    y, rate = read_wav(path)
    assert rate == 8000
    np.testing.assert_allclose(y, x, atol=1 / 32768)
    loud = np.frombuffer(wav_bytes(np.array([2.0, -2.0]), 8000)[-4:], "<i2")
    assert loud.tolist() == [32767, -32768]  # clipped, as a recorder would
