"""A job's state as pages and the CLI see it: :class:`JobStatus`, :func:`status`, and which jobs are active.

Read-only: everything here reads a run's small files (:mod:`seqattn.runs`), so any
process can ask about any job. :mod:`seqattn.jobs.control` starts and cancels them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from seqattn.jobs.neighbours import run_statuses
from seqattn.jobs.slots import stalled_for
from seqattn.runs import ACTIVE_STATES, RunError, RunSummary, current_state, get_run, read_status, run_dir

__all__ = ["JobStatus", "active_jobs", "status", "wait_until_ended"]


@dataclass(frozen=True)
class JobStatus:
    """A plain snapshot of a job.

    Attributes:
        run_id: the run's id.
        state: queued, running, done, cancelled, failed, interrupted (or broken), or
            ``stalled``: queued or running, but its worker has not given a sign of life
            (a heartbeat) for ``$SEQATTN_STALL_SECONDS``; it holds no slot and is not
            active (pages stop waiting for it).
        update: updates done; total: updates planned (None before start).
        elapsed: training seconds so far; eta: estimated seconds left (running only).
        error: a message a user can read, for failed/interrupted/broken runs.
        kind: ``train``, ``compare`` or ``sweep``.
        cells_done, cells_total: finished cells of a comparison or sweep.
        phase: while running, ``preparing`` (loading TensorFlow, compiling) or ``training``.
    """

    run_id: str
    state: str
    update: int
    total: int | None
    elapsed: float | None
    eta: float | None
    error: str | None
    kind: str = "train"
    phase: str | None = None
    cells_done: int = 0
    cells_total: int | None = None

    @classmethod
    def from_summary(cls, summary: RunSummary, root: str | os.PathLike[str] | None = None) -> JobStatus:
        """The job view of a run summary (so a caller holding one need not read the run again).

        An active run's heartbeat is read from its status file under ``root``
        (default ``$SEQATTN_RUNS_DIR``): a stale one makes it ``stalled``.
        """
        state, error = summary.state, summary.error or summary.broken
        if state in ACTIVE_STATES:
            stalled = _stalled_seconds(summary.id, root)
            if stalled is not None:
                state = "stalled"
                error = (f"The training process has given no sign of life for {stalled:.0f} s "
                         "(frozen or swapping); its slot was freed for the next job.")
        return cls(
            run_id=summary.id,
            state=state,
            update=summary.update,
            total=summary.total,
            elapsed=summary.elapsed,
            eta=summary.eta,
            error=error,
            kind=summary.kind,
            phase=summary.phase,
            cells_done=summary.cells_done,
            cells_total=summary.cells_total,
        )

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def fraction(self) -> float:
        """Progress in [0, 1]."""
        return min(1.0, self.update / self.total) if self.total else 0.0


def _stalled_seconds(run_id: str, root: str | os.PathLike[str] | None) -> float | None:
    try:
        return stalled_for(read_status(run_dir(run_id, root)))
    except (RunError, ValueError):
        return None


def status(run_id: str, root: str | os.PathLike[str] | None = None) -> JobStatus:
    """Snapshot of a job's state and progress.

    Raises:
        ValueError: malformed id. RunError: no such run.
    """
    return JobStatus.from_summary(get_run(run_id, root), root)


def active_jobs(root: str | os.PathLike[str] | None = None) -> list[JobStatus]:
    """The jobs under ``root`` that hold or wait for a slot (running, then queued; oldest first).

    Only live processes count: a queued or running status whose process died, or whose
    worker has stalled, is not active (:class:`JobStatus`). A run that cannot be read is skipped.
    """
    found = []
    for directory, written in run_statuses(root):
        if written.get("state") not in ACTIVE_STATES or current_state(written)[0] not in ACTIVE_STATES:
            continue
        try:
            job = status(directory.name, root)
        except (RunError, ValueError):
            continue
        if job.active:
            found.append((job.state != "running", directory.name, job))
    return [job for _, _, job in sorted(found, key=lambda item: item[:2])]


def wait_until_ended(run_ids: list[str], root: str | os.PathLike[str] | None = None, timeout: float = 10.0,
                     poll: float = 0.1) -> bool:
    """Wait until none of ``run_ids`` is active (ended, stalled or unreadable); False if ``timeout`` s passed first."""
    deadline = time.monotonic() + timeout
    while True:
        if not any(_still_active(run_id, root) for run_id in run_ids):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)


def _still_active(run_id: str, root: str | os.PathLike[str] | None) -> bool:
    try:
        return status(run_id, root).active
    except (RunError, ValueError):
        return False
