"""A pool of local worker processes that outlives a dead worker and dies with its driver.

    for item, outcome in run_local(fn, items, workers=2, retries=2, initializer=init):

Each worker is a spawned process (nothing inherited from the driver) with two pipes of its own:
the driver sends it one item at a time and reads back ``fn(item)``.  That is what
`concurrent.futures.ProcessPoolExecutor` cannot give:

- A worker that dies under an item (killed by the out-of-memory killer, a segfault) is known by
  the item it held.  That item is given to a fresh worker again, at most ``retries`` more times
  (a sweep's job then resumes from its last per-epoch training state), while the other items go
  on; after that its outcome is a `WorkerDied` naming how the worker ended.  A process pool
  instead breaks as a whole and fails every item, unstarted ones included.
- A worker ends as soon as its driver ends, however it ends (Ctrl-C, an error, ``kill -9``): a
  thread of the worker blocks on the pipe from the driver, which the operating system closes
  when the driver's process goes away, and then ends the worker: at once when it is idle, after
  STOP_GRACE_S when it is busy (`_watch_driver`).
- Ctrl-C in a terminal reaches every process of the group; the workers ignore it and leave the
  driver to stop them.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

log = logging.getLogger(__name__)


class WorkerDied(RuntimeError):
    """The worker process running an item ended without returning its result, on every try."""


def how_it_ended(exitcode: int | None) -> str:
    """A process's exit code in words: ``killed by SIGKILL`` for -9, ``exit code 3`` for 3."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        oom = " (as the out-of-memory killer does)" if name == "SIGKILL" else ""
        return f"killed by {name}{oom}"
    return f"exit code {exitcode}"


_STOP = "stop"
STOP_GRACE_S = 1.0  # an idle worker ends normally within this; a busy one is ended after it


def _watch_driver(inbox: Connection, items: queue.SimpleQueue) -> None:
    """Pass on what the driver sends; when the driver has gone (the pipe's other end closed: the
    driver ended or stopped the pool), tell the worker's loop to stop, and end the process
    outright if it is still busy after STOP_GRACE_S."""
    while True:
        try:
            items.put(("item", inbox.recv()))
        except (EOFError, OSError):
            items.put((_STOP, None))
            time.sleep(STOP_GRACE_S)
            os._exit(0)  # an unfinished write leaves at most a hidden temporary file behind


def _worker(index: int, inbox: Connection, outbox: Connection, fn: Callable,
            initializer: Callable[[int], None] | None) -> None:
    """A worker's life: ignore Ctrl-C, initialise, then ``fn`` each item received, send the
    result back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    items: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_watch_driver, args=(inbox, items), daemon=True).start()
    if initializer is not None:
        initializer(index)
    while True:
        what, item = items.get()
        if what == _STOP:
            return  # a normal exit: multiprocessing's clean-up runs
        outbox.send(fn(item))


@dataclass
class _Slot:
    """One worker process and the item it runs (None when idle)."""

    process: multiprocessing.Process
    send: Connection
    receive: Connection
    item: tuple[int, object] | None = field(default=None)


def _start(ctx, index: int, fn: Callable, initializer) -> _Slot:
    inbox_r, inbox_w = ctx.Pipe(duplex=False)
    outbox_r, outbox_w = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_worker, args=(index, inbox_r, outbox_w, fn, initializer),
                    name=f"udml-worker-{index}", daemon=True)
    p.start()
    inbox_r.close()  # only the worker keeps these ends: its death closes them
    outbox_w.close()
    return _Slot(p, inbox_w, outbox_r)


def _stop(slots: list[_Slot]) -> None:
    """Close every worker's pipe (a worker ends at once), then make sure each has ended."""
    for s in slots:
        s.send.close()
    for s in slots:
        s.process.join(5)
        if s.process.is_alive():
            s.process.kill()
            s.process.join()
        s.receive.close()


def run_local(fn: Callable, items: Iterable, workers: int, retries: int = 2,
              initializer: Callable[[int], None] | None = None) -> Iterator[tuple]:
    """Yield ``(item, fn(item))`` as each completes, on ``workers`` spawned processes (each
    started with ``initializer(index)``); an item whose worker died ``retries + 1`` times yields
    a `WorkerDied` instead.  ``fn`` and the items must be picklable; ``fn`` should return its
    errors rather than raise them (a raised error ends the worker like a death would)."""
    todo = deque(enumerate(items))
    if not todo:
        return
    tries = [0] * len(todo)
    ctx = multiprocessing.get_context("spawn")
    count = min(workers, len(todo))
    slots = [_start(ctx, i, fn, initializer) for i in range(count)]
    started = count
    try:
        while todo or any(s.item is not None for s in slots):
            for s in slots:
                if s.item is None and todo:
                    s.item = todo.popleft()
                    tries[s.item[0]] += 1
                    s.send.send(s.item[1])
            busy = [s for s in slots if s.item is not None]
            wait([s.receive for s in busy] + [s.process.sentinel for s in busy])
            for i, s in enumerate(slots):
                if s.item is None:
                    continue
                if s.receive.poll():
                    try:
                        result = s.receive.recv()
                    except (EOFError, OSError):  # it died while sending
                        result = None
                    else:
                        item, s.item = s.item[1], None
                        yield item, result
                        continue
                if s.process.is_alive():
                    continue
                (n, item), s.item = s.item, None
                ended = how_it_ended(s.process.exitcode)
                _stop([s])
                if tries[n] <= retries:
                    log.warning("the worker running %s died (%s); trying it again (try %d of %d)",
                                item, ended, tries[n] + 1, retries + 1)
                    todo.appendleft((n, item))
                else:
                    yield item, WorkerDied(f"its worker process died on each of {tries[n]} tries "
                                           f"(last: {ended})")
                if todo:
                    slots[i] = _start(ctx, started, fn, initializer)
                    started += 1
                else:
                    slots[i] = None
            slots = [s for s in slots if s is not None]
    finally:
        _stop(slots)
