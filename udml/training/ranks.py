"""Several processes, one run: what the one training loop needs when torchrun starts it N times.

`Ranks` stands for the default process group (one process per GPU with nccl, per CPU process with
gloo); `udml.training.loop.train` takes it as a parameter.  DistributedDataParallel averages the
gradients, so the parameters stay identical on every rank.  Three things DDP does not cover are
kept identical here:
- the modality dependency D_m, a buffer updated inside forward from the rank's own batch: every
  update is averaged across ranks inside forward (`SyncedDependency`), so every rank builds the
  same fusion weights;
- the batch-norm running statistics: averaged at every epoch end (`sync_batchnorm_`; DDP's buffer
  broadcast is turned off so that rank 0 does not overwrite them before each forward);
- evaluation: each rank predicts its own contiguous shard of a split (`shard`) and the shards'
  predictions are gathered in rank order (`gather`), so the metrics are computed once, on the
  whole split, with the single-process formulas.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel

from ..method.dependency import DependencyTracker

SHARD_SEED_STRIDE = 7919  # rank r draws evaluation noise from seed + r * stride


@dataclass
class Ranks:
    """This process's place in the default process group (``dist.init_process_group`` done)."""

    rank: int
    world: int
    find_unused_parameters: bool = False
    last_local_dependency: list | None = None  # this rank's last D before the average

    @classmethod
    def current(cls, find_unused_parameters: bool = False) -> "Ranks":
        if not dist.is_initialized():
            raise RuntimeError("no process group: call torch.distributed.init_process_group "
                               "first (torchrun sets RANK and WORLD_SIZE for it)")
        return cls(dist.get_rank(), dist.get_world_size(), find_unused_parameters)

    def wrap(self, model: torch.nn.Module) -> DistributedDataParallel:
        """``model`` under DDP, its dependency tracker (if any) averaged across ranks."""
        tracker = getattr(model, "dependency", None)
        if isinstance(tracker, DependencyTracker):
            model.dependency = SyncedDependency.replacing(tracker, self)
        device = next(model.parameters()).device
        return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                       else None,
                                       find_unused_parameters=self.find_unused_parameters,
                                       **no_buffer_broadcast())

    def unwrap(self, model: torch.nn.Module) -> None:
        """Give ``model`` back a plain dependency tracker with the same (shared) state."""
        tracker = getattr(model, "dependency", None)
        if isinstance(tracker, SyncedDependency):
            plain = DependencyTracker(tracker.value.numel(), tracker.form, tracker.momentum)
            plain.load_state_dict(tracker.state_dict())
            model.dependency = plain.to(tracker.value.device)

    def sum_(self, t: Tensor) -> Tensor:
        """``t`` replaced, in place, by its sum over the ranks."""
        if self.world > 1:
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t

    def average_(self, t: Tensor) -> Tensor:
        """``t`` replaced, in place, by its mean over the ranks (SUM then divide: gloo has no
        AVG)."""
        return self.sum_(t).div_(self.world)

    def sync_batchnorm_(self, model: torch.nn.Module) -> None:
        """Average every batch-norm running mean and variance across ranks."""
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
                self.average_(m.running_mean)
                self.average_(m.running_var)

    def gather(self, obj) -> list:
        """Every rank's ``obj``, in rank order, on every rank."""
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def broadcast(self, obj):
        """Rank 0's ``obj`` on every rank."""
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def shard(self, data):
        """This rank's contiguous share of ``data`` (anything with ``subset(index)``): the shards
        in rank order are the split in its own order."""
        n = len(data)
        if n < self.world:
            raise ValueError(f"a split of {n} samples cannot be shared by {self.world} processes")
        lo, hi = self.rank * n // self.world, (self.rank + 1) * n // self.world
        return data.subset(torch.arange(lo, hi))

    def noise_seed(self, seed: int) -> int:
        """The evaluation-noise seed of this rank's shard (``seed`` itself on rank 0)."""
        return seed + SHARD_SEED_STRIDE * self.rank


class SyncedDependency(DependencyTracker):
    """The running dependency D_m, averaged across ranks inside every update.

    The update (an EMA of the batch's d) is affine in d and starts from the same value on every
    rank, so averaging the updated value equals folding in the mean of the ranks' d.  It happens
    inside forward, before the weights read it: every rank builds the same fusion weights.
    """

    ranks: Ranks

    @classmethod
    def replacing(cls, tracker: DependencyTracker, ranks: Ranks) -> "SyncedDependency":
        synced = cls(tracker.value.numel(), tracker.form, tracker.momentum)
        synced.load_state_dict(tracker.state_dict())
        synced.ranks = ranks
        return synced.to(tracker.value.device)

    @torch.no_grad()
    def update(self, head, z: Tensor) -> Tensor:
        d = super().update(head, z)
        self.ranks.last_local_dependency = self.value.tolist()
        self.ranks.average_(self.value)
        return d


def no_buffer_broadcast() -> dict:
    """DDP keyword that stops rank 0's buffers from overwriting the others' before each forward
    (named forward_sync_buffers in recent torch, broadcast_buffers before)."""
    params = inspect.signature(DistributedDataParallel.__init__).parameters
    return {"forward_sync_buffers": False} if "forward_sync_buffers" in params \
        else {"broadcast_buffers": False}
