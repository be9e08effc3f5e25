"""The audio-visual path: CREMA-D and Kinetics-Sounds as in the reference code.

- Loaders (`load_cremad`, `load_kinetics_sounds`) that read clips from disk with the reference
  preprocessing (`udml.av.audio`, `udml.av.frames`) and feed the `udml` trainer through a
  DataLoader (`udml.av.dataset`); a generated fixture in the same layout (`make_fixture`);
  `python -m udml.av.prepare_cremad` converts the raw CREMA-D videos.
- ResNet-18 encoders trained from scratch (`udml.av.resnet`) under any fusion method
  (`build_av_model`), and checkpoints that reload them.
- Audio-visual corruptions (`udml.av.noise`): importing this package registers the frame kinds
  motion_blur, frame_blur and frame_occlusion with `udml.corrupt`.
- A real benchmark that runs on a CPU (`load_fsdd`): spoken digits of the Free Spoken Digit
  Dataset paired with handwritten digits, waveform corruptions (`udml.av.fsdd_noise`: noise at
  a falling SNR, babble) and spectrogram/image ResNets at a CPU width (`udml.av.fsdd_model`).
- Run profiles (`get_profile`: paper, small, fixture) and data-parallel training with torchrun
  (`python -m udml.av.distributed`).
"""
from .audio import CREMAD_AUDIO, KINETICS_SOUNDS_AUDIO, AudioSpec, load_spectrogram
from .catalog import Clip, Layout
from .cremad import CREMAD_CLASSES, load_cremad
from .dataset import AVData, AVSplits
from .fixture import make_fixture
from .fsdd import FSDD_AUDIO, FSDDSplits, load_fsdd
from .fsdd_noise import fsdd_noise_specs, register_fsdd_kinds
from .frames import CREMAD_FRAMES, KINETICS_SOUNDS_FRAMES, FrameSpec
from .kinetics_sounds import load_kinetics_sounds
from .model import build_av_model, load_av_checkpoint, save_av_checkpoint
from .noise import av_noise_specs, measure_spread, register_av_kinds
from .profiles import AVProfile, get_profile
from .resnet import AudioResNet18, VisualResNet18, av_encoders

register_av_kinds()
register_fsdd_kinds()

__all__ = [
    "CREMAD_AUDIO", "CREMAD_CLASSES", "CREMAD_FRAMES", "FSDD_AUDIO", "KINETICS_SOUNDS_AUDIO",
    "KINETICS_SOUNDS_FRAMES", "AVData", "AVProfile", "AVSplits", "AudioResNet18", "AudioSpec",
    "Clip", "FSDDSplits", "FrameSpec", "Layout", "VisualResNet18", "av_encoders",
    "av_noise_specs", "build_av_model", "fsdd_noise_specs", "get_profile", "load_av_checkpoint",
    "load_cremad", "load_fsdd", "load_kinetics_sounds", "load_spectrogram", "make_fixture",
    "measure_spread", "register_av_kinds", "register_fsdd_kinds", "save_av_checkpoint",
]
