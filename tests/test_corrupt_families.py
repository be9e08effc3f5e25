"""Families of damage: one kind per type of input, the units of leave-one-kind-out."""
import pytest
import torch

from udml.corrupt import KINDS, NoiseMixture, apply_noise
from udml.corrupt.families import (EFFECTS, FAMILIES, FAMILY_NAMES, family_mixture,
                                   family_specs, input_type)
from udml.corrupt.scales import calibrated_scale
from udml.data import load_dataset

L = 11


def test_every_family_names_a_registered_kind_for_every_type():
    for family, kinds in FAMILIES.items():
        assert set(kinds) == {"vector", "image", "audio"}, family
        assert all(kind in KINDS for kind, _ in kinds.values()), family
    per_type = {t: [FAMILIES[f][t][0] for f in FAMILY_NAMES] for t in ("vector", "image", "audio")}
    assert all(len(set(k)) == len(k) for k in per_type.values())  # seven different kinds per type
    assert list(EFFECTS) == list(FAMILY_NAMES) and all(EFFECTS.values())  # each says what it does


def test_input_types():
    assert [input_type(s) for s in ((76,), (1, 8000), (1, 16, 15))] == ["vector", "audio", "image"]
    with pytest.raises(ValueError, match="no family of damage for samples of shape"):
        input_type((1, 2, 3, 4))


def test_specs_follow_the_modality_type_and_the_calibration():
    splits = load_dataset("mfeat", seed=0)
    noise = family_specs(splits, "noise")
    assert noise["fou"].scale == calibrated_scale("mfeat", "fou")
    res = family_specs(splits, "resolution")
    assert (res["fou"].kind, res["pix"].kind) == ("quantize", "pixelate")
    assert res["pix"].clip == tuple(splits.info["range"]["pix"])
    with pytest.raises(ValueError, match="unknown family of damage 'rain'"):
        family_specs(splits, "rain")


@pytest.mark.parametrize("held_out", ["noise", "distortion"])
def test_the_mixture_leaves_the_held_out_family_out(held_out):
    splits = load_dataset("synthetic", seed=0)
    mix = family_mixture(splits, held_out)
    for m, spec in mix.items():
        assert isinstance(spec, NoiseMixture) and len(spec.specs) == len(FAMILY_NAMES) - 1
        assert FAMILIES[held_out]["vector"][0] not in spec.kind.split("+")
    b = next(splits.train.batches(32, False, torch.Generator()))
    levels = {m: torch.full((32,), L) for m in b.x}
    out = apply_noise(b.x, levels, mix, L, torch.Generator().manual_seed(0))
    assert all(not torch.equal(out[m], b.x[m]) for m in b.x)
