"""Analysis of results: queries on the results table, statistics over seeds, comparisons between
methods, and the paper's claims with verdicts computed from the numbers.
"""
