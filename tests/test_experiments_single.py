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
