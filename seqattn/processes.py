"""Is a job's process still alive? Told by pid and start time (with psutil).

A pid alone is not enough: after a crash the kernel may give the same pid to an
unrelated process, so a job records its process's start time beside its pid.
"""

from __future__ import annotations

import functools
import os
import subprocess
import threading
from typing import Any

import psutil


def process_start_time(pid: int) -> float | None:
    """Start time (seconds since the epoch) of a live, non-zombie process, else None."""
    try:
        process = psutil.Process(pid)
        if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return None
        return process.create_time()
    except (psutil.Error, ValueError, OverflowError):
        return None


def lower_priority_to(level: int) -> None:
    """Set this process's niceness to at least ``level`` (absolute, not added to what it has).

    ``os.nice`` adds to the current value, so a worker started by an already
    niced job would otherwise end at the bottom of the scale and starve.
    """
    current = os.nice(0)
    if level > current:
        try:
            os.nice(level - current)
        except OSError:
            pass


def process_alive(pid: Any, start_time: Any = None) -> bool:
    """True if ``pid`` runs and (when ``start_time`` is given) started at that time.

    Runs written before start times were recorded in seconds carry clock ticks
    (an int) instead; such a process is from an earlier server and counts as gone.
    """
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return False
    started = process_start_time(pid)
    if started is None:
        return False
    if start_time is None:
        return True
    return isinstance(start_time, float) and abs(started - start_time) < 0.05


def reap_in_background(process: subprocess.Popen[bytes]) -> None:
    """Wait for a child process in a daemon thread, so a finished one does not linger as a zombie."""
    threading.Thread(target=process.wait, daemon=True).start()


def return_free_heap() -> bool:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``); False where there is none.

    A process that built and dropped models (a warm process after its preparation) keeps the
    freed memory in its heap; an idle process should not hold it.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@functools.cache
def _malloc_trim() -> Any:
    # Looked up once: finding the C library runs ldconfig, and a warm process trims after each preparation.
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc
        return None
