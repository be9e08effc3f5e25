"""One run (udml.experiments.single): the permutation test after training, where the config asks
for it."""
import pytest

from udml.experiments.files import run_rows
from udml.experiments.registry import Experiment
from udml.experiments.single import train_and_evaluate

PROTOCOLS = ["clean", "random"]


@pytest.mark.parametrize("method, tested", [("naive", True), ("static", False)])
def test_a_run_with_permutations_keeps_the_test_of_a_dynamic_method(method, tested):
    exp = Experiment("t", ("synthetic",), (method,), (0,), base={"epochs": 1}, permutations=2)
    record = train_and_evaluate("synthetic", exp.resolve("default", method, 0), 0, PROTOCOLS)
    assert record["config"]["permutations"] == 2
    report = record["metrics"]["gaussian"]
    assert ("permutation" in report) == tested
    rows = [r for r in run_rows({**record, "job": {"variant": "default"}})
            if r["metric"].startswith("accuracy_")]
    assert {(r["metric"], r["protocol"]) for r in rows} == (
        {(m, p) for m in ("accuracy_permuted", "accuracy_permuted_std", "accuracy_oracle")
         for p in PROTOCOLS} if tested else set())


def test_a_run_that_holds_a_family_out_trains_on_the_others_and_tests_on_it():
    from udml.corrupt.families import FAMILY_NAMES
    exp = Experiment("t", ("synthetic",), ("udml-r",), (0,),
                     base={"epochs": 2, "held_out": "smear", "validate_every": 5})
    record = train_and_evaluate("synthetic", exp.resolve("default", "udml-r", 0), 0,
                                ["clean", "one:m0@11", "random"])
    assert list(record["metrics"]) == list(FAMILY_NAMES)
    assert set(record["metrics"]["smear"]["protocols"]) == {"clean", "one:m0@11", "random"}
    seen = set(record["metrics"]["noise"]["protocols"])
    assert seen == {"one:m0@11", "one:m1@11", "random"}
    kinds = [s["kind"] for s in record["config"]["noise"]["training"]["m0"]["mixture"]]
    assert "blur" not in kinds and len(kinds) == len(FAMILY_NAMES) - 1
    # validated at the end only (epoch 2 of 2; every 5 epochs otherwise)
    assert ["val_acc_clean" in h for h in record["history"]] == [False, True]


def test_an_unknown_family_is_refused_by_the_experiment():
    with pytest.raises(ValueError, match="unknown family of damage 'rain'"):
        Experiment("t", ("synthetic",), ("udml",), (0,), base={"held_out": "rain"})
