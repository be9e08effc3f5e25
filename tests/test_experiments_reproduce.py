import pytest
from _toy_results import toy_merged

from udml.experiments.registry import Experiment, get_experiment
from udml.experiments.reproduce import find_job, rerun, rerun_difference
from udml.experiments.runner import run_experiment
from udml.experiments.files import read_results


def _toy():
    return toy_merged({"static": [0.8, 0.7, 0.9],
                       "udml": ([0.8, 0.7, 0.9], {("gaussian", "one:b@3"): [0.9, 0.8, 1.0]})})


def _record_from(m, method, seed):
    """The run record a re-run of (method, seed) would give if it reproduced the file."""
    rows = m.rows[(m.rows.method == method) & (m.rows.seed == seed)]
    metrics = {}
    for r in rows[rows.metric == "accuracy"].itertuples():
        uni = rows[(rows.metric == "unimodal_accuracy") & (rows.kind == r.kind)
                   & (rows.protocol == r.protocol)]
        metrics.setdefault(r.kind, {"protocols": {}})["protocols"][r.protocol] = {
            "accuracy": r.value, "unimodal": dict(zip(uni.modality, uni.value))}
    return {"config": {"dataset": m["dataset"], "model": {"method": method}}, "seed": seed,
            "job": {"variant": "default"}, "metrics": metrics}


def test_rerun_difference_is_zero_for_a_reproduced_run_and_finds_the_worst_value():
    m = _toy()
    rec = _record_from(m, "udml", 1)
    got = rerun_difference(rec, m, "udml", 1)
    assert got["max_abs_diff"] == 0.0 and got["compared"] == (8 + 6) * 3  # acc + 2 unimodal
    rec["metrics"]["blur"]["protocols"]["random"]["accuracy"] += 0.25
    got = rerun_difference(rec, m, "udml", 1)
    assert got["max_abs_diff"] == pytest.approx(0.25)
    assert got["worst"] == ("accuracy", "blur", "random", None, None)
    assert got["median_rel_diff"] == 0.0  # one metric of 42 moved
    for kind in rec["metrics"].values():  # every accuracy and unimodal accuracy drifts by 0.1
        for protocol in kind["protocols"].values():
            protocol["accuracy"] += 0.1
            protocol["unimodal"] = {mod: v + 0.1 for mod, v in protocol["unimodal"].items()}
    assert rerun_difference(rec, m, "udml", 1)["median_rel_diff"] == pytest.approx(0.1)
    del rec["metrics"]["blur"]
    with pytest.raises(ValueError, match="different metrics"):
        rerun_difference(rec, m, "udml", 1)
    with pytest.raises(ValueError, match="seed 7"):
        rerun_difference(rec, m, "udml", 7)


def test_find_job_picks_the_grid_cell_and_names_what_exists():
    job = find_job("main", "synthetic", "qmf", 3)
    assert (job.experiment, job.dataset, job.variant, job.method, job.seed) == \
        ("main", "synthetic", "default", "qmf", 3)
    assert find_job("gamma", "mfeat", "udml", 0).config["model"]["gamma"] == 0.0
    with pytest.raises(ValueError, match="has no job.*seeds \\[0, 1, 2, 3, 4\\]"):
        find_job("main", "mfeat", "udml", 9)
    with pytest.raises(ValueError, match="unknown experiment"):
        find_job("nope", "mfeat", "udml", 0)


def test_rerun_reproduces_the_sweep_bit_for_bit(tmp_path):
    """One epoch of static fusion on the clean protocol only: the sweep's file, then a re-run."""
    exp = Experiment("tiny-repro", ("mfeat",), ("static",), (0, 1), base={"epochs": 1},
                     protocols=("clean", "one:pix@11"))
    [path] = run_experiment(exp, jobs=1, out_dir=tmp_path, progress=False)
    merged = read_results(path)
    job = find_job(exp, "mfeat", "static", 1)
    assert get_experiment("main").name == "main"  # the registry is untouched
    record = rerun(job)
    got = rerun_difference(record, merged, "static", 1)
    # per protocol: accuracy + 2 unimodal accuracies; and the 2 dependency values
    assert got["max_abs_diff"] == 0.0 and got["compared"] == 2 * (1 + 2) + 2
