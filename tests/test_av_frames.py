import numpy as np
import pytest
from _imagenet import normalised_range
import torch
from PIL import Image

from udml.av.frames import (CREMAD_FRAMES, IMAGENET_MEAN, IMAGENET_STD, KINETICS_SOUNDS_FRAMES,
                            FrameSpec, list_frames, load_clip_frames, normalise,
                            random_crop_box, read_image, resize, select_frames, transform_frame)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_reference_frame_specs():
    assert CREMAD_FRAMES.shape == (1, 3, 224, 224)
    assert KINETICS_SOUNDS_FRAMES.shape == (3, 3, 224, 224)
    with pytest.raises(ValueError, match="num_frames must be a positive int"):
        FrameSpec(0, 32)


def test_select_frames():
    assert select_frames(3, 1, None) == [1]           # the middle frame
    assert select_frames(10, 3, None) == [1, 5, 8]    # floor((k + 0.5) * 10 / 3)
    assert select_frames(4, 4, None) == [0, 1, 2, 3]
    picks = [select_frames(10, 3, gen(s)) for s in range(20)]
    assert all(p == sorted(p) and len(set(p)) == 3 and 0 <= min(p) and max(p) < 10 for p in picks)
    assert len({tuple(p) for p in picks}) > 1
    assert select_frames(10, 3, gen(5)) == select_frames(10, 3, gen(5))
    with pytest.raises(ValueError, match="need 3 frames, the clip has 2"):
        select_frames(2, 3, None)


def test_random_crop_box_is_valid_and_seeded():
    for s in range(50):
        top, left, h, w = random_crop_box(40, 60, gen(s))
        assert 0 <= top and top + h <= 40 and 0 <= left and left + w <= 60
        area = h * w / (40 * 60)
        assert area <= 1.0
    assert random_crop_box(40, 60, gen(3)) == random_crop_box(40, 60, gen(3))
    # a 1 x 50 strip cannot hold a crop of ratio 3/4..4/3 covering >= 8%: the fallback is the
    # central crop of the nearest allowed ratio, here the full height and round(4/3) columns
    assert random_crop_box(1, 50, gen(0)) == (0, (50 - 1) // 2, 1, 1)


def test_normalise_matches_the_imagenet_formula():
    img = torch.rand(3, 4, 5, generator=gen())
    out = normalise(img)
    for c in range(3):
        torch.testing.assert_close(out[c], (img[c] - IMAGENET_MEAN[c]) / IMAGENET_STD[c])
    lo, hi = normalised_range()
    assert lo == pytest.approx(min(-m / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)))
    assert hi == pytest.approx(max((1 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)))


def test_resize_keeps_values_in_range_and_constants_constant():
    img = torch.rand(3, 37, 53, generator=gen())
    out = resize(img, 16)
    assert out.shape == (3, 16, 16) and out.min() >= 0 and out.max() <= 1
    flat = torch.full((3, 20, 30), 0.25)
    torch.testing.assert_close(resize(flat, 7), torch.full((3, 7, 7), 0.25))


def test_transform_train_random_test_deterministic():
    img = torch.rand(3, 30, 40, generator=gen(1))
    test = transform_frame(img, 16, None)
    torch.testing.assert_close(test, normalise(resize(img, 16)))
    lo, hi = normalised_range()
    trains = [transform_frame(img, 16, gen(s)) for s in range(8)]
    assert all(t.shape == (3, 16, 16) and lo - 1e-5 <= t.min() and t.max() <= hi + 1e-5
               for t in trains)
    assert len({t.sum().item() for t in trains}) > 1
    torch.testing.assert_close(trains[4], transform_frame(img, 16, gen(4)))


def test_horizontal_flip_happens_about_half_the_time():
    # a left-dark / right-bright image: after any crop + flip, the mean of the left half tells
    # whether the frame was flipped
    img = torch.zeros(3, 32, 32)
    img[:, :, 16:] = 1.0
    flips = 0
    for s in range(200):
        out = transform_frame(img, 8, gen(s))
        left, right = out[:, :, :4].mean(), out[:, :, 4:].mean()
        flips += int(left > right)
    assert 60 < flips < 140


def test_read_image_and_clip_loading(tmp_path):
    arr = np.zeros((6, 8, 3), np.uint8)
    arr[..., 0] = 255
    for k in range(3):
        Image.fromarray(arr).save(tmp_path / f"{k + 1:04d}.png")
    (tmp_path / "notes.txt").write_text("not a frame")
    frames = list_frames(tmp_path)
    assert [p.name for p in frames] == ["0001.png", "0002.png", "0003.png"]
    img = read_image(frames[0])
    assert img.shape == (3, 6, 8) and img[0].min() == 1.0 and img[1:].max() == 0.0
    clip = load_clip_frames(frames, FrameSpec(2, 4), gen())
    assert clip.shape == (2, 3, 4, 4)
    expected_red = (1.0 - IMAGENET_MEAN[0]) / IMAGENET_STD[0]
    torch.testing.assert_close(clip[:, 0], torch.full((2, 4, 4), expected_red))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot read frame"):
        read_image(bad)
