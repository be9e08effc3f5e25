"""Unit tests run on one torch thread: the workloads are tiny, and it keeps them fast when the
machine is shared."""
import torch

torch.set_num_threads(1)
