"""Experiments: the registry of named experiments, the sweep runner that trains their jobs, the
results files it writes and merges, their reader (one tidy table), and the re-run check of a
committed result.
"""
