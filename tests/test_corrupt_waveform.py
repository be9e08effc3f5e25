"""udml.corrupt.waveform (snr_noise, babble, clipping, packet_loss, crackle, downsample; and the
built-in time_mask on waveforms): identity at the clean level, seeded, strength rising with the
level, each kind's own property, clear errors."""
from __future__ import annotations

import math

import pytest
import torch

from udml.corrupt import BUILTIN_KINDS, KINDS, NoiseSpec, apply_noise, time_mask
from udml.corrupt.waveform import (babble, clipping, crackle, downsample, packet_loss, peak, rms,
                                   snr_db, snr_noise)

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


# The kinds of damage the noise above does not cover: clipping, lost packets, clicks, a lower
# sample rate.
NEW_KINDS = {"clipping": clipping, "packet_loss": packet_loss, "crackle": crackle,
             "downsample": downsample}
NEW_RANDOM = ("packet_loss", "crackle")


@pytest.mark.parametrize("name", sorted(NEW_KINDS))
@pytest.mark.parametrize("stereo", [False, True])
def test_new_kinds_identity_at_the_clean_level(name, stereo):
    x = speech() * 4  # beyond the clip range below
    x = torch.cat([x, -0.5 * x], dim=1) if stereo else x[:, 0]  # (B, 2, N) or (B, N)
    x.view(-1)[0] = -0.0
    t = torch.tensor([0.0, 0.5, 0.0, 1.0, 0.0, 0.2])
    out = NEW_KINDS[name](x, t, 0.5, gen(), clip=(-1.0, 1.0))
    clean = t == 0
    assert torch.equal(out[clean].view(torch.int32), x[clean].view(torch.int32))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert ((out[~clean] - x[~clean]).flatten(1).abs().sum(1) > 0).all()
    same = NEW_KINDS[name](x, torch.zeros(6), 0.5, gen(), clip=(-1.0, 1.0))
    assert torch.equal(same.view(torch.int32), x.view(torch.int32))


@pytest.mark.parametrize("name", sorted(NEW_KINDS))
def test_new_kinds_seeded_input_untouched(name):
    x, t = speech().double(), torch.full((6,), 0.5)
    before = x.clone()
    out = NEW_KINDS[name](x, t, 0.5, gen(3))
    assert torch.equal(x, before) and out.dtype == torch.float64
    assert torch.equal(out, NEW_KINDS[name](x, t, 0.5, gen(3)))
    if name in NEW_RANDOM:
        assert not torch.equal(out, NEW_KINDS[name](x, t, 0.5, gen(4)))
    else:  # deterministic: the generator is not used
        assert torch.equal(out, NEW_KINDS[name](x, t, 0.5))


@pytest.mark.parametrize("name, scale", [("clipping", 1.0), ("packet_loss", 1.0),
                                         ("crackle", 1.0), ("downsample", 10.0)])
def test_new_kinds_change_grows_with_strength(name, scale):
    x = speech(b=4, n=8000)
    kw = {"packet": 40} if name == "packet_loss" else {}
    change = []
    for t in torch.linspace(0, 1, 11).tolist():  # downsample: holds of 1, 2, ..., 11 samples
        out = NEW_KINDS[name](x, torch.full((4,), t), scale, gen(5), **kw)  # one seed for all t
        change.append(float((out - x).pow(2).mean()))
    assert change[0] == 0.0
    assert all(b > a for a, b in zip(change, change[1:])), change


def test_clipping_bounds_by_a_share_of_the_peak():
    x = speech()
    t = torch.tensor([1.0, 0.5, 0.25, 1.0, 0.1, 0.0])
    out = clipping(x, t, 0.8)
    c = (1 - (0.8 * t).clamp(max=1)) * peak(x)  # (B,)
    assert (out.flatten(1).abs().amax(1) <= c).all()
    inside = x.abs() <= c[:, None, None]
    assert torch.equal(out[inside], x[inside])  # only the peaks are cut
    torch.testing.assert_close(out.abs()[~inside], c[:, None, None].expand_as(x)[~inside])
    assert (clipping(x, torch.ones(6), 1.0) == 0).all()  # a = 1: silence


def test_packet_loss_drops_whole_packets_on_every_channel():
    x = torch.cat([speech(b=20, n=1000), speech(b=20, n=1000, seed=1)], dim=1) + 2.0  # no zeros
    out = packet_loss(x, torch.ones(20), 0.5, gen(6), packet=160)
    lost = out == 0
    assert torch.equal(lost[:, 0], lost[:, 1])  # the same packets on both channels
    starts = torch.arange(0, 1000, 160)
    for s in starts.tolist():
        piece = lost[:, 0, s:s + 160]  # a packet, the last one 40 samples long
        assert (piece.all(1) | ~piece.any(1)).all()  # lost whole or kept whole
    share = lost[:, 0, starts].float().mean().item()
    assert 0.3 < share < 0.7  # about half of the 140 packets
    filled = packet_loss(x, torch.ones(20), 1.0, gen(6), packet=7, fill=-1.0)
    assert (filled == -1.0).all()  # every packet lost at a share of 1


def test_crackle_sets_clicks_to_plus_or_minus_the_peak():
    x = torch.cat([speech(b=6, n=20_000), 0.5 * speech(b=6, n=20_000)], dim=1)  # (6, 2, N)
    out = crackle(x, torch.ones(6), 0.3, gen(7))
    changed = (out != x).any(dim=1)  # (B, N): a click changes every channel of a time step
    assert torch.equal(changed, (out != x).all(dim=1))
    pk = peak(x)[:, None, None].expand_as(x)
    hit = changed[:, None, :].expand_as(x)
    assert torch.equal(out.abs()[hit], pk[hit])
    assert changed.float().mean().item() == pytest.approx(0.3, abs=0.01)
    assert (out[hit] > 0).float().mean().item() == pytest.approx(0.5, abs=0.02)


def test_downsample_holds_every_kth_value():
    x = speech(b=3, n=101)[:, 0]  # (B, N)
    out = downsample(x, torch.tensor([1.0, 0.5, 0.25]), 4.0)  # k = 5, 3 and 2 (halves round up)
    for i, k in enumerate((5, 3, 2)):
        for s in range(0, 101, k):
            run_ = out[i, s:s + k]
            assert (run_ == x[i, s]).all()  # a run of k copies of the kept value
    assert (downsample(x, torch.ones(3), 1e6) == x[:, :1]).all()  # beyond N: one value held


@pytest.mark.parametrize("name", sorted(NEW_KINDS))
def test_new_kinds_bad_arguments(name):
    fn, x = NEW_KINDS[name], speech()
    with pytest.raises(ValueError, match=f"{name} applies to tensors of rank 2 or 3"):
        fn(torch.zeros(6, 1, 4, 4), torch.zeros(6), 1.0, gen())
    with pytest.raises(TypeError, match="floating-point"):
        fn(x.long(), torch.zeros(6), 1.0, gen())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fn(x, torch.full((6,), 2.0), 1.0, gen())
    with pytest.raises(ValueError, match="scale"):
        fn(x, torch.zeros(6), -0.1, gen())
    with pytest.raises(ValueError, match="clip"):
        fn(x, torch.zeros(6), 1.0, gen(), clip=(1.0, -1.0))
    if name in NEW_RANDOM:
        with pytest.raises(TypeError, match="generator"):
            fn(x, torch.zeros(6), 1.0, None)


@pytest.mark.parametrize("packet", [0, -160, 2.5, True])
def test_packet_loss_refuses_a_bad_packet_size(packet):
    with pytest.raises(ValueError, match="packet must be an int >= 1"):
        packet_loss(speech(), torch.ones(6), 0.5, gen(), packet=packet)
    with pytest.raises(ValueError, match="fill"):
        packet_loss(speech(), torch.ones(6), 0.5, gen(), fill=float("inf"))


@pytest.mark.parametrize("name", sorted(NEW_KINDS))
def test_new_kinds_registered_and_applied_through_noise_spec(name):
    assert KINDS[name].fn is NEW_KINDS[name] and KINDS[name].scale_unit
    assert KINDS[name].random == (name in NEW_RANDOM) and name not in BUILTIN_KINDS
    options = {"packet": 40, "fill": 0.0} if name == "packet_loss" else {}
    x = {"aud": speech(b=3)}
    out = apply_noise(x, {"aud": torch.tensor([1, 4, 11])},
                      {"aud": NoiseSpec(name, 0.5, options=options)}, 11, gen(8))
    assert torch.equal(out["aud"][0], x["aud"][0])
    assert not torch.equal(out["aud"][2], x["aud"][2])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", sorted(NEW_KINDS))
def test_new_kinds_cpu_generator_gives_the_same_result_on_cuda(name):
    x, t = speech(b=4), torch.tensor([0.0, 0.3, 0.6, 1.0])
    kw = {"packet": 40} if name == "packet_loss" else {}
    cuda = NEW_KINDS[name](x.cuda(), t.cuda(), 2.0, gen(9), **kw)
    assert cuda.is_cuda
    torch.testing.assert_close(cuda.cpu(), NEW_KINDS[name](x, t, 2.0, gen(9), **kw))
