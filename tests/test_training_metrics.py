import math

import pytest
import torch

from udml.training.metrics import (ENDS, HALVES, accuracy, calibration_summary, level_halves,
                                  level_ranges, rank,
                                   spearman)


def test_accuracy():
    logits = torch.tensor([[2.0, 1.0], [0.0, 1.0], [3.0, 0.0]])
    assert accuracy(logits, torch.tensor([0, 0, 0])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="empty"):
        accuracy(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))


def test_rank_averages_ties():
    torch.testing.assert_close(rank(torch.tensor([10.0, 20.0, 10.0, 5.0])),
                               torch.tensor([2.5, 4.0, 2.5, 1.0], dtype=torch.float64))
    assert torch.equal(rank(torch.full((3,), 7.0)), torch.full((3,), 2.0, dtype=torch.float64))


def test_a_nan_makes_the_ranks_and_the_correlation_nan():
    x = torch.tensor([1.0, float("nan"), 3.0, 2.0])
    assert rank(x).isnan().all()
    assert math.isnan(spearman(x, torch.arange(4.0)))


def test_spearman_known_values():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert spearman(x, x ** 3) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)
    # ranks [1,2,3,4] vs [2,1,4,3]: rho = 1 - 6 * 4 / (4 * 15) = 0.6
    assert spearman(x, torch.tensor([2.0, 1.0, 4.0, 3.0])) == pytest.approx(0.6)
    assert math.isnan(spearman(x, torch.ones(4)))
    with pytest.raises(ValueError):
        spearman(x, x[:3])


def test_level_halves_share_the_middle_level():
    assert level_halves(11) == {"all": (1, 11), "lower_half": (1, 6), "upper_half": (6, 11)}
    assert level_halves(4) == {"all": (1, 4), "lower_half": (1, 2), "upper_half": (2, 4)}


def test_level_ranges_are_the_low_and_high_ends():
    assert level_ranges(11) == {"all": (1, 11), "low_end": (1, 4), "high_end": (8, 11)}
    assert level_ranges(2) == {"all": (1, 2), "low_end": (1, 1), "high_end": (2, 2)}


def test_a_range_name_means_one_range():
    # the two definitions share only "all", which is levels 1..L in both
    assert tuple(level_halves(11)) == HALVES and tuple(level_ranges(11)) == ENDS
    assert set(HALVES) & set(ENDS) == {"all"}
    assert level_halves(11)["all"] == level_ranges(11)["all"]


def test_calibration_summary_of_a_perfect_and_a_reversed_score():
    g = torch.Generator().manual_seed(0)
    noise = {lv: torch.rand(50, generator=g) * 0.1 for lv in range(1, 12)}
    rising = calibration_summary({lv: lv + noise[lv] for lv in noise}, 11)
    assert rising["spearman"]["all"] > 0.99 and rising["spearman"]["high_end"] > 0.9
    assert rising["mean"][0] == pytest.approx(1 + noise[1].double().mean().item())
    assert rising["std"][3] == pytest.approx((4 + noise[4]).double().std().item())
    falling = calibration_summary({lv: -lv + noise[lv] for lv in noise}, 11)
    assert falling["spearman"]["all"] < -0.99  # the sign is kept: a falling score is not a win


def test_calibration_summary_needs_every_level():
    with pytest.raises(ValueError, match=r"missing \[3\]"):
        calibration_summary({1: torch.ones(3), 2: torch.ones(3)}, 3)
