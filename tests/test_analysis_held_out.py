"""Leave one kind out, read back (udml.analysis.held_out), on a hand-made results file whose
summaries can be worked out by hand: two modalities a and b, three levels, three seeds."""
import pandas as pd
import pytest

from udml.analysis.held_out import (chosen_epochs, chosen_reads, epochs_choice, held_out_table,
                                    reads_choice)
from udml.corrupt.families import FAMILY_NAMES
from udml.experiments.files import Results, frame

SEEDS = (0, 1, 2)
TOP = 3
HELD = ("noise", "smear")
ACC = {"static": [0.5, 0.6, 0.7], "udml-r": [0.8, 0.85, 0.9]}   # with a destroyed, per seed
WEIGHTS = {"a": 0.1, "b": 1.9}                                   # udml-r with a destroyed


def toy(reads=None) -> Results:
    rows, variants = [], {}
    for held in HELD:
        variant = f"held out: {held}" + (f", reads {reads}" if reads else "")
        variants[variant] = {"model": {"num_levels": TOP, "rescaling": "residual",
                                       "estimator_input": reads or "sigma"},
                             "train": {"held_out": held}}
        for method, acc in ACC.items():
            for i, seed in enumerate(SEEDS):
                def add(metric, value, **at):
                    rows.append({"dataset": "toy", "variant": variant, "method": method,
                                 "seed": seed, "metric": metric, "value": value, **at})
                for fam in FAMILY_NAMES:
                    for p, v in (("clean", 0.95), ("random", 0.75), (f"one:a@{TOP}", acc[i]),
                                 (f"one:b@{TOP}", 0.9)):
                        add("accuracy", v, kind=fam, protocol=p)
                        add("unimodal_accuracy", 0.85, kind=fam, protocol=p, modality="b")
                        add("unimodal_accuracy", 0.3, kind=fam, protocol=p, modality="a")
                    if method == "udml-r":
                        for mod, w in WEIGHTS.items():
                            add("weight", w, kind=fam, protocol=f"one:a@{TOP}", modality=mod)
                        add("spearman", 0.6 + 0.1 * i, kind=fam, modality="a", range="all")
    record = {"dataset": "toy", "seeds": list(SEEDS), "methods": list(ACC),
              "config": {"variants": variants}}
    return Results(frame(rows), record)


def test_the_table_pairs_over_seeds_and_reads_the_weights():
    table = held_out_table(toy())
    assert sorted(set(table.family)) == sorted(HELD)
    row = table[(table.family == "smear") & (table.method == "udml-r")
                & (table.modality == "a")].iloc[0]
    assert row["top"] == pytest.approx(0.85)
    assert row["vs_static"] == pytest.approx(0.25)
    assert row["fallback"] == pytest.approx(0.85 - 0.85) and row["branch"] == pytest.approx(0.3)
    assert row["kept"] == pytest.approx(0.1 / 1.9)          # udml-r: w_m z_m
    assert row["kept_seen"] == pytest.approx(0.1 / 1.9)
    assert row["spearman"] == pytest.approx(0.7)
    assert row["clean"] == pytest.approx(0.95) and row["random"] == pytest.approx(0.75)
    static = table[(table.method == "static") & (table.modality == "a")].iloc[0]
    assert pd.isna(static["kept"]) and pd.isna(static["vs_static"])  # no weights, no self-pair


def test_with_more_than_two_modalities_no_single_branch_is_the_fall_back():
    res = toy()
    extra = res.rows[res.rows["modality"] == "b"].assign(modality="c")
    table = held_out_table(Results(pd.concat([res.rows, extra], ignore_index=True), res.record))
    assert sorted(set(table.modality)) == ["a", "b", "c"]
    assert table["fallback"].isna().all()
    assert held_out_table(res)["fallback"].notna().all()  # two modalities: it is defined


def test_a_file_without_held_out_variants_is_refused():
    res = toy()
    res = Results(res.rows, {**res.record, "config": {"variants": {
        "default": {"model": {"num_levels": TOP}, "train": {"held_out": ""}}}}})
    with pytest.raises(ValueError, match="no variant holds a family out"):
        held_out_table(res)


def test_the_choice_of_input_takes_the_highest_held_out_accuracy():
    table = reads_choice({"toy": toy("features")})
    assert list(table.reads) == ["features"]
    # the mean over the held-out family's noisy protocols (random and the two top levels) and
    # over both methods and seeds
    expected = (0.75 + sum(sum(a) / 3 for a in ACC.values()) / 2 + 0.9) / 3
    assert table.held_out_accuracy.iloc[0] == pytest.approx(expected)
    assert chosen_reads(pd.concat([table, table.assign(reads="sigma", held_out_accuracy=0.1)])) \
        == "features"


def test_the_comparison_at_every_protocol_is_holm_corrected():
    from udml.analysis.held_out import held_out_comparison
    table = held_out_comparison(toy(), "static", "udml-r")
    # static is 0.25 below udml-r with a destroyed (per seed 0.3 / 0.25 / 0.2): beyond the
    # spread, p = 0.013 on its own; equal elsewhere. Six comparisons: Holm multiplies the
    # smallest p by 6, which leaves it above 0.05, so nothing counts as below.
    worse = table[table.protocol == f"one:a@{TOP}"]
    assert list(worse.family) == list(HELD) and worse["diff"].tolist() == pytest.approx([-0.25] * 2)
    assert (worse["high"] < 0).all() and (worse["p"] < 0.05).all()
    assert worse["p_holm"].tolist() == pytest.approx([6 * worse["p"].iloc[0]] * 2)
    assert not table["below"].any()
    with pytest.raises(ValueError, match="no held-out family with both"):
        held_out_comparison(toy(), "static", "tmc")


def test_the_permutation_test_pairs_the_protocols_it_ran_under():
    from udml.analysis.held_out import held_out_permutation
    res = toy()
    acc = res.rows[(res.rows.metric == "accuracy") & (res.rows.method == "udml-r")
                   & (res.rows.protocol == f"one:a@{TOP}")]
    extra = [acc.assign(metric="accuracy_permuted", value=acc.value - 0.1),
             acc.assign(metric="accuracy_oracle", value=acc.value + 0.05)]
    res = Results(frame(pd.concat([res.rows, *extra], ignore_index=True)), res.record)
    table = held_out_permutation(res, methods=("udml-r", "static"))
    assert list(table.method) == ["udml-r"] * len(HELD)       # static has no permuted rows
    row = table.iloc[0]
    assert row["accuracy"] == pytest.approx(0.85)             # one:a@3 only, where it ran
    assert row["drop"]["diff"] == pytest.approx(0.1) and row["gain"]["diff"] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="no permutation test"):
        held_out_permutation(toy())


def test_the_command_prints_the_table_of_a_folder(tmp_path, capsys):
    from udml.analysis.held_out import main
    from udml.experiments.files import write_table
    res = toy()
    write_table(tmp_path / "toy.parquet", res.rows, res.record)
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("toy:") and "udml-r" in out and "smear" in out


def budget_file(clean: dict) -> Results:
    """A file of `held-out-av-budget`: {(epochs, method): [clean accuracy per seed]}, one family."""
    rows, variants = [], {}
    for (epochs, method), accs in clean.items():
        variant = f"held out: noise, {epochs} epochs"
        variants[variant] = {"model": {}, "train": {"held_out": "noise", "epochs": epochs}}
        rows += [{"dataset": "toy", "variant": variant, "method": method, "kind": "gaussian",
                  "protocol": "clean", "seed": seed, "metric": "accuracy", "value": a}
                 for seed, a in enumerate(accs)]
    return Results(pd.DataFrame(rows), {"dataset": "toy", "config": {"variants": variants}})


def test_the_budget_is_the_fewest_epochs_within_half_a_point_of_udml():
    res = budget_file({(6, "udml"): [0.99, 0.99], (6, "udml-r"): [0.5, 0.6],
                       (12, "udml"): [0.99, 0.99], (12, "udml-r"): [0.99, 0.982],
                       (18, "udml"): [0.99, 0.99], (18, "udml-r"): [1.0, 0.99]})
    table = epochs_choice(res)
    assert list(table.epochs) == [6, 12, 18]
    assert table.gap.iloc[0] == pytest.approx(-0.44)
    assert chosen_epochs(table) == 12  # -0.004 is within half a point; 18 is better but longer
    assert chosen_epochs(table, tolerance=0.001) == 18
    far = table.assign(gap=[-0.4, -0.1, -0.2])
    assert chosen_epochs(far) == 12  # none within: the smallest gap


def test_a_budget_file_without_udml_r_is_refused():
    with pytest.raises(ValueError, match=r"no \['udml-r'\]"):
        epochs_choice(budget_file({(6, "udml"): [0.9]}))
