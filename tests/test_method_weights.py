import math

import pytest
import torch

from udml.method.weights import rescale, unbiased_weights


def test_weights_sum_to_m_and_match_hand_computation():
    s = torch.tensor([[1.0, 2.0], [3.0, 1.0]])
    d = torch.tensor([1.0, 0.5])
    w = unbiased_weights(s, d)
    # u = 1 / (s^2 d): row 0 -> [1, 1/2], row 1 -> [1/9, 2]
    u = torch.tensor([[1.0, 0.5], [1 / 9, 2.0]])
    expected = 2 * u / u.sum(1, keepdim=True)
    torch.testing.assert_close(w, expected)
    torch.testing.assert_close(w.sum(1), torch.full((2,), 2.0))


def test_equal_dependency_is_inverse_variance_weighting():
    s = torch.tensor([[1.0, 2.0, 4.0]])
    w = unbiased_weights(s, torch.full((3,), 7.0))
    inv_var = 1 / s.pow(2)
    torch.testing.assert_close(w, 3 * inv_var / inv_var.sum())


def test_equal_uncertainty_boosts_the_less_relied_on_modality():
    w = unbiased_weights(torch.ones(1, 2), torch.tensor([3.0, 1.0]))
    assert w[0, 1] > w[0, 0]
    torch.testing.assert_close(w, torch.tensor([[0.5, 1.5]]))


def test_underflowing_s_hat_gives_the_limit_not_nan():
    # s = 1e-30: s^2 underflows in float32, so the direct form reads u = inf and inf / inf.
    s = torch.tensor([[1e-30, 1.0, 2.0], [1.0, 2.0, 4.0], [1e-30, 1e-30, math.inf]])
    d = torch.tensor([1.0, 2.0, 0.5])
    w = unbiased_weights(s, d)
    assert w.isfinite().all()
    torch.testing.assert_close(w[0], torch.tensor([3.0, 0.0, 0.0]))
    torch.testing.assert_close(w[2], torch.tensor([2.0, 1.0, 0.0]))  # u in ratio 1 / D: 1 : 1/2
    # the rows the direct form gets right are its own, bit for bit
    assert torch.equal(w[1], unbiased_weights(s[1:2], d)[0])
    # the same weights in float64, where nothing underflows
    torch.testing.assert_close(w[0], unbiased_weights(s[:1].double(), d.double())[0].float())


def test_underflow_leaves_the_gradient_finite():
    log_s = torch.tensor([[-70.0, 0.0], [0.0, 1.0]], requires_grad=True)
    unbiased_weights(log_s.exp(), torch.ones(2))[:, 0].sum().backward()
    assert log_s.grad.isfinite().all()


def test_rescale_is_residual():
    z = torch.ones(1, 2, 3)
    out = rescale(z, torch.tensor([[0.5, 1.5]]))
    torch.testing.assert_close(out[0, :, 0], torch.tensor([1.5, 2.5]))


@pytest.mark.parametrize("s,d,msg", [
    (torch.ones(2), torch.ones(2), "s_hat must be"),
    (torch.ones(2, 2), torch.ones(3), "dependency must be"),
    (torch.zeros(2, 2), torch.ones(2), "strictly positive"),
    (torch.ones(2, 2), torch.tensor([1.0, -1.0]), "strictly positive"),
    (torch.tensor([[1.0, math.nan]]), torch.ones(2), "NaN"),
    (torch.ones(1, 2), torch.tensor([1.0, math.inf]), "not finite"),
    (torch.full((1, 2), math.inf), torch.ones(2), "infinite"),
])
def test_bad_inputs(s, d, msg):
    with pytest.raises(ValueError, match=msg):
        unbiased_weights(s, d)
