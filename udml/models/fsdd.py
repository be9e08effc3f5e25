"""Encoders of the FSDD x mfeat benchmark: the ResNet family of `udml.models.resnet` at a
CPU size.

Both are `ResNet18Trunk`s with one basic block per stage (ResNet-10: the ResNet-18 of CREMA-D
at half the depth) and base width ``FSDD_WIDTH`` (stages of 4, 8, 16, 32 channels), so that a
run of the benchmark takes seconds on one CPU thread.

- `SpectrogramResNet`: (B, 1, S) waveforms -> log spectrogram log(|STFT| + 1e-7) of
  `udml.data.audio.log_spectrogram` (B, 1, F, T) -> trunk -> (B, 8w). The spectrogram is computed
  inside the model, so that waveform corruptions (noise at an SNR, babble, dropouts) reach the
  network through the same front end as clean audio.
- `ImageResNet`: (B, C, H, W) images -> trunk -> (B, 8w) (a 16 x 15 digit ends as one
  position after the stride-32 trunk).
"""
from __future__ import annotations

from torch import Tensor, nn

from ..data.audio import AudioSpec, log_spectrogram
from ..data.fsdd import FSDD_WIDTH
from .resnet import ResNet18Trunk, _check_shape

FSDD_STAGES = (1, 1, 1, 1)   # basic blocks per stage: ResNet-10


class SpectrogramResNet(nn.Module):
    """(B, 1, S) waveform -> (B, 8 width) features through the log-spectrogram front end."""

    def __init__(self, in_shape: tuple[int, int], spec: AudioSpec, width: int = FSDD_WIDTH,
                 stages: tuple[int, ...] = FSDD_STAGES):
        super().__init__()
        if len(in_shape) != 2 or in_shape[0] != 1 or in_shape[1] != spec.num_samples:
            raise ValueError(f"SpectrogramResNet takes (1, {spec.num_samples}) waveforms, "
                             f"got {tuple(in_shape)}")
        self.in_shape = tuple(in_shape)
        self.n_fft, self.hop_length = spec.n_fft, spec.hop_length
        self.trunk = ResNet18Trunk(1, width, stages)
        self.out_dim = self.trunk.out_dim

    def spectrogram(self, x: Tensor) -> Tensor:
        """(B, 1, S) -> (B, 1, F, T) log spectrograms."""
        _check_shape("SpectrogramResNet", x, 3, self.in_shape)
        return log_spectrogram(x[:, 0], self.n_fft, self.hop_length).transpose(0, 1)

    def front_end(self, x: Tensor) -> Tensor:
        """The encoder's fixed, unlearned part, what a typicality score reads: `spectrogram`."""
        return self.spectrogram(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.trunk(self.spectrogram(x)).mean(dim=(2, 3))  # (B, 8w)


class ImageResNet(nn.Module):
    """(B, C, H, W) images -> (B, 8 width) features (global average of the trunk's maps)."""

    def __init__(self, in_shape: tuple[int, int, int], width: int = FSDD_WIDTH,
                 stages: tuple[int, ...] = FSDD_STAGES):
        super().__init__()
        if len(in_shape) != 3:
            raise ValueError(f"ImageResNet takes (C, H, W) images, got {tuple(in_shape)}")
        self.in_shape = tuple(in_shape)
        self.trunk = ResNet18Trunk(in_shape[0], width, stages)
        self.out_dim = self.trunk.out_dim

    def forward(self, x: Tensor) -> Tensor:
        _check_shape("ImageResNet", x, 4, self.in_shape)
        return self.trunk(x).mean(dim=(2, 3))  # (B, 8w)


def fsdd_encoders(shapes: dict[str, tuple[int, ...]], spec: AudioSpec,
                  width: int = FSDD_WIDTH) -> dict[str, nn.Module]:
    """{'audio': SpectrogramResNet, 'visual': ImageResNet} for the splits' sample shapes."""
    missing = {"audio", "visual"} - set(shapes)
    if missing:
        raise ValueError(f"FSDD encoders need the shapes of 'audio' and 'visual', missing "
                         f"{sorted(missing)}")
    return {"audio": SpectrogramResNet(tuple(shapes["audio"]), spec, width),
            "visual": ImageResNet(tuple(shapes["visual"]), width)}
