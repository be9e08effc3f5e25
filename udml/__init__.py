"""udml: Unbiased Dynamic Multimodal Fusion (UDML) and its peers on one tested PyTorch harness.

The package is the library behind the tutorial book: data loaders (`udml.data`), controlled
corruptions (`udml.corrupt`), the fusion models (`udml.models`), training and evaluation.
Importing `udml` itself is cheap (torch aside); import the submodules you need. Importing it
pins the CPU's numerics (`udml.numerics`), so that a seeded run gives the same bits on any x86-64
machine: import `udml` before computing anything with torch.
"""
from .numerics import pin_cpu_numerics

__version__ = "0.1.0"

pin_cpu_numerics()
