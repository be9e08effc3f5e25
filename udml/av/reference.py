"""The one grounded number of the reference code, kept in one place as a quoted constant.

The reference implementation of UDML ships no results table. The only accuracy it grounds is
in the name of a saved CREMA-D checkpoint: 465 of 704 test clips right at epoch 91, i.e.
66.05 %. It is a *quoted* number, not a result of this package, and two defects of the
reference code (method.md section 6) qualify it:

- the test loader drops the last incomplete batch, so only 704 of the 744 test clips of the
  OGM-GE split are scored;
- the best epoch is chosen on that same test set (there is no validation split), so the number
  is an optimistic, test-selected maximum over 100 epochs.

Accuracies quoted online for the paper (67.2 static / 65.8 PE-dynamic / 71.5 UDML on CREMA-D)
could not be traced to the paper and are deliberately not recorded here.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QuotedResult:
    """An accuracy read off someone else's artefact, with what it counts and where it is from."""

    dataset: str
    model: str
    correct: int          # test clips classified correctly
    scored: int           # test clips actually scored
    test_clips: int       # clips in the test split
    epoch: int            # the epoch the number belongs to
    source: str           # where the number was read
    caveats: tuple[str, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.correct <= self.scored <= self.test_clips:
            raise ValueError(f"need 0 <= correct <= scored <= test_clips, got {self.correct}, "
                             f"{self.scored}, {self.test_clips}")

    @property
    def accuracy(self) -> float:
        """correct / scored, a share in [0, 1]."""
        return self.correct / self.scored

    @property
    def unscored(self) -> int:
        """Test clips the reference evaluation never looked at."""
        return self.test_clips - self.scored


REFERENCE_CREMAD = QuotedResult(
    dataset="CREMA-D",
    model="UDML, reference implementation",
    correct=465,
    scored=704,
    test_clips=744,
    epoch=91,
    source="the file name of a CREMA-D checkpoint saved by the reference code "
           "(github.com/shicaiwei123/UDML)",
    caveats=(
        "the test loader drops the last incomplete batch: 704 of the 744 test clips are scored",
        "the best epoch is chosen on the test set (no validation split)",
        "a single run: no seed is set, so it cannot be reproduced exactly",
    ),
)
