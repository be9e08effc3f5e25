"""The range a normalised frame's pixels can take, for the audio-visual tests' bounds."""
from udml.av.frames import IMAGENET_MEAN, IMAGENET_STD


def normalised_range() -> tuple[float, float]:
    """The smallest and largest value a normalised pixel can take (over the three channels)."""
    lows = [(0.0 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)]
    highs = [(1.0 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)]
    return min(lows), max(highs)
