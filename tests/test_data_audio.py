import math
import wave

import numpy as np
import pytest
import torch

from udml.data.audio import (CREMAD_AUDIO, KINETICS_SOUNDS_AUDIO, LOG_EPS, AudioSpec,
                           load_spectrogram, log_spectrogram, read_wav, resample, tile_and_cut,
                           waveform_to_spectrogram, write_wav)


def centred_frames(n_samples, hop):
    """Number of STFT frames with centre=True: the signal is padded by n_fft // 2 on both sides
    and a frame starts every hop samples, so frames = 1 + n_samples // hop."""
    return 1 + n_samples // hop


@pytest.mark.parametrize("spec", [CREMAD_AUDIO, KINETICS_SOUNDS_AUDIO])
def test_reference_stft_sizes_follow_the_formula(spec):
    n = round(spec.sample_rate * spec.clip_seconds)
    expected = (1, spec.n_fft // 2 + 1, centred_frames(n, spec.hop_length))
    assert spec.shape == expected
    # what torch.stft itself returns for a clip of that length
    direct = torch.stft(torch.zeros(n), spec.n_fft, spec.hop_length, window=torch.hann_window(
        spec.n_fft), center=True, return_complex=True)
    assert (1,) + tuple(direct.shape) == expected
    out = waveform_to_spectrogram(np.zeros(1000, np.float32), spec)
    assert tuple(out.shape) == expected and out.dtype == torch.float32


def test_cremad_is_3_seconds_at_22050_with_257_bins():
    # 3 s at 22,050 Hz with n_fft 512: 66,150 samples and 257 frequency bins (method.md section 7)
    assert CREMAD_AUDIO.num_samples == 3 * 22050
    assert CREMAD_AUDIO.shape[1] == 257
    assert CREMAD_AUDIO.shape[2] == centred_frames(66150, 353)


def test_one_frame_equals_a_hand_computed_windowed_fft():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(400, generator=gen, dtype=torch.float64) * 2 - 1
    n_fft, hop = 64, 20
    spec = log_spectrogram(x, n_fft, hop)  # (1, 33, 21)
    assert spec.shape == (1, n_fft // 2 + 1, centred_frames(400, hop))
    padded = np.pad(x.numpy(), n_fft // 2)                     # zero padding of centred frames
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    for k in (0, 7, 20):
        frame = padded[k * hop:k * hop + n_fft] * window
        expected = np.log(np.abs(np.fft.rfft(frame)) + LOG_EPS)
        np.testing.assert_allclose(spec[0, :, k].numpy(), expected, rtol=1e-9, atol=1e-9)


def test_silence_gives_the_log_floor():
    out = waveform_to_spectrogram(np.zeros(500, np.float32), AudioSpec(8000, 0.5, 64, 32))
    torch.testing.assert_close(out, torch.full_like(out, math.log(LOG_EPS)))


def test_tile_and_cut_repeats_then_cuts():
    x = torch.tensor([1.0, 2.0, 3.0])
    assert tile_and_cut(x, 7).tolist() == [1, 2, 3, 1, 2, 3, 1]
    assert tile_and_cut(x, 4, offset=2).tolist() == [3, 1, 2, 3]
    assert tile_and_cut(torch.arange(10.0), 4).tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="empty waveform"):
        tile_and_cut(torch.zeros(0), 4)


def test_waveform_is_clipped_to_unit_range():
    spec = AudioSpec(8000, 0.25, 32, 16)
    loud = np.full(2000, 5.0, np.float32)
    torch.testing.assert_close(waveform_to_spectrogram(loud, spec),
                               waveform_to_spectrogram(np.ones(2000, np.float32), spec))


def test_random_offset_only_with_a_generator():
    spec = AudioSpec(100, 1.0, 16, 8, max_offset_seconds=1.0)
    x = np.sin(np.arange(150) * 0.3).astype(np.float32)
    fixed = waveform_to_spectrogram(x, spec)
    torch.testing.assert_close(fixed, waveform_to_spectrogram(x, spec))
    draws = [waveform_to_spectrogram(x, spec, torch.Generator().manual_seed(s)) for s in range(6)]
    assert any(not torch.equal(d, fixed) for d in draws)
    torch.testing.assert_close(draws[2], waveform_to_spectrogram(
        x, spec, torch.Generator().manual_seed(2)))


def test_wav_round_trip_and_stereo_mixdown(tmp_path):
    x = np.linspace(-0.9, 0.9, 101).astype(np.float32)
    path = write_wav(tmp_path / "a.wav", x, 8000)
    y, rate = read_wav(path)
    assert rate == 8000 and y.dtype == np.float32
    np.testing.assert_allclose(y, x, atol=2 / 32768)  # write scales by 32767, read by 32768
    stereo = tmp_path / "s.wav"
    left = np.array([1000, -2000, 3000], "<i2")
    right = np.array([3000, 2000, -1000], "<i2")
    with wave.open(str(stereo), "wb") as f:
        f.setnchannels(2)
        f.setsampwidth(2)
        f.setframerate(16000)
        f.writeframes(np.stack([left, right], 1).tobytes())
    y, rate = read_wav(stereo)
    np.testing.assert_allclose(y, [2000 / 32768, 0.0, 1000 / 32768], atol=1e-7)


@pytest.mark.parametrize("width, raw, expected", [
    (1, bytes([0, 128, 255]), [-1.0, 0.0, 127 / 128]),
    (3, bytes([0, 0, 0x80, 0xFF, 0xFF, 0x7F]), [-1.0, (2 ** 23 - 1) / 2 ** 23]),
])
def test_8_and_24_bit_pcm(tmp_path, width, raw, expected):
    path = tmp_path / "x.wav"
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(width)
        f.setframerate(8000)
        f.writeframes(raw)
    np.testing.assert_allclose(read_wav(path)[0], expected, rtol=1e-6)


def test_wav_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_wav(tmp_path / "missing.wav")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav file at all")
    with pytest.raises(ValueError, match="not a PCM WAV file.*ffmpeg"):
        read_wav(bad)
    empty = write_wav(tmp_path / "empty.wav", np.zeros(0), 8000)
    with pytest.raises(ValueError, match="no samples"):
        read_wav(empty)


def test_resample_changes_length_and_keeps_a_tone(tmp_path):
    rate_in, rate_out, f = 16000, 22050, 440.0
    t = np.arange(rate_in) / rate_in
    x = np.sin(2 * np.pi * f * t).astype(np.float32)
    y = resample(x, rate_in, rate_out)
    assert y.shape == (rate_out,)
    peak = np.argmax(np.abs(np.fft.rfft(y))) * rate_out / len(y)
    assert abs(peak - f) <= 1.0
    assert resample(x, 8000, 8000) is x
    # load_spectrogram resamples to the spec's rate: the tone stays in its frequency bin
    path = write_wav(tmp_path / "tone.wav", x, rate_in)
    spec = AudioSpec(rate_out, 1.0, 256, 128)
    out = load_spectrogram(path, spec)
    assert out.shape == spec.shape
    assert int(out[0].mean(1).argmax()) == round(f / (rate_out / spec.n_fft))


def test_audio_spec_validation():
    with pytest.raises(ValueError, match="n_fft must be a positive int"):
        AudioSpec(n_fft=0)
    with pytest.raises(ValueError, match="clip_seconds > 0"):
        AudioSpec(clip_seconds=0)
    with pytest.raises(ValueError, match="too short for n_fft"):
        AudioSpec(sample_rate=100, clip_seconds=0.1, n_fft=512, hop_length=10)
