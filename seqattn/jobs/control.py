"""Background training jobs: each run trains in its own process.

The Streamlit server must stay responsive and must not hold Keras state (it
clears the Keras session after every script run), so :func:`start` only writes
a run directory and launches ``python -m seqattn.jobs.worker <run dir>``; everything
else (:func:`status`, :func:`cancel`) reads or writes small files, so any
session, tab or process can follow any run by its id.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from collections.abc import Callable

from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.processes import reap_in_background
from seqattn.settings import SETTINGS, check_all, read
from seqattn.model.registry import MODEL_NAMES
from seqattn.runs import (
    RunError,
    cancel_requested,
    create_run,
    current_state,
    existing_run_dir,
    open_log,
    request_cancel,
    run_dir,
    update_status,
)
from seqattn.sweeps.cells import MAX_LOSS_POINTS
from seqattn.sweeps.grid import SweepConfig, grid_cells
from seqattn.training.budget import check_budget
from seqattn.training.run_size import estimate_run_bytes
from seqattn.training.config import TrainConfig
from seqattn.jobs.job_status import JobStatus, active_jobs, status, wait_until_ended
from seqattn.jobs.neighbours import run_statuses
from seqattn.jobs.slots import MAX_JOBS_ENV, STALL_SECONDS_ENV, max_jobs, stalled_for

__all__ = ["JobStatus", "MAX_JOBS_ENV", "MAX_QUEUED_ENV", "QueueFull", "STALL_SECONDS_ENV", "active_jobs", "cancel",
           "cancel_requested", "check_job", "disk_needed", "launch_worker", "max_jobs", "max_queued", "queued_count", "start",
           "start_sweep", "status", "wait_until_ended", "worker_env"]
MAX_QUEUED_ENV = "SEQATTN_MAX_QUEUED"
DEFAULT_MAX_QUEUED = int(SETTINGS[MAX_QUEUED_ENV].default)
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])  # the checkout holding seqattn/


class QueueFull(RunError, ValueError):
    """Too many jobs are already waiting for a slot; nothing was started."""


def max_queued() -> int:
    """How many jobs may wait for a slot at once: ``$SEQATTN_MAX_QUEUED`` (default 5, from 1 to 1000).

    Raises:
        SettingError: the variable holds a value that is not accepted.
    """
    return int(read(MAX_QUEUED_ENV))


def queued_count(root: str | os.PathLike[str] | None = None) -> int:
    """Jobs under the runs root that are waiting for a slot (queued, not dead, not stalled)."""
    return sum(1 for _, written in run_statuses(root)
               if written.get("state") == "queued" and current_state(written)[0] == "queued"
               and stalled_for(written) is None)


def check_job(problem: ProblemConfig, train: Any, model: Any = None, *, kind: str = "train",
              extra: dict[str, Any] | None = None) -> None:
    """Refuse a job over the budget (:mod:`seqattn.training.budget`) before anything is written.

    A training or a comparison is checked as one training (a comparison's
    repeats run one after another); a sweep cell by cell (its grid).

    Raises:
        ValueError: the job is over the memory or time budget, or its grid is refused.
    """
    train_config = train if isinstance(train, TrainConfig) else TrainConfig.from_dict(train)
    model_config = model if isinstance(model, ModelConfig) else ModelConfig.from_dict(model or {})
    if kind == "sweep":
        sweep = (extra or {}).get("sweep")
        grid_cells(problem, train_config, sweep if isinstance(sweep, SweepConfig) else SweepConfig.from_dict(sweep or {}),
                   model=model_config)
    else:
        check_budget(problem, train_config, model_config)


def disk_needed(problem: ProblemConfig, train: Any, model: Any = None, *, kind: str = "train",
                extra: dict[str, Any] | None = None) -> int:
    """Bytes of disk a job's run is estimated to need (:func:`seqattn.training.run_size.estimate_run_bytes`):
    a training's models and progress files, or one line per cell of a comparison or sweep."""
    train_config = train if isinstance(train, TrainConfig) else TrainConfig.from_dict(train)
    model_config = model if isinstance(model, ModelConfig) else ModelConfig.from_dict(model or {})
    if kind == "train":
        return estimate_run_bytes(problem, train_config, model_config)
    cells = int((extra or {}).get("repeats", 1))
    if kind == "sweep":
        sweep = (extra or {}).get("sweep")
        sweep = sweep if isinstance(sweep, SweepConfig) else SweepConfig.from_dict(sweep or {})
        cells = len(grid_cells(problem, train_config, sweep, model=model_config))
    return estimate_run_bytes(problem, train_config, model_config, cells=cells,
                              loss_points=min(train_config.updates, MAX_LOSS_POINTS))


def worker_env() -> dict[str, str]:
    """The environment of a training process: this one's, with this package importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


Launcher = Callable[[Path], int]
"""Starts the process that runs the job in a run directory and returns its pid (:func:`launch_worker`)."""


def launch_worker(directory: Path, module: str = "seqattn.jobs.worker") -> int:
    """Start a new worker process for a run directory (``python -m <module> <directory>``); returns its pid.

    This is the cold launcher, the default of :func:`start`; the dashboard hands a
    warm one in (:meth:`seqattn.speed.warm_pool.WarmPool.launch`).
    """
    env = worker_env()
    log = open_log(directory)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", module, str(directory.resolve())],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            close_fds=True,
        )
    finally:
        log.close()
    reap_in_background(process)
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
    launcher: Launcher | None = None,
) -> str:
    """Queue a job and return its run id at once; a worker process does the work.

    Args:
        problem: the echo problem.
        train: a :class:`seqattn.training.config.TrainConfig` (or its dict).
        model: a :class:`seqattn.model.config.ModelConfig` (default its defaults).
        kind: ``train`` (one run of both models), ``compare`` (``extra['repeats']`` runs)
            or ``sweep`` (``extra['sweep']``, a :class:`seqattn.sweeps.grid.SweepConfig` dict).
        names: the models to train.
        extra: more settings stored in run.json (e.g. ``repeats``).
        root: the runs root (default ``$SEQATTN_RUNS_DIR`` or ``./runs``).
        launcher: what starts the job's process (default :func:`launch_worker`, a new
            process; the dashboard passes its warm pool's).

    Raises:
        ValueError: the job is over the memory or time budget (:func:`check_job`; the
            message says what to reduce). QueueFull (a RunError and a ValueError):
            ``$SEQATTN_MAX_QUEUED`` jobs already wait. RunError: the runs root cannot
            be written; NotEnoughSpace (a RunError): its device has too little free space for
            the run (:func:`disk_needed`). SettingError (a ValueError): a ``SEQATTN_*`` variable holds a value
            that is not accepted (:mod:`seqattn.settings`). In every case nothing was started.
    """
    check_all()  # the job's process would refuse it anyway; say so before a run is written
    train_dict = train.to_dict() if dataclasses.is_dataclass(train) else dict(train)
    model = model or ModelConfig()
    model_dict = model.to_dict() if dataclasses.is_dataclass(model) else dict(model)
    check_job(problem, train_dict, model_dict, kind=kind, extra=extra)
    waiting, cap = queued_count(root), max_queued()
    if waiting >= cap:
        raise QueueFull(f"{waiting} job{' is' if waiting == 1 else 's are'} already waiting; wait for one to finish "
                        f"or cancel one (at most {cap} may wait, ${MAX_QUEUED_ENV}).")
    run_id = create_run(problem, train_dict, model=model_dict, kind=kind, names=names, extra=extra, root=root,
                        needed_bytes=disk_needed(problem, train_dict, model_dict, kind=kind, extra=extra))
    directory = run_dir(run_id, root)
    try:
        pid = (launcher or launch_worker)(directory)
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
    launcher: Launcher | None = None,
) -> str:
    """Queue a sweep (a :class:`seqattn.sweeps.grid.SweepConfig`) and return its run id at once.

    The grid is checked first (cell count, each cell's size, each value), so a
    refused sweep starts nothing. ``scheduler`` is the Dask scheduler's address
    its cells go to (default: ``$SEQATTN_DASK_SCHEDULER``, else a local cluster
    the job starts).

    Raises:
        ValueError: the grid is refused (the message says why and what to change),
            e.g. a cell over the budget. QueueFull: too many jobs wait already.
        RunError: the runs root cannot be written.
    """
    extra: dict[str, Any] = {"sweep": sweep.to_dict()}
    if scheduler:
        extra["scheduler"] = scheduler
    return start(problem, train, model=model, kind="sweep", extra=extra, root=root, launcher=launcher)


def cancel(run_id: str, root: str | os.PathLike[str] | None = None) -> JobStatus:
    """Ask a job to stop; harmless in any state. Returns the status after asking.

    A queued job ends ``cancelled`` without training; a running one stops
    within one update (or, while still compiling, at once) and keeps its
    history and models.
    """
    directory = existing_run_dir(run_id, root)
    current = status(run_id, root)
    if current.active or current.state == "stalled":  # a stalled worker that wakes up sees the request
        request_cancel(directory)
    return current
