"""Items for the local pool's tests, importable by its spawned workers (nothing heavy)."""
import os
import signal
from pathlib import Path


def square_or_die(item):
    """``(n, marker, deaths)``: n squared, after dying (SIGKILL) ``deaths`` times, counted in
    the file ``marker``; deaths < 0 dies every time."""
    n, marker, deaths = item
    marker = Path(marker)
    died = len(marker.read_text()) if marker.exists() else 0
    if deaths < 0 or died < deaths:
        with open(marker, "a") as f:
            f.write("x")
        os.kill(os.getpid(), signal.SIGKILL)
    return n * n


def pid_then_sleep(item):
    """Write this worker's pid to the file ``item`` and sleep (until the driver goes)."""
    Path(item).write_text(str(os.getpid()))
    import time
    time.sleep(600)
