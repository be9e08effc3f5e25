"""udml: Unbiased Dynamic Multimodal Fusion (UDML) and its peers on one tested PyTorch harness.

The package is the library behind the tutorial book: data loaders (`udml.data`), controlled
corruptions (`udml.corrupt`), the fusion models (`udml.models`), training and evaluation.
Importing `udml` itself is cheap; import the submodules you need.
"""

__version__ = "0.1.0"
