"""udml: Unbiased Dynamic Multimodal Fusion (UDML) and its peers on one tested PyTorch harness.

The package is the library behind the tutorial book: data loaders (`udml.data`), controlled
corruptions (`udml.corrupt`), the fusion models (`udml.models`), training and evaluation.
Importing `udml` (or any of its submodules) changes nothing in the process: no environment
variable, no torch flag. To get the book's bits (the same seeded numbers on any x86-64 CPU), pin
the CPU's numerics yourself, first, before any torch computation::

    from udml.numerics import pin_cpu_numerics
    pin_cpu_numerics()

(the command line, the sweep's workers and the chapters do; see `udml.numerics`).
"""
__version__ = "0.1.0"

import logging as _logging

# Standard for a library: its modules log to loggers under "udml" and the application decides
# where the lines go (the command line does: udml.logs.cli_logging).
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
