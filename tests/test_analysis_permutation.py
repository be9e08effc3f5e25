import pandas as pd
import pytest
from _toy_results import SEEDS, toy_merged

from udml.analysis.permutation import permutation_finding, permutation_markdown, permutation_table
from udml.experiments.files import Results, frame

ACC = [0.9, 0.8, 0.85]
DROP = [0.18, 0.2, 0.22]    # permuting costs 20 points on average, give or take 2
GAIN = [0.05, 0.07, 0.06]   # the oracle adds 6


def with_test(merged: Results, method: str, oracle: bool = True) -> Results:
    """``merged`` plus permuted (and oracle) accuracies of ``method``: its accuracy minus DROP
    (plus GAIN) per seed, at every protocol."""
    acc = merged.rows[(merged.rows.metric == "accuracy") & (merged.rows.method == method)]
    per_seed = {s: i for i, s in enumerate(SEEDS)}
    extra = []
    for what, shift in (("accuracy_permuted", [-d for d in DROP]),
                        *((("accuracy_oracle", GAIN),) if oracle else ())):
        rows = acc.copy()
        rows["metric"] = what
        rows["value"] = [v + shift[per_seed[s]] for v, s in zip(rows.value, rows.seed)]
        extra.append(rows)
    return Results(frame(pd.concat([merged.rows, *extra], ignore_index=True)), merged.record)


@pytest.fixture
def merged():
    base = toy_merged({"static": ACC, "udml": ACC, "oracle": ACC})
    return with_test(with_test(base, "udml"), "oracle", oracle=False)


def test_drop_and_gain_are_paired_over_seeds(merged):
    table = permutation_table(merged)
    assert table["methods"] == ["static", "udml", "oracle"]
    assert "random" in table["groups"] and "unseen: blur" in table["groups"]
    cell = table["cells"]["random"]["udml"]
    assert cell["accuracy"]["mean"] == pytest.approx(0.85)
    assert cell["drop"]["diff"] == pytest.approx(0.2)
    assert cell["drop"]["n"] == 3 and cell["drop"]["exceeds"]
    assert cell["gain"]["diff"] == pytest.approx(0.06)
    # no scores: no drop, no gain; the oracle's score is the level: no gain
    assert table["cells"]["random"]["static"]["drop"] is None
    assert table["cells"]["random"]["oracle"]["gain"] is None
    assert table["cells"]["random"]["oracle"]["drop"]["diff"] == pytest.approx(0.2)


def test_the_markdown_table(merged):
    text = permutation_markdown({"toy": merged})
    line = next(ln for ln in text.splitlines() if "| udml | random |" in ln)
    assert "+20.0" in line and "+6.0" in line
    static = next(ln for ln in text.splitlines() if "| static | random |" in ln)
    assert static.count("–") == 2


def test_a_file_without_the_test_is_refused():
    with pytest.raises(ValueError, match="no permutation test in the file"):
        permutation_table(toy_merged({"udml": ACC}))


def test_the_command_prints_the_table_of_a_folder(merged, tmp_path, capsys):
    from udml.analysis.permutation import main
    from udml.experiments.files import write_table
    write_table(tmp_path / "toy.parquet", merged.rows, merged.record)
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{tmp_path}:") and "| toy | udml | random |" in out


def test_the_findings_in_sentences(merged):
    text = permutation_finding(permutation_table(merged), label=str.upper, rivals=("static",))
    assert "costs (in points) UDML +20.0; beyond the seed spread for UDML." in text
    assert "STATIC" not in text.split(".")[0]  # no scores, no drop
    assert "permuting the scores of UDML and STATIC costs accuracy beyond the spread in 1 of 1 " \
        "cases," in text  # static has no scores: only UDML's drop counts
    assert "changes UDML's accuracy by +6.0 to +6.0 points" in text


def cell(drop, exceeds=True, gain=None):
    return {"drop": {"diff": drop, "exceeds": exceeds},
            "gain": None if gain is None else {"diff": gain, "exceeds": True}}


def test_a_score_that_points_the_wrong_way_is_named():
    table = {"groups": ["random", "unseen: blur", "unseen: fog"], "methods": ["udml", "naive"],
             "cells": {"random": {"udml": cell(0.01, False, 0.02), "naive": cell(0.0, False)},
                       "unseen: blur": {"udml": cell(-0.03, True, 0.08), "naive": cell(-0.01)},
                       "unseen: fog": {"udml": cell(-0.03, False, 0.01), "naive": cell(0.02)}}}
    text = permutation_finding(table)
    assert "beyond the seed spread for none of them" in text
    assert "costs accuracy beyond the spread in 1 of 4 cases and *raises* it beyond the spread " \
        "in 2 of 4" in text
    assert "by +1.0 to +8.0 points" in text
    quiet = {**table, "cells": {**table["cells"], "unseen: blur": {
        "udml": cell(-0.03, False, 0.08), "naive": cell(0.0, False)}, "unseen: fog": {
        "udml": cell(0.01, False, 0.01), "naive": cell(0.0, False)}}}
    assert "changes nothing beyond the spread" in permutation_finding(quiet)
    wrong = {**quiet, "cells": {**quiet["cells"], "unseen: fog": {
        "udml": cell(-0.02, True, 0.01), "naive": cell(0.0, False)}}}
    assert "*raises* accuracy beyond the spread in 1 of 4" in permutation_finding(wrong)
    with pytest.raises(ValueError, match="needs 'tmc'"):
        permutation_finding(table, main="tmc")
