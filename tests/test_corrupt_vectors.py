"""udml.corrupt.vectors (feature_dropout, speckle, quantize): identity at t = 0, growth with t,
seeding, each kind's own property, clear errors, and the registry."""
import pytest
import torch

from udml.corrupt import KINDS, NoiseSpec, apply_noise
from udml.corrupt.vectors import feature_dropout, quantize, speckle

FNS = {"feature_dropout": feature_dropout, "speckle": speckle, "quantize": quantize}
RANDOM = ("feature_dropout", "speckle")
SHAPES = [(6, 7), (6, 3, 8), (6, 2, 5, 4), (6, 2, 3, 4, 4)]  # vectors, sequences, images, clips


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def run(name, x, t, scale=1.0, seed=0, **kw):
    return FNS[name](x, t, scale, gen(seed), **kw)


@pytest.mark.parametrize("name", sorted(FNS))
@pytest.mark.parametrize("shape", SHAPES)
def test_zero_strength_is_bit_identical(name, shape):
    x = torch.randn(shape, generator=gen(1)) * 4  # beyond the clip range below
    x.view(-1)[0] = -0.0  # a signed zero must survive too
    t = torch.tensor([0.0, 0.5, 0.0, 1.0, 0.0, 0.3])
    out = run(name, x, t, clip=(-1.0, 1.0))
    clean = t == 0
    assert torch.equal(out[clean].view(torch.int32), x[clean].view(torch.int32))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert ((out[~clean] - x[~clean]).flatten(1).abs().sum(1) > 0).all()
    same = run(name, x, torch.zeros(6), clip=(-1.0, 1.0))
    assert torch.equal(same.view(torch.int32), x.view(torch.int32))


@pytest.mark.parametrize("name", sorted(FNS))
def test_input_untouched_dtype_kept(name):
    x = torch.randn(6, 2, 5, 4, generator=gen(2), dtype=torch.float64)
    before = x.clone()
    out = run(name, x, torch.full((6,), 0.7))
    assert torch.equal(x, before)
    assert out.data_ptr() != x.data_ptr() and out.dtype == torch.float64


@pytest.mark.parametrize("name, scale", [("feature_dropout", 1.0), ("speckle", 1.0),
                                         ("quantize", 2.0)])
def test_change_grows_with_strength(name, scale):
    x = torch.randn(1, 3, 16, 16, generator=gen(3))
    change = []
    for t in torch.linspace(0, 1, 11).tolist():
        out = run(name, x, torch.tensor([t]), scale=scale, seed=4)  # the same seed at every t
        change.append(float((out - x).pow(2).mean()))
    assert change[0] == 0.0
    assert all(b > a for a, b in zip(change, change[1:])), change


@pytest.mark.parametrize("name", sorted(FNS))
def test_seeded(name):
    x, t = torch.randn(6, 2, 5, 4, generator=gen(5)), torch.full((6,), 0.6)
    assert torch.equal(run(name, x, t, seed=7), run(name, x, t, seed=7))
    if name in RANDOM:
        assert not torch.equal(run(name, x, t, seed=7), run(name, x, t, seed=8))
    else:  # deterministic: the generator is not used
        assert torch.equal(run(name, x, t, seed=7), FNS[name](x, t, 1.0))


def test_feature_dropout_share_scattered_and_full():
    x = torch.ones(2, 200, 500)
    out = feature_dropout(x, torch.tensor([1.0, 0.5]), 0.4, gen(9))
    dropped = (out == 0).flatten(1).float().mean(1)
    torch.testing.assert_close(dropped, torch.tensor([0.4, 0.2]), atol=0.005, rtol=0)
    rows = (out[0] == 0).float().mean(1)  # scattered: every row loses about the same share
    assert rows.min() > 0.3 and rows.max() < 0.5
    full = feature_dropout(torch.randn(3, 2, 4, 4, generator=gen(10)), torch.ones(3), 1.0, gen(11),
                           fill=-1.5)
    assert (full == -1.5).all()  # scale 1 at t = 1: every entry
    over = feature_dropout(torch.ones(2, 50), torch.ones(2), 7.0, gen(11))
    assert (over == 0).all()  # the share is capped at 1


def test_feature_dropout_per_channel_on_images():
    out = feature_dropout(torch.ones(4, 3, 32, 32), torch.full((4,), 0.5), 1.0, gen(12))
    lost = out == 0
    assert not torch.equal(lost[:, 0], lost[:, 1])  # each channel drawn on its own


def test_speckle_is_relative_to_the_value():
    x = torch.zeros(1, 2, 40_000)
    x[0, 1] = 3.0
    out = speckle(x, torch.ones(1), 0.5, gen(13))
    assert (out[0, 0] == 0).all()  # zero entries are untouched
    assert (out[0, 1] / 3.0 - 1).std().item() == pytest.approx(0.5, rel=0.02)
    half = speckle(x, torch.full((1,), 0.5), 0.5, gen(13))
    torch.testing.assert_close(half - x, (out - x) / 2)  # the gain error is scale * t * eps


def test_quantize_values_on_the_grid():
    x = torch.randn(3, 500, generator=gen(14), dtype=torch.float64)
    t = torch.tensor([1.0, 0.5, 0.25], dtype=torch.float64)
    out = quantize(x, t, 0.8)
    for i, q in enumerate([0.8, 0.4, 0.2]):
        steps = out[i] / q
        torch.testing.assert_close(steps, steps.round(), atol=1e-9, rtol=0)  # on the grid
        assert (out[i] - x[i]).abs().max() <= q / 2 + 1e-12  # the nearest grid point
        assert len(out[i].unique()) < len(x[i].unique())
    assert torch.equal(quantize(x, torch.ones(3, dtype=torch.float64), 0.0), x)  # step 0


@pytest.mark.parametrize("name", sorted(FNS))
def test_bad_arguments(name):
    x = torch.zeros(6, 7)
    with pytest.raises(TypeError, match="floating-point"):
        run(name, x.long(), torch.zeros(6))
    with pytest.raises(ValueError, match=r"shape \(6,\)"):
        run(name, x, torch.zeros(5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        run(name, x, torch.full((6,), 1.5))
    with pytest.raises(ValueError, match="scale"):
        run(name, x, torch.zeros(6), scale=-1.0)
    with pytest.raises(ValueError, match="scale"):
        run(name, x, torch.zeros(6), scale=float("nan"))
    with pytest.raises(ValueError, match="clip"):
        run(name, x, torch.zeros(6), clip=(1.0, -1.0))


def test_feature_dropout_refuses_rank_1_and_bad_fill():
    with pytest.raises(ValueError, match="feature_dropout applies to tensors of rank 2"):
        feature_dropout(torch.zeros(6), torch.zeros(6), 1.0, gen())
    with pytest.raises(ValueError, match="fill"):
        feature_dropout(torch.zeros(6, 3), torch.zeros(6), 1.0, gen(), fill=float("nan"))


@pytest.mark.parametrize("name", RANDOM)
def test_random_kinds_need_a_generator(name):
    with pytest.raises(TypeError, match="generator"):
        FNS[name](torch.zeros(6, 3), torch.zeros(6), 1.0, None)


@pytest.mark.parametrize("name", sorted(FNS))
def test_registered_and_applied_through_noise_spec(name):
    assert KINDS[name].fn is FNS[name] and KINDS[name].scale_unit
    assert KINDS[name].random == (name in RANDOM)
    x = {"fou": torch.randn(3, 7, generator=gen(15)), "pix": torch.randn(3, 2, 6, 5, generator=gen(16))}
    levels = {m: torch.tensor([1, 4, 11]) for m in x}
    specs = {m: NoiseSpec(name, 0.5, (-3, 3)) for m in x}
    out = apply_noise(x, levels, specs, 11, gen(17))
    for m in x:
        assert torch.equal(out[m][0], x[m][0])
        assert not torch.equal(out[m][2], x[m][2])
        assert out[m].abs().max() <= 3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", sorted(FNS))
def test_cpu_generator_gives_the_same_result_on_cuda(name):
    x = torch.randn(4, 2, 6, 5, generator=gen(18))
    t = torch.tensor([0.0, 0.3, 0.6, 1.0])
    cuda = run(name, x.cuda(), t.cuda(), seed=19)
    assert cuda.is_cuda
    torch.testing.assert_close(cuda.cpu(), run(name, x, t, seed=19))
