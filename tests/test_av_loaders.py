import shutil

import pytest
from _imagenet import normalised_range
import torch

from udml.av import (AudioSpec, FrameSpec, Layout, load_cremad, load_kinetics_sounds,
                     make_fixture)
from udml.av.catalog import read_split_csv, stratified_split, write_split_csv
from udml.av.dataset import EVAL_BATCH_CAP
from udml.data.dataset import Batch

AUDIO = AudioSpec(8000, 0.5, 64, 32)
FRAMES = FrameSpec(1, 16)
KW = dict(audio=AUDIO, frames=FRAMES, num_workers=0)


@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory):
    return make_fixture(tmp_path_factory.mktemp("av") / "cremad", num_classes=3,
                        train_per_class=6, test_per_class=3, seed=0)


@pytest.fixture
def copy_root(fixture_root, tmp_path):
    """A private copy of the fixture that a test may damage."""
    return shutil.copytree(fixture_root, tmp_path / "copy")


def test_fixture_is_deterministic(tmp_path):
    a = make_fixture(tmp_path / "a", num_classes=2, train_per_class=2, test_per_class=2, seed=3)
    b = make_fixture(tmp_path / "b", num_classes=2, train_per_class=2, test_per_class=2, seed=3)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    with pytest.raises(FileExistsError, match="not empty"):
        make_fixture(a)
    stamp = (a / "train.csv").stat().st_mtime_ns
    assert make_fixture(a, num_classes=2, train_per_class=2, test_per_class=2, seed=3,
                        exist_ok=True) == a
    assert (a / "train.csv").stat().st_mtime_ns == stamp  # reused, not rewritten
    with pytest.raises(FileExistsError, match="not empty"):
        make_fixture(a, num_classes=2, train_per_class=2, test_per_class=2, seed=4,
                     exist_ok=True)
    with pytest.raises(ValueError, match="num_classes"):
        make_fixture(tmp_path / "c", num_classes=7)


def test_loader_shapes_labels_and_splits(fixture_root):
    s = load_cremad(fixture_root, **KW)
    assert s.name == "CREMA-D" and s.modalities == ["audio", "visual"]
    assert s.class_names == ["NEU", "HAP", "SAD"] and s.num_classes == 3  # from the data
    assert s.shapes == {"audio": AUDIO.shape, "visual": FRAMES.shape}
    sizes = s.info["sizes"]
    assert sizes["train"] + sizes["val"] == 18 and sizes["test"] == 9
    assert sizes["val"] == 3  # round(0.1 * 6) = 1 clip held out per class
    assert torch.bincount(s.val.y).tolist() == [1, 1, 1]
    def names(d):
        return {c.name for c in d.clips}
    assert not names(s.train) & names(s.val) and not names(s.train) & names(s.test)
    # labels agree with the split list
    rows = {c: lab for c, lab, _ in read_split_csv(fixture_root / "test.csv", "x")}
    assert all(s.class_names[c.label] == rows[c.name] for c in s.test.clips)


def test_batches_are_trainer_batches_with_valid_ranges(fixture_root):
    s = load_cremad(fixture_root, **KW)
    batches = list(s.test.batches(4))
    assert [b.y.shape[0] for b in batches] == [4, 4, 1]
    b = batches[0]
    assert isinstance(b, Batch)
    assert b.x["audio"].shape == (4,) + AUDIO.shape and b.x["audio"].dtype == torch.float32
    assert b.x["visual"].shape == (4,) + FRAMES.shape
    lo, hi = normalised_range()
    assert lo - 1e-5 <= b.x["visual"].min() and b.x["visual"].max() <= hi + 1e-5
    assert b.x["audio"].min() >= torch.log(torch.tensor(1e-7)) - 1e-4
    assert b.index.tolist() == [0, 1, 2, 3]
    assert all(torch.equal(v, torch.ones(4, dtype=torch.long)) for v in b.levels.values())
    assert torch.cat([b.y for b in batches]).tolist() == s.test.y.tolist()


def test_shuffled_epochs_are_seeded_per_sample(fixture_root):
    s = load_cremad(fixture_root, **KW)
    def run(seed):
        return list(s.train.batches(5, True, torch.Generator().manual_seed(seed)))
    a, b, c = run(0), run(0), run(1)
    assert all(torch.equal(x.x["visual"], y.x["visual"]) for x, y in zip(a, b))
    assert torch.cat([x.index for x in a]).tolist() != torch.cat([x.index for x in c]).tolist()
    assert sorted(torch.cat([x.index for x in a]).tolist()) == list(range(len(s.train)))
    # training crops differ from the deterministic evaluation transform
    i = int(a[0].index[0])
    evaluation = s.train.dataset[i][1]
    assert not torch.equal(a[0].x["visual"][0], evaluation)


def test_workers_give_the_same_batches_as_the_main_process(fixture_root):
    one = load_cremad(fixture_root, **KW)
    two = load_cremad(fixture_root, audio=AUDIO, frames=FRAMES, num_workers=2)
    for epoch in range(2):  # the second pass reuses the persistent workers
        g1, g2 = (torch.Generator().manual_seed(epoch) for _ in range(2))
        for x, y in zip(one.train.batches(4, True, g1), two.train.batches(4, True, g2)):
            assert torch.equal(x.index, y.index)
            assert torch.equal(x.x["audio"], y.x["audio"])
            assert torch.equal(x.x["visual"], y.x["visual"])


def test_unshuffled_batches_are_capped(fixture_root, monkeypatch):
    s = load_cremad(fixture_root, **KW)
    monkeypatch.setattr("udml.av.dataset.EVAL_BATCH_CAP", 2)
    assert [b.y.shape[0] for b in s.test.batches(512)] == [2, 2, 2, 2, 1]
    assert EVAL_BATCH_CAP >= 64  # the default never splits a training batch of the paper
    with pytest.raises(ValueError, match="batch_size"):
        next(s.test.batches(0))


def test_val_csv_is_used_when_present(copy_root):
    rows = [(c, lab) for c, lab, _ in read_split_csv(copy_root / "test.csv", "x")]
    write_split_csv(copy_root / "val.csv", rows[:3])
    s = load_cremad(copy_root, **KW)
    assert len(s.val) == 3 and s.info["val_split"] == "val.csv"
    assert len(s.train) == 18


def test_to_memory_matches_the_loader(fixture_root):
    s = load_cremad(fixture_root, **KW)
    mem = s.test.to_memory(batch_size=4)
    assert len(mem) == len(s.test) and torch.equal(mem.y, s.test.y)
    streamed = list(s.test.batches(64))[0]
    for m in ("audio", "visual"):
        assert torch.equal(mem.x[m], streamed.x[m])
    with pytest.raises(ValueError, match="randomly augmented"):
        s.train.to_memory()


def test_kinetics_sounds_fixture_layout(tmp_path):
    from udml.av.kinetics_sounds import KINETICS_SOUNDS_LAYOUT
    root = make_fixture(tmp_path / "ks", num_classes=2, train_per_class=2, test_per_class=2,
                        layout=KINETICS_SOUNDS_LAYOUT)
    s = load_kinetics_sounds(root, audio=AUDIO, frames=FrameSpec(3, 16), num_workers=0)
    assert s.num_classes == 2 and s.shapes["visual"] == (3, 3, 16, 16)


def test_kinetics_sounds_layout_and_three_frames(copy_root):
    layout = Layout(audio_dir="AudioWAV", frames_dir="Image-01-FPS")
    s = load_kinetics_sounds(copy_root, audio=AUDIO, frames=FrameSpec(3, 16), num_workers=0,
                             layout=layout)
    assert s.class_names == ["HAP", "NEU", "SAD"]  # sorted: no fixed list for Kinetics-Sounds
    assert s.shapes["visual"] == (3, 3, 16, 16)
    b = next(s.test.batches(2))
    assert b.x["visual"].shape == (2, 3, 3, 16, 16)
    with pytest.raises(FileNotFoundError, match="Kinetics-Sounds: folder .*audio does not exist"):
        load_kinetics_sounds(copy_root, **KW)


# --- errors that say what is missing ----------------------------------------------------------

def test_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match="CREMA-D root folder .*nowhere does not exist.*"
                                                "prepare_cremad"):
        load_cremad(tmp_path / "nowhere", **KW)


def test_missing_split_csv(copy_root):
    (copy_root / "test.csv").unlink()
    with pytest.raises(FileNotFoundError, match="split list .*test.csv does not exist"):
        load_cremad(copy_root, **KW)


def test_missing_audio_file(copy_root):
    clip = read_split_csv(copy_root / "train.csv", "x")[4][0]
    (copy_root / "AudioWAV" / f"{clip}.wav").unlink()
    with pytest.raises(FileNotFoundError, match=f"the audio file of 1 clip.*clip {clip} "):
        load_cremad(copy_root, **KW)


def test_missing_and_too_few_frames(copy_root):
    clips = [c for c, _, _ in read_split_csv(copy_root / "test.csv", "x")]
    shutil.rmtree(copy_root / "Image-01-FPS" / clips[0])
    with pytest.raises(FileNotFoundError, match=f"the frame folder of 1 clip.*clip {clips[0]} "):
        load_cremad(copy_root, **KW)
    (copy_root / "Image-01-FPS" / clips[0]).mkdir()
    with pytest.raises(FileNotFoundError, match=f"frames \\(need 1 .*clip {clips[0]} "):
        load_cremad(copy_root, **KW)


def test_unknown_label(copy_root):
    text = (copy_root / "test.csv").read_text().replace(",SAD", ",FEA", 1)
    (copy_root / "test.csv").write_text(text)
    with pytest.raises(ValueError, match="unknown label 'FEA'.*test.csv, line .*classes "
                                         r"\['NEU', 'HAP', 'SAD'\]"):
        load_cremad(copy_root, **KW)
    train = copy_root / "train.csv"
    train.write_text(train.read_text() + "x_y_BORED_z,BORED\n")
    with pytest.raises(ValueError, match="unknown label 'BORED'.*CREMA-D labels are"):
        load_cremad(copy_root, **KW)


def test_malformed_split_lists(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("clip,label\n\n")
    with pytest.raises(ValueError, match="has no clips"):
        read_split_csv(path, "X")
    path.write_text("a,NEU\nb\n")
    with pytest.raises(ValueError, match="line 2: expected 'clip,label'"):
        read_split_csv(path, "X")
    path.write_text("a,NEU\na,HAP\n")
    with pytest.raises(ValueError, match="lists some clips twice"):
        read_split_csv(path, "X")
    path.write_text("clip,label\na,NEU\n")
    assert read_split_csv(path, "X") == [("a", "NEU", 2)]


def test_too_small_for_a_validation_split(copy_root):
    rows = read_split_csv(copy_root / "train.csv", "x")
    one_each = {lab: (c, lab) for c, lab, _ in rows}  # one clip per class
    write_split_csv(copy_root / "train.csv", list(one_each.values()))
    with pytest.raises(ValueError, match="leaves no validation clips"):
        load_cremad(copy_root, **KW)


def test_stratified_split():
    labels = [0] * 10 + [1] * 5 + [2] * 2
    kept, held = stratified_split(labels, 0.2, torch.Generator().manual_seed(0))
    assert sorted(kept + held) == list(range(17))
    assert [sum(labels[i] == c for i in held) for c in range(3)] == [2, 1, 1]
    assert (kept, held) == stratified_split(labels, 0.2, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="share"):
        stratified_split(labels, 0.0, torch.Generator())
