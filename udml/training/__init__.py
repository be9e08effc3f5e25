"""Training and evaluation: the one training loop, its schedule, evaluation under corruption
protocols, per-level scores, metrics, checkpoints and the noise-scale calibration.
"""
