"""udml.analysis.stats against values computed by hand (and a t table), plus its error paths."""
import math

import pytest

from udml.analysis import stats
# Student t quantiles t_{df, 0.975} from a printed table.
T975 = {3: 3.182446, 4: 2.776445}


def test_mean_and_sample_std_by_hand():
    v = [2, 4, 4, 4, 5, 5, 7, 9]            # sum 40; squared deviations sum to 32
    assert stats.mean(v) == 5.0
    assert stats.std(v) == pytest.approx(math.sqrt(32 / 7))


def test_mean_ci_by_hand_and_contains_the_mean():
    v = [1, 2, 3, 4, 5]                     # mean 3, s^2 = 10/4, se = sqrt(2.5 / 5)
    half = T975[4] * math.sqrt(0.5)
    low, high = stats.mean_ci(v)
    assert (low, high) == pytest.approx((3 - half, 3 + half), abs=1e-5)
    s = stats.summary(v)
    assert s["n"] == 5 and s["mean"] == 3.0 and s["std"] == pytest.approx(math.sqrt(2.5))
    assert s["low"] < s["mean"] < s["high"] and (s["low"], s["high"]) == stats.mean_ci(v)
    wider = stats.mean_ci(v, confidence=0.99)
    assert wider[0] < low and wider[1] > high


def test_paired_t_by_hand():
    a, b = [1, 2, 3, 4], [0, 1, 1, 2]       # d = 1, 1, 2, 2: mean 1.5, s^2 = 1/3, se = s / 2
    se = math.sqrt(1 / 3) / 2
    t = 1.5 / se                            # = 3 sqrt(3)
    assert t == pytest.approx(3 * math.sqrt(3))
    # Student t CDF with 3 degrees of freedom in closed form:
    # F(t) = 1/2 + (x / (1 + x^2) + atan(x)) / pi with x = t / sqrt(3)
    x = t / math.sqrt(3)
    p = 2 * (1 - (0.5 + (x / (1 + x * x) + math.atan(x)) / math.pi))
    r = stats.paired(a, b)
    assert r.n == 4 and r.test == "t"
    assert r.mean_diff == pytest.approx(1.5)
    assert r.std_diff == pytest.approx(math.sqrt(1 / 3))
    assert r.statistic == pytest.approx(t)
    assert r.p_value == pytest.approx(p, rel=1e-6)
    half = T975[3] * se
    assert (r.ci_low, r.ci_high) == pytest.approx((1.5 - half, 1.5 + half), abs=1e-5)
    assert r.exceeds_spread


def test_difference_within_the_spread_is_not_flagged():
    a, b = [1, 2, 3, 4], [2, 1, 4, 3]       # d = -1, 1, -1, 1: mean 0
    r = stats.paired(a, b)
    assert r.ci_low < 0 < r.ci_high
    assert not r.exceeds_spread
    assert r.p_value == pytest.approx(1.0)


def test_negative_difference_is_flagged_too():
    assert stats.paired([0, 1, 1, 2], [1, 2, 3, 4]).exceeds_spread


def test_wilcoxon_and_sign_exact_by_hand():
    a, b = [1, 2, 3, 4, 5], [0, 0, 0, 0, 0]  # five positive, distinct differences
    # all 2^5 sign patterns equally likely under H0; the observed one is the most extreme
    assert stats.paired(a, b, test="wilcoxon").p_value == pytest.approx(2 / 32)
    assert stats.paired(a, b, test="sign").p_value == pytest.approx(2 / 32)
    # 4 of 5 positive: P(K >= 4) = (5 + 1) / 32, two-sided doubles it
    r = stats.paired([1, 2, 3, 4, -5], [0] * 5, test="sign")
    assert r.statistic == 4 and r.p_value == pytest.approx(12 / 32)


def test_constant_differences():
    r = stats.paired([1.5, 2.5, 3.5], [1, 2, 3])  # every seed +0.5: no spread at all
    assert r.exceeds_spread and r.p_value == 0.0 and r.ci_low == r.ci_high == pytest.approx(0.5)
    same = stats.paired([1, 2, 3], [1, 2, 3])
    assert not same.exceeds_spread and same.p_value == 1.0
    assert stats.paired([1, 2, 3], [1, 2, 3], test="wilcoxon").p_value == 1.0


def test_mappings_are_aligned_by_seed():
    a = {0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0}
    b = {3: 2.0, 2: 1.0, 1: 1.0, 0: 0.0}    # same as the hand example, in another order
    assert stats.paired(a, b).mean_diff == pytest.approx(1.5)
    assert stats.paired_differences(a, b) == [1.0, 1.0, 2.0, 2.0]


def test_holm_by_hand():
    # sorted: 0.01 * 3 = 0.03, 0.03 * 2 = 0.06, 0.04 * 1 = 0.04 -> raised to the running max 0.06
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize("call, err, match", [
    (lambda: stats.paired({0: 1, 1: 2}, {0: 1, 2: 2}), ValueError, "same seeds"),
    (lambda: stats.paired([1, 2, 3], [1, 2]), ValueError, "equal lengths"),
    (lambda: stats.paired({0: 1, 1: 2}, [1, 2]), TypeError, "both"),
    (lambda: stats.paired([1], [0]), ValueError, "at least 2"),
    (lambda: stats.paired([1, 2], [0, 0], test="z"), ValueError, "unknown test"),
    (lambda: stats.paired([1, 2], [0, 0], confidence=1.5), ValueError, "confidence"),
    (lambda: stats.mean_ci([1.0, float("inf")]), ValueError, "infinite"),
    (lambda: stats.std([1.0]), ValueError, "at least 2"),
    (lambda: stats.mean([]), ValueError, "at least 1"),
    (lambda: stats.mean(["a"]), TypeError, "numbers"),
    (lambda: stats.holm([0.2, 1.5]), ValueError, r"\[0, 1\]"),
])
def test_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_a_missing_value_makes_its_statistics_missing():
    nan = float("nan")
    assert math.isnan(stats.mean([1.0, nan])) and math.isnan(stats.std([1.0, 2.0, nan]))
    s = stats.summary([1.0, nan, 3.0])
    assert s["n"] == 3 and all(math.isnan(s[k]) for k in ("mean", "std", "low", "high"))
    c = stats.paired([1.0, nan, 3.0], [0.0, 1.0, 2.0])
    assert math.isnan(c.mean_diff) and math.isnan(c.p_value) and not c.exceeds_spread
