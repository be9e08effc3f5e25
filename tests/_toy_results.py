"""A hand-made merged results file (rows and record, as udml.experiments.merge.merge_runs writes
them) for the tests of udml.analysis.comparisons and udml.analysis.claims: two modalities a and b,
three levels, three seeds, every number chosen so that the expected summaries can be worked out
by hand."""
from __future__ import annotations

from udml.experiments.files import Results, frame
from udml.training.evaluate import protocol_level
from udml.training.metrics import HALVES

SEEDS = [0, 1, 2]
MODS = ["a", "b"]
LEVELS = 3
GAUSS = ["clean", "one:a@2", "one:a@3", "one:b@2", "one:b@3", "all@2", "all@3", "random"]
UNSEEN = {"blur": ["one:a@3", "one:a@2", "one:b@3", "one:b@2", "all@3", "random"]}


def toy_merged(acc: dict, dataset: str = "toy", variant: str = "default", easy=None,
               unimodal=None, spearman=None, dependency=None, epochs: int = 4,
               weights=None, rescaling: str = "residual") -> Results:
    """acc: {method: [base accuracy per seed] | (base, {(kind, protocol): [per seed]})};
    unimodal: {modality: clean unimodal accuracy} (all seeds, all methods);
    spearman: {method: {(modality, range): [per seed]}} (missing entries: 0.0);
    dependency: {method: {"final": {mod: [per seed]}, "history": {mod: [[per epoch]] per seed}}};
    weights: {method: {Gaussian protocol: {modality: mean weight}}} (all seeds).
    """
    unimodal = unimodal or {"a": 0.9, "b": 0.6}
    protocols = {"gaussian": list(GAUSS), **{k: list(v) for k, v in UNSEEN.items()}}
    rows = []
    for method, spec in acc.items():
        base, over = spec if isinstance(spec, tuple) else (spec, {})
        for i, seed in enumerate(SEEDS):
            def add(metric, value, **at):
                rows.append({"dataset": dataset, "variant": variant, "method": method,
                             "seed": seed, "metric": metric, "value": value, **at})
            for k, ps in protocols.items():
                for p in ps:
                    at = {"kind": k, "protocol": p, "level": protocol_level(p)}
                    add("accuracy", over.get((k, p), base)[i], **at)
                    for mod in MODS:
                        add("unimodal_accuracy", unimodal[mod], **at, modality=mod)
            for p, by in (weights or {}).get(method, {}).items():
                for mod, w in by.items():
                    add("weight", w, kind="gaussian", protocol=p, level=protocol_level(p),
                        modality=mod)
            if spearman is not None and method in spearman:
                for k in protocols:
                    for mod in MODS:
                        for r in HALVES:
                            add("spearman", spearman[method].get((mod, r), [0.0] * 3)[i],
                                kind=k, modality=mod, range=r)
            dep = (dependency or {}).get(method)
            for mod in MODS if dep else ():
                add("dependency", dep["final"][mod][i], modality=mod)
                add("dependency_normalised", dep["final"][mod][i], modality=mod)
            for e in range(epochs):
                add("noisy", float(e >= epochs // 2), epoch=e + 1)
                for mod in MODS if dep else ():
                    add("epoch_dependency", dep["history"][mod][i][e], epoch=e + 1, modality=mod)
            add("seconds", 10.0)
            add("cpu_seconds", 5.0)
    data = {str(s): ({"easy": list(easy)} if easy else {"dataset": dataset}) for s in SEEDS}
    return Results(frame(rows), {
        "dataset": dataset, "seeds": list(SEEDS), "variants": [variant], "methods": list(acc),
        "kinds": list(protocols), "protocols": protocols,
        "config": {"variants": {variant: {"model": {"num_levels": LEVELS,
                                                    "rescaling": rescaling},
                                          "train": {"epochs": epochs}}},
                   "data": data, "noise": {}}})
