"""Noise protocols: which level each sample of each modality gets, for training and evaluation.

Each protocol is a small frozen dataclass whose ``sample(names, batch_size, num_levels,
generator)`` returns name -> (B,) long levels in 1..L (on the generator's device), and whose
``label`` is a short readable name that `protocol_from_string` parses back:

    clean             every sample clean                          Clean()
    one:pix@7         modality pix at level 7, the others clean   OneModality("pix", 7)
    all@5             every modality at level 5                   AllModalities(5)
    random@0.5        a share clean, the rest random per modality RandomPerSample(0.5)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import torch
from torch import Tensor

from ..data.dataset import Batch
from .spec import NoiseSpec, apply_noise


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_sample_args(names, batch_size, num_levels, generator) -> list[str]:
    names = sorted(names)
    if not names or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise ValueError(f"names must be distinct modality names (str), got {names}")
    if not _is_int(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    if not _is_int(num_levels) or num_levels < 2:
        raise ValueError(f"num_levels must be an int >= 2, got {num_levels!r}")
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    return names


def _check_level(level, num_levels: int | None = None) -> None:
    if not _is_int(level) or level < 1:
        raise ValueError(f"level must be an int >= 1 (1 = clean), got {level!r}")
    if num_levels is not None and level > num_levels:
        raise ValueError(f"level {level} is above the top level L = {num_levels}")


def _full(names: list[str], batch_size: int, level: int, generator) -> dict[str, Tensor]:
    return {n: torch.full((batch_size,), level, dtype=torch.long, device=generator.device)
            for n in names}


@dataclass(frozen=True)
class Clean:
    """Every modality of every sample at level 1."""

    @property
    def label(self) -> str:
        return "clean"

    def sample(self, names: Iterable[str], batch_size: int, num_levels: int,
               generator: torch.Generator) -> dict[str, Tensor]:
        names = _check_sample_args(names, batch_size, num_levels, generator)
        return _full(names, batch_size, 1, generator)


@dataclass(frozen=True)
class OneModality:
    """Modality ``name`` of every sample at ``level``; the other modalities clean."""

    name: str
    level: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty modality name, got {self.name!r}")
        _check_level(self.level)

    @property
    def label(self) -> str:
        return f"one:{self.name}@{self.level}"

    def sample(self, names: Iterable[str], batch_size: int, num_levels: int,
               generator: torch.Generator) -> dict[str, Tensor]:
        names = _check_sample_args(names, batch_size, num_levels, generator)
        if self.name not in names:
            raise ValueError(f"protocol {self.label!r} names modality {self.name!r}, "
                             f"not one of {names}")
        _check_level(self.level, num_levels)
        out = _full(names, batch_size, 1, generator)
        out[self.name] = torch.full_like(out[self.name], self.level)
        return out


@dataclass(frozen=True)
class AllModalities:
    """Every modality of every sample at ``level``."""

    level: int

    def __post_init__(self) -> None:
        _check_level(self.level)

    @property
    def label(self) -> str:
        return f"all@{self.level}"

    def sample(self, names: Iterable[str], batch_size: int, num_levels: int,
               generator: torch.Generator) -> dict[str, Tensor]:
        names = _check_sample_args(names, batch_size, num_levels, generator)
        _check_level(self.level, num_levels)
        return _full(names, batch_size, self.level, generator)


@dataclass(frozen=True)
class RandomPerSample:
    """Each sample is clean in ALL modalities with probability ``clean_share``; otherwise every
    modality draws its own level uniformly from 1..L (level 1 included), independently.

    This is also the training protocol of the reference code (method.md section 2: levels drawn
    uniformly and independently per modality, half of the samples kept clean in every modality),
    so a modality ends up clean for a share clean_share + (1 - clean_share) / L of the samples.
    """

    clean_share: float = 0.5

    def __post_init__(self) -> None:
        v = self.clean_share
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            raise ValueError(f"clean_share must be a number in [0, 1], got {v!r}")
        object.__setattr__(self, "clean_share", float(v))

    @property
    def label(self) -> str:
        return f"random@{self.clean_share!r}"

    def sample(self, names: Iterable[str], batch_size: int, num_levels: int,
               generator: torch.Generator) -> dict[str, Tensor]:
        names = _check_sample_args(names, batch_size, num_levels, generator)
        dev = generator.device
        clean = torch.rand(batch_size, generator=generator, device=dev) < self.clean_share  # (B,)
        drawn = torch.randint(1, num_levels + 1, (len(names), batch_size), generator=generator,
                              device=dev)  # (M, B)
        drawn = drawn.masked_fill(clean[None, :], 1)
        return {n: drawn[i] for i, n in enumerate(names)}


Protocol = Clean | OneModality | AllModalities | RandomPerSample


def clean() -> Clean:
    """The clean protocol (label ``clean``)."""
    return Clean()


def one_modality(name: str, level: int) -> OneModality:
    """Noise on modality ``name`` only, at ``level`` (label ``one:NAME@LEVEL``)."""
    return OneModality(name, level)


def all_modalities(level: int) -> AllModalities:
    """Noise on every modality at ``level`` (label ``all@LEVEL``)."""
    return AllModalities(level)


def random_per_sample(clean_share: float = 0.5) -> RandomPerSample:
    """A share clean, the rest at random levels per modality (label ``random@SHARE``)."""
    return RandomPerSample(clean_share)


_FORMS = "'clean', 'one:NAME@LEVEL', 'all@LEVEL', 'random' or 'random@SHARE'"


def protocol_from_string(text: str) -> Protocol:
    """Parse a protocol label such as ``one:pix@7`` (the inverse of ``.label``)."""
    if not isinstance(text, str):
        raise TypeError(f"protocol must be a string such as {_FORMS}, got {type(text).__name__}")
    s = text.strip()
    head, at, tail = s.partition("@")
    try:
        if s == "clean":
            return Clean()
        if s == "random":
            return RandomPerSample()
        if at and head == "random":
            return RandomPerSample(float(tail))
        if at and head == "all":
            return AllModalities(int(tail))
        if s.startswith("one:") and "@" in s:
            name, _, level = s[len("one:"):].rpartition("@")
            return OneModality(name, int(level))
    except ValueError as err:
        raise ValueError(f"bad noise protocol {text!r}: {err}; use {_FORMS}") from None
    raise ValueError(f"unknown noise protocol {text!r}; use {_FORMS}")


def corrupt_batch(batch: Batch, protocol: Protocol | str, specs: dict[str, NoiseSpec],
                  num_levels: int, generator: torch.Generator) -> Batch:
    """A new Batch whose x is corrupted at levels drawn by ``protocol`` and whose levels say so.

    The batch's own levels are replaced, not added to: pass clean batches. Levels are drawn first,
    then the noise, both from ``generator``; the returned levels live on x's device.
    """
    if not isinstance(batch, Batch):
        raise TypeError(f"batch must be a Batch, got {type(batch).__name__}")
    if isinstance(protocol, str):
        protocol = protocol_from_string(protocol)
    if not hasattr(protocol, "sample"):
        raise TypeError(f"protocol must be a protocol object or string, got {protocol!r}")
    names = sorted(batch.x)
    b = int(batch.y.shape[0])
    levels = protocol.sample(names, b, num_levels, generator)
    levels = {n: lv.to(batch.x[n].device) for n, lv in levels.items()}
    x = apply_noise(batch.x, levels, specs, num_levels, generator)
    return Batch(x, batch.y, batch.index, levels)


def check_protocols(protocols, modalities: list[str], num_levels: int) -> None:
    """``protocols`` is a list of protocol labels or objects that all apply to ``modalities``
    at ``num_levels`` levels (each is sampled once for one sample, so its errors come first)."""
    if isinstance(protocols, str):
        raise TypeError(f"protocols must be a list of protocol labels, got the string "
                        f"{protocols!r}; write [{protocols!r}]")
    gen = torch.Generator()
    for p in protocols:
        p = protocol_from_string(p) if isinstance(p, str) else p
        p.sample(modalities, 1, num_levels, gen)
