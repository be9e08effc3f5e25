import pytest
from _toy_results import MODS, UNSEEN, toy_merged

from udml.analysis import claims
from udml.analysis.stats import paired
from udml.training.metrics import HALVES, LOWER_HALF, UPPER_HALF

RANGES = HALVES
BASE = [0.8, 0.7, 0.9]
BETTER_B3 = ([0.8, 0.7, 0.9], {("gaussian", "one:b@3"): [0.9, 0.8, 1.0]})
WORSE_B3 = ([0.8, 0.7, 0.9], {("gaussian", "one:b@3"): [0.6, 0.52, 0.68]})


def _rho(value, spread=0.05):
    return [value, value - spread, value + spread]


def _spearman(udml=0.9, pe=0.3, qmf=0.1, pe_high=None):
    out = {"udml": {(m, r): _rho(udml) for m in MODS for r in RANGES},
           "pe": {(m, r): _rho(pe) for m in MODS for r in RANGES},
           "qmf": {(m, r): _rho(qmf) for m in MODS for r in RANGES}}
    if pe_high is not None:
        out["pe"][("b", UPPER_HALF)] = _rho(pe_high)
    return out


def _tracking(**kw):
    sp = _spearman(**kw)
    return toy_merged({m: BASE for m in sp}, spearman=sp)


# --- claim 1 ---------------------------------------------------------------------------------

def test_level_tracking_holds_when_the_estimate_beats_both_rivals_everywhere():
    out = claims.level_tracking(_tracking())
    assert out["verdict"] == "holds" and out["wins"] == 8 and out["losses"] == 0  # 2 x 2 x 2
    assert out["table"]["a"][LOWER_HALF]["udml"]["mean"] == pytest.approx(0.9)
    assert out["rises"]["b"]["direction"] == "better" and out["per_level"] is False
    assert "better in 8, worse in 0" in out["text"]


def test_level_tracking_partly_and_not():
    out = claims.level_tracking(_tracking(pe_high=0.99))  # PE wins on b's upper half
    assert out["verdict"] == "partly holds" and (out["wins"], out["losses"]) == (7, 1)
    bad = claims.level_tracking(_tracking(udml=0.0))
    assert bad["verdict"] == "does not hold" and bad["wins"] == 0
    assert "above 0 over all levels for 0 of 2" in bad["text"]


def test_level_tracking_not_measured_without_rivals():
    m = toy_merged({"udml": BASE}, spearman={"udml": {}})
    assert claims.level_tracking(m)["verdict"] == "not measured"


# --- claim 2 ---------------------------------------------------------------------------------

def _dep(final_a, first_a=(3.0, 3.2, 2.8)):
    """Final alpha of a (b = 2 - a) and the first epoch's raw d of a (b's d is 1)."""
    hist_a = [[fa, 3.0, 3.0, 3.0] for fa in first_a]
    return {"udml": {"final": {"a": list(final_a), "b": [2 - x for x in final_a]},
                     "history": {"a": hist_a, "b": [[1.0] * 4] * 3}}}


def test_dependency_history_normalises_each_epoch():
    m = toy_merged({"udml": BASE}, dependency=_dep([1.2, 1.3, 1.25]))
    h = claims.dependency_history(m, "udml")
    assert h["epochs"] == [1, 2, 3, 4] and h["seeds"] == [0, 1, 2] and h["first_noisy"] == 3
    # alpha_a = 2 d_a / (d_a + d_b): 2 * 3.2 / 4.2 in seed 1, epoch 1
    assert h["alpha"]["a"][1][0] == pytest.approx(6.4 / 4.2)
    assert h["alpha"]["b"][1][0] == pytest.approx(2.0 / 4.2)
    with pytest.raises(KeyError, match="no per-epoch dependency"):
        claims.dependency_history(toy_merged({"udml": BASE}), "udml")


def test_dependency_bias_holds_partly_and_not():
    m = toy_merged({"udml": BASE}, easy=["a"], dependency=_dep([1.2, 1.3, 1.25]))
    out = claims.dependency_bias(m)
    assert out["verdict"] == "holds" and out["most"] == "a" and out["early_epoch"] == 1
    assert out["easy"]["planted"] == ["a"] and out["at_end"]["diff"] == pytest.approx(0.25)
    assert "alpha = 1.25 at the end" in out["text"]
    early_tie = _dep([1.2, 1.3, 1.25], first_a=(1.0, 1.2, 0.8))  # alpha 1, 1.09, 0.89: no bias
    assert claims.dependency_bias(toy_merged({"udml": BASE}, easy=["a"],
                                             dependency=early_tie))["verdict"] == "partly holds"
    against = _dep([0.7, 0.8, 0.75], first_a=(0.5, 0.6, 0.4))  # relies on b
    out = claims.dependency_bias(toy_merged({"udml": BASE}, easy=["a"], dependency=against))
    assert out["verdict"] == "does not hold" and out["most"] == "b"


def test_easy_modality_from_unimodal_accuracy_and_not_measured():
    m = toy_merged({"static": BASE, "udml": BASE}, unimodal={"a": 0.5, "b": 0.9})
    easy = claims.easy_modality(m)
    assert easy["easy"] == "b" and easy["planted"] is None and easy["reference_method"] == "static"
    assert claims.dependency_bias(m)["verdict"] == "not measured"
    with pytest.raises(ValueError, match="early_fraction"):
        claims.dependency_bias(m, early_fraction=0.0)


# --- claim 3 ---------------------------------------------------------------------------------

def test_dual_suppression_found_and_removed():
    m = toy_merged({"static": BASE, "naive": WORSE_B3, "udml": BASE})
    out = claims.dual_suppression(m)
    assert out["verdict"] == "holds" and len(out["rows"]) == 14  # 8 Gaussian + 6 blur
    assert (out["worst"]["kind"], out["worst"]["protocol"]) == ("gaussian", "one:b@3")
    assert out["worst"]["naive_vs_static"]["diff"] == pytest.approx(-0.2)
    p = paired([0.6, 0.52, 0.68], BASE).p_value  # about 0.003: survives Holm over 14 tests
    assert out["worst"]["naive_vs_static"]["p_holm"] == pytest.approx(min(1.0, 14 * p))
    assert out["significant_after_holm"] == 1 and out["found"]
    assert out["count_p"] == pytest.approx(1 - 0.975 ** 14)  # P(at least 1 of 14 by chance)
    assert "at 1 of 14 protocols (about the 0.4 chance gives" in out["text"]
    assert "-20.0 points at gaussian one:b@3" in out["text"] and out["largest"] is out["worst"]


def test_dual_suppression_not_removed_and_not_found():
    m = toy_merged({"static": BASE, "naive": WORSE_B3, "udml": WORSE_B3})
    out = claims.dual_suppression(m)
    assert out["verdict"] == "partly holds" and len(out["not_removed"]) == 1
    none = claims.dual_suppression(toy_merged({"static": BASE, "naive": BASE, "udml": BASE}))
    assert none["verdict"] == "does not hold" and "nowhere below" in none["text"]
    assert claims.dual_suppression(toy_merged({"static": BASE}))["verdict"] == "not measured"


def test_a_single_shortfall_at_chance_level_does_not_count():
    # a larger but noisy drop at clean (-0.2 on average) and a small steady one at one:b@3
    # (p about 0.01: beyond the spread, but not after Holm over 14 tests, and 1 of 14 is chance)
    naive = (BASE, {("gaussian", "clean"): [0.2, 0.7, 0.9],
                    ("gaussian", "one:b@3"): [0.75, 0.64, 0.86]})
    out = claims.dual_suppression(toy_merged({"static": BASE, "naive": naive, "udml": BASE}))
    assert out["worst"]["protocol"] == "clean"  # the most negative mean ...
    assert out["largest"]["protocol"] == "one:b@3"  # ... is not beyond the spread
    assert out["verdict"] == "does not hold" and not out["found"]
    assert "drops is -5.0 points at gaussian one:b@3" in out["text"]


def test_many_small_shortfalls_count_without_surviving_holm():
    # beyond the spread at every Gaussian protocol (p about 0.04 each, none survives Holm):
    # 8 of 14 is far more than the 2.5% chance gives
    shortfall = ([0.75, 0.63, 0.87], {("blur", p): BASE for p in UNSEEN["blur"]})
    m = toy_merged({"static": BASE, "naive": shortfall, "udml": BASE})
    out = claims.dual_suppression(m)
    assert out["significant_after_holm"] == 0 and len(out["suppressed"]) == 8
    assert out["count_p"] < 0.05 and out["found"] and out["verdict"] == "holds"
    assert "(more than the 0.4 chance gives" in out["text"]


def test_dual_suppression_on_the_trained_kind_only_leaves_unseen_damage_out():
    # naive falls far below static only under blur, a kind never seen in training
    blur_drop = (BASE, {("blur", "one:a@3"): [0.6, 0.52, 0.68]})
    m = toy_merged({"static": BASE, "naive": blur_drop, "udml": BASE})
    assert claims.dual_suppression(m)["found"]  # every kind: the blur drop counts
    seen = claims.dual_suppression(m, kinds=("gaussian",))
    assert len(seen["rows"]) == 8 and {r["kind"] for r in seen["rows"]} == {"gaussian"}
    assert seen["verdict"] == "does not hold" and not seen["suppressed"]
    with pytest.raises(ValueError, match="no protocols of the kinds"):
        claims.dual_suppression(m, kinds=("fog",))


def test_a_shortfall_udml_shares_with_naive_is_not_removed():
    # UDML equals naive at the shortfall, with a wide interval against static: not a removal
    naive = (BASE, {("gaussian", "one:b@3"): [0.6, 0.52, 0.68]})
    udml = (BASE, {("gaussian", "one:b@3"): [0.4, 0.7, 0.7]})
    out = claims.dual_suppression(toy_merged({"static": BASE, "naive": naive, "udml": udml}))
    assert out["found"] and out["verdict"] == "partly holds" and len(out["not_removed"]) == 1


# --- claims 4 and 5 --------------------------------------------------------------------------

def test_beats_per_group():
    m = toy_merged({"static": BASE, "udml": BETTER_B3})
    out = claims.beats(m, "udml", m, "static")
    assert out["verdict"] == "holds" and out["better"] == ["b noisy"] and out["worse"] == []
    assert out["largest"] == "b noisy" and "+5.0 points (b noisy" in out["text"]
    assert out["holm_kept"] == ["b noisy"] and "above in 1, below in 0 of 6" in out["text"]
    # a difference whose 95% interval excludes 0 but that does not survive Holm's correction over
    # the six groups does not count (p about 0.02 per group, 0.12 after Holm)
    weak = toy_merged({"static": BASE,
                       "udml": (BASE, {("gaussian", "one:b@3"): [0.85, 0.73, 0.94]})})
    w = claims.beats(weak, "udml", weak, "static")
    assert w["raw_better"] == ["b noisy"] and w["better"] == [] and w["verdict"] == "does not hold"
    assert "uncorrected: above in 1" in w["text"]
    assert claims.beats(m, "static", m, "udml")["verdict"] == "does not hold"
    mixed = toy_merged({"static": BASE, "udml": (BASE, {("gaussian", "one:b@3"): [0.9, 0.8, 1.0],
                                                        ("gaussian", "clean"): [0.7, 0.6, 0.8]})})
    assert claims.beats(mixed, "udml", mixed, "static")["verdict"] == "partly holds"
    only = claims.beats(m, "udml", m, "static", groups=["clean"])
    assert only["verdict"] == "does not hold" and list(only["groups"]) == ["clean"]
    with pytest.raises(ValueError, match="none of the groups"):
        claims.beats(m, "udml", m, "static", groups=["nope"])
    assert claims.beats(m, "udml", m, "qmf")["verdict"] == "not measured"


def test_beats_across_experiments_pairs_variants():
    a = toy_merged({"udml": BETTER_B3}, variant="gamma=0")
    b = toy_merged({"udml": BASE})
    out = claims.beats(a, "udml", b, "udml", a_variant="gamma=0")
    assert out["verdict"] == "holds"


def test_comparison_combines_static_and_naive():
    m = toy_merged({"static": BASE, "naive": BASE, "udml": BETTER_B3, "qmf": BETTER_B3})
    out = claims.comparison(m)
    assert out["verdict"] == "holds" and set(out["against"]) == {"static", "naive", "qmf"}
    assert out["against"]["qmf"]["verdict"] == "does not hold"
    m = toy_merged({"static": BASE, "naive": BETTER_B3, "udml": BETTER_B3})
    assert claims.comparison(m)["verdict"] == "partly holds"
    assert claims.comparison(toy_merged({"udml": BASE}))["verdict"] == "not measured"
    assert claims.comparison(toy_merged({"static": BASE}))["verdict"] == "not measured"


def test_variant_effects_pair_each_variant_with_main():
    main = {"toy": toy_merged({"udml": BASE, "naive": BASE})}
    abl = {"toy": toy_merged({"udml": WORSE_B3}, variant="no KL"),
           "other": toy_merged({"udml": BASE}, dataset="other", variant="no KL")}
    out = claims.variant_effects(abl, main, reverse=True)  # does full UDML beat the variant?
    assert list(out) == ["toy"] and out["toy"][("no KL", "udml")]["verdict"] == "holds"
    fwd = claims.variant_effects(abl, main)
    assert fwd["toy"][("no KL", "udml")]["verdict"] == "does not hold"
    mapped = claims.variant_effects({"toy": toy_merged({"x": BETTER_B3}, variant="v")}, main,
                                    method_map={"x": "naive"})
    assert mapped["toy"][("v", "x")]["verdict"] == "holds"


def test_main_claims_runs_every_claim_on_every_dataset():
    main = {"toy": toy_merged({"static": BASE, "naive": WORSE_B3, "udml": BASE})}
    out = claims.main_claims(main)
    assert list(out) == ["tracking", "dependency", "suppression", "comparison"]
    assert out["suppression"]["toy"]["verdict"] == "holds"
    assert all(r["toy"]["verdict"] in claims.VERDICTS for r in out.values())
