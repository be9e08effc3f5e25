import numpy as np
import pytest
import torch

from udml.method.dependency import (DependencyTracker, dropout_dependency, normalised_dependency,
                                    reference_dependency)
from udml.method.heads import ConcatHead


def _head_ignoring_second():
    head = ConcatHead(2, 2, 3)
    with torch.no_grad():
        head.fc.weight.zero_()
        head.fc.weight[:, :2] = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
        head.fc.bias.copy_(torch.tensor([0.5, -0.5, 0.0]))
    return head


def test_dropping_an_ignored_modality_gives_zero():
    z = torch.randn(5, 2, 2)
    d = dropout_dependency(_head_ignoring_second(), z)
    assert d[1].item() == 0.0
    # modality 0: |pi - pi_-0| = |W_0 z_0| summed over classes, batch mean
    w0 = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    expected = (z[:, 0] @ w0.T).abs().sum(1).mean()
    torch.testing.assert_close(d[0], expected)


def test_reference_variant_includes_bias():
    z = torch.zeros(4, 2, 2)
    d = reference_dependency(_head_ignoring_second(), z)
    # all inputs zero: both modalities give |b|_1 = 1.0
    torch.testing.assert_close(d, torch.tensor([1.0, 1.0]))


def test_tracker_ema_and_normalisation():
    head = _head_ignoring_second()
    tr = DependencyTracker(2, "paper", momentum=0.5)
    torch.testing.assert_close(tr.value, torch.ones(2))
    z1 = torch.ones(1, 2, 2)                 # d = [|1|+|2|+|2|, 0] = [5, 0]
    tr.update(head, z1)
    torch.testing.assert_close(tr.value, torch.tensor([5.0, 0.0]))
    tr.update(head, 2 * z1)                  # d = [10, 0] -> 0.5 * 5 + 0.5 * 10
    torch.testing.assert_close(tr.value, torch.tensor([7.5, 0.0]))
    torch.testing.assert_close(tr.normalised(), torch.tensor([2.0, 0.0]))
    assert (tr.for_weights() > 0).all()
    assert int(tr.updates) == 2


def test_normalised_dependency_sums_to_m_per_column_on_tensors_and_arrays():
    d = np.array([[1.0, 0.0, 2.0], [3.0, 0.0, 2.0], [0.0, 0.0, 2.0]])  # (M, E) = (3, 3)
    alpha = normalised_dependency(d)
    np.testing.assert_allclose(alpha[:, 0], [0.75, 2.25, 0.0])
    np.testing.assert_array_equal(alpha[:, 1:], np.ones((3, 2)))  # a zero column, an even one
    assert np.array_equal(normalised_dependency(torch.from_numpy(d)).numpy(), alpha)
    one = normalised_dependency(torch.tensor([7.5, 0.0]))          # (M,): the tracker's value
    assert one.tolist() == [2.0, 0.0] and one.dtype == torch.float32


def test_tracker_state_roundtrip():
    tr = DependencyTracker(3)
    tr.update(ConcatHead(3, 2, 4), torch.randn(6, 3, 2))
    other = DependencyTracker(3)
    other.load_state_dict(tr.state_dict())
    torch.testing.assert_close(other.value, tr.value)
    assert int(other.updates) == 1


def test_tracker_bad_arguments():
    with pytest.raises(ValueError, match="unknown dependency form"):
        DependencyTracker(2, "nope")
    with pytest.raises(ValueError, match="momentum"):
        DependencyTracker(2, momentum=0.0)


def test_tracker_refuses_non_finite():
    head = ConcatHead(2, 2, 3)
    with pytest.raises(FloatingPointError, match="non-finite"):
        DependencyTracker(2).update(head, torch.full((2, 2, 2), float("inf")))
