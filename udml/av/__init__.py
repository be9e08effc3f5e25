"""The audio-visual path: CREMA-D and Kinetics-Sounds as in the reference code.

- Loaders (`load_cremad`, `load_kinetics_sounds`) that read clips from disk with the reference
  preprocessing (`udml.data.audio`, `udml.av.frames`) and feed the `udml` trainer through a
  DataLoader (`udml.av.dataset`); a generated fixture in the same layout (`make_fixture`);
  `python -m udml.av.prepare_cremad` converts the raw CREMA-D videos.
- ResNet-18 encoders trained from scratch (`udml.models.resnet`) under any fusion method
  (`build_av_model`), and checkpoints that reload them.
- The corruption sets of the audio-visual runs (`av_noise_specs`); the frame kinds they use
  (motion_blur, frame_blur, frame_occlusion) are kinds of `udml.corrupt` (`udml.corrupt.frames`).
- Run profiles (`get_profile`: paper, small, fixture) and data-parallel training with torchrun
  (`python -m udml.av.distributed`).

The benchmark that runs on a CPU, spoken digits of the Free Spoken Digit Dataset paired with
handwritten digits, is a dataset of `udml.data` (`load_dataset("fsdd")`, `udml.data.fsdd`), with
its waveform corruptions in `udml.corrupt.waveform` and its encoders in `udml.models.fsdd`.
"""
from ..data.audio import CREMAD_AUDIO, KINETICS_SOUNDS_AUDIO, AudioSpec, load_spectrogram
from ..models.resnet import AudioResNet18, VisualResNet18, av_encoders
from .catalog import Clip, Layout
from .cremad import CREMAD_CLASSES, load_cremad
from .dataset import AVData, AVSplits
from .fixture import make_fixture
from .frames import CREMAD_FRAMES, KINETICS_SOUNDS_FRAMES, FrameSpec
from .kinetics_sounds import load_kinetics_sounds
from .model import build_av_model, load_av_checkpoint, save_av_checkpoint
from .noise import av_noise_specs, measure_spread
from .profiles import AVProfile, get_profile

__all__ = [
    "CREMAD_AUDIO", "CREMAD_CLASSES", "CREMAD_FRAMES", "KINETICS_SOUNDS_AUDIO",
    "KINETICS_SOUNDS_FRAMES", "AVData", "AVProfile", "AVSplits", "AudioResNet18", "AudioSpec",
    "Clip", "FrameSpec", "Layout", "VisualResNet18", "av_encoders", "av_noise_specs",
    "build_av_model", "get_profile", "load_av_checkpoint", "load_cremad", "load_kinetics_sounds",
    "load_spectrogram", "make_fixture", "measure_spread", "save_av_checkpoint",
]
