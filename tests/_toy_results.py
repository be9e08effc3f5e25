"""A hand-made merged results file (the layout of udml.experiments.merge.merge_runs) for the tests
of udml.analysis.comparisons and udml.analysis.claims: two modalities a and b, three levels, three
seeds, every number chosen so that the expected summaries can be worked out by hand."""
from __future__ import annotations

SEEDS = [0, 1, 2]
MODS = ["a", "b"]
LEVELS = 3
GAUSS = ["clean", "one:a@2", "one:a@3", "one:b@2", "one:b@3", "all@2", "all@3", "random"]
UNSEEN = {"blur": ["one:a@3", "one:a@2", "one:b@3", "one:b@2", "all@3", "random"]}


def toy_merged(acc: dict, dataset: str = "toy", variant: str = "default", easy=None,
               unimodal=None, spearman=None, dependency=None, epochs: int = 4,
               weights=None, rescaling: str = "residual") -> dict:
    """acc: {method: [base accuracy per seed] | (base, {(kind, protocol): [per seed]})};
    unimodal: {modality: clean unimodal accuracy} (all seeds, all methods);
    spearman: {method: {(modality, range): [per seed]}} (missing entries: 0.0);
    dependency: {method: {"final": {mod: [per seed]}, "history": {mod: [[per epoch]] per seed}}};
    weights: {method: {Gaussian protocol: {modality: mean weight}}} (all seeds).
    """
    unimodal = unimodal or {"a": 0.9, "b": 0.6}
    protocols = {"gaussian": list(GAUSS), **{k: list(v) for k, v in UNSEEN.items()}}
    metrics = {}
    for method, spec in acc.items():
        base, over = spec if isinstance(spec, tuple) else (spec, {})
        m = {"accuracy": {k: {p: list(over.get((k, p), base)) for p in ps}
                          for k, ps in protocols.items()},
             "unimodal": {k: {p: {mod: [unimodal[mod]] * len(SEEDS) for mod in MODS}
                              for p in ps} for k, ps in protocols.items()},
             "history": {"noisy": [[e >= epochs // 2 for e in range(epochs)]] * len(SEEDS)},
             "seconds": [10.0] * len(SEEDS), "cpu_seconds": [5.0] * len(SEEDS)}
        if spearman is not None and method in spearman:
            m["spearman"] = {k: {mod: {r: list(spearman[method].get((mod, r), [0.0] * 3))
                                       for r in ("overall", "low", "high")} for mod in MODS}
                             for k in protocols}
        if weights is not None and method in weights:
            m["mean_weights"] = {"gaussian": {p: {mod: [w] * len(SEEDS) for mod, w in by.items()}
                                              for p, by in weights[method].items()}}
        if dependency is not None and method in dependency:
            m["dependency_normalised"] = dependency[method]["final"]
            m["dependency"] = dependency[method]["final"]
            m["history"]["dependency"] = dependency[method]["history"]
        metrics[method] = m
    data = {str(s): ({"easy": list(easy)} if easy else {"dataset": dataset}) for s in SEEDS}
    return {"format": "udml-results", "layout": "udml-sweep-1", "dataset": dataset,
            "seeds": list(SEEDS), "variants": [variant], "methods": list(acc),
            "kinds": list(protocols), "protocols": protocols,
            "config": {"variants": {variant: {"model": {"num_levels": LEVELS,
                                                        "rescaling": rescaling},
                                              "train": {"epochs": epochs}}},
                       "data": data, "noise": {}},
            "metrics": {variant: metrics}}
