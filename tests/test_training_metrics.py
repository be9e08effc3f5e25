import math

import pytest
import torch

from udml.training.metrics import accuracy, rank, spearman


def test_accuracy():
    logits = torch.tensor([[2.0, 1.0], [0.0, 1.0], [3.0, 0.0]])
    assert accuracy(logits, torch.tensor([0, 0, 0])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="empty"):
        accuracy(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))


def test_rank_averages_ties():
    torch.testing.assert_close(rank(torch.tensor([10.0, 20.0, 10.0, 5.0])),
                               torch.tensor([2.5, 4.0, 2.5, 1.0], dtype=torch.float64))


def test_spearman_known_values():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert spearman(x, x ** 3) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)
    # ranks [1,2,3,4] vs [2,1,4,3]: rho = 1 - 6 * 4 / (4 * 15) = 0.6
    assert spearman(x, torch.tensor([2.0, 1.0, 4.0, 3.0])) == pytest.approx(0.6)
    assert math.isnan(spearman(x, torch.ones(4)))
    with pytest.raises(ValueError):
        spearman(x, x[:3])
