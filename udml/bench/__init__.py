"""Speed benchmarks (`python -m udml bench`): ratios measured within one run.
"""
