"""Tests of the corruption kinds: identity at t = 0, growth with t, seeding, units, shapes."""
import math

import pytest
import torch

from udml.corrupt import kinds

RANDOM_KINDS = ("gaussian", "salt_pepper", "occlusion", "time_mask")
ALL_KINDS = RANDOM_KINDS + ("blur", "temporal_blur")
# An input shape each kind applies to, and one it refuses.
SHAPES = {
    "gaussian": [(6, 1, 5, 4), (6, 7)],
    "salt_pepper": [(6, 1, 5, 4), (6, 7)],
    "occlusion": [(6, 1, 5, 4), (6, 7)],
    "blur": [(6, 2, 5, 4), (6, 7)],
    "time_mask": [(6, 2, 3, 8), (6, 3, 8), (6, 8)],
    "temporal_blur": [(6, 2, 3, 8), (6, 3, 8), (6, 8)],
}
BAD_SHAPES = {"blur": (6, 3, 8), "occlusion": (6, 3, 8), "time_mask": (6,),
              "temporal_blur": (6,)}


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def run(kind, x, t, scale=1.0, seed=0, **kw):
    return getattr(kinds, kind)(x, t, scale, gen(seed), **kw)


def levels_t(levels, num_levels=11):
    return (torch.as_tensor(levels, dtype=torch.float32) - 1) / (num_levels - 1)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_zero_strength_is_bit_identical(kind):
    for shape in SHAPES[kind]:
        x = torch.randn(shape, generator=gen(1)) * 4  # beyond the clip range below
        x.view(-1)[0] = -0.0  # a signed zero must survive too
        t = torch.tensor([0.0, 0.5, 0.0, 1.0, 0.0, 0.3])
        out = run(kind, x, t, scale=1.0, clip=(-1.0, 1.0))
        clean = t == 0
        assert torch.equal(out[clean].view(torch.int32), x[clean].view(torch.int32))
        assert out.shape == x.shape and out.dtype == x.dtype
        assert not torch.equal(out[~clean], x[~clean])
        all_clean = run(kind, x, torch.zeros(6), clip=(-1.0, 1.0))
        assert torch.equal(all_clean.view(torch.int32), x.view(torch.int32))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_input_untouched_and_output_new(kind):
    x = torch.randn(SHAPES[kind][0], generator=gen(2))
    before = x.clone()
    out = run(kind, x, torch.full((6,), 0.7))
    assert torch.equal(x, before)
    assert out.data_ptr() != x.data_ptr()


def _mean_change_per_level(kind, x, scale, reps, **kw):
    levels = torch.arange(1, 12).repeat_interleave(reps)  # (11 * reps,)
    xb = x.expand((len(levels),) + x.shape[1:]).clone()
    out = run(kind, xb, levels_t(levels), scale=scale, **kw)
    diff = (out - xb).abs().flatten(1).mean(1)  # (11 * reps,)
    return diff.view(11, reps).mean(1)  # (11,)


@pytest.mark.parametrize("kind, x, scale", [
    ("gaussian", torch.zeros(1, 1, 8, 8), 1.0),
    ("salt_pepper", torch.zeros(1, 1, 8, 8), 0.5),
    ("occlusion", torch.ones(1, 1, 16, 15), 1.0),
    ("occlusion", torch.ones(1, 40), 1.0),
    ("time_mask", torch.ones(1, 2, 4, 40), 1.0),
    ("blur", torch.randn(1, 1, 16, 15, generator=gen(3)), 2.0),
    ("blur", torch.randn(1, 30, generator=gen(3)), 2.0),
    ("temporal_blur", torch.randn(1, 2, 30, generator=gen(3)), 2.0),
])
def test_strength_grows_strictly_with_level(kind, x, scale):
    change = _mean_change_per_level(kind, x, scale, reps=40)
    assert change[0] == 0
    assert bool((change[1:] > change[:-1]).all()), change


def test_same_seed_same_output_different_seed_different():
    for kind in RANDOM_KINDS:
        x = torch.randn(SHAPES[kind][0], generator=gen(4))
        t = torch.full((6,), 0.6)
        assert torch.equal(run(kind, x, t, seed=5), run(kind, x, t, seed=5))
        assert not torch.equal(run(kind, x, t, seed=5), run(kind, x, t, seed=6))
    for kind in ("blur", "temporal_blur"):  # deterministic: the generator is not used
        x = torch.randn(SHAPES[kind][0], generator=gen(4))
        t = torch.full((6,), 0.6)
        assert torch.equal(run(kind, x, t, seed=5), getattr(kinds, kind)(x, t, 1.0))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_clip_respected(kind):
    x = torch.rand(SHAPES[kind][0], generator=gen(7)) * 2 - 1  # within [-1, 1]
    out = run(kind, x, torch.ones(6), scale=5.0, clip=(-1.0, 1.0), seed=8)
    assert out.min() >= -1.0 and out.max() <= 1.0


def test_gaussian_std_is_scale_times_strength():
    x = torch.zeros(2, 200, 200)
    out = kinds.gaussian(x, torch.tensor([1.0, 0.5]), 0.8, gen(9))
    assert out[0].std().item() == pytest.approx(0.8, rel=0.02)
    assert out[1].std().item() == pytest.approx(0.4, rel=0.02)
    assert abs(out.mean().item()) < 0.01


def test_salt_pepper_share_and_values():
    x = torch.zeros(1, 100_000)
    out = kinds.salt_pepper(x, torch.ones(1), 0.3, gen(10))
    hit = out != 0
    assert hit.float().mean().item() == pytest.approx(0.3, abs=0.01)
    assert set(out[hit].unique().tolist()) == {-3.0, 3.0}  # default +-3 spread
    assert (out == 3.0).float().sum() / hit.float().sum() == pytest.approx(0.5, abs=0.02)
    clipped = kinds.salt_pepper(x, torch.ones(1), 0.3, gen(10), clip=(-1.0, 2.0))
    assert set(clipped.unique().tolist()) == {-1.0, 0.0, 2.0}  # defaults to the clip range
    custom = kinds.salt_pepper(x, torch.ones(1), 0.3, gen(10), low=-0.5, high=0.5)
    assert set(custom.unique().tolist()) == {-0.5, 0.0, 0.5}


def test_occlusion_patch_on_small_image():
    x = torch.ones(50, 1, 4, 4)
    out = kinds.occlusion(x, torch.full((50,), 0.25), 1.0, gen(11))
    # share 0.25 of a 4x4 image: a 2x2 square (side sqrt(0.25) * 4 = 2)
    for img in out[:, 0]:
        rows = (img == 0).any(1).nonzero().flatten().tolist()
        cols = (img == 0).any(0).nonzero().flatten().tolist()
        assert (img == 0).sum() == 4 and len(rows) == 2 and len(cols) == 2
        assert rows[1] - rows[0] == 1 and cols[1] - cols[0] == 1
    corners = {(int(r), int(c)) for r, c in ((im == 0).nonzero().min(0).values for im in out[:, 0])}
    assert len(corners) > 4  # random position per sample
    rect = kinds.occlusion(torch.ones(3, 2, 4, 8), torch.full((3,), 0.25), 1.0, gen(11))
    assert ((rect == 0).sum(dim=(1, 2, 3)) == 2 * (2 * 4)).all()  # 2x4 patch in both channels
    assert torch.equal(rect[:, 0], rect[:, 1])
    full = kinds.occlusion(torch.ones(2, 1, 4, 4), torch.ones(2), 1.0, gen(11), fill=-2.0)
    assert (full == -2.0).all()


def test_occlusion_block_on_vectors():
    out = kinds.occlusion(torch.ones(30, 10), torch.full((30,), 0.3), 1.0, gen(12))
    for row in out:
        idx = (row == 0).nonzero().flatten()
        assert len(idx) == 3 and (idx.diff() == 1).all()
    tiny = kinds.occlusion(torch.ones(2, 10), torch.full((2,), 0.01), 1.0, gen(12))
    assert ((tiny == 0).sum(1) == 1).all()  # at least one feature when t > 0


def test_time_mask_masks_a_stretch_of_the_last_axis():
    x = torch.ones(20, 2, 3, 10)
    out = kinds.time_mask(x, torch.full((20,), 0.5), 1.0, gen(13))
    for s in out:
        steps = (s == 0).all(dim=(0, 1)).nonzero().flatten()  # same steps for all channels
        assert len(steps) == 5 and (steps.diff() == 1).all()
        assert (s == 0).sum() == 5 * 2 * 3
    seq = kinds.time_mask(torch.ones(4, 10), torch.full((4,), 0.2), 1.0, gen(13))
    assert ((seq == 0).sum(1) == 2).all()


def test_gaussian_kernels():
    k = kinds.gaussian_kernels(torch.tensor([1.0, 0.0]), 3)  # (2, 7)
    w = torch.tensor([math.exp(-0.5 * i * i) for i in range(-3, 4)])
    torch.testing.assert_close(k[0], w / w.sum())
    assert torch.equal(k[1], torch.tensor([0.0, 0, 0, 1, 0, 0, 0]))


def test_blur_hand_checked():
    impulse = torch.zeros(1, 9)
    impulse[0, 4] = 1.0
    out = kinds.blur(impulse, torch.ones(1), 1.0)
    w = torch.tensor([math.exp(-0.5 * i * i) for i in range(-3, 4)])
    torch.testing.assert_close(out[0, 1:8], w / w.sum())
    img = torch.zeros(1, 1, 9, 9)
    img[0, 0, 4, 4] = 1.0
    out2 = kinds.blur(img, torch.ones(1), 1.0)  # separable: outer product of 1-D kernels
    torch.testing.assert_close(out2[0, 0, 1:8, 1:8], torch.outer(w, w) / w.sum() ** 2)
    const = torch.full((2, 3, 5, 4), 2.5)
    torch.testing.assert_close(kinds.blur(const, torch.ones(2), 3.0), const)  # edges replicated


def test_blur_per_sample_sigma_matches_one_at_a_time():
    x = torch.randn(4, 2, 7, 6, generator=gen(14))
    t = torch.tensor([0.1, 0.4, 0.0, 1.0])
    together = kinds.blur(x, t, 2.0)
    for i in range(4):
        alone = kinds.blur(x[i:i + 1], t[i:i + 1], 2.0)
        torch.testing.assert_close(together[i:i + 1], alone)


def test_temporal_blur_only_touches_the_time_axis():
    x = torch.zeros(1, 1, 3, 9)
    x[0, 0, 1, 4] = 1.0
    out = kinds.temporal_blur(x, torch.ones(1), 1.0)
    assert (out[0, 0, 0] == 0).all() and (out[0, 0, 2] == 0).all()
    w = torch.tensor([math.exp(-0.5 * i * i) for i in range(-3, 4)])
    torch.testing.assert_close(out[0, 0, 1, 1:8], w / w.sum())


@pytest.mark.parametrize("kind", list(BAD_SHAPES))
def test_wrong_rank_is_refused(kind):
    with pytest.raises(ValueError, match=f"{kind} applies to tensors of rank"):
        run(kind, torch.zeros(BAD_SHAPES[kind]), torch.zeros(6))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_bad_arguments(kind):
    x = torch.zeros(SHAPES[kind][0])
    with pytest.raises(TypeError, match="floating-point"):
        run(kind, x.long(), torch.zeros(6))
    with pytest.raises(ValueError, match=r"shape \(6,\)"):
        run(kind, x, torch.zeros(5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        run(kind, x, torch.full((6,), 1.5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        run(kind, x, torch.full((6,), float("nan")))
    with pytest.raises(TypeError, match="strengths"):
        run(kind, x, torch.zeros(6, dtype=torch.long))
    with pytest.raises(ValueError, match="scale"):
        run(kind, x, torch.zeros(6), scale=-1.0)
    with pytest.raises(ValueError, match="clip"):
        run(kind, x, torch.zeros(6), clip=(1.0, -1.0))
    with pytest.raises(ValueError, match="clip"):
        run(kind, x, torch.zeros(6), clip=3.0)


@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_random_kinds_need_a_generator(kind):
    with pytest.raises(TypeError, match="generator"):
        getattr(kinds, kind)(torch.zeros(SHAPES[kind][0]), torch.zeros(6), 1.0, None)


def test_salt_pepper_bad_range():
    with pytest.raises(ValueError, match="low <= high"):
        kinds.salt_pepper(torch.zeros(2, 3), torch.ones(2), 0.5, gen(), low=1.0, high=-1.0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cpu_generator_gives_the_same_noise_on_cuda():
    x = torch.randn(4, 1, 6, 5, generator=gen(15))
    t = torch.tensor([0.0, 0.3, 0.6, 1.0])
    for kind in ALL_KINDS:
        if kind in ("time_mask", "temporal_blur"):
            continue
        cpu = run(kind, x, t, seed=16)
        cuda = run(kind, x.cuda(), t.cuda(), seed=16)
        torch.testing.assert_close(cuda.cpu(), cpu)
    on_device = kinds.gaussian(x.cuda(), t.cuda(), 1.0, torch.Generator("cuda").manual_seed(1))
    assert on_device.is_cuda
