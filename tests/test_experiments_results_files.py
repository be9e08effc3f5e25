"""The committed results files: every experiment the chapter reads has one merged file per
dataset, with every variant, method, protocol and >= 5 seeds, made with the configuration the
registry resolves today; and the experiments chapter's analysis (udml.analysis.claims,
udml.analysis.comparisons) runs on them and gives tables of the expected shape."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from udml.analysis import claims
from udml.analysis.comparisons import accuracy_table, level_curves, load_experiment, modalities, num_levels
from udml.config import METHODS, ModelConfig, TrainConfig, as_read_today, config_to_dict
from udml.data import load_dataset
from udml.training.evaluate import standard_protocols
from udml.experiments.registry import get_experiment
from udml.experiments.jobs import SEEN_KIND, unseen_protocols
from udml.experiments.files import read_results

RESULTS = Path(__file__).resolve().parents[1] / "results"
EXPERIMENTS = ("main", "gamma", "ablation", "extension")  # what the experiments chapter reads
CHECKED = EXPERIMENTS + ("av",)  # and the spoken-digit benchmark of the audio-visual chapter
# the permutation test and the lever study (five seeds each); the choices made on validation
# data (two seeds) are checked for their config only
FIVE_SEEDS = CHECKED + ("permutation", "permutation-av", "beta")
CHOICES = ("robust-choice", "held-out-av-budget")
# the leave-one-kind-out study, whose files may hold fewer methods than it registers (a sweep
# run with --methods): every variant and seed, the four methods its chapter cannot do without
LEAVE_ONE_OUT = ("held-out", "held-out-av")
CORE = ("static", "naive", "udml", "udml-r")

pytestmark = pytest.mark.skipif(
    not RESULTS.is_dir(), reason="no results/ folder in this checkout: it is made by "
    "`python -m udml sweep main --jobs 2` (and gamma, ablation, extension) and committed")


def _path(name: str, dataset: str) -> Path:
    path = RESULTS / name / f"{dataset}.parquet"
    if not path.is_file():
        pytest.fail(f"missing {path}: run `python -m udml sweep {name} --jobs 2`")
    return path


@pytest.fixture(scope="module")
def loaded() -> dict:
    for name in EXPERIMENTS:
        for dataset in get_experiment(name).datasets:
            _path(name, dataset)
    return {name: load_experiment(RESULTS / name) for name in EXPERIMENTS}


@pytest.mark.parametrize("name", FIVE_SEEDS)
def test_every_dataset_has_every_variant_method_and_at_least_five_seeds(name):
    exp = get_experiment(name)
    assert len(exp.seeds) >= 5
    for dataset in exp.datasets:
        m = read_results(_path(name, dataset))
        assert (m["dataset"], m["experiment"]["name"]) == (dataset, name)
        assert m["seeds"] == list(exp.seeds)
        assert m["variants"] == list(exp.variants) and m["methods"] == list(exp.methods)
        assert set(m.rows.dataset) == {dataset} and set(m.rows.seed) == set(exp.seeds)
        assert set(m.rows.variant) == set(exp.variants)
        for variant in exp.variants:
            assert set(m.rows.method[m.rows.variant == variant]) == set(exp.methods)
        for key in ("udml", "torch", "device"):
            assert m["environment"][key], f"{name}/{dataset}: no {key} in the environment"


@pytest.mark.parametrize("name", LEAVE_ONE_OUT)
def test_leave_one_kind_out_files_have_every_variant_seed_and_the_core_methods(name):
    exp = get_experiment(name)
    assert len(exp.seeds) >= 5 and set(CORE) <= set(exp.methods)
    for dataset in exp.datasets:
        m = read_results(_path(name, dataset))
        assert (m["dataset"], m["experiment"]["name"]) == (dataset, name)
        assert m["seeds"] == list(exp.seeds) and m["variants"] == list(exp.variants)
        assert set(CORE) <= set(m["methods"]) <= set(exp.methods), (dataset, m["methods"])
        assert set(m.rows.seed) == set(exp.seeds) and set(m.rows.variant) == set(exp.variants)
        for variant in exp.variants:  # the record says which methods it holds, and it does
            assert set(m.rows.method[m.rows.variant == variant]) == set(m["methods"])
        for key in ("udml", "torch", "device"):
            assert m["environment"][key], f"{name}/{dataset}: no {key} in the environment"


def _today(stored: dict, cls, drop: str) -> dict:
    """A stored config as today's library reads it, without ``drop``."""
    return {k: v for k, v in as_read_today(cls, stored).items() if k != drop}


@pytest.mark.parametrize("name", FIVE_SEEDS + CHOICES + LEAVE_ONE_OUT)
def test_files_were_made_with_the_registry_config(name):
    exp = get_experiment(name)
    for dataset in exp.datasets:
        m = read_results(_path(name, dataset))
        for variant in exp.variants:
            resolved = exp.resolve(variant, exp.methods[0], exp.seeds[0])
            stored = m["config"]["variants"][variant]
            assert _today(stored["model"], ModelConfig, "method") == {
                k: v for k, v in resolved["model"].items() if k != "method"}, \
                f"{name}/{dataset}/{variant}: stale"
            assert _today(stored["train"], TrainConfig, "seed") == {
                k: v for k, v in resolved["train"].items() if k != "seed"}


@pytest.mark.parametrize("name", CHECKED)
def test_every_protocol_has_a_value_for_every_seed(name):
    exp = get_experiment(name)
    for dataset in exp.datasets:
        m = read_results(_path(name, dataset))
        mods = load_dataset(dataset, seed=exp.seeds[0]).modalities
        assert modalities(m) == sorted(mods)
        levels = num_levels(m)
        assert m["kinds"] == [SEEN_KIND, *exp.unseen_kinds]
        assert m["protocols"][SEEN_KIND] == (list(exp.protocols) if exp.protocols
                                              else standard_protocols(mods, levels))
        for kind in exp.unseen_kinds:
            assert m["protocols"][kind] == unseen_protocols(mods, levels)
        acc = m.rows[m.rows.metric == "accuracy"]
        cells = acc.groupby(["variant", "method", "kind", "protocol"]).seed.apply(sorted)
        assert len(cells) == len(exp.variants) * len(exp.methods) * sum(
            map(len, m["protocols"].values()))
        assert all(seeds == sorted(exp.seeds) for seeds in cells), (name, dataset)
        assert acc.value.between(0.0, 1.0).all(), (name, dataset)


def test_the_chapter_analysis_agrees_with_the_files_in_shape(loaded):
    main = loaded["main"]
    datasets = list(get_experiment("main").datasets)
    assert list(main) == datasets
    found = claims.main_claims(main)
    for claim, per in found.items():
        assert list(per) == datasets
        for dataset, result in per.items():  # every claim is measured on every dataset
            assert result["verdict"] in claims.VERDICTS[:3], (claim, dataset, result["text"])
    for dataset, m in main.items():
        mods, levels = modalities(m), num_levels(m)
        table = accuracy_table(m, METHODS)
        assert table["methods"] == list(METHODS)
        assert table["groups"][:2] == ["clean", f"{mods[0]} noisy"]
        assert len(table["groups"]) == 1 + len(mods) + 2 + len(m["kinds"]) - 1
        curves = level_curves(m, METHODS)
        assert list(curves) == [*mods, "all"]
        assert all(len(c[meth]["mean"]) == levels for c in curves.values() for meth in METHODS)
        tracking = found["tracking"][dataset]
        assert list(tracking["table"]) == mods and tracking["methods"][:1] == ["udml"]
        dep = found["dependency"][dataset]
        epochs = m["config"]["variants"]["default"]["train"]["epochs"]
        assert dep["history"]["epochs"] == list(range(1, epochs + 1))
        assert len(dep["history"]["seeds"]) == len(m["seeds"])
        supp = found["suppression"][dataset]
        assert len(supp["rows"]) == sum(len(ps) for ps in m["protocols"].values())
        assert not any(math.isnan(r["naive_vs_static"]["diff"]) for r in supp["rows"])


@pytest.mark.parametrize("name,reverse", [("ablation", True), ("gamma", False),
                                          ("extension", False)])
def test_variant_effects_cover_every_variant_and_method(loaded, name, reverse):
    exp = get_experiment(name)
    effects = claims.variant_effects(loaded[name], loaded["main"], reverse=reverse)
    assert list(effects) == list(exp.datasets)
    for per in effects.values():
        assert set(per) == {(v, m) for v in exp.variants for m in exp.methods}
        assert all(r["verdict"] in claims.VERDICTS[:3] for r in per.values())


def test_the_levers_file_was_made_on_validation_data_with_the_registry_config():
    exp = get_experiment("levers")
    for dataset in exp.datasets:
        m = read_results(_path("levers", dataset))
        assert m["experiment"]["split"] == "val" and m["seeds"] == list(exp.seeds)
        for variant in exp.variants:
            resolved = exp.resolve(variant, "udml", exp.seeds[0])["model"]
            stored = m["config"]["variants"][variant]["model"]
            assert stored == {k: v for k, v in resolved.items() if k != "method"}, variant
            udml = m.rows[(m.rows.variant == variant) & (m.rows.method == "udml")]
            assert (udml.metric == "calibration_spearman").any(), variant


def test_the_registered_choices_are_the_ones_made_on_validation_data():
    from udml.analysis.held_out import chosen_epochs, chosen_reads, epochs_choice, reads_choice
    from udml.experiments.registry import HELD_OUT_AV_EPOCHS
    from udml.models.dynamic import ROBUST
    for name in CHOICES:
        exp = get_experiment(name)
        for dataset in exp.datasets:
            assert read_results(_path(name, dataset))["experiment"]["split"] == "val", name
    reads = load_experiment(RESULTS / "robust-choice")
    assert ROBUST["estimator_input"] == chosen_reads(reads_choice(reads))
    budget = read_results(_path("held-out-av-budget", "fsdd"))
    assert HELD_OUT_AV_EPOCHS == chosen_epochs(epochs_choice(budget))
    assert get_experiment("held-out-av").base["epochs"] == HELD_OUT_AV_EPOCHS


def test_the_bound_files_share_the_main_budget_and_cover_every_modality():
    main = get_experiment("main")
    for dataset in ("mfeat", "synthetic"):
        b = read_results(_path("bound", dataset))
        assert b["seeds"] == list(main.seeds)
        assert b["modalities"] == sorted(load_dataset(dataset, seed=0).modalities)
        resolved = main.resolve("default", "udml", 0)
        assert _today(b["config"]["train"], TrainConfig, "seed") == {
            k: v for k, v in resolved["train"].items() if k != "seed"}
        assert config_to_dict(ModelConfig(**b["config"]["model"])) == resolved["model"]
        rho = b.rows[b.rows.metric == "calibration_spearman"]
        assert sorted(set(rho.modality)) == b["modalities"] and set(rho.method) == {"bound"}
        assert rho.value.between(-1, 1).all()
