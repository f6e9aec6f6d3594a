"""The queue of jobs on one machine: at most ``$SEQATTN_MAX_JOBS`` train at once, oldest first.

A slot is an ``flock`` on ``<runs root>/.slots/<i>.lock``, held by the job's
process until it exits, so a crashed job frees its slot by itself.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import IO, Any

from seqattn.processes import process_alive
from seqattn.runs import RUN_ID_PATTERN, RunError, read_meta, read_status

MAX_JOBS_ENV = "SEQATTN_MAX_JOBS"


def max_jobs() -> int:
    """How many jobs may train at once: ``$SEQATTN_MAX_JOBS`` (default 1, at least 1)."""
    try:
        return max(1, int(os.environ.get(MAX_JOBS_ENV, "1")))
    except ValueError:
        return 1


def _older_queued_alive(directory: Path, created: float) -> bool:
    mine = (created, directory.name)
    for other in directory.parent.iterdir():
        if other == directory or not RUN_ID_PATTERN.fullmatch(other.name):
            continue
        try:
            status = read_status(other)
            other_created = read_meta(other)["created"]
        except (RunError, KeyError, TypeError):
            continue
        if (
            status.get("state") == "queued"
            and (other_created, other.name) < mine
            and process_alive(status.get("pid"), status.get("pid_start"))
        ):
            return True
    return False


def wait_for_slot(directory: Path, created: float, poll: float = 0.2) -> IO[Any]:
    """Block until the run in ``directory`` is the oldest queued one and a slot is free.

    Returns the open lock file; keep it open for as long as the job trains.
    """
    slots = directory.parent / ".slots"
    slots.mkdir(exist_ok=True)
    limit = max_jobs()
    while True:
        if not _older_queued_alive(directory, created):
            for index in range(limit):
                handle = open(slots / f"{index}.lock", "a+")
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    continue
                return handle
        time.sleep(poll)
