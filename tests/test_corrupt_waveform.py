"""udml.corrupt.waveform (snr_noise, babble; and the built-in time_mask on waveforms): identity at
the clean level, seeded, strength rising with the level."""
from __future__ import annotations

import math

import pytest
import torch

from udml.corrupt import time_mask
from udml.corrupt.waveform import babble, rms, snr_db, snr_noise

KINDS_UNDER_TEST = {"snr_noise": (snr_noise, 10.0), "babble": (babble, 10.0),
                    "time_mask": (time_mask, 0.75)}


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def speech(b=6, n=800, seed=0):
    """(B, 1, N) tone bursts of different loudness, a stand-in for recordings."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n) / 8000.0
    freq = 200 + 600 * torch.rand(b, 1, 1, generator=g)
    loud = 0.05 + 0.5 * torch.rand(b, 1, 1, generator=g)
    return loud * torch.sin(2 * math.pi * freq * t) * torch.hann_window(n, periodic=False)


@pytest.mark.parametrize("name", sorted(KINDS_UNDER_TEST))
def test_identity_at_the_clean_level(name):
    fn, scale = KINDS_UNDER_TEST[name]
    x = speech()
    t = torch.tensor([0.0, 0.5, 0.0, 1.0, 0.0, 0.2])
    out = fn(x, t, scale, gen())
    clean = t == 0
    assert torch.equal(out[clean], x[clean])
    assert not torch.equal(out[~clean], x[~clean])
    assert torch.equal(fn(x, torch.zeros(6), scale, gen()), x)


@pytest.mark.parametrize("name", sorted(KINDS_UNDER_TEST))
def test_seeded(name):
    fn, scale = KINDS_UNDER_TEST[name]
    x, t = speech(), torch.full((6,), 0.5)
    assert torch.equal(fn(x, t, scale, gen(3)), fn(x, t, scale, gen(3)))
    assert not torch.equal(fn(x, t, scale, gen(3)), fn(x, t, scale, gen(4)))


@pytest.mark.parametrize("name", sorted(KINDS_UNDER_TEST))
def test_strength_rises_with_the_level(name):
    fn, scale = KINDS_UNDER_TEST[name]
    x = speech()
    change = []
    for level in range(1, 12):
        t = torch.full((6,), ((level - 1) / 10) ** 2)
        change.append(float(rms(fn(x, t, scale, gen(1)) - x).mean()))
    assert change[0] == 0.0
    assert all(b > a for a, b in zip(change, change[1:])), change


def test_snr_noise_reaches_its_snr_whatever_the_loudness():
    x = speech(b=4, n=20000)
    t = torch.tensor([1.0, 1.0, 0.25, 0.25])
    noise = snr_noise(x, t, 10.0, gen()) - x
    measured = 20 * torch.log10(rms(x) / rms(noise))
    want = snr_db(t, 10.0).float()
    torch.testing.assert_close(measured, want, atol=0.1, rtol=0)  # -20 dB, -8 dB
    assert float(snr_db(1.0, 10.0)) == pytest.approx(-20.0)


def test_babble_mixes_other_recordings_at_its_snr():
    x = torch.zeros(3, 1, 400)
    x[0, 0, :] = 1.0  # only recording 0 carries sound
    x[1, 0, :] = 0.5
    out = babble(x, torch.tensor([0.0, 0.0, 1.0]), 2.0, gen(), voices=1)
    assert out[2].abs().sum() == 0  # a silent recording gets no babble (its RMS is ~0)
    y = speech(b=5)
    t = torch.ones(5)
    mix = babble(y, t, 0.5, gen(), voices=2) - y
    torch.testing.assert_close(rms(mix), 0.5 * rms(y), rtol=1e-4, atol=1e-7)
    with pytest.raises(ValueError, match="at least 2"):
        babble(y[:1], t[:1], 1.0, gen())
    with pytest.raises(ValueError, match="voices"):
        babble(y, t, 1.0, gen(), voices=0)


def test_babble_never_mixes_a_recording_into_itself():
    x = torch.zeros(2, 1, 50)
    x[0, 0, 10] = 1.0
    out = babble(x, torch.tensor([1.0, 0.0]), 1.0, gen(), voices=3)
    assert torch.equal(out, x)  # sample 0's only other recording is silent
