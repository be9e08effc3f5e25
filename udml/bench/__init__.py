"""Speed benchmarks (`python -m udml bench`, `python -m udml bench job`): ratios and shares
measured within one run.
"""
