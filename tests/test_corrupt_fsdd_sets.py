"""udml.corrupt.fsdd_sets: the FSDD benchmark's corruption sets, one kind per modality."""
import pytest
import torch

from udml.corrupt import KINDS, NoiseSpec, apply_noise
from udml.corrupt.fsdd_sets import SETS, fsdd_noise_specs
from udml.corrupt.scales import PAIRED_UNSEEN_KINDS


def speech(b=4, n=800):
    """(B, 1, N) sine tones of different loudness, a stand-in for recordings."""
    t = torch.arange(n) / 8000.0
    return torch.linspace(0.1, 0.5, b)[:, None, None] * torch.sin(2 * torch.pi * 440 * t)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_sets_and_specs():
    assert set(SETS) == {"gaussian", *PAIRED_UNSEEN_KINDS}
    for kind in SETS:
        specs = fsdd_noise_specs(kind, (-1.0, 1.0))
        assert set(specs) == {"audio", "visual"}
        assert specs["audio"].clip is None and specs["visual"].clip == (-1.0, 1.0)
        assert all(s.kind in KINDS for s in specs.values())
    x = {"audio": speech(b=4), "visual": torch.zeros(4, 1, 16, 15)}
    levels = {"audio": torch.tensor([1, 11, 11, 1]), "visual": torch.ones(4, dtype=torch.long)}
    out = apply_noise(x, levels, fsdd_noise_specs("babble", (-1.0, 1.0)), 11, gen())
    assert torch.equal(out["audio"][[0, 3]], x["audio"][[0, 3]])
    assert torch.equal(out["visual"], x["visual"])
    assert fsdd_noise_specs("gaussian", scales={"audio": 1.0})["audio"].scale == 1.0
    with pytest.raises(ValueError, match="FSDD corruption set"):
        fsdd_noise_specs("rain")
    with pytest.raises(ValueError, match="unknown noise kind"):
        NoiseSpec(kind="thunder")
