"""The noise-aware estimator: what it reads, with the gradient stopped, and its input widths."""
import pytest
import torch

from udml.method.estimator import READS, NoiseAwareEstimator, input_dim


@pytest.mark.parametrize("reads", READS)
def test_every_input_gives_one_positive_level_per_sample(reads):
    torch.manual_seed(0)
    k, f, b = 5, 7, 4
    est = NoiseAwareEstimator(input_dim(reads, k, f), "mlp", 8, 0.0, reads)
    logvar, mu, h = (torch.randn(b, n, requires_grad=True) for n in (k, k, f))
    z = torch.rand(b, requires_grad=True)
    s = est(logvar, mu, h, z)
    assert s.shape == (b,) and bool((s > 0).all())
    s.sum().backward()
    assert all(t.grad is None for t in (logvar, mu, h, z))  # stop-gradient


def test_widths_and_errors():
    assert [input_dim(r, 5, 7) for r in READS] == [5, 5, 10, 7, 1, 11]
    with pytest.raises(ValueError, match="unknown estimator input"):
        input_dim("pixels", 5, 7)
    with pytest.raises(ValueError, match="unknown estimator input"):
        NoiseAwareEstimator(5, reads="pixels")
    with pytest.raises(ValueError, match="reads features: pass features="):
        NoiseAwareEstimator(7, reads="features")(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="reads mu: pass mu="):
        NoiseAwareEstimator(10, reads="embedding")(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="reads typicality: pass typicality="):
        NoiseAwareEstimator(1, reads="typicality")(torch.zeros(2, 5))
