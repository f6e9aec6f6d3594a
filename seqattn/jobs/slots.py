"""The queue of jobs on one machine: at most ``$SEQATTN_MAX_JOBS`` train at once, oldest first.

A slot is an ``flock`` on ``<runs root>/.slots/<i>.lock``, held by the job's
process until it exits, so a crashed job frees its slot by itself. Beside the
lock, ``<i>.holder`` names the run that holds the slot.

A frozen process (``SIGSTOP``, or one swapped out for long) keeps its lock, so
the lock alone cannot tell a busy slot from an abandoned one. Every worker
therefore writes a heartbeat (``heartbeat`` in its status.json, about every
:data:`HEARTBEAT_SECONDS`). A waiting job that finds every lock taken reads
each slot's holder: a holder that is no longer a live, heartbeating job
(stalled for ``$SEQATTN_STALL_SECONDS``, finished, or dead) leaves its slot
free, and the waiting job takes it over by writing its own name as the
holder (the old lock stays with the frozen process until it ends). A stalled
job that wakes up finds another run named as its slot's holder and stops
(:mod:`seqattn.jobs.worker`), so at most ``$SEQATTN_MAX_JOBS`` jobs train at once
again. A stalled queued job no longer keeps younger jobs waiting either.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from collections.abc import Iterator
from typing import IO, Any

from seqattn.processes import process_alive
from seqattn.settings import SETTINGS, read
from seqattn.runs import ACTIVE_STATES, RUN_ID_PATTERN, RunError, read_json, read_meta, read_status, write_json

MAX_JOBS_ENV = "SEQATTN_MAX_JOBS"
STALL_SECONDS_ENV = "SEQATTN_STALL_SECONDS"
DEFAULT_STALL_SECONDS = float(SETTINGS[STALL_SECONDS_ENV].default)
HEARTBEAT_SECONDS = 2.0  # SEQATTN_STALL_SECONDS' lower bound (seqattn/settings.py) leaves room for missed beats


def max_jobs() -> int:
    """How many jobs may train at once: ``$SEQATTN_MAX_JOBS`` (default 1, from 1 to 64).

    Raises:
        SettingError: the variable holds a value that is not accepted.
    """
    return int(read(MAX_JOBS_ENV))


def stall_seconds() -> float:
    """A worker silent for this long is stalled: ``$SEQATTN_STALL_SECONDS`` (default 30, from 10 to 86400).

    Raises:
        SettingError: the variable holds a value that is not accepted.
    """
    return float(read(STALL_SECONDS_ENV))


def stalled_for(status: dict[str, Any], now: float | None = None) -> float | None:
    """Seconds since the heartbeat of an active job's status, if longer than :func:`stall_seconds`, else None.

    A job without a heartbeat yet (its worker is starting) or in a final state is not stalled.
    """
    heartbeat = status.get("heartbeat")
    if status.get("state") not in ACTIVE_STATES or isinstance(heartbeat, bool) or not isinstance(heartbeat, (int, float)):
        return None
    silent = (time.time() if now is None else now) - float(heartbeat)
    return silent if silent > stall_seconds() else None


def _live(status: dict[str, Any]) -> bool:
    """An active job whose process runs and which is not stalled."""
    return (status.get("state") in ACTIVE_STATES and process_alive(status.get("pid"), status.get("pid_start"))
            and stalled_for(status) is None)


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
        if status.get("state") == "queued" and (other_created, other.name) < mine and _live(status):
            return True
    return False


def _holder_file(slots: Path, index: int) -> Path:
    return slots / f"{index}.holder"


def slot_holder(slots: Path, index: int) -> str | None:
    """The run directory named as the holder of slot ``index`` (None if none is)."""
    try:
        holder = read_json(_holder_file(slots, index))
    except RunError:
        return None
    return holder.get("directory") if isinstance(holder, dict) else None


def _abandoned(slots: Path, index: int) -> bool:
    """A taken lock whose named holder is no longer a live, heartbeating job."""
    holder = slot_holder(slots, index)
    if holder is None:
        return False  # taken, but its holder has not written its name yet
    return _holder_gone(holder)


def _holder_gone(holder: str) -> bool:
    """True unless the run in ``holder`` is a job still training (or finishing) in a live, heartbeating process."""
    try:
        status = read_status(Path(holder))
    except RunError:
        return True  # the holder's run was deleted
    if not process_alive(status.get("pid"), status.get("pid_start")):
        return True
    if status.get("state") in ACTIVE_STATES:
        return stalled_for(status) is not None
    # Finished but still exiting: its lock goes with its process in a moment. Taking the
    # slot over now would let the next job take the freed lock too: two jobs on one slot.
    # Only a finished process that never exits (frozen after its last write) is passed over.
    try:
        return time.time() - float(status.get("updated") or 0) > stall_seconds()
    except (TypeError, ValueError):
        return True


class Slot:
    """A held slot: the open lock file (None when taken over from a stalled job) and its index."""

    def __init__(self, slots: Path, index: int, handle: IO[Any] | None, directory: Path) -> None:
        self.slots = slots
        self.index = index
        self.handle = handle
        self.directory = directory
        write_json(_holder_file(slots, index), {"directory": str(directory.resolve()), "pid": os.getpid(),
                                                "since": time.time()})

    def still_mine(self) -> bool:
        """False once another job took this slot over (this one was stalled)."""
        holder = slot_holder(self.slots, self.index)
        return holder is None or holder == str(self.directory.resolve())

    def release(self) -> None:
        """Give the slot back now that the job has ended, not when its process exits (TensorFlow's teardown
        takes up to a second): the next job starts meanwhile. Its name goes first, then its lock, so a waiting
        job never reads a finished holder beside a free lock. A slot taken over from a frozen process (no
        lock of its own) is left as it is: its holder's name must stay until that process ends."""
        if self.handle is None:
            return
        with _guard(self.slots):
            if self.still_mine():
                _holder_file(self.slots, self.index).unlink(missing_ok=True)
            self.close()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def wait_for_slot(directory: Path, created: float, poll: float = 0.2) -> Slot:
    """Block until the run in ``directory`` is the oldest live queued one and a slot is free.

    A slot is free when its lock can be taken, or when the run holding it has
    stalled or ended (see the module's docstring). Returns the :class:`Slot`;
    keep it for as long as the job trains (its lock ends with the process).
    """
    slots = directory.parent / ".slots"
    slots.mkdir(exist_ok=True)
    limit = max_jobs()
    while True:
        if not _older_queued_alive(directory, created):
            # Taking a slot and naming its holder happen under one guard lock, and so does a
            # takeover: otherwise a waiting job could read a dead job's name in the moment
            # between a new holder's lock and its name, and take over a slot in use.
            with _guard(slots):
                for index in range(limit):
                    handle = open(slots / f"{index}.lock", "a+")
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        handle.close()
                        continue
                    holder = slot_holder(slots, index)
                    if holder not in (None, str(directory.resolve())) and not _holder_gone(holder):
                        # The lock was freed (its frozen owner ended), but the job that
                        # took the slot over from it still trains: the slot is in use.
                        handle.close()
                        continue
                    return Slot(slots, index, handle, directory)
                for index in range(limit):
                    if _abandoned(slots, index):
                        return Slot(slots, index, None, directory)
        time.sleep(poll)


@contextlib.contextmanager
def _guard(slots: Path, patience: float = 3.0) -> Iterator[None]:
    """Exclusive for the few milliseconds of taking a slot.

    A job frozen inside this section would hold the guard for ever, so after
    ``patience`` seconds a waiting job goes on without it (the narrow race it
    closes is then back, for that one rare case, rather than a queue stuck for good).
    """
    with open(slots / "guard.lock", "a+") as handle:
        deadline = time.monotonic() + patience
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    held = False
                    break
                time.sleep(0.01)
        try:
            yield
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)
