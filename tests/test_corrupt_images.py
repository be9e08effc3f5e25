"""udml.corrupt.images (contrast, pixelate): identity at t = 0, growth with t, determinism, each
kind's own property, clear errors, and the registry."""
import pytest
import torch
import torch.nn.functional as F

from udml.corrupt import KINDS, NoiseSpec, apply_noise
from udml.corrupt.images import contrast, pixelate

FNS = {"contrast": contrast, "pixelate": pixelate}


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", sorted(FNS))
def test_zero_strength_is_bit_identical(name):
    x = torch.randn(6, 3, 7, 5, generator=gen(1)) * 4  # beyond the clip range below
    x.view(-1)[0] = -0.0
    t = torch.tensor([0.0, 0.5, 0.0, 1.0, 0.0, 0.3])
    out = FNS[name](x, t, 2.0, clip=(-1.0, 1.0))
    clean = t == 0
    assert torch.equal(out[clean].view(torch.int32), x[clean].view(torch.int32))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert ((out[~clean] - x[~clean]).flatten(1).abs().sum(1) > 0).all()
    same = FNS[name](x, torch.zeros(6), 2.0, clip=(-1.0, 1.0))
    assert torch.equal(same.view(torch.int32), x.view(torch.int32))


@pytest.mark.parametrize("name", sorted(FNS))
def test_input_untouched_deterministic_dtype_kept(name):
    x = torch.randn(4, 2, 6, 6, generator=gen(2), dtype=torch.float64)
    before, t = x.clone(), torch.tensor([0.2, 0.5, 0.9, 1.0], dtype=torch.float64)
    out = FNS[name](x, t, 3.0)
    assert torch.equal(x, before) and out.dtype == torch.float64 and out.data_ptr() != x.data_ptr()
    assert torch.equal(out, FNS[name](x, t, 3.0, gen(5)))  # the generator is not used


@pytest.mark.parametrize("name, scale", [("contrast", 1.0), ("pixelate", 10.0)])
def test_change_grows_with_strength(name, scale):
    # a smooth random image (upsampled noise): larger blocks average away more of it
    x = F.interpolate(torch.randn(2, 3, 4, 4, generator=gen(3)), size=(64, 64), mode="bicubic")
    change = []
    for t in torch.linspace(0, 1, 11).tolist():  # pixelate: blocks of 1, 2, ..., 11 pixels
        change.append(float((FNS[name](x, torch.full((2,), t), scale) - x).pow(2).mean()))
    assert change[0] == 0.0
    assert all(b > a for a, b in zip(change, change[1:])), change


def test_contrast_pulls_towards_the_mean():
    x = torch.randn(3, 3, 8, 8, generator=gen(4)) + torch.tensor([0.0, 2.0, -1.0])[:, None, None, None]
    out = contrast(x, torch.tensor([1.0, 0.5, 0.25]), 1.0)
    m = x.flatten(1).mean(1)
    assert (out[0] == m[0]).all()  # a = 1: a flat image at the sample's mean
    torch.testing.assert_close(out[1] - m[1], 0.5 * (x[1] - m[1]))
    torch.testing.assert_close(out[2].std(), 0.75 * x[2].std())
    torch.testing.assert_close(out.flatten(1).mean(1), m)  # the mean is kept
    assert (contrast(x, torch.ones(3), 4.0) == m[:, None, None, None]).all()  # a capped at 1


def test_pixelate_blocks_are_constant_and_hold_the_mean():
    x = torch.randn(2, 3, 7, 10, generator=gen(5))
    out = pixelate(x, torch.tensor([1.0, 0.5]), 2.0)  # k = 3 and k = 2 (1 + round(1), halves up)
    for i, k in enumerate((3, 2)):
        for r in range(0, 7, k):
            for c in range(0, 10, k):
                block, src = out[i, :, r:r + k, c:c + k], x[i, :, r:r + k, c:c + k]
                mean = src.mean(dim=(1, 2), keepdim=True)  # per channel, partial blocks included
                torch.testing.assert_close(block, mean.expand_as(block))
    assert not torch.equal(out[0, 0], out[0, 1])  # channels are averaged on their own


def test_pixelate_beyond_the_image_is_one_block_and_matches_one_at_a_time():
    x = torch.randn(3, 2, 5, 6, generator=gen(6))
    whole = pixelate(x, torch.ones(3), 100.0)
    torch.testing.assert_close(whole, x.mean(dim=(2, 3), keepdim=True).expand_as(x))
    t = torch.tensor([0.1, 0.4, 1.0])
    together = pixelate(x, t, 4.0)
    for i in range(3):
        assert torch.equal(together[i:i + 1], pixelate(x[i:i + 1], t[i:i + 1], 4.0))


@pytest.mark.parametrize("name", sorted(FNS))
def test_bad_arguments(name):
    x = torch.zeros(6, 1, 4, 4)
    with pytest.raises(ValueError, match=f"{name} applies to tensors of rank 4"):
        FNS[name](torch.zeros(6, 7), torch.zeros(6), 1.0)
    with pytest.raises(TypeError, match="floating-point"):
        FNS[name](x.long(), torch.zeros(6), 1.0)
    with pytest.raises(ValueError, match=r"shape \(6,\)"):
        FNS[name](x, torch.zeros(5), 1.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        FNS[name](x, torch.full((6,), -0.5), 1.0)
    with pytest.raises(ValueError, match="scale"):
        FNS[name](x, torch.zeros(6), -2.0)
    with pytest.raises(ValueError, match="scale"):
        FNS[name](x, torch.zeros(6), float("inf"))
    with pytest.raises(ValueError, match="clip"):
        FNS[name](x, torch.zeros(6), 1.0, clip=(0.0, 0.0))


@pytest.mark.parametrize("name", sorted(FNS))
def test_registered_and_applied_through_noise_spec(name):
    assert KINDS[name].fn is FNS[name] and KINDS[name].scale_unit and not KINDS[name].random
    x = {"pix": torch.randn(3, 2, 6, 5, generator=gen(7))}
    out = apply_noise(x, {"pix": torch.tensor([1, 4, 11])}, {"pix": NoiseSpec(name, 0.5)}, 11,
                      gen(8))
    assert torch.equal(out["pix"][0], x["pix"][0])
    assert not torch.equal(out["pix"][2], x["pix"][2])
    with pytest.raises(ValueError, match=f"noise kind '{name}' applies to tensors of rank"):
        apply_noise({"fou": torch.zeros(3, 7)}, {"fou": torch.tensor([1, 2, 3])},
                    {"fou": NoiseSpec(name)}, 11, gen())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", sorted(FNS))
def test_same_result_on_cuda(name):
    x, t = torch.randn(4, 2, 9, 7, generator=gen(9)), torch.tensor([0.0, 0.3, 0.6, 1.0])
    cuda = FNS[name](x.cuda(), t.cuda(), 5.0)
    assert cuda.is_cuda
    torch.testing.assert_close(cuda.cpu(), FNS[name](x, t, 5.0))
