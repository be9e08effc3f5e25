"""Tests of NoiseSpec, the kinds registry and apply_noise (levels -> strengths, validation)."""
import json
import subprocess
import sys

import pytest
import torch

from udml import corrupt
from udml.corrupt import (BUILTIN_KINDS, KINDS, Kind, NoiseSpec, apply_noise, kinds,
                          levels_to_strength, register_kind)

L = 11


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def data(b=4):
    g = gen(1)
    return {"pix": torch.randn(b, 1, 6, 5, generator=g), "fou": torch.randn(b, 7, generator=g)}


def specs(**over):
    s = {"fou": NoiseSpec("gaussian", 1.0), "pix": NoiseSpec("gaussian", 2.0, (-3, 3))}
    s.update(over)
    return s


def lv(*values):
    return torch.tensor(values, dtype=torch.long)


def test_levels_to_strength():
    torch.testing.assert_close(levels_to_strength(lv(1, 2, 6, 11), 11),
                               torch.tensor([0.0, 0.01, 0.25, 1.0]))
    torch.testing.assert_close(levels_to_strength(lv(1, 2, 3), 3), torch.tensor([0.0, 0.25, 1.0]))


def test_registry_covers_the_kinds():
    assert BUILTIN_KINDS == ("gaussian", "salt_pepper", "blur", "occlusion", "time_mask",
                             "temporal_blur", "feature_dropout", "speckle", "quantize",
                             "contrast", "pixelate")
    for name in BUILTIN_KINDS:
        assert KINDS[name].fn is getattr(corrupt, name)
        assert KINDS[name].scale_unit


def test_register_kind():
    kind = Kind(kinds.gaussian, None, (), "test unit")
    register_kind("test_kind", kind)
    try:
        register_kind("test_kind", kind)  # idempotent
        assert NoiseSpec("test_kind").kind == "test_kind"
        with pytest.raises(ValueError, match="already registered"):
            register_kind("test_kind", Kind(kinds.blur, None, (), "other"))
        with pytest.raises(TypeError):
            register_kind("other", kinds.blur)
    finally:
        KINDS.pop("test_kind")


def test_noise_spec_validation():
    s = NoiseSpec("occlusion", 1, [-1, 1], {"fill": 0.5})
    assert s.clip == (-1.0, 1.0) and isinstance(s.scale, float)
    with pytest.raises(ValueError, match="unknown noise kind 'no_such_kind'"):
        NoiseSpec("no_such_kind")
    with pytest.raises(ValueError, match="scale"):
        NoiseSpec(scale=-0.1)
    with pytest.raises(ValueError, match="scale"):
        NoiseSpec(scale=float("inf"))
    with pytest.raises(ValueError, match="scale"):
        NoiseSpec(scale=True)
    with pytest.raises(ValueError, match="clip"):
        NoiseSpec(clip=(2, 1))
    with pytest.raises(ValueError, match=r"unknown \['fill'\]"):
        NoiseSpec("gaussian", options={"fill": 0.0})


def test_all_clean_passes_tensors_through():
    x = data()
    out = apply_noise(x, {"fou": lv(1, 1, 1, 1), "pix": lv(1, 1, 1, 1)}, specs(), L, gen())
    assert out["fou"] is x["fou"] and out["pix"] is x["pix"]
    assert list(out) == ["fou", "pix"]


def test_level_one_samples_exact_and_others_corrupted():
    x = data()
    levels = {"fou": lv(1, 11, 1, 5), "pix": lv(3, 1, 1, 11)}
    out = apply_noise(x, levels, specs(), L, gen())
    for name in x:
        clean = levels[name] == 1
        assert torch.equal(out[name][clean], x[name][clean])
        assert ((out[name][~clean] - x[name][~clean]).flatten(1).abs().sum(1) > 0).all()
    assert out["pix"][levels["pix"] > 1].abs().max() <= 3  # clipped, clean samples untouched


def test_matches_the_kinds_called_in_sorted_order():
    x = data()
    reversed_x = {"pix": x["pix"], "fou": x["fou"]}  # insertion order must not matter
    levels = {"fou": lv(2, 11, 1, 5), "pix": lv(3, 1, 7, 11)}
    sp = specs(fou=NoiseSpec("salt_pepper", 0.5, options={"low": -1.0, "high": 1.0}))
    out = apply_noise(reversed_x, levels, sp, L, gen(3))
    g = gen(3)
    fou = kinds.salt_pepper(x["fou"], levels_to_strength(levels["fou"], L), 0.5, g,
                            low=-1.0, high=1.0)
    pix = kinds.gaussian(x["pix"], levels_to_strength(levels["pix"], L), 2.0, g, clip=(-3, 3))
    assert torch.equal(out["fou"], fou) and torch.equal(out["pix"], pix)


def test_seeded_and_strength_from_level():
    x = {"a": torch.zeros(3, 50_000), "b": torch.zeros(3, 1, 4, 4)}
    levels = {"a": lv(1, 6, 11), "b": lv(1, 1, 1)}
    sp = {"a": NoiseSpec("gaussian", 0.5), "b": NoiseSpec("blur", 1.0)}
    one, two = apply_noise(x, levels, sp, L, gen(4)), apply_noise(x, levels, sp, L, gen(4))
    assert torch.equal(one["a"], two["a"])
    assert not torch.equal(one["a"], apply_noise(x, levels, sp, L, gen(5))["a"])
    stds = one["a"].std(dim=1)
    assert stds[0] == 0
    assert stds[1].item() == pytest.approx(0.125, rel=0.03)  # level 6 of 11: t = 0.25
    assert stds[2].item() == pytest.approx(0.5, rel=0.03)   # level L: t = 1, std = scale


def test_every_kind_through_apply_noise():
    x = {"img": torch.randn(3, 2, 6, 8, generator=gen(6))}
    for name in BUILTIN_KINDS:
        out = apply_noise(x, {"img": lv(1, 4, 11)}, {"img": NoiseSpec(name, 0.5)}, L, gen(7))
        assert torch.equal(out["img"][0], x["img"][0])
        assert not torch.equal(out["img"][2], x["img"][2])


def _err(match, x=None, levels=None, sp=None, num_levels=L, generator="default",
         exc=ValueError):
    x = data() if x is None else x
    levels = {"fou": lv(1, 2, 3, 4), "pix": lv(1, 2, 3, 4)} if levels is None else levels
    g = gen() if generator == "default" else generator
    state = g.get_state() if isinstance(g, torch.Generator) else None
    with pytest.raises(exc, match=match):
        apply_noise(x, levels, specs() if sp is None else sp, num_levels, g)
    if state is not None:  # everything is checked before anything is drawn
        assert torch.equal(g.get_state(), state)


def test_modality_mismatches():
    _err(r"levels do not match .* missing \['pix'\]", levels={"fou": lv(1, 1, 1, 1)})
    _err(r"levels do not match .* extra \['aud'\]",
         levels={"fou": lv(1, 1, 1, 1), "pix": lv(1, 1, 1, 1), "aud": lv(1, 1, 1, 1)})
    _err(r"noise specs do not match .* missing \['fou'\]", sp={"pix": NoiseSpec()})
    _err(r"noise specs do not match .* extra \['aud'\]", sp=specs(aud=NoiseSpec()))
    _err("no modalities", x={}, levels={}, sp={})
    _err("must be a dict", x=[torch.zeros(2)], exc=TypeError)


def test_bad_levels_name_the_modality():
    ok = lv(1, 1, 1, 1)
    _err(r"'pix': levels must have shape \(4,\)", levels={"fou": ok, "pix": ok[:, None]})
    _err(r"'pix': levels must have shape \(4,\)", levels={"fou": ok, "pix": lv(1, 1, 1)})
    _err(r"'fou': levels must lie in 1..11, got min 0", levels={"fou": lv(0, 1, 1, 1), "pix": ok})
    _err(r"'fou': levels must lie in 1..11.*max 12", levels={"fou": lv(1, 12, 1, 1), "pix": ok})
    _err(r"'pix': levels must be integers", levels={"fou": ok, "pix": ok.float()})
    _err(r"'pix': levels must be integers", levels={"fou": ok, "pix": ok.bool()})
    _err(r"'pix': levels must be a tensor", levels={"fou": ok, "pix": [1, 1, 1, 1]},
         exc=TypeError)
    _err("num_levels must be an int >= 2", num_levels=1)
    _err("num_levels must be an int >= 2", num_levels=11.0)


def test_bad_specs_and_inputs_name_the_modality():
    bad = NoiseSpec()
    bad.kind = "no_such_kind"  # changed after construction
    _err(r"'fou': unknown noise kind 'no_such_kind'", sp=specs(fou=bad))
    _err(r"'fou': noise kind 'occlusion' applies to tensors of rank",
         x={"fou": torch.zeros(4, 3, 7), "pix": data()["pix"]},
         sp=specs(fou=NoiseSpec("occlusion")))
    _err(r"'pix': spec must be a NoiseSpec", sp=specs(pix="gaussian"), exc=TypeError)
    _err(r"'fou': x must be a floating-point", x={"fou": torch.zeros(4, 7, dtype=torch.long),
                                                  "pix": data()["pix"]}, exc=TypeError)
    _err(r"'fou': empty batch", x={"fou": torch.zeros(0, 7), "pix": torch.zeros(0, 1, 6, 5)},
         levels={"fou": lv(), "pix": lv()})
    _err("generator must be a torch.Generator", generator=None, exc=TypeError)


def test_levels_to_strength_refuses_levels_outside_1_to_L():
    from udml.corrupt import levels_to_strength
    with pytest.raises(ValueError, match="levels must lie in 1..11, got min 0"):
        levels_to_strength(torch.tensor([0, 1]), 11)
    with pytest.raises(ValueError, match="levels must lie in 1..11, got min 1, max 12"):
        levels_to_strength(torch.tensor([1, 12]), 11)
    with pytest.raises(ValueError, match="num_levels must be an int >= 2, got 1"):
        levels_to_strength(torch.tensor([1]), 1)
    with pytest.raises(ValueError, match="integers"):
        levels_to_strength(torch.tensor([1.5]), 11)


def test_every_kind_is_registered_where_it_is_defined():
    """`import udml.corrupt` alone gives every kind, the waveform and frame kinds included: no
    other package has to be imported for its side effect (checked in a fresh interpreter)."""
    code = ("import json, sys, udml.corrupt; print(json.dumps({'kinds': sorted(udml.corrupt.KINDS), "
            "'loaded': sorted(m for m in sys.modules if m.startswith('udml.'))}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert {"snr_noise", "babble", "clipping", "packet_loss", "crackle", "downsample",
            "motion_blur", "frame_blur", "frame_occlusion", *BUILTIN_KINDS} == set(seen["kinds"])
    assert not [m for m in seen["loaded"] if m.startswith(("udml.av", "udml.models"))]


def test_a_mixture_gives_each_sample_one_of_its_kinds():
    from udml.corrupt import NoiseMixture
    x = {"fou": torch.randn(64, 7, generator=gen(3))}
    mix = NoiseMixture((NoiseSpec("gaussian", 1.0), NoiseSpec("salt_pepper", 1.0, (-9, 9))))
    levels = {"fou": torch.full((64,), L)}
    out = apply_noise(x, levels, {"fou": mix}, L, gen(0))["fou"]
    impulse = ((out == 9) | (out == -9)).all(1)        # salt_pepper at scale 1 hits every entry
    noisy = ~impulse & (out != x["fou"]).all(1)
    assert bool((impulse | noisy).all()) and 0 < int(impulse.sum()) < 64
    again = apply_noise(x, levels, {"fou": mix}, L, gen(0))["fou"]
    assert torch.equal(out, again)
    clean = apply_noise(x, {"fou": torch.ones(64, dtype=torch.long)}, {"fou": mix}, L, gen(0))
    assert clean["fou"] is x["fou"]
    assert mix.kind == "gaussian+salt_pepper"


def test_a_mixture_is_checked_like_a_spec():
    from udml.corrupt import NoiseMixture
    with pytest.raises(TypeError, match="non-empty tuple of NoiseSpecs"):
        NoiseMixture(())
    with pytest.raises(TypeError, match="non-empty tuple of NoiseSpecs"):
        NoiseMixture(("gaussian",))
    bad = NoiseMixture((NoiseSpec("gaussian"), NoiseSpec("blur", 1.0)))
    x = {"seq": torch.randn(2, 3, 4)}
    with pytest.raises(ValueError, match="'blur' applies to tensors of rank"):
        apply_noise(x, {"seq": torch.full((2,), 3)}, {"seq": bad}, L, gen())
