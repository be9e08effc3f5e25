"""The typicality score: small on clean inputs, larger whichever way damage moves an input, and
carried by a checkpoint."""
import pytest
import torch

from udml.method import typicality
from udml.method.typicality import Typicality


def classes(n=300, d=6, seed=0):
    """Three Gaussian classes in d dimensions (the same three for every seed): (x (n, d),
    y (n,))."""
    y = torch.arange(n) % 3
    means = 4 * torch.randn(3, d, generator=torch.Generator().manual_seed(0))
    return means[y] + torch.randn(n, d, generator=torch.Generator().manual_seed(1 + seed)), y


def fitted(components=4):
    x, y = classes()
    return Typicality(3, components=components).fit([(x[:150], y[:150]), (x[150:], y[150:])])


def test_damage_either_way_is_less_typical_than_clean():
    typ = fitted()
    x, _ = classes(seed=1)  # new clean inputs of the same classes
    clean = typ(x).median()
    pushed = typ(x + 3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(2)))
    pulled = typ(x.mean(0) + 0.05 * (x - x.mean(0)))  # shrunk towards the average input
    assert typ(x).shape == (300,) and bool((typ(x) >= 0).all())
    assert pushed.median() > 2 * clean and pulled.median() > 2 * clean


def test_batches_do_not_change_the_fit():
    x, y = classes()
    one = Typicality(3, components=4).fit([(x, y)])
    torch.testing.assert_close(one(x), fitted()(x))


def test_the_view_is_what_is_read_and_a_wide_one_is_pooled(monkeypatch):
    x, y = classes()
    assert Typicality(3, view=lambda t: t[:, :3], components=2).fit([(x, y)]).basis.shape == (3, 2)
    monkeypatch.setattr(typicality, "MAX_VALUES", 4)
    wide = Typicality(3, components=2).fit([(x, y)])
    assert wide.basis.shape == (4, 2) and wide(x).shape == (300,)


def test_a_checkpoint_carries_the_fit():
    typ = fitted()
    fresh = Typicality(3, components=4)
    fresh.load_state_dict(typ.state_dict())
    x, _ = classes(seed=1)
    torch.testing.assert_close(fresh(x), typ(x))


def test_errors_name_the_problem():
    x, y = classes()
    with pytest.raises(RuntimeError, match="not fitted"):
        Typicality(3)(x)
    with pytest.raises(ValueError, match="every class"):
        Typicality(4).fit([(x, y)])
    with pytest.raises(ValueError, match="at least 2 training samples"):
        Typicality(3).fit([(x[:1], y[:1])])
    with pytest.raises(ValueError, match=">= 2 classes"):
        Typicality(1)
