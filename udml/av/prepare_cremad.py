"""Turn the raw CREMA-D videos into the layout `udml.av.load_cremad` reads.

    python -m udml.av.prepare_cremad --videos CREMA-D/VideoFlash --out data/cremad \
        [--train-list train.csv --test-list test.csv] [--jobs 8]

For every ``<clip>.flv`` it writes ``AudioWAV/<clip>.wav`` (mono, 22,050 Hz, 16-bit PCM) and
``Image-01-FPS/<clip>/0001.jpg ...`` (one frame per second), using ffmpeg, the one external
tool (checked before anything runs). With the OGM-GE split lists (``clip,label`` rows) it copies
them after checking every listed clip has a video; without them it makes a seeded stratified
split holding out a share of every class for testing, and says so. The label of a clip is the
emotion code in its name (``1001_DFA_ANG_XX`` -> ANG). Clips already converted are skipped,
so an interrupted run can simply be started again.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import torch

from .catalog import read_split_csv, stratified_split, write_split_csv
from .cremad import CREMAD_CLASSES, CREMAD_LAYOUT
from .frames import list_frames

SAMPLE_RATE = 22050
TEST_SHARE = 0.1  # held-out share per class when no split lists are given (OGM-GE: 744 of 7,442)
INSTALL = ("ffmpeg is the one external tool this script needs and it is not on PATH. Install it: "
           "`sudo apt-get install ffmpeg` (Debian/Ubuntu), `brew install ffmpeg` (macOS), or "
           "`conda install -c conda-forge ffmpeg`; or pass --ffmpeg /path/to/ffmpeg.")
Runner = Callable[[list[str]], None]


def find_ffmpeg(path: str | None = None) -> str:
    """The ffmpeg executable to use; FileNotFoundError with install instructions if none."""
    found = shutil.which(path or "ffmpeg")
    if found is None:
        where = "" if path is None else f"ffmpeg not found at {path}. "
        raise FileNotFoundError(where + INSTALL)
    return found


def run_command(cmd: list[str]) -> None:
    """Run one ffmpeg command; RuntimeError with the end of its error output if it fails."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-500:] or f"exit status {done.returncode}")


def label_of(clip: str) -> str:
    """The emotion code of a CREMA-D clip name (third field); ValueError if it is not one."""
    parts = clip.split("_")
    if len(parts) < 3 or parts[2] not in CREMAD_CLASSES:
        raise ValueError(f"clip {clip!r} does not look like a CREMA-D name ACTOR_SENTENCE_EMOTION_"
                         f"LEVEL with EMOTION in {list(CREMAD_CLASSES)}")
    return parts[2]


def commands(ffmpeg: str, video: Path, wav: Path, frames: Path) -> list[list[str]]:
    """The two ffmpeg calls for one clip: audio track -> mono 22,050 Hz WAV; 1-fps JPEG frames."""
    quiet = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(video)]
    return [quiet + ["-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-acodec", "pcm_s16le", str(wav)],
            quiet + ["-an", "-vf", "fps=1", "-q:v", "2", str(frames / "%04d.jpg")]]


def convert_clip(ffmpeg: str, video: Path, out: Path, runner: Runner) -> str | None:
    """Convert one clip unless done already; return an error message or None."""
    clip = video.stem
    wav = out / CREMAD_LAYOUT.audio_dir / f"{clip}.wav"
    frames = out / CREMAD_LAYOUT.frames_dir / clip
    if wav.is_file() and frames.is_dir() and list_frames(frames):
        return None
    frames.mkdir(parents=True, exist_ok=True)
    try:
        for cmd in commands(ffmpeg, video, wav, frames):
            runner(cmd)
    except Exception as err:  # one broken clip must not stop the others
        return f"{clip}: {err}"
    if not wav.is_file() or not list_frames(frames):
        return f"{clip}: ffmpeg wrote no {'audio' if not wav.is_file() else 'frames'}"
    return None


def make_splits(clips: list[str], out: Path, train_list: Path | None, test_list: Path | None,
                seed: int, dropped: set[str] = frozenset()) -> str:
    """Write train.csv / test.csv under ``out``; return how they were made. Listed clips in
    ``dropped`` (failed conversions the caller chose to skip) are left out of the lists."""
    have = set(clips)
    if (train_list is None) != (test_list is None):
        raise ValueError("pass both --train-list and --test-list, or neither")
    if train_list is not None:
        for src, name in ((train_list, "train.csv"), (test_list, "test.csv")):
            rows = [r for r in read_split_csv(Path(src), "CREMA-D") if r[0] not in dropped]
            missing = [c for c, _, _ in rows if c not in have]
            if missing:
                raise FileNotFoundError(f"{src} lists {len(missing)} clip(s) with no converted "
                                        f"video, e.g. {missing[:3]}")
            write_split_csv(out / name, [(c, label) for c, label, _ in rows])
        left_out = f", without the {len(dropped)} failed clip(s)" if dropped else ""
        return f"copied from {train_list} and {test_list}{left_out}"
    labels = [label_of(c) for c in clips]
    index = [CREMAD_CLASSES.index(lab) for lab in labels]
    train, test = stratified_split(index, TEST_SHARE, torch.Generator().manual_seed(seed))
    write_split_csv(out / "train.csv", [(clips[i], labels[i]) for i in train])
    write_split_csv(out / "test.csv", [(clips[i], labels[i]) for i in test])
    return (f"no split lists given: a stratified split holding out {TEST_SHARE:g} of every class, "
            f"seed {seed} (not the OGM-GE split, so results are not comparable with the paper)")


def prepare(videos: str | Path, out: str | Path, train_list: str | Path | None = None,
            test_list: str | Path | None = None, seed: int = 0, jobs: int = 4,
            ffmpeg: str | None = None, skip_failed: bool = False,
            runner: Runner = run_command, log: Callable[[str], None] = print) -> dict:
    """Convert every video under ``videos`` into ``out``; return a summary (also saved as
    ``out/prepare.json``). Raises if ffmpeg is missing, no video is found, or a clip fails
    (unless ``skip_failed``, which leaves failed clips out of the generated split)."""
    exe = find_ffmpeg(ffmpeg)
    videos, out = Path(videos), Path(out)
    if not videos.is_dir():
        raise FileNotFoundError(f"video folder {videos} does not exist (CREMA-D's VideoFlash)")
    files = sorted(videos.glob("*.flv"))
    if not files:
        raise FileNotFoundError(f"no .flv videos in {videos} (CREMA-D's VideoFlash folder)")
    for f in files:
        label_of(f.stem)
    (out / CREMAD_LAYOUT.audio_dir).mkdir(parents=True, exist_ok=True)
    (out / CREMAD_LAYOUT.frames_dir).mkdir(exist_ok=True)
    log(f"converting {len(files)} clips with {exe} ({jobs} at a time)")
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        errors = [e for e in pool.map(lambda f: convert_clip(exe, f, out, runner), files) if e]
    failed = {e.split(":", 1)[0] for e in errors}
    if errors and not skip_failed:
        raise RuntimeError(f"{len(errors)} clip(s) failed (rerun to retry, or pass --skip-failed):"
                           "\n" + "\n".join(errors[:10]))
    clips = [f.stem for f in files if f.stem not in failed]
    how = make_splits(clips, out, Path(train_list) if train_list else None,
                      Path(test_list) if test_list else None, seed, failed)
    log(f"split: {how}")
    summary = {"videos": str(videos), "clips": len(clips), "failed": sorted(failed),
               "sample_rate": SAMPLE_RATE, "frames_per_second": 1, "split": how}
    (out / "prepare.json").write_text(json.dumps(summary, indent=1))
    return summary


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m udml.av.prepare_cremad", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--videos", required=True, help="folder of CREMA-D's .flv videos")
    p.add_argument("--out", required=True, help="dataset root to write")
    p.add_argument("--train-list", help="OGM-GE train split (clip,label rows)")
    p.add_argument("--test-list", help="OGM-GE test split (clip,label rows)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split made without lists")
    p.add_argument("--jobs", type=int, default=4, help="ffmpeg processes at a time")
    p.add_argument("--ffmpeg", help="path of the ffmpeg executable (default: from PATH)")
    p.add_argument("--skip-failed", action="store_true",
                   help="leave clips ffmpeg cannot convert out of the split instead of stopping")
    a = p.parse_args(argv)
    try:
        prepare(a.videos, a.out, a.train_list, a.test_list, a.seed, a.jobs, a.ffmpeg,
                a.skip_failed)
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        raise SystemExit(f"error: {err}") from None


if __name__ == "__main__":
    main()
