"""Tests of the noise protocols (level samplers), their labels, and corrupt_batch."""
import pytest
import torch

from udml.corrupt import (AllModalities, Clean, NoiseSpec, OneModality, RandomPerSample,
                          all_modalities, clean, corrupt_batch, one_modality,
                          protocol_from_string, random_per_sample)
from udml.data.dataset import Batch

L = 11
NAMES = ["pix", "fou"]  # unsorted on purpose


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_clean():
    out = clean().sample(NAMES, 5, L, gen())
    assert list(out) == ["fou", "pix"]
    for v in out.values():
        assert v.dtype == torch.long and torch.equal(v, torch.ones(5, dtype=torch.long))
    assert Clean().label == "clean"


def test_one_modality_leaves_the_others_clean():
    out = one_modality("pix", 7).sample(NAMES, 4, L, gen())
    assert torch.equal(out["pix"], torch.full((4,), 7))
    assert torch.equal(out["fou"], torch.ones(4, dtype=torch.long))
    assert out["pix"].dtype == torch.long
    assert OneModality("pix", 7).label == "one:pix@7"
    top = one_modality("fou", L).sample(NAMES, 2, L, gen())
    assert torch.equal(top["fou"], torch.full((2,), L))


def test_all_modalities():
    out = all_modalities(5).sample(NAMES, 3, L, gen())
    assert all(torch.equal(v, torch.full((3,), 5)) for v in out.values())
    assert AllModalities(5).label == "all@5"


def test_random_per_sample_extremes():
    ones = random_per_sample(1.0).sample(NAMES, 100, L, gen())
    assert all(torch.equal(v, torch.ones(100, dtype=torch.long)) for v in ones.values())
    never = random_per_sample(0.0).sample(NAMES, 20_000, L, gen(1))
    for v in never.values():
        assert v.min() == 1 and v.max() == L
        counts = torch.bincount(v, minlength=L + 1)[1:].float() / len(v)  # (L,)
        assert torch.allclose(counts, torch.full((L,), 1 / L), atol=0.01)  # uniform on 1..L
    same = (never["fou"] == never["pix"]).float().mean().item()
    assert same == pytest.approx(1 / L, abs=0.01)  # independent per modality


def test_random_per_sample_share_clean_in_all_modalities():
    share, b = 0.3, 20_000
    out = random_per_sample(share).sample(NAMES, b, L, gen(2))
    all_clean = ((out["fou"] == 1) & (out["pix"] == 1)).float().mean().item()
    # clean by the share, or by drawing level 1 in both modalities
    assert all_clean == pytest.approx(share + (1 - share) / L ** 2, abs=0.01)
    one_clean = (out["fou"] == 1).float().mean().item()
    assert one_clean == pytest.approx(share + (1 - share) / L, abs=0.01)
    assert RandomPerSample(share).label == "random@0.3"
    assert random_per_sample().clean_share == 0.5


def test_random_per_sample_is_seeded():
    p = random_per_sample(0.5)
    a, b = p.sample(NAMES, 50, L, gen(3)), p.sample(NAMES, 50, L, gen(3))
    c = p.sample(NAMES, 50, L, gen(4))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("protocol", [Clean(), OneModality("pix", 7), AllModalities(5),
                                      RandomPerSample(0.5), RandomPerSample(0.25),
                                      OneModality("a@b", 3)])
def test_label_round_trip(protocol):
    assert protocol_from_string(protocol.label) == protocol


def test_parsing():
    assert protocol_from_string("random") == RandomPerSample(0.5)
    assert protocol_from_string(" all@3 ") == AllModalities(3)
    assert protocol_from_string("one:fou@11") == OneModality("fou", 11)
    assert protocol_from_string("random@1") == RandomPerSample(1.0)


@pytest.mark.parametrize("text", ["", "noisy", "one:pix", "one:@3", "one:pix@x", "one:pix@0",
                                  "all@", "all@x", "all@0", "all@2.5", "random@", "random@abc",
                                  "random@1.5", "random@nan", "clean@1", "pix@3"])
def test_bad_strings(text):
    with pytest.raises(ValueError, match="protocol"):
        protocol_from_string(text)


def test_parsing_needs_a_string():
    with pytest.raises(TypeError, match="must be a string"):
        protocol_from_string(7)


def test_bad_construction():
    with pytest.raises(ValueError, match="level must be an int >= 1"):
        OneModality("pix", 0)
    with pytest.raises(ValueError, match="level must be an int >= 1"):
        AllModalities(True)
    with pytest.raises(ValueError, match="non-empty modality name"):
        OneModality("", 2)
    with pytest.raises(ValueError, match="clean_share"):
        RandomPerSample(-0.1)
    with pytest.raises(ValueError, match="clean_share"):
        RandomPerSample("0.5")


def test_bad_sample_arguments():
    with pytest.raises(ValueError, match="names modality 'aud', not one of"):
        one_modality("aud", 2).sample(NAMES, 4, L, gen())
    with pytest.raises(ValueError, match="above the top level L = 11"):
        one_modality("pix", 12).sample(NAMES, 4, L, gen())
    with pytest.raises(ValueError, match="above the top level"):
        all_modalities(12).sample(NAMES, 4, L, gen())
    for p in (clean(), one_modality("pix", 2), all_modalities(2), random_per_sample()):
        with pytest.raises(ValueError, match="distinct modality names"):
            p.sample([], 4, L, gen())
        with pytest.raises(ValueError, match="distinct modality names"):
            p.sample(["pix", "pix"], 4, L, gen())
        with pytest.raises(ValueError, match="batch_size"):
            p.sample(NAMES, 0, L, gen())
        with pytest.raises(ValueError, match="num_levels"):
            p.sample(NAMES, 4, 1, gen())
        with pytest.raises(TypeError, match="generator"):
            p.sample(NAMES, 4, L, None)


def _batch(b=6):
    g = gen(5)
    x = {"fou": torch.randn(b, 7, generator=g), "pix": torch.randn(b, 1, 6, 5, generator=g)}
    ones = torch.ones(b, dtype=torch.long)
    return Batch(x, torch.arange(b) % 2, torch.arange(b), {"fou": ones, "pix": ones})


SPECS = {"fou": NoiseSpec("gaussian", 1.0), "pix": NoiseSpec("occlusion", 0.5)}


def test_corrupt_batch():
    batch = _batch()
    before = {k: v.clone() for k, v in batch.x.items()}
    out = corrupt_batch(batch, one_modality("pix", 11), SPECS, L, gen(6))
    assert out is not batch and out.y is batch.y and out.index is batch.index
    assert torch.equal(out.levels["pix"], torch.full((6,), 11))
    assert torch.equal(out.levels["fou"], torch.ones(6, dtype=torch.long))
    assert torch.equal(out.x["fou"], batch.x["fou"])
    assert ((out.x["pix"] == 0).flatten(1).sum(1) > 0).all()
    assert all(torch.equal(batch.x[k], before[k]) for k in before)  # input untouched


def test_corrupt_batch_levels_match_the_noise_and_string_protocols():
    batch = _batch(40)
    a = corrupt_batch(batch, "random@0.5", SPECS, L, gen(7))
    b = corrupt_batch(batch, random_per_sample(0.5), SPECS, L, gen(7))
    assert all(torch.equal(a.x[k], b.x[k]) and torch.equal(a.levels[k], b.levels[k]) for k in a.x)
    for k in a.x:
        changed = (a.x[k] != batch.x[k]).flatten(1).any(1)
        assert torch.equal(changed, a.levels[k] > 1)
    same = corrupt_batch(batch, "clean", SPECS, L, gen(7))
    assert all(same.x[k] is batch.x[k] for k in batch.x)


def test_corrupt_batch_bad_input():
    with pytest.raises(TypeError, match="Batch"):
        corrupt_batch({"fou": torch.zeros(2, 7)}, clean(), SPECS, L, gen())
    with pytest.raises(ValueError, match="unknown noise protocol"):
        corrupt_batch(_batch(), "noisy", SPECS, L, gen())
    with pytest.raises(TypeError, match="protocol"):
        corrupt_batch(_batch(), 3, SPECS, L, gen())
    with pytest.raises(ValueError, match=r"missing \['pix'\]"):
        corrupt_batch(_batch(), "all@3", {"fou": SPECS["fou"]}, L, gen())
