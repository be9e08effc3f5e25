"""Run profiles of the audio-visual benchmark: the paper's schedule and two short ones.

  paper    the reference schedule (method.md section 5): 100 epochs, batch 64, SGD lr 1e-3,
           momentum 0.9, weight decay 1e-4, x0.1 at epoch 70, clean warm-up of 50 epochs,
           uncertainty weights from epoch 60, gradient clip 40; gamma 4 / beta 1e-5 on CREMA-D
           and gamma 2.5 / beta 0 on Kinetics-Sounds; full-width ResNet-18s, 512-d embeddings,
           the reference preprocessing; for a GPU.
  small    a short GPU run that proves the pipeline at full size (reference preprocessing and
           network widths, mixed precision, loader workers) in a few minutes.
  fixture  the CPU default: narrow ResNets on small spectrograms and 32 x 32 frames, for the
           generated fixture (`udml.av.fixture`); a few epochs take seconds.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..config import ModelConfig, TrainConfig
from ..data.audio import CREMAD_AUDIO, KINETICS_SOUNDS_AUDIO, AudioSpec
from .frames import CREMAD_FRAMES, KINETICS_SOUNDS_FRAMES, FrameSpec

DATASETS = ("cremad", "kinetics_sounds")
REFERENCE = {  # what differs between the two datasets in the reference scripts
    "cremad": dict(gamma=4.0, beta=1e-5, audio=CREMAD_AUDIO, frames=CREMAD_FRAMES),
    "kinetics_sounds": dict(gamma=2.5, beta=0.0, audio=KINETICS_SOUNDS_AUDIO,
                            frames=KINETICS_SOUNDS_FRAMES),
}
PAPER_TRAIN = dict(epochs=100, batch_size=64, optimizer="sgd", lr=1e-3, momentum=0.9,
                   weight_decay=1e-4, lr_drop=0.7, grad_clip=40.0, warmup=0.5,
                   uncertainty_start=0.6, clean_share=0.5, amp=True)


@dataclass(frozen=True)
class AVProfile:
    """Everything a run needs besides the data: configs, encoder width, preprocessing, loader."""

    name: str
    dataset: str
    model: ModelConfig
    train: TrainConfig
    width: int                      # ResNet-18 base width (64 = the standard network)
    audio: AudioSpec                # spectrogram preprocessing
    frames: FrameSpec               # frame preprocessing
    num_workers: int | None = None  # DataLoader workers (None = one per spare core, at most 8)
    notes: dict = field(default_factory=dict)


def _reference_model(dataset: str, **kw) -> ModelConfig:
    ref = REFERENCE[dataset]
    base = dict(method="udml", latent_dim=512, estimator="affine", estimator_target="level",
                gamma=ref["gamma"], beta=ref["beta"], lambda_est=0.1, num_levels=11, dropout=0.1)
    return ModelConfig(**{**base, **kw})


def get_profile(name: str, dataset: str = "cremad", **train_overrides) -> AVProfile:
    """The profile ``name`` (paper | small | fixture) for ``dataset``; keyword arguments override
    TrainConfig fields (e.g. device="cpu", seed=1)."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown audio-visual dataset {dataset!r}; choose one of {DATASETS}")
    ref = REFERENCE[dataset]
    if name == "paper":
        prof = AVProfile("paper", dataset, _reference_model(dataset), TrainConfig(**PAPER_TRAIN),
                         64, ref["audio"], ref["frames"])
    elif name == "small":
        train = TrainConfig(**{**PAPER_TRAIN, "epochs": 6, "optimizer": "adamw"})
        prof = AVProfile("small", dataset, _reference_model(dataset), train, 64, ref["audio"],
                         ref["frames"], notes={"why adamw": "6 epochs are too few for SGD 1e-3"})
    elif name == "fixture":
        train = TrainConfig(epochs=8, batch_size=16, optimizer="adamw", lr=3e-3,
                            weight_decay=1e-4, lr_drop=0.7, grad_clip=40.0, warmup=0.5,
                            uncertainty_start=0.6, clean_share=0.5, device="cpu", amp=False)
        audio = AudioSpec(8000, 1.0, 128, 64, ref["audio"].max_offset_seconds / 5.0)
        frames = FrameSpec(ref["frames"].num_frames if dataset == "kinetics_sounds" else 1, 32)
        prof = AVProfile("fixture", dataset, _reference_model(dataset, latent_dim=32), train, 8,
                         audio, frames, num_workers=0)
    else:
        raise ValueError(f"unknown profile {name!r}; choose paper, small or fixture")
    if train_overrides:
        prof = replace(prof, train=replace(prof.train, **train_overrides))
    return prof
