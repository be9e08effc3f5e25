"""Helpers of the book's notebooks (not of the library): the notebook set-up and the figure panel.
"""
