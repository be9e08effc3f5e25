"""The CREMA-D preparation script, with a stand-in for ffmpeg that writes what ffmpeg would."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from udml.av import AudioSpec, FrameSpec, load_cremad
from udml.av import prepare_cremad as prep
from udml.data.audio import read_wav, write_wav
from udml.av.catalog import read_split_csv, write_split_csv

CLIPS = [f"10{a:02d}_DFA_{e}_XX" for a in range(1, 11) for e in ("ANG", "NEU")]


def fake_ffmpeg(fail=()):
    """A runner that imitates the two ffmpeg calls: a WAV for -vn, 2 JPEG frames for -vf fps=1."""
    calls = []

    def run(cmd):
        calls.append(cmd)
        video = Path(cmd[cmd.index("-i") + 1])
        if video.stem in fail:
            raise RuntimeError("Invalid data found when processing input")
        target = Path(cmd[-1])
        if "-vn" in cmd:
            write_wav(target, np.zeros(800), int(cmd[cmd.index("-ar") + 1]))
        else:
            for k in (1, 2):
                Image.new("RGB", (8, 6), (200, 10, 10)).save(
                    target.parent / target.name.replace("%04d", f"{k:04d}"))
    run.calls = calls
    return run


@pytest.fixture
def videos(tmp_path, monkeypatch):
    folder = tmp_path / "VideoFlash"
    folder.mkdir()
    for c in CLIPS:
        (folder / f"{c}.flv").write_bytes(b"flv")
    monkeypatch.setattr(prep.shutil, "which", lambda name: f"/usr/bin/{name}")
    return folder


def test_missing_ffmpeg_is_named_with_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(prep.shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match="ffmpeg is the one external tool.*apt-get install "
                                                "ffmpeg"):
        prep.prepare(tmp_path, tmp_path / "out", runner=fake_ffmpeg())
    with pytest.raises(SystemExit, match="error: .*ffmpeg"):
        prep.main(["--videos", str(tmp_path), "--out", str(tmp_path / "out")])


def test_commands_extract_mono_22050_wav_and_1fps_frames():
    audio, frames = prep.commands("ffmpeg", Path("v/a.flv"), Path("o/a.wav"), Path("o/f/a"))
    assert "-vn" in audio and "-an" in frames and "-i" in audio
    assert ["-ac", "1"] == audio[audio.index("-ac"):audio.index("-ac") + 2]
    assert audio[audio.index("-ar") + 1] == str(prep.SAMPLE_RATE) == "22050"
    assert audio[audio.index("-acodec") + 1] == "pcm_s16le" and audio[-1] == "o/a.wav"
    assert frames[frames.index("-vf") + 1] == "fps=1" and frames[-1] == "o/f/a/%04d.jpg"


def test_prepare_without_lists_makes_a_stratified_split(videos, tmp_path):
    out = tmp_path / "cremad"
    runner = fake_ffmpeg()
    logs = []
    summary = prep.prepare(videos, out, jobs=2, runner=runner, log=logs.append)
    assert len(runner.calls) == 2 * len(CLIPS)
    assert summary["clips"] == len(CLIPS) and "stratified" in summary["split"]
    assert any("not the OGM-GE split" in line for line in logs)
    train = read_split_csv(out / "train.csv", "x")
    test = read_split_csv(out / "test.csv", "x")
    assert sorted(c for c, _, _ in train + test) == sorted(CLIPS)
    assert sorted(lab for _, lab, _ in test) == ["ANG", "NEU"]  # round(0.1 * 10) per class
    assert all(c.split("_")[2] == lab for c, lab, _ in train + test)
    x, rate = read_wav(out / "AudioWAV" / f"{CLIPS[0]}.wav")
    assert rate == 22050
    # the result loads, and a second run converts nothing
    s = load_cremad(out, audio=AudioSpec(22050, 0.1, 64, 32), frames=FrameSpec(1, 8),
                    num_workers=0)
    assert s.num_classes == 2 and s.class_names == ["NEU", "ANG"]
    again = fake_ffmpeg()
    prep.prepare(videos, out, runner=again, log=logs.append)
    assert again.calls == []


def test_prepare_copies_the_given_lists(videos, tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    write_split_csv(lists / "tr.csv", [(c, c.split("_")[2]) for c in CLIPS[:15]])
    write_split_csv(lists / "te.csv", [(c, c.split("_")[2]) for c in CLIPS[15:]])
    out = tmp_path / "cremad"
    summary = prep.prepare(videos, out, lists / "tr.csv", lists / "te.csv", runner=fake_ffmpeg(),
                           log=lambda s: None)
    assert summary["split"].startswith("copied")
    assert [c for c, _, _ in read_split_csv(out / "test.csv", "x")] == CLIPS[15:]
    write_split_csv(lists / "te.csv", [("9999_DFA_ANG_XX", "ANG")])
    with pytest.raises(FileNotFoundError, match="1 clip.*no converted video.*9999_DFA_ANG_XX"):
        prep.prepare(videos, out, lists / "tr.csv", lists / "te.csv", runner=fake_ffmpeg(),
                     log=lambda s: None)
    with pytest.raises(ValueError, match="both --train-list and --test-list"):
        prep.prepare(videos, out, lists / "tr.csv", None, runner=fake_ffmpeg(), log=lambda s: None)


def test_failed_clips_stop_the_run_unless_skipped(videos, tmp_path):
    bad = CLIPS[3]
    with pytest.raises(RuntimeError, match=f"(?s)1 clip\\(s\\) failed.*{bad}: Invalid data"):
        prep.prepare(videos, tmp_path / "a", runner=fake_ffmpeg(fail={bad}), log=lambda s: None)
    summary = prep.prepare(videos, tmp_path / "b", runner=fake_ffmpeg(fail={bad}),
                           skip_failed=True, log=lambda s: None)
    assert summary["failed"] == [bad] and summary["clips"] == len(CLIPS) - 1
    listed = [c for f in ("train.csv", "test.csv")
              for c, _, _ in read_split_csv(tmp_path / "b" / f, "x")]
    assert bad not in listed


def test_input_errors(videos, tmp_path):
    with pytest.raises(FileNotFoundError, match="video folder .*does not exist"):
        prep.prepare(tmp_path / "none", tmp_path / "o", runner=fake_ffmpeg())
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no .flv videos"):
        prep.prepare(empty, tmp_path / "o", runner=fake_ffmpeg())
    (videos / "holiday.flv").write_bytes(b"flv")
    with pytest.raises(ValueError, match="'holiday' does not look like a CREMA-D name"):
        prep.prepare(videos, tmp_path / "o", runner=fake_ffmpeg())
