import pytest

from udml.training.schedule import Schedule


def test_reference_schedule_at_100_epochs():
    s = Schedule(100, 0.5, 0.6)
    assert (s.noisy_from, s.uncertainty_from) == (50, 60)
    assert not s.phase(49).noisy and s.phase(50).noisy
    assert not s.phase(59).use_uncertainty and s.phase(60).use_uncertainty


def test_schedule_scales_proportionally():
    s = Schedule(10, 0.5, 0.6)
    assert [s.phase(e).noisy for e in range(10)] == [False] * 5 + [True] * 5
    assert [s.phase(e).use_uncertainty for e in range(10)] == [False] * 6 + [True] * 4


def test_no_warmup():
    s = Schedule(4, 0.0, 0.0)
    assert all(s.phase(e).noisy and s.phase(e).use_uncertainty for e in range(4))


@pytest.mark.parametrize("args", [(0, 0.5, 0.6), (10, 0.7, 0.6), (10, -0.1, 0.5)])
def test_bad_schedules(args):
    with pytest.raises(ValueError):
        Schedule(*args)
