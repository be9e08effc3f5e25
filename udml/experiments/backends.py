"""Where a sweep's jobs run: a pool of local worker processes (the default, nothing to install)
or a Dask cluster (``pip install "udml[dask]"``; ``udml[cluster]`` adds dask-jobqueue for
Slurm, PBS, SGE and LSF).

    for job, outcome in run_all(fn, jobs_list, jobs=4):                          # local pool
    for job, outcome in run_all(fn, jobs_list, cluster="tcp://10.0.0.1:8786"):    # Dask

Both call one picklable function on each job; ``outcome`` is what the function returned, or the
exception of a worker that died under it.  The workers compute and return; the driver (the
caller of `run_all`) writes the results files, so cluster workers need no filesystem in common
with the driver.

Both survive a dead worker: the local pool (`udml.experiments.pool`) gives the job to a fresh
worker up to ``retries`` more times, the Dask scheduler restarts the worker and reruns its task
(up to its ``distributed.scheduler.allowed-failures``), and a job that still fails comes back as
an exception while the other jobs go on.  The local pool is our own rather than a local Dask
cluster because Dask is an optional install, and the pool also ends its workers with its driver,
``kill -9`` included (a local Dask cluster starts in about 1.4 s here, the spawned pool's workers
in about 3 s with torch's import: start-up cost is not the reason).

Why Dask and not Ray: a Dask client offers the `concurrent.futures.Executor` interface the local
pool already has (`Client.get_executor`), so both backends share one code path;
dask-jobqueue starts the same workers as Slurm/PBS/SGE/LSF jobs; and `dask[distributed]` is a
small pure-Python install whose scheduler and workers are plain processes started from the
command line.  Ray would bring a much larger binary wheel, a slower local start, and its own
task API in place of the executor's, for no feature a sweep of independent jobs needs.

GPUs: each local worker takes its own GPU, round-robin over the visible ones (`worker_device`),
for jobs that ask for device ``auto`` or ``cuda``.  Cluster workers use the devices their
scheduler gives them (e.g. ``--gres=gpu:1`` on Slurm, or one ``dask cuda worker`` per GPU).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import as_completed

import torch

from ..numerics import pin_cpu_numerics
from .pool import run_local

# The GPU of this local worker process, set once when the pool starts it (None elsewhere).
_ASSIGNED_DEVICE: str | None = None


def worker_device(index: int, gpus: int) -> str | None:
    """The GPU of local worker ``index`` (0, 1, ...) when ``gpus`` GPUs are visible: round-robin
    ``cuda:<index mod gpus>``; None without a GPU."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"worker index must be an int >= 0, got {index!r}")
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 0:
        raise ValueError(f"GPU count must be an int >= 0, got {gpus!r}")
    return f"cuda:{index % gpus}" if gpus else None


def assigned_device(requested: str) -> str:
    """The device a job asking for ``requested`` runs on in this process: a local worker's own
    GPU for ``auto`` and ``cuda``; an explicit ``cpu`` or ``cuda:<n>`` is kept as asked."""
    if _ASSIGNED_DEVICE is not None and requested in ("auto", "cuda"):
        return _ASSIGNED_DEVICE
    return requested


def init_local_worker(index: int) -> None:
    """Start local worker ``index`` (0, 1, ...): its GPU (`worker_device`), one torch thread."""
    global _ASSIGNED_DEVICE
    pin_cpu_numerics()  # before this worker computes anything
    _ASSIGNED_DEVICE = worker_device(index, torch.cuda.device_count())
    torch.set_num_threads(1)


def dask_client(cluster, timeout: float = 60):
    """A Dask client of ``cluster``: a scheduler address (``tcp://host:port``), a Dask cluster
    object (LocalCluster, SLURMCluster, ...) or a Client; and whether the caller must close it."""
    try:
        from distributed import Client
    except ImportError:
        raise ImportError('a Dask cluster needs the dask extra: pip install "udml[dask]"') from None
    if isinstance(cluster, Client):
        return cluster, False
    if isinstance(cluster, str) or hasattr(cluster, "scheduler_address"):
        return Client(cluster, timeout=timeout), True
    raise TypeError(f"cluster must be a scheduler address, a Dask cluster or a Client, "
                    f"got {type(cluster).__name__}")


def run_all(fn: Callable, items: Iterable, jobs: int = 2, cluster=None,
            retries: int = 2) -> Iterator[tuple]:
    """Yield ``(item, outcome)`` for each ``fn(item)`` as it completes: ``outcome`` is its return
    value, or the exception of a job whose worker died (after ``retries`` more tries on the local
    pool; after the scheduler's own retries on Dask).

    cluster=None runs on ``jobs`` local worker processes (in this process when jobs == 1);
    otherwise on the Dask cluster ``cluster`` (see `dask_client`), whatever ``jobs``.  However
    the caller stops (an error, Ctrl-C), the local workers end and the unstarted Dask tasks are
    cancelled.
    """
    items = list(items)
    if not items:
        return
    if cluster is None and jobs == 1:
        for item in items:
            yield item, fn(item)
        return
    if cluster is None:
        yield from run_local(fn, items, jobs, retries, init_local_worker)
        return
    client, own = dask_client(cluster)
    try:
        client.register_worker_callbacks(setup=pin_cpu_numerics)  # every worker pins first
        pool = client.get_executor(pure=False)
        futures = {pool.submit(fn, item): item for item in items}
        try:
            for fut in as_completed(futures):
                yield futures[fut], fut.exception() or fut.result()
        finally:  # a stopped driver cancels what has not run
            for fut in futures:
                fut.cancel()
            pool.shutdown(wait=False)
    finally:
        if own:
            client.close()
