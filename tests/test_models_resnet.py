import pytest
import torch

from udml.models.resnet import AudioResNet18, ResNet18Trunk, VisualResNet18, av_encoders

# The standard ResNet-18 has 11,689,512 parameters with its 1000-class layer (512 * 1000 + 1000
# of them); the trunk without that layer therefore has 11,176,512 for RGB input.
RESNET18_WITH_FC = 11_689_512
FC_1000 = 512 * 1000 + 1000


def count(m):
    return sum(p.numel() for p in m.parameters())


def test_full_width_matches_the_standard_resnet18():
    assert count(ResNet18Trunk(3)) == RESNET18_WITH_FC - FC_1000
    # one input channel instead of three: the 7x7 stem loses 2 * 64 * 7 * 7 weights
    assert count(ResNet18Trunk(1)) == RESNET18_WITH_FC - FC_1000 - 2 * 64 * 49
    assert AudioResNet18().out_dim == VisualResNet18().out_dim == 512


def test_narrow_shapes_and_downsampling():
    a = AudioResNet18((1, 65, 126), width=4)
    assert a.out_dim == 32 and a.in_shape == (1, 65, 126)
    assert a(torch.randn(2, 1, 65, 126)).shape == (2, 32)
    maps = a.trunk(torch.randn(1, 1, 64, 128))
    assert maps.shape == (1, 32, 2, 4)  # total stride 32
    v = VisualResNet18((3, 3, 32, 32), width=4)
    assert v(torch.randn(2, 3, 3, 32, 32)).shape == (2, 32)


def test_visual_features_are_the_mean_over_frames():
    torch.manual_seed(0)
    v = VisualResNet18(None, width=2).eval()
    x = torch.randn(2, 3, 3, 32, 32)
    per_frame = torch.stack([v(x[:, t:t + 1]) for t in range(3)], 1)  # (B, T, D)
    torch.testing.assert_close(v(x), per_frame.mean(1), rtol=1e-5, atol=1e-6)
    # with T = 1 the frame order cannot matter; with T = 3 permuting frames does not either
    torch.testing.assert_close(v(x.flip(1)), v(x), rtol=1e-5, atol=1e-6)


def test_shape_errors():
    with pytest.raises(ValueError, match=r"expects samples of shape \(1, 8, 8\)"):
        AudioResNet18((1, 8, 8), width=2)(torch.randn(1, 1, 8, 9))
    with pytest.raises(ValueError, match="rank 5"):
        VisualResNet18(None, width=2)(torch.randn(1, 3, 8, 8))
    with pytest.raises(ValueError, match=r"\(1, F, T\)"):
        AudioResNet18((2, 8, 8))
    with pytest.raises(ValueError, match=r"\(T, 3, H, W\)"):
        VisualResNet18((1, 1, 8, 8))
    with pytest.raises(ValueError, match="width"):
        ResNet18Trunk(1, width=0)
    with pytest.raises(ValueError, match="missing \\['visual'\\]"):
        av_encoders({"audio": (1, 8, 8)})


def test_av_encoders():
    enc = av_encoders({"audio": (1, 33, 40), "visual": (1, 3, 32, 32)}, width=2)
    assert sorted(enc) == ["audio", "visual"]
    assert enc["audio"].in_shape == (1, 33, 40) and enc["visual"].out_dim == 16
