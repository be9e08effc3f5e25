"""The noise calibration: a seeded unimodal classifier per (modality, scale), trained by the one
loop; the smallest scale that brings the top level near chance is chosen."""
import pytest

from udml.data import load_dataset
from udml.training.calibrate import calibrate, unimodal_top_level_accuracy


@pytest.fixture(scope="module")
def splits():
    return load_dataset("synthetic", seed=0)


def test_top_level_accuracy_is_seeded_and_falls_with_the_scale(splits):
    a = unimodal_top_level_accuracy(splits, "m0", 0.25, epochs=2, seed=0)
    assert a == unimodal_top_level_accuracy(splits, "m0", 0.25, epochs=2, seed=0)
    assert unimodal_top_level_accuracy(splits, "m0", 64.0, epochs=2, seed=0) < a


def test_the_first_scale_reaching_the_target_is_chosen(splits):
    res = calibrate(splits, chance_factor=2.0, grid=(0.25, 64.0), epochs=2)
    for m in splits.modalities:
        assert res["scales"][m] == res["curves"][m][-1][0]
        assert res["curves"][m][-1][1] <= 2.0 / splits.num_classes


def test_a_grid_that_never_reaches_the_target_is_an_error(splits):
    with pytest.raises(RuntimeError, match="no scale in"):
        calibrate(splits, chance_factor=2.0, grid=(0.01,), epochs=1)
