"""The experiment registry: definitions, validation, overrides and the registered experiments."""
import pytest

from udml.experiments.jobs import make_jobs
from udml.experiments import registry as ex
from udml.config import METHODS
from udml.corrupt.scales import UNSEEN_KIND_SCALES


def make(**kw):
    args = dict(name="t", datasets=("mfeat",), methods=("static",), seeds=(0,))
    args.update(kw)
    return ex.Experiment(**args)


def test_registered_smoke_and_main():
    assert {"smoke", "main"} <= set(ex.experiment_names())
    smoke = ex.get_experiment("smoke")
    assert len(smoke.methods) == 2 and len(smoke.seeds) == 2
    assert smoke.resolve("default", smoke.methods[0], 0)["train"]["epochs"] == 2
    main = ex.get_experiment("main")
    assert main.methods == METHODS and main.seeds == (0, 1, 2, 3, 4)
    assert set(main.datasets) == {"mfeat", "mfeat-all", "synthetic"}
    assert set(main.unseen_kinds) == set(UNSEEN_KIND_SCALES)
    assert main.variants == {"default": {}} and main.protocols is None


def test_unknown_experiment_lists_the_names():
    with pytest.raises(ValueError, match="smoke"):
        ex.get_experiment("nope")


def test_split_overrides_routes_by_field():
    model, train = ex.split_overrides({"gamma": 0.0, "epochs": 3, "estimator": "affine"})
    assert model == {"gamma": 0.0, "estimator": "affine"} and train == {"epochs": 3}
    with pytest.raises(ValueError, match="'gama'"):
        ex.split_overrides({"gama": 0.0})
    for key in ("method", "seed", "progress"):
        with pytest.raises(ValueError, match="cannot be overridden"):
            ex.split_overrides({key: 1})
    with pytest.raises(TypeError, match="dict"):
        ex.split_overrides([("gamma", 0)])


def test_resolve_base_then_variant():
    e = make(base={"epochs": 2, "gamma": 1.0}, variants={"gamma=0": {"gamma": 0.0, "epochs": 3}})
    res = e.resolve("gamma=0", "udml", 7)
    assert res["model"]["gamma"] == 0.0 and res["model"]["method"] == "udml"
    assert res["train"]["epochs"] == 3 and res["train"]["seed"] == 7
    assert res["train"]["progress"] is False
    with pytest.raises(ValueError, match="no variant"):
        e.resolve("default", "udml", 0)


def test_definitions_are_copied():
    variants = {"a": {"gamma": 0.0}}
    e = make(variants=variants)
    variants["a"]["gamma"] = 5.0
    assert e.variants["a"]["gamma"] == 0.0


@pytest.mark.parametrize("kw, err, match", [
    (dict(name="has space"), ValueError, "experiment name"),
    (dict(datasets=("mnist",)), ValueError, "unknown dataset"),
    (dict(methods=("static", "magic")), ValueError, "unknown method"),
    (dict(methods=()), ValueError, "at least one method"),
    (dict(seeds=(0, 0)), ValueError, "duplicate seed"),
    (dict(seeds=(-1,)), ValueError, "ints >= 0"),
    (dict(seeds=(True,)), ValueError, "ints >= 0"),
    (dict(variants={}), ValueError, "non-empty"),
    (dict(variants={"a": 1}), TypeError, "dict of overrides"),
    (dict(variants={"a=b": {}, "a_b": {}}), ValueError, "same file name"),
    (dict(variants={"x": {"optimizer": "adam"}}), ValueError, "optimizer"),
    (dict(variants={"x": {"gama": 0}}), ValueError, "unknown setting"),
    (dict(base=[1]), TypeError, "base"),
    (dict(protocols=("clean", "noisy@3")), ValueError, "noise protocol"),
    (dict(unseen_kinds=("fog",)), ValueError, "unknown unseen kind"),
    (dict(split="train"), ValueError, "split must be 'val' or 'test'"),
])
def test_bad_definitions(kw, err, match):
    with pytest.raises(err, match=match):
        make(**kw)


def test_subset():
    e = make(methods=("static", "udml"), seeds=(0, 1, 2), variants={"a": {}, "b": {"gamma": 0.0}})
    s = e.subset(methods=["udml"], seeds=[2], variants=["b"])
    assert s.name == e.name and s.methods == ("udml",) and s.seeds == (2,)
    assert s.variants == {"b": {"gamma": 0.0}}
    assert e.subset().to_dict() == e.to_dict()
    assert e.subset(seeds=[9, 100]).seeds == (9, 100)  # any seeds, not only the registered
    assert ex.get_experiment("main").subset(seeds=[100, 101]).seeds == (100, 101)
    for bad, msg in (([1, 1], "duplicate seed"), ([-1], "ints >= 0"), ([], "at least one")):
        with pytest.raises(ValueError, match=msg):
            e.subset(seeds=bad)
    with pytest.raises(ValueError, match="unknown method"):
        e.subset(methods=["tmc"])


def test_register(monkeypatch):
    monkeypatch.setattr(ex, "_REGISTRY", dict(ex._REGISTRY))
    e = make(name="tmp-exp")
    assert ex.register(e) is e and ex.get_experiment("tmp-exp") is e
    ex.register(make(name="tmp-exp"))  # the same definition again: fine
    with pytest.raises(ValueError, match="already registered"):
        ex.register(make(name="tmp-exp", seeds=(1,)))
    with pytest.raises(TypeError):
        ex.register({"name": "x"})


def test_slug_and_to_dict():
    assert ex.slug("gamma=0.5") == "gamma_0.5" and ex.slug("no dep/ref") == "no_dep_ref"
    d = make(variants={"g": {"gamma": 0.0}}, unseen_kinds=("blur",)).to_dict()
    assert d["variants"] == {"g": {"gamma": 0.0}} and d["unseen_kinds"] == ["blur"]
    assert d["seeds"] == [0] and d["protocols"] is None and d["split"] == "test"


def test_the_levers_are_chosen_on_validation_data():
    levers = ex.get_experiment("levers")
    assert levers.split == "val" and levers.subset(seeds=[7]).split == "val"
    assert all(j.split == "val" for j in make_jobs(levers))
    assert {j.split for j in make_jobs(ex.get_experiment("main"))} == {"test"}
    # every variant states its regression target, whatever the library default
    assert all("estimator_target" in v for v in levers.variants.values())


def test_the_permutation_test_is_part_of_the_jobs_only_where_asked():
    perm = ex.get_experiment("permutation")
    assert perm.permutations == 10 and "static" in perm.methods and "late" not in perm.methods
    assert perm.datasets == ex.get_experiment("main").datasets
    assert all(j.config["permutations"] == 10 for j in make_jobs(perm.subset(seeds=[0])))
    assert perm.subset(seeds=[7]).permutations == 10 and perm.to_dict()["permutations"] == 10
    plain = make()
    assert "permutations" not in plain.to_dict()
    assert "permutations" not in plain.resolve("default", "static", 0)
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="permutations must be an int >= 0"):
            make(permutations=bad)
