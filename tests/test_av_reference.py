import dataclasses

import pytest

from udml.av.reference import REFERENCE_CREMAD, QuotedResult


def test_the_quoted_number_is_the_one_in_the_checkpoint_name():
    # the checkpoint name reads 66.05 (%): 465 right of the 704 clips scored, at epoch 91
    assert round(100 * REFERENCE_CREMAD.accuracy, 2) == 66.05
    assert (REFERENCE_CREMAD.correct, REFERENCE_CREMAD.scored) == (465, 704)
    assert REFERENCE_CREMAD.epoch == 91 and REFERENCE_CREMAD.dataset == "CREMA-D"


def test_the_dropped_clips_and_the_caveats_are_recorded():
    assert REFERENCE_CREMAD.unscored == 744 - 704
    text = " ".join(REFERENCE_CREMAD.caveats)
    assert "drops the last" in text and "test set" in text


def test_the_constant_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        REFERENCE_CREMAD.correct = 500


@pytest.mark.parametrize("correct, scored, clips", [(-1, 2, 3), (3, 2, 3), (1, 4, 3)])
def test_inconsistent_counts_are_refused(correct, scored, clips):
    with pytest.raises(ValueError, match="correct <= scored <= test_clips"):
        QuotedResult("d", "m", correct, scored, clips, 1, "s", ())
