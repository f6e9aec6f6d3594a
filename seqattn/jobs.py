"""Background training jobs: each run trains in its own process.

The Streamlit server must stay responsive and must not hold Keras state (it
clears the Keras session after every script run), so :func:`start` only writes
a run directory and launches ``python -m seqattn.worker <run dir>``; everything
else (:func:`status`, :func:`cancel`) reads or writes small files, so any
session, tab or process can follow any run by its id.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqattn.model_config import ModelConfig
from seqattn.problem import ProblemConfig
from seqattn.registry import MODEL_NAMES
from seqattn.runs import (
    ACTIVE_STATES,
    RunSummary,
    cancel_requested,
    create_run,
    existing_run_dir,
    get_run,
    open_log,
    request_cancel,
    run_dir,
    update_status,
)
from seqattn.slots import MAX_JOBS_ENV, max_jobs

__all__ = ["JobStatus", "MAX_JOBS_ENV", "cancel", "cancel_requested", "launch_worker", "max_jobs", "start", "status"]
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)


@dataclass(frozen=True)
class JobStatus:
    """A plain snapshot of a job.

    Attributes:
        run_id: the run's id.
        state: queued, running, done, cancelled, failed, interrupted (or broken).
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
    def from_summary(cls, summary: RunSummary) -> JobStatus:
        """The job view of a run summary (so a caller holding one need not read the run again)."""
        return cls(
            run_id=summary.id,
            state=summary.state,
            update=summary.update,
            total=summary.total,
            elapsed=summary.elapsed,
            eta=summary.eta,
            error=summary.error or summary.broken,
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


def _reap(process: subprocess.Popen[bytes]) -> None:
    # Waiting in a daemon thread keeps finished workers from lingering as zombies.
    threading.Thread(target=process.wait, daemon=True).start()


def launch_worker(directory: Path) -> int:
    """Start the worker process for a run directory; returns its pid."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    log = open_log(directory)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "seqattn.worker", str(directory.resolve())],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            close_fds=True,
        )
    finally:
        log.close()
    _reap(process)
    return process.pid


def start(
    problem: ProblemConfig,
    train: Any,
    *,
    model: Any = None,
    kind: str = "train",
    names: tuple[str, ...] = MODEL_NAMES,
    extra: dict[str, Any] | None = None,
    root: str | os.PathLike[str] | None = None,
) -> str:
    """Queue a job and return its run id at once; a worker process does the work.

    Args:
        problem: the echo problem.
        train: a :class:`seqattn.training.TrainConfig` (or its dict).
        model: a :class:`seqattn.model_config.ModelConfig` (default its defaults).
        kind: ``train`` (one run of both models), ``compare`` (``extra['repeats']`` runs)
            or ``sweep`` (``extra['sweep']``, a :class:`seqattn.sweep.SweepConfig` dict).
        names: the models to train.
        extra: more settings stored in run.json (e.g. ``repeats``).
        root: the runs root (default ``$SEQATTN_RUNS_DIR`` or ``./runs``).

    Raises:
        RunError: the runs root cannot be written.
    """
    train_dict = train.to_dict() if dataclasses.is_dataclass(train) else dict(train)
    model = model or ModelConfig()
    model_dict = model.to_dict() if dataclasses.is_dataclass(model) else dict(model)
    run_id = create_run(problem, train_dict, model=model_dict, kind=kind, names=names, extra=extra, root=root)
    directory = run_dir(run_id, root)
    try:
        pid = launch_worker(directory)
    except OSError as exc:
        update_status(directory, state="failed", error=f"Could not start the training process ({exc.strerror or exc}).")
        return run_id
    update_status(directory, pid=pid)
    return run_id


def start_sweep(
    problem: ProblemConfig,
    train: Any,
    sweep: Any,
    *,
    model: Any = None,
    scheduler: str | None = None,
    root: str | os.PathLike[str] | None = None,
) -> str:
    """Queue a sweep (a :class:`seqattn.sweep.SweepConfig`) and return its run id at once.

    The grid is checked first (cell count, each cell's size, each value), so a
    refused sweep starts nothing. ``scheduler`` is the Dask scheduler's address
    its cells go to (default: ``$SEQATTN_DASK_SCHEDULER``, else a local cluster
    the job starts).

    Raises:
        ValueError: the grid is refused (the message says why and what to change).
        RunError: the runs root cannot be written.
    """
    from seqattn.sweep import grid_cells

    grid_cells(problem, train, sweep, model=model)
    extra: dict[str, Any] = {"sweep": sweep.to_dict()}
    if scheduler:
        extra["scheduler"] = scheduler
    return start(problem, train, model=model, kind="sweep", extra=extra, root=root)


def status(run_id: str, root: str | os.PathLike[str] | None = None) -> JobStatus:
    """Snapshot of a job's state and progress.

    Raises:
        ValueError: malformed id. RunError: no such run.
    """
    return JobStatus.from_summary(get_run(run_id, root))


def cancel(run_id: str, root: str | os.PathLike[str] | None = None) -> JobStatus:
    """Ask a job to stop; harmless in any state. Returns the status after asking.

    A queued job ends ``cancelled`` without training; a running one stops
    within one update (or, while still compiling, at once) and keeps its
    history and models.
    """
    directory = existing_run_dir(run_id, root)
    current = status(run_id, root)
    if current.active:
        request_cancel(directory)
    return current
