"""Synthetic multimodal data with a planted easy and hard modality, and its known ground truth.

Why: the dependency bias of method.md (a network trained on all modalities leans on the one that
is easiest to learn) and the dual suppression that follows need a dataset where we *know* which
modality is easy, and where the hard one is still informative on its own.  Each modality m is a
vector in R^{d_m}; classes are balanced; the modalities are independent given the class.

    easy:  x_m = a_m * u_{m,y} + eps          a linear signal: the class means differ, a
                                              linear read-out suffices and an MLP encoder
                                              picks it up within the first epoch or two
    hard:  x_m = s * a_m * u_{m,y} + eps,     s = +1 or -1 with equal probability (XOR-like):
                                              every class has mean 0, so a linear layer stays
                                              at chance; an MLP must first learn |<u, x>|-like
                                              features, which takes more epochs

u_{m,c} is a random unit direction per class, a_m the separation, eps ~ N(0, I).  Because the
densities are known, the Bayes classifier is exact: info["bayes_accuracy"] reports its accuracy
on the test split per modality and for all modalities together (likelihoods multiply).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

from .dataset import MultimodalData, MultimodalSplits
from .splits import Standardiser

KINDS = ("easy", "hard")
# Default separations a_m: the same signal strength for both kinds, so that only the form of the
# signal (linear or XOR-like) makes a modality easy or hard to learn.  With 16 dimensions and 4
# classes each modality alone is far above chance and the two together are nearly separable.
DEFAULT_SEPARATION = {"easy": 3.0, "hard": 3.0}


def modality_names(num_modalities: int) -> list[str]:
    """m0, m1, ... zero-padded so that sorted order is index order."""
    width = len(str(num_modalities - 1))
    return [f"m{i:0{width}d}" for i in range(num_modalities)]


def _per_modality(value, num_modalities: int, what: str) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != num_modalities:
            raise ValueError(f"{what} has {len(value)} entries for {num_modalities} modalities")
        return list(value)
    return [value] * num_modalities


def _check_int(name: str, value, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return value


def _log_likelihood(x: Tensor, prototypes: Tensor, kind: str) -> Tensor:
    """log p(x | c) up to a constant shared by all classes.  x (N, d), prototypes (C, d) -> (N, C)."""
    if kind == "easy":
        return -0.5 * torch.cdist(x, prototypes).square()  # (N, C)
    plus = -0.5 * torch.cdist(x, prototypes).square()  # (N, C)
    minus = -0.5 * torch.cdist(x, -prototypes).square()  # (N, C)
    return torch.logaddexp(plus, minus) - math.log(2.0)


def _sample(n: int, prototypes: list[Tensor], kinds: list[str], num_classes: int,
            generator: torch.Generator) -> tuple[list[Tensor], Tensor]:
    """Draw n balanced samples: labels (n,) and one (n, d_m) float64 tensor per modality."""
    y = (torch.arange(n) % num_classes)[torch.randperm(n, generator=generator)]  # (n,)
    xs = []
    for proto, kind in zip(prototypes, kinds):
        mean = proto[y]  # (n, d)
        if kind == "hard":
            sign = torch.randint(0, 2, (n, 1), generator=generator, dtype=torch.float64) * 2 - 1
            mean = sign * mean
        xs.append(mean + torch.randn(mean.shape, generator=generator, dtype=torch.float64))
    return xs, y


DEFAULT_DIMS = {"easy": 16, "hard": 64}  # a wide hard modality: harder still to pick up


def make_synthetic(num_modalities: int = 2, dims: int | Sequence[int] | None = None,
                   num_classes: int = 4, n_train: int = 2000, n_val: int = 500,
                   n_test: int = 1000, difficulty: str | Sequence[str] | None = None,
                   separation: float | Sequence[float] | None = None,
                   seed: int = 0) -> MultimodalSplits:
    """Generate train/val/test splits with a planted per-modality difficulty.

    num_modalities: M >= 2, named m0, m1, ... (sorted order = index order)
    dims:           one dimension for all modalities or one per modality (each >= 2); default
                    per kind from DEFAULT_DIMS, so that the hard modality is clearly suppressed
                    inside a jointly trained network while still informative alone
    difficulty:     "easy"/"hard" per modality; default: m0 easy, all others hard
    separation:     a_m per modality (>= 0; 0 makes a modality pure noise); default per kind
                    from DEFAULT_SEPARATION
    seed:           everything is drawn from torch.Generators derived from it; the val and test
                    samples do not change when n_train changes

    Vectors are standardised per feature with statistics of the training split.  info records
    the ground truth: difficulty and separation per modality, which modalities are easy, and the
    exact Bayes accuracy on the test split per modality and jointly.
    """
    _check_int("num_modalities", num_modalities, 2)
    _check_int("num_classes", num_classes, 2)
    for name, n in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        _check_int(name, n, num_classes)
    _check_int("seed", seed, 0)
    names = modality_names(num_modalities)
    if difficulty is None:
        difficulty = ["easy"] + ["hard"] * (num_modalities - 1)
    kinds = _per_modality(difficulty, num_modalities, "difficulty")
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"unknown difficulty {bad}; use one of {KINDS} per modality")
    if dims is None:
        dims = [DEFAULT_DIMS[k] for k in kinds]
    dims = [_check_int("dims", d, 2) for d in _per_modality(dims, num_modalities, "dims")]
    if separation is None:
        separation = [DEFAULT_SEPARATION[k] for k in kinds]
    seps = [float(a) for a in _per_modality(separation, num_modalities, "separation")]
    if any(not math.isfinite(a) or a < 0 for a in seps):
        raise ValueError(f"separation must be finite and >= 0, got {seps}")

    generator = torch.Generator().manual_seed(seed)
    prototypes = []
    for d, a in zip(dims, seps):
        u = torch.randn(num_classes, d, generator=generator, dtype=torch.float64)  # (C, d)
        prototypes.append(a * u / u.norm(dim=1, keepdim=True))
    split_seeds = torch.randint(0, 2**62, (3,), generator=generator).tolist()
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    raw = {}
    for (split, n), split_seed in zip(sizes.items(), split_seeds):
        raw[split] = _sample(n, prototypes, kinds, num_classes,
                             torch.Generator().manual_seed(split_seed))

    # exact Bayes accuracy on the test split, before any scaling
    test_x, test_y = raw["test"]
    loglik = [_log_likelihood(x, p, k) for x, p, k in zip(test_x, prototypes, kinds)]  # M x (N, C)
    bayes = {name: float((ll.argmax(1) == test_y).double().mean())
             for name, ll in zip(names, loglik)}
    bayes["joint"] = float((torch.stack(loglik).sum(0).argmax(1) == test_y).double().mean())

    scalers = [Standardiser("feature").fit(x) for x in raw["train"][0]]
    data = {}
    for split, (xs, y) in raw.items():
        x = {name: s.transform(v).float().contiguous() for name, s, v in zip(names, scalers, xs)}
        data[split] = MultimodalData(x, y.long())

    info = {
        "dataset": "synthetic",
        "seed": seed,
        "modalities": names,
        "dims": dict(zip(names, dims)),
        "difficulty": dict(zip(names, kinds)),
        "separation": dict(zip(names, seps)),
        "easy": [n for n, k in zip(names, kinds) if k == "easy"],
        "hard": [n for n, k in zip(names, kinds) if k == "hard"],
        "bayes_accuracy": bayes,
        "chance": 1.0 / num_classes,
        "sizes": dict(sizes),
        "scaling": {name: s.describe() for name, s in zip(names, scalers)},
        "range": {},
    }
    return MultimodalSplits(data["train"], data["val"], data["test"], num_classes=num_classes,
                            name="synthetic", info=info)
