"""Stand-ins shared by several test files: a one-layer encoder, and a training run that is
interrupted right after a given epoch's state was written (as a killed process would be)."""
from contextlib import contextmanager

import pytest
import torch
from torch import nn

import udml.training.loop as T


class Tiny(nn.Module):
    """An encoder of a flat (d,) modality: one linear layer and a ReLU, out features."""

    def __init__(self, d, out=8):
        super().__init__()
        self.in_shape, self.out_dim = (d,), out
        self.fc = nn.Linear(d, out)

    def forward(self, x):
        return torch.relu(self.fc(x))


@contextmanager
def killed_after_epoch(monkeypatch, epoch: int = 1):
    """Inside the block, training stops with KeyboardInterrupt once epoch ``epoch``'s state is
    saved; the block must raise it. The real state writer is back afterwards."""
    real_save = T._save_state

    def crash(path, saved_epoch, *args):
        real_save(path, saved_epoch, *args)
        if saved_epoch == epoch:
            raise KeyboardInterrupt
    monkeypatch.setattr(T, "_save_state", crash)
    with pytest.raises(KeyboardInterrupt):
        yield
    monkeypatch.setattr(T, "_save_state", real_save)
