"""ResNet-18 encoders for audio and video, trained from scratch (method.md section 7).

The trunk is the standard ResNet-18: a 7x7 stride-2 stem convolution, 3x3 stride-2 max pooling,
four stages of two basic residual blocks (3x3 convolutions with batch normalisation) with
widths w, 2w, 4w, 8w and strides 1, 2, 2, 2, then global average pooling. w = 64 gives the
usual 512 output features; a smaller ``width`` gives a narrow network for tests and CPU runs.

- `AudioResNet18`: (B, 1, F, T) log spectrogram -> (B, 8w); one input channel.
- `VisualResNet18`: (B, T, 3, H, W) frames -> every frame through the 2-D trunk -> features
  averaged over the frames and positions -> (B, 8w).
Both expose ``in_shape`` (the sample shape they check, or None for any) and ``out_dim``.
"""
from __future__ import annotations

from torch import Tensor, nn

STAGES = (2, 2, 2, 2)  # basic blocks per stage: ResNet-18


class BasicBlock(nn.Module):
    """relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)); the shortcut projects when the shape
    changes (1x1 convolution with the block's stride + batch normalisation)."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet18Trunk(nn.Module):
    """(N, C_in, H, W) -> (N, 8w, H/32, W/32) feature maps (sizes rounded up).

    ``stages`` gives the basic blocks per stage: (2, 2, 2, 2) is ResNet-18, (1, 1, 1, 1) the
    ResNet-10 of the same family (half the depth, for CPU runs)."""

    def __init__(self, in_channels: int, width: int = 64, stages: tuple[int, ...] = STAGES):
        super().__init__()
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive int, got {width!r}")
        if len(stages) != 4 or not all(isinstance(n, int) and n >= 1 for n in stages):
            raise ValueError(f"stages must be 4 block counts >= 1, got {stages!r}")
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width),
            nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        blocks, c = [], width
        for i, n in enumerate(stages):
            c_out = width * 2 ** i
            for j in range(n):
                blocks.append(BasicBlock(c, c_out, 2 if (i > 0 and j == 0) else 1))
                c = c_out
        self.blocks = nn.Sequential(*blocks)
        self.out_dim = c
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.blocks(self.stem(x))


def _check_shape(name: str, x: Tensor, rank: int, in_shape) -> None:
    if x.dim() != rank:
        raise ValueError(f"{name} expects a batch of rank {rank}, got shape {tuple(x.shape)}")
    if in_shape is not None and tuple(x.shape[1:]) != tuple(in_shape):
        raise ValueError(f"{name} expects samples of shape {tuple(in_shape)}, "
                         f"got {tuple(x.shape[1:])}")


class AudioResNet18(nn.Module):
    """(B, 1, F, T) spectrogram -> (B, 8 width) features."""

    def __init__(self, in_shape: tuple[int, int, int] | None = None, width: int = 64):
        super().__init__()
        if in_shape is not None and (len(in_shape) != 3 or in_shape[0] != 1):
            raise ValueError(f"AudioResNet18 takes (1, F, T) spectrograms, got {in_shape}")
        self.in_shape = tuple(in_shape) if in_shape is not None else None
        self.trunk = ResNet18Trunk(1, width)
        self.out_dim = self.trunk.out_dim

    def forward(self, x: Tensor) -> Tensor:
        _check_shape("AudioResNet18", x, 4, self.in_shape)
        return self.trunk(x).mean(dim=(2, 3))  # (B, 8w, f, t) -> (B, 8w)


class VisualResNet18(nn.Module):
    """(B, T, 3, H, W) frames -> (B, 8 width) features averaged over the T frames."""

    def __init__(self, in_shape: tuple[int, int, int, int] | None = None, width: int = 64):
        super().__init__()
        if in_shape is not None and (len(in_shape) != 4 or in_shape[1] != 3):
            raise ValueError(f"VisualResNet18 takes (T, 3, H, W) frames, got {in_shape}")
        self.in_shape = tuple(in_shape) if in_shape is not None else None
        self.trunk = ResNet18Trunk(3, width)
        self.out_dim = self.trunk.out_dim

    def forward(self, x: Tensor) -> Tensor:
        _check_shape("VisualResNet18", x, 5, self.in_shape)
        b, t = x.shape[:2]
        maps = self.trunk(x.flatten(0, 1))                     # (B T, 8w, h, w)
        return maps.unflatten(0, (b, t)).mean(dim=(1, 3, 4))   # (B, 8w)


def av_encoders(shapes: dict[str, tuple[int, ...]], width: int = 64) -> dict[str, nn.Module]:
    """{'audio': AudioResNet18, 'visual': VisualResNet18} for the splits' sample shapes."""
    missing = {"audio", "visual"} - set(shapes)
    if missing:
        raise ValueError(f"audio-visual encoders need the shapes of 'audio' and 'visual', "
                         f"missing {sorted(missing)}")
    return {"audio": AudioResNet18(tuple(shapes["audio"]), width),
            "visual": VisualResNet18(tuple(shapes["visual"]), width)}
