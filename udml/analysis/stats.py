"""Statistics over seeds: means, spreads, confidence intervals and paired comparisons.

Every method of an experiment runs on the same seeds (the same data split, initialisation and test
noise per seed), so two methods are compared *paired*: per seed, the difference of their scores.
A difference is called larger than the seed-to-seed spread when the 95% confidence interval of
the mean paired difference (t distribution, n - 1 degrees of freedom) excludes 0.

    summary([0.91, 0.93, 0.92])          Summary: {"n", "mean", "std", "low", "high"}
    paired(udml_by_seed, static_by_seed)            PairedComparison(mean_diff, ci, p_value, ...)

Scores may be given as sequences (aligned by position) or as {seed: value} mappings (aligned by
seed; the seeds must match).  A missing value (NaN: a score that could not be computed) makes
every statistic of its set missing (NaN), never a skipped seed; an infinite value is an error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence, TypedDict

from scipy import stats as _st

TESTS = ("t", "wilcoxon", "sign")


def _values(values, what: str = "values", min_n: int = 1) -> list[float]:
    if isinstance(values, Mapping):
        values = [values[k] for k in sorted(values)]
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be numbers (a sequence or a {{seed: value}} mapping), "
                        f"got {values!r}") from None
    if len(out) < min_n:
        raise ValueError(f"{what} need at least {min_n} value(s), got {len(out)}")
    bad = [v for v in out if math.isinf(v)]
    if bad:
        raise ValueError(f"{what} contain infinite values {bad}")
    return out


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def mean(values) -> float:
    """Arithmetic mean."""
    v = _values(values)
    return sum(v) / len(v)


def std(values) -> float:
    """Sample standard deviation (n - 1 in the denominator); needs two values or more."""
    v = _values(values, min_n=2)
    m = sum(v) / len(v)
    return math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))


def _t_half_width(sd: float, n: int, confidence: float) -> float:
    """Half the width of the t interval of a mean of n values with sample std ``sd``:
    t_{n-1, (1+confidence)/2} * sd / sqrt(n), the quantile from scipy's t distribution.

    The interval is mean -/+ this, symmetric by construction, and a sample with no spread gets
    the point interval (mean, mean). scipy's own intervals do neither: ``t.interval`` (and
    ``ttest_rel(...).confidence_interval()``) take the lower quantile at (1 - confidence) / 2,
    0.025000000000000022 for 95 %, so the two ends differ in the last bits; ``t.interval`` returns
    NaN for a zero scale, and the t tests warn about precision loss when the differences are
    nearly equal (one test sample apart on every seed)."""
    return _st.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float]:
    """Confidence interval of the mean: mean -/+ t_{n-1, (1+confidence)/2} * std / sqrt(n)."""
    _check_confidence(confidence)
    v = _values(values, min_n=2)
    m, half = mean(v), _t_half_width(std(v), len(v), confidence)
    return m - half, m + half


class Summary(TypedDict):
    """One set of scores over seeds summarised: n, mean, sample std and the confidence interval
    (low, high) of the mean; the one summary type of the analysis, its tables and figures."""

    n: int
    mean: float
    std: float
    low: float
    high: float


def summary(values, confidence: float = 0.95) -> Summary:
    """The `Summary` of ``values`` (a sequence or a {seed: value} mapping); one value has no
    spread (NaN std and interval), a missing value makes every statistic missing."""
    v = _values(values, min_n=0)
    if not v:
        raise ValueError("no values to summarise")
    if len(v) == 1:
        return Summary(n=1, mean=v[0], std=math.nan, low=math.nan, high=math.nan)
    low, high = mean_ci(v, confidence)
    return Summary(n=len(v), mean=mean(v), std=std(v), low=low, high=high)


def paired_differences(a, b) -> list[float]:
    """a - b per seed.  Mappings are aligned by seed (the seed sets must be equal), sequences by
    position (the lengths must be equal)."""
    if isinstance(a, Mapping) != isinstance(b, Mapping):
        raise TypeError("give both scores as {seed: value} mappings or both as sequences")
    if isinstance(a, Mapping) and set(a) != set(b):
        raise ValueError(f"paired scores need the same seeds; only in a: "
                         f"{sorted(set(a) - set(b))}, only in b: {sorted(set(b) - set(a))}")
    va, vb = _values(a, "a"), _values(b, "b")
    if len(va) != len(vb):
        raise ValueError(f"paired scores need equal lengths, got {len(va)} and {len(vb)}")
    return [x - y for x, y in zip(va, vb)]


def _p_value(d: list[float], test: str, mean_d: float, sd: float) -> tuple[float, float]:
    """(statistic, two-sided p) of ``test`` on the differences d."""
    n = len(d)
    if test == "t":
        if sd == 0.0:  # every seed moved by the same amount: t = +-inf, or 0/0 when no change
            return (math.copysign(math.inf, mean_d), 0.0) if mean_d != 0 else (0.0, 1.0)
        t = mean_d / (sd / math.sqrt(n))
        return t, float(2 * _st.t.sf(abs(t), n - 1))
    nonzero = [x for x in d if x != 0.0]
    if not nonzero:
        return 0.0, 1.0
    if test == "sign":  # number of positive differences among the non-zero ones, Binomial(n, 1/2)
        k = sum(x > 0 for x in nonzero)
        return float(k), float(_st.binomtest(k, len(nonzero), 0.5).pvalue)
    res = _st.wilcoxon(nonzero, zero_method="wilcox", alternative="two-sided")
    return float(res.statistic), float(res.pvalue)


@dataclass(frozen=True)
class PairedComparison:
    """Paired comparison of a against b over seeds (differences a - b).

    ci_low/ci_high: confidence interval of the mean difference (t, n - 1 degrees of freedom);
    p_value: two-sided, from ``test`` (paired t, Wilcoxon signed-rank, or sign test);
    exceeds_spread: the interval excludes 0 (the difference is larger than the seed-to-seed spread).
    """

    n: int
    mean_diff: float
    std_diff: float
    ci_low: float
    ci_high: float
    test: str
    statistic: float
    p_value: float

    @property
    def exceeds_spread(self) -> bool:
        return self.ci_low > 0.0 or self.ci_high < 0.0


def paired(a, b, confidence: float = 0.95, test: str = "t") -> PairedComparison:
    """Compare scores ``a`` and ``b`` of the same seeds (see the module doc).

    The interval is always the t interval of the mean difference; ``test`` only chooses the
    p-value.  With 5 seeds the exact Wilcoxon and sign tests cannot go below p = 0.0625 (all five
    differences of one sign), so they can never reach 0.05 there: prefer the t test and the
    interval, and report the rank tests as a check that does not assume normal differences.
    """
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; choose one of {TESTS}")
    _check_confidence(confidence)
    d = paired_differences(a, b)
    if len(d) < 2:
        raise ValueError(f"a paired comparison needs at least 2 seeds, got {len(d)}")
    if any(math.isnan(x) for x in d):  # a missing value: the comparison is missing
        return PairedComparison(len(d), *[math.nan] * 4, test, math.nan, math.nan)
    m, sd = mean(d), std(d)
    half = _t_half_width(sd, len(d), confidence)
    stat, p = _p_value(d, test, m, sd)
    return PairedComparison(len(d), m, sd, m - half, m + half, test, stat, p)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order as given), for a family of comparisons
    such as one method against every other: adjusted p_(i) = max_{j<=i} min(1, (m - j + 1) p_(j))
    over the p-values sorted ascending."""
    p = _values(p_values, "p-values")
    if any(not 0.0 <= x <= 1.0 for x in p):
        raise ValueError(f"p-values must lie in [0, 1], got {p}")
    order = sorted(range(len(p)), key=p.__getitem__)
    out, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        out[i] = running
    return out
