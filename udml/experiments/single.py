"""One run: load the data, train, evaluate, build the record.

The sweep's jobs (`udml.experiments.runner.run_job`) and the command line's ``train``
(`udml.cli.run_one`) both go through `train_and_evaluate`, so that the steps exist once and a run
file and a ``train`` results file share one layout:

    {"config": {"dataset", "model", "train", "noise": {kind: specs}, "data"}, "seed",
     "environment", "history", "metrics": {kind: evaluate() report}, "seconds", "cpu_seconds"}

A config whose TrainConfig holds out a family of damage (``held_out``, leave one kind out:
`udml.corrupt.families`) trains on the mixture of the other families and evaluates the held-out
family under ``protocols`` and every seen family under `seen_family_protocols`, each under its
family's name; its "noise" keeps the training mixture under "training".

A config with "permutations": P > 0 (an experiment's ``permutations``) also runs the permutation
test of the trained model (`udml.training.permutation`, P permutations) under every kind's
protocols, for a method that reads per-sample scores; each kind's report keeps it under
"permutation".
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

from ..environment import environment
from ..validation import resolve_device
from .backends import assigned_device
from .jobs import SEEN_KIND, seen_family_protocols, unseen_protocols


def train_and_evaluate(dataset: str, config: dict, seed: int, protocols: list[str] | None = None,
                       unseen_kinds: tuple = (), split: str = "test",
                       state: str | Path | None = None) -> dict:
    """Train ``config`` ({"model": ModelConfig fields, "train": TrainConfig fields}) on
    ``dataset`` (split by ``seed``) under the seen noise kind, evaluate it on ``split``, and
    return the record (layout above).

    The seen kind is evaluated under ``protocols`` (None: every standard protocol), each of
    ``unseen_kinds`` under `udml.experiments.jobs.unseen_protocols`, all with the test-noise seed
    ``seed``, so that every method of a seed sees the same corrupted test set.  The record keeps
    the device ``config`` asks for; the run uses `assigned_device`'s (a local worker's own GPU),
    which ``environment`` names.  With ``state``, the training state is saved there after every
    epoch and a run that finds one resumes from it (`udml.training.loop.train`): the record is
    then the one an uninterrupted run gives.
    """
    return run(dataset, config, seed, protocols, unseen_kinds, split, state).record


class Run(NamedTuple):
    """A finished run: its record, the trained model, the data's sample shapes and the training
    config it ran with (what a checkpoint saves)."""

    record: dict
    model: object
    shapes: dict
    train_config: object


def run(dataset: str, config: dict, seed: int, protocols: list[str] | None = None,
        unseen_kinds: tuple = (), split: str = "test", state: str | Path | None = None) -> Run:
    """`train_and_evaluate`, returning the trained model with the record, for a caller that
    saves it (the command line's ``train --checkpoint``, after the results file)."""
    from ..config import ModelConfig, TrainConfig
    from ..corrupt.families import FAMILY_NAMES, family_mixture, family_specs
    from ..corrupt.scales import default_specs, specs_to_dict
    from ..data import load_dataset
    from ..training.evaluate import evaluate
    from ..training.loop import fit
    from ..training.permutation import permutation_metrics, permutation_test

    t0, c0 = time.perf_counter(), time.process_time()
    splits = load_dataset(dataset, seed=seed)
    train = config["train"]
    mcfg = ModelConfig(**config["model"])
    tcfg = TrainConfig(**{**train, "device": assigned_device(train["device"])})
    if tcfg.held_out:  # leave one kind out: train on the other families, test on this one
        specs = family_mixture(splits, tcfg.held_out)
    else:
        specs = default_specs(splits, kind=SEEN_KIND)
    model, history = fit(splits, mcfg, tcfg, specs, state)
    device = resolve_device(tcfg.device)
    levels = mcfg.num_levels
    data = getattr(splits, split)
    protos = list(protocols) if protocols is not None else None
    permutations = config.get("permutations", 0) if model.score_name is not None else 0

    def assess(kind_specs, kind_protos) -> dict:
        report = evaluate(model, data, kind_specs, levels, kind_protos, seed, device=device)
        if permutations:
            report["permutation"] = permutation_metrics(permutation_test(
                model, data, kind_specs, levels, kind_protos, seed, permutations, device=device))
        return report
    if tcfg.held_out:
        metrics, noise = {}, {"training": specs_to_dict(specs)}
        for family in FAMILY_NAMES:  # the held-out one in full, each seen one at the top
            fspecs = family_specs(splits, family)
            metrics[family] = assess(fspecs, protos if family == tcfg.held_out
                                     else seen_family_protocols(splits.modalities, levels))
            noise[family] = specs_to_dict(fspecs)
    else:
        metrics = {SEEN_KIND: assess(specs, protos)}
        noise = {SEEN_KIND: specs_to_dict(specs)}
    for kind in unseen_kinds:
        kspecs = default_specs(splits, kind=kind)
        metrics[kind] = assess(kspecs, unseen_protocols(splits.modalities, levels))
        noise[kind] = specs_to_dict(kspecs)
    record = {"config": {"dataset": dataset, **config, "noise": noise, "data": splits.info},
              "seed": seed, "environment": environment(device), "history": history,
              "metrics": metrics, "seconds": time.perf_counter() - t0,
              "cpu_seconds": time.process_time() - c0}
    return Run(record, model, splits.shapes, tcfg)
