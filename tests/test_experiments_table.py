"""The tidy table of merged results files: one row per stored value, every metric of the layout,
and a reader that refuses a file it would otherwise misread."""
import copy
import math
from pathlib import Path

import pytest
from _toy_results import GAUSS, SEEDS, UNSEEN, toy_merged

from udml.experiments.files import write_results
from udml.experiments.merge import read_merged
from udml.experiments.table import COLUMNS, SCHEMA, locate, protocol_level, results_table

RESULTS = Path(__file__).resolve().parents[1] / "results"


def _toy():
    m = toy_merged({"static": [0.8, 0.7, 0.9], "udml": [0.6, 0.5, 0.4]},
                   spearman={"udml": {("a", "low"): [0.1, 0.2, 0.3]}},
                   dependency={"udml": {"final": {"a": [1.2] * 3, "b": [0.8] * 3},
                                        "history": {"a": [[1.0, 2.0]] * 3, "b": [[1.0] * 2] * 3}}},
                   epochs=2)
    m["metrics"]["default"]["udml"]["calibration"] = {"gaussian": {"s_hat": {"a": {
        "mean": [[0.1, 0.2, 0.3]] * 3, "std": [[0.0, 0.1, 0.2]] * 3,
        "spearman": {r: [0.5] * 3 for r in ("all", "low", "high")}}}}}
    m["metrics"]["default"]["udml"]["mean_scores"] = {"gaussian": {"clean": {"s_hat": {
        "a": [0.2] * 3, "b": [0.3] * 3}}}}
    return m


def _rows(t, **where):
    for column, value in where.items():
        t = t[t[column].isna()] if value is None else t[t[column] == value]
    return t


def test_one_row_per_value_with_its_coordinates():
    t = results_table(_toy())
    assert tuple(t.columns) == COLUMNS and len(t) == len(t.drop_duplicates())
    n_protocols = len(GAUSS) + len(UNSEEN["blur"])
    # accuracy and two unimodal accuracies per protocol, seed and method
    assert len(_rows(t, metric="accuracy")) == 2 * 3 * n_protocols
    assert len(_rows(t, metric="unimodal_accuracy")) == 2 * 3 * n_protocols * 2
    clean = _rows(t, method="static", metric="accuracy", kind="gaussian", protocol="clean")
    assert clean.seed.tolist() == SEEDS and clean.value.tolist() == [0.8, 0.7, 0.9]
    assert set(clean.level) == {1} and clean.modality.isna().all()
    assert set(_rows(t, metric="accuracy", protocol="one:b@3").level) == {3}
    assert _rows(t, metric="accuracy", protocol="random").level.isna().all()
    low = _rows(t, metric="spearman", kind="blur", modality="a", range="low")
    assert low.value.tolist() == [0.1, 0.2, 0.3] and low.protocol.isna().all()


def test_lists_per_level_and_per_epoch_become_rows():
    t = results_table(_toy())
    means = _rows(t, metric="calibration_mean", score="s_hat", modality="a", seed=1)
    assert means.level.tolist() == [1, 2, 3] and means.value.tolist() == [0.1, 0.2, 0.3]
    assert len(_rows(t, metric="calibration_spearman", range="all")) == 3
    dep = _rows(t, metric="epoch_dependency", modality="a", seed=0)
    assert dep.epoch.tolist() == [1, 2] and dep.value.tolist() == [1.0, 2.0]
    assert _rows(t, metric="noisy", method="udml", seed=0).value.tolist() == [0.0, 1.0]  # 0 / 1
    assert _rows(t, metric="score", protocol="clean", modality="b").value.tolist() == [0.3] * 3
    assert _rows(t, metric="cpu_seconds").value.tolist() == [5.0] * 6
    assert {m for m, _, _ in SCHEMA} - set(t.metric) == {
        "weight", "train_acc", "val_acc_clean", "val_acc_noisy", "loss_total", "use_uncertainty"}


def test_null_values_have_no_row():
    m = _toy()
    m["metrics"]["default"]["static"]["accuracy"]["gaussian"]["clean"][1] = None
    clean = _rows(results_table(m), method="static", metric="accuracy", protocol="clean",
                  kind="gaussian")
    assert clean.seed.tolist() == [0, 2]


def test_a_list_one_seed_short_is_an_error_naming_the_entry():
    m = _toy()
    m["metrics"]["default"]["udml"]["unimodal"]["blur"]["all@3"]["b"].pop()
    with pytest.raises(ValueError, match=r"default/udml/unimodal/blur/all@3/b holds 2 values "
                                         r"for the 3 seeds"):
        results_table(m)
    m = _toy()
    m["metrics"]["default"]["udml"]["history"]["dependency"]["a"] = {"0": [1.0]}
    with pytest.raises(ValueError, match="history/dependency/a holds dict"):
        results_table(m)


def test_an_unknown_section_is_an_error_not_dropped():
    m = _toy()
    m["metrics"]["default"]["udml"]["mean_gates"] = {"gaussian": {}}
    with pytest.raises(ValueError, match=r"unknown entry default/udml/mean_gates .*does not drop"):
        results_table(m)
    m = _toy()
    m["metrics"]["default"]["udml"]["calibration"]["gaussian"]["s_hat"]["a"]["median"] = [[0]] * 3
    with pytest.raises(ValueError, match=r"unknown entry .*/s_hat/a/median \(known here: mean, "
                                         r"spearman, std\)"):
        results_table(m)


@pytest.mark.parametrize("bad", [math.nan, math.inf, "0.8", [0.8]])
def test_a_value_that_is_not_a_finite_number_is_an_error(bad):
    m = _toy()
    m["metrics"]["default"]["static"]["accuracy"]["blur"]["random"][2] = bad
    with pytest.raises(ValueError, match=r"static/accuracy/blur/random, seed 2 is .*finite number"):
        results_table(m)
    m = _toy()
    m["metrics"]["default"]["udml"]["calibration"]["gaussian"]["s_hat"]["a"]["std"][0] = [0, bad]
    with pytest.raises(ValueError, match=r"s_hat/a/std, seed 0, level 2 is"):
        results_table(m)


def test_the_record_itself_is_checked():
    m = _toy()
    m["layout"] = "udml-sweep-0"
    with pytest.raises(ValueError, match="not a merged sweep file"):
        results_table(m)
    m = _toy()
    del m["seeds"]
    with pytest.raises(ValueError, match="has no 'seeds' entry"):
        results_table(m)
    m = _toy()
    m["seeds"] = [0, 0, 1]
    with pytest.raises(ValueError, match="distinct integers"):
        results_table(m)
    m = _toy()
    m["metrics"]["other"] = m["metrics"]["default"]
    with pytest.raises(ValueError, match="variant 'other', which the file does not list"):
        results_table(m)
    m = _toy()
    m["metrics"]["default"]["qmf"] = {}
    with pytest.raises(ValueError, match=r"methods \['qmf'\] under 'default', which the file"):
        results_table(m)


def test_files_lists_and_folders(tmp_path):
    toy = _toy()
    for name in ("a", "b"):
        write_results(tmp_path / f"{name}.json", {**copy.deepcopy(toy), "dataset": name})
    both = results_table(tmp_path)
    assert list(dict.fromkeys(both.dataset)) == ["a", "b"] and len(both) == 2 * len(
        results_table(toy))
    assert both.equals(results_table([tmp_path / "a.json", tmp_path / "b.json"]))
    assert results_table(tmp_path / "a.json").equals(results_table(read_merged(tmp_path / "a.json")))
    assert list(results_table([]).columns) == list(COLUMNS)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no merged results"):
        results_table(tmp_path / "empty")
    write_results(tmp_path / "run.json", {"config": {}, "metrics": {}})
    with pytest.raises(ValueError, match="not a merged sweep file"):
        results_table(tmp_path / "run.json")


def test_locate_maps_a_path_of_the_file_onto_the_columns():
    steps, end = locate(("accuracy", "gaussian", "clean"))
    assert [(c, k) for c, k, _ in steps] == [(None, "accuracy"), ("kind", "gaussian"),
                                            ("protocol", "clean")] and end == ""
    assert steps[0][2] == {"accuracy"}
    steps, end = locate(("calibration", "gaussian"))
    assert steps[-1][2] == {"calibration_mean", "calibration_std", "calibration_spearman"}
    assert end is None  # short of the values
    assert locate(("history", "noisy"))[1] == "epoch"
    assert locate(("calibration", "k", "s", "m", "mean"))[1] == "level"
    for bad, matched in ((("nope",), 0), (("accuracy", "k", "p", "x"), 3),
                         (("calibration", "k", "s", "m", "median"), 4)):
        with pytest.raises(KeyError) as err:
            locate(bad)
        assert err.value.args == (matched,)


def test_protocol_level():
    assert [protocol_level(p) for p in ("clean", "one:pix@7", "all@11", "random", None)] == [
        1, 7, 11, None, None]


@pytest.mark.skipif(not RESULTS.is_dir(), reason="no committed results in this checkout")
def test_every_committed_file_reads_whole():
    for path in sorted(RESULTS.glob("*/*.json")):
        if path.parent.name == "bound":  # another layout (udml.experiments.bound)
            continue
        merged = read_merged(path)
        t = results_table(merged)
        n_seeds = len(merged["seeds"])
        acc = t[t.metric == "accuracy"]
        n_acc = sum(len(ps) for ps in merged["protocols"].values())
        assert len(acc) == n_seeds * n_acc * len(merged["methods"]) * len(merged["variants"])
        assert t.value.notna().all() and t.seed.isin(merged["seeds"]).all()
