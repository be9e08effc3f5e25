"""Evaluation under the noise protocols: accuracy per protocol and level, unimodal accuracies,
the Spearman correlation of each unreliability score with the true level, dependencies and
mean weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import torch
from torch import Tensor

from ..corrupt import Clean, NoiseSpec, OneModality, corrupt_batch, protocol_from_string
from ..data.dataset import MultimodalData
from .metrics import accuracy, calibration_summary, level_halves, spearman
from .ranks import Ranks
from ..models.base import MultimodalModel
from ..method.output import FusionOutput
from ..corrupt.protocols import check_protocols
from ..validation import check_device, check_labels, check_num_levels, check_split


@dataclass
class Predictions:
    """Everything a pass over one split produced, concatenated on the CPU.  N samples, M
    modalities."""

    logits: Tensor                       # (N, C)
    unimodal_logits: dict[str, Tensor]   # name -> (N, C)
    unreliability: dict[str, Tensor]     # name -> (N,) the method's own score
    weights: Tensor | None               # (N, M)
    levels: dict[str, Tensor]            # name -> (N,) true injected levels
    y: Tensor                            # (N,)
    scores: dict[str, dict[str, Tensor]] = field(default_factory=dict)  # see `output_scores`


def concat_predictions(parts: list[Predictions]) -> Predictions:
    """Several `Predictions` of one model stacked sample-wise, as one pass over all their samples
    (the shards of a split, in order, or one pass per noise level)."""
    if not parts:
        raise ValueError("nothing to concatenate: parts is empty")

    def cat(what: str, values: list):
        if isinstance(values[0], dict):
            keys = {tuple(sorted(v)) for v in values}
            if len(keys) != 1:
                raise ValueError(f"Predictions disagree on the modalities of {what}: "
                                 f"{sorted(keys)}")
            return {k: cat(f"{what}/{k}", [v[k] for v in values]) for k in values[0]}
        if len({v is None for v in values}) != 1:
            raise ValueError(f"cannot concatenate Predictions with and without {what}")
        return None if values[0] is None else torch.cat(values)
    return Predictions(**{f.name: cat(f.name, [getattr(p, f.name) for p in parts])
                          for f in fields(Predictions)})


def output_scores(out: FusionOutput, modalities: list[str]) -> dict[str, dict[str, Tensor]]:
    """The per-sample unreliability scores an output carries, score -> modality -> (B,):

        s_hat     the noise-aware estimator's prediction of the level (UDML family)
        pe_sigma  the mean sigma of the probabilistic embedding (extras["pe_sigma"], (B, M))
        unreliability  the method's own score (FusionOutput.unreliability)

    Absent scores are left out.  ``modalities`` gives the column order of ``pe_sigma``.
    """
    scores: dict[str, dict[str, Tensor]] = {}
    if out.s_hat:
        scores["s_hat"] = dict(out.s_hat)
    pe = out.extras.get("pe_sigma")
    if pe is not None:
        if pe.dim() != 2 or pe.shape[1] != len(modalities):
            raise ValueError(f"extras['pe_sigma'] must be (B, {len(modalities)}), "
                             f"got shape {tuple(pe.shape)}")
        scores["pe_sigma"] = {m: pe[:, i] for i, m in enumerate(modalities)}
    if out.unreliability:
        scores["unreliability"] = dict(out.unreliability)
    return scores


@torch.no_grad()
def predict(model: MultimodalModel, data: MultimodalData, specs: dict[str, NoiseSpec], protocol,
            num_levels: int, generator: torch.Generator, batch_size: int = 512,
            device: torch.device | str = "cpu", ranks: Ranks | None = None) -> Predictions:
    """Run the model in eval mode over ``data`` corrupted by ``protocol`` (an object or a
    string).  With ``ranks`` (`udml.training.ranks`), ``data`` is this rank's shard of the
    split (`Ranks.shard`): the shards' predictions are gathered, in order, on every rank."""
    if isinstance(protocol, str):
        protocol = protocol_from_string(protocol)
    if len(data) == 0:
        raise ValueError("cannot evaluate on an empty split")
    if ranks is not None:
        local = predict(model, data, specs, protocol, num_levels, generator, batch_size, device)
        return concat_predictions(ranks.gather(local))
    was_training = model.training
    model.eval()
    parts: dict[str, list] = {"logits": [], "weights": [], "y": []}
    uni = {k: [] for k in model.modalities}
    scores: dict[str, dict[str, list]] = {}
    lev = {k: [] for k in model.modalities}
    try:
        for batch in data.batches(batch_size):
            check_labels(batch.y, model.num_classes)
            batch = corrupt_batch(batch.to(device), protocol, specs, num_levels, generator)
            out = model(batch.x, batch.levels)
            parts["logits"].append(out.logits.float().cpu())
            parts["y"].append(batch.y.cpu())
            if out.weights is not None:
                parts["weights"].append(out.weights.float().cpu())
            for k in model.modalities:
                uni[k].append(out.unimodal_logits[k].float().cpu())
                lev[k].append(batch.levels[k].cpu())
            for name, per_mod in output_scores(out, model.modalities).items():
                for k, v in per_mod.items():
                    scores.setdefault(name, {}).setdefault(k, []).append(v.float().cpu())
    finally:
        model.train(was_training)
    scores_cat = {name: {k: torch.cat(v) for k, v in per_mod.items()}
                  for name, per_mod in scores.items()}
    return Predictions(
        logits=torch.cat(parts["logits"]),
        unimodal_logits={k: torch.cat(v) for k, v in uni.items()},
        unreliability=scores_cat.get("unreliability", {}),
        weights=torch.cat(parts["weights"]) if parts["weights"] else None,
        levels={k: torch.cat(v) for k, v in lev.items()},
        y=torch.cat(parts["y"]), scores=scores_cat)


def unreliability_spearman(pred: Predictions, num_levels: int) -> dict[str, dict[str, float]]:
    """Spearman of each modality's unreliability score with its true level over each range of
    `udml.training.metrics.level_halves`: all levels, the lower and the upper half."""
    out = {}
    for k, q in pred.unreliability.items():
        lv = pred.levels[k]
        keep = {name: (lv >= lo) & (lv <= hi) for name, (lo, hi) in level_halves(num_levels).items()}
        out[k] = {name: spearman(q[at], lv[at]) for name, at in keep.items()}
    return out


def standard_protocols(modalities: list[str], num_levels: int) -> list[str]:
    """clean, each modality alone at every level, all modalities at every level, random."""
    protos = ["clean"]
    protos += [f"one:{m}@{l}" for m in sorted(modalities) for l in range(2, num_levels + 1)]
    protos += [f"all@{l}" for l in range(2, num_levels + 1)]
    protos += ["random"]
    return protos


def evaluate(model: MultimodalModel, data: MultimodalData, specs: dict[str, NoiseSpec],
             num_levels: int, protocols: list[str] | None = None, seed: int = 0,
             batch_size: int = 512, device: torch.device | str = "cpu",
             ranks: Ranks | None = None) -> dict:
    """Metrics per protocol (accuracy, unimodal accuracies, mean weights, mean of each
    unreliability score per modality), Spearman of `unreliability` under the random protocol,
    the scores' calibration where every level of a modality was evaluated (clean and
    ``one:m@l`` for l = 2..L: `udml.training.metrics.calibration_summary`), and the model's
    dependency statistic.

    Each protocol draws its noise from a generator seeded with ``seed``, so every method sees the
    same corrupted test set.  With ``ranks``, ``data`` is this rank's shard (`Ranks.shard`;
    its noise seeded per rank) and every rank gets the metrics of the whole split.  ``data`` is one split,
    ``num_levels`` the model's L, ``protocols`` a list; all of them, and the device, are checked
    before anything runs.
    """
    check_split(data)
    check_num_levels(num_levels, model.config.num_levels)
    dev = check_device(device, model)
    protocols = protocols or standard_protocols(model.modalities, num_levels)
    check_protocols(protocols, model.modalities, num_levels)
    report: dict = {"protocols": {}}
    per_level: dict = {}  # score -> modality -> level -> (N,) score of that modality alone noisy
    for label in protocols:
        gen = torch.Generator(device=dev).manual_seed(ranks.noise_seed(seed) if ranks else seed)
        pred = predict(model, data, specs, label, num_levels, gen, batch_size, dev, ranks)
        entry = {"accuracy": accuracy(pred.logits, pred.y),
                 "unimodal": {k: accuracy(v, pred.y) for k, v in pred.unimodal_logits.items()}}
        if pred.weights is not None:
            entry["mean_weights"] = dict(zip(model.modalities, pred.weights.mean(0).tolist()))
        if pred.scores:
            entry["mean_scores"] = {name: {k: v.mean().item() for k, v in per_mod.items()}
                                    for name, per_mod in pred.scores.items()}
        report["protocols"][label] = entry
        if label.startswith("random"):
            report["spearman"] = unreliability_spearman(pred, num_levels)
        proto = protocol_from_string(label) if isinstance(label, str) else label
        for name, per_mod in pred.scores.items():
            for k, v in per_mod.items():
                if isinstance(proto, Clean):
                    per_level.setdefault(name, {}).setdefault(k, {})[1] = v
                elif isinstance(proto, OneModality) and proto.name == k:
                    per_level.setdefault(name, {}).setdefault(k, {})[proto.level] = v
    calibration = {name: {k: calibration_summary(by_level, num_levels)
                          for k, by_level in per_mod.items() if len(by_level) == num_levels}
                   for name, per_mod in per_level.items()}
    calibration = {name: c for name, c in calibration.items() if c}
    if calibration:
        report["calibration"] = calibration
    dep = getattr(model, "dependency", None)
    if dep is not None:
        report["dependency"] = dict(zip(model.modalities, dep.value.tolist()))
        report["dependency_normalised"] = dict(zip(model.modalities, dep.normalised().tolist()))
    return report


def protocol_level(label: str) -> int | None:
    """The noise level a protocol label names: clean 1, one:pix@7 / all@7 7, random None."""
    if label.startswith("random"):
        return None
    return getattr(protocol_from_string(label), "level", 1)


def report_rows(report: dict, kind: str) -> list[dict]:
    """`evaluate`'s report under the noise ``kind`` as rows of the results table
    (`udml.experiments.files.COLUMNS`; a run adds dataset, variant, method and seed):

        accuracy                 per protocol (level: the one it names, `protocol_level`)
        unimodal_accuracy, weight (the mean fusion weight)    per protocol and modality
        score                    the mean of each unreliability score, per protocol and modality
        spearman                 the method's unreliability with the level, random protocol,
                                 per modality and range (`unreliability_spearman`)
        calibration_mean, _std   per score, modality and level; calibration_spearman per range
        dependency, dependency_normalised    per modality, without a kind (a model property)
        accuracy_permuted, _permuted_std, accuracy_oracle    per protocol, where the report holds
                                 a permutation test ("permutation":
                                 `udml.training.permutation.permutation_metrics`): the accuracy
                                 with the scores permuted across the test examples (mean and
                                 spread over the permutations) and with the oracle's scores
    """
    rows: list[dict] = []

    def add(metric: str, value: float, **at) -> None:
        rows.append({"kind": None if metric.startswith("dependency") else kind, **at,
                     "metric": metric, "value": value})
    for label, entry in report["protocols"].items():
        at = {"protocol": label, "level": protocol_level(label)}
        add("accuracy", entry["accuracy"], **at)
        for metric, key in (("unimodal_accuracy", "unimodal"), ("weight", "mean_weights")):
            for m, v in entry.get(key, {}).items():
                add(metric, v, **at, modality=m)
        for score, per_mod in entry.get("mean_scores", {}).items():
            for m, v in per_mod.items():
                add("score", v, **at, score=score, modality=m)
    for label, metrics in report.get("permutation", {}).items():
        for metric, v in metrics.items():
            add(metric, v, protocol=label, level=protocol_level(label))
    for m, by_range in report.get("spearman", {}).items():
        for rng, v in by_range.items():
            add("spearman", v, modality=m, range=rng)
    for score, per_mod in report.get("calibration", {}).items():
        for m, c in per_mod.items():
            for stat in ("mean", "std"):
                for level, v in enumerate(c[stat], 1):
                    add(f"calibration_{stat}", v, score=score, modality=m, level=level)
            for rng, v in c["spearman"].items():
                add("calibration_spearman", v, score=score, modality=m, range=rng)
    for key in ("dependency", "dependency_normalised"):
        for m, v in report.get(key, {}).items():
            add(key, v, modality=m)
    return rows
