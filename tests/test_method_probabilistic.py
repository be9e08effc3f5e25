import math

import pytest
import torch

from udml.method.estimator import NoiseAwareEstimator
from udml.method.losses import estimator_mse
from udml.method.probabilistic import ProbabilisticHead, kl_to_level_prior, reparameterise


def test_kl_is_zero_at_the_prior_and_matches_hand_value():
    level = torch.tensor([1, 4])
    mu = torch.zeros(2, 3)
    logvar = torch.log(level.float()).unsqueeze(1).expand(2, 3)
    torch.testing.assert_close(kl_to_level_prior(mu, logvar, level), torch.zeros(2))
    # one dim, mu = 1, sigma^2 = 1, l = 2: 0.5 * (1/2 + 1/2 - log(1/2) - 1) = 0.5 * log 2
    kl = kl_to_level_prior(torch.ones(1, 1), torch.zeros(1, 1), torch.tensor([2]))
    assert math.isclose(kl.item(), 0.5 * math.log(2), rel_tol=1e-6)


def test_reparameterise_is_mean_at_eval_and_random_in_training():
    mu, logvar = torch.zeros(4, 2), torch.zeros(4, 2)
    assert torch.equal(reparameterise(mu, logvar, training=False), mu)
    torch.manual_seed(0)
    assert not torch.equal(reparameterise(mu, logvar, training=True), mu)


def test_head_shapes_and_logvar_clamped():
    head = ProbabilisticHead(5, 3)
    with torch.no_grad():
        head.logvar.bias.fill_(100.0)
    mu, logvar = head(torch.randn(2, 5))
    assert mu.shape == logvar.shape == (2, 3)
    assert logvar.max().item() <= 10.0


def test_estimator_stops_the_gradient_and_is_positive():
    for form in ("affine", "mlp"):
        est = NoiseAwareEstimator(3, form)
        logvar = torch.randn(4, 3, requires_grad=True)
        s = est(logvar)
        assert s.shape == (4,) and (s > 0).all()
        s.sum().backward()
        assert logvar.grad is None
        assert est.g[0].weight.grad is not None


def test_estimator_reads_sigma_or_log_sigma():
    logvar = torch.tensor([[-4.0, 0.0, 2.0]])
    for reads, expect in (("sigma", torch.exp(0.5 * logvar)), ("log_sigma", 0.5 * logvar)):
        est = NoiseAwareEstimator(3, "affine", hidden=2, dropout=0.0, reads=reads).eval()
        torch.testing.assert_close(est(logvar), torch.exp(0.5 * est.g(expect).squeeze(1)))
    with pytest.raises(ValueError, match="estimator input"):
        NoiseAwareEstimator(3, reads="mu")


def test_estimator_mse_on_the_level_or_its_log():
    level = torch.tensor([1, 2, 11])
    s = level.float() * 2
    assert estimator_mse(s, level).item() == pytest.approx(((s - level) ** 2).mean().item())
    assert estimator_mse(s, level, "log_level").item() == pytest.approx(math.log(2) ** 2)
    assert estimator_mse(level.float(), level, "log_level").item() == 0.0
