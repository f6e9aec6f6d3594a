"""What a job does, by kind: a table of tasks that report through progress sinks.

A task takes a :class:`TaskContext` and returns the run's final state
(``done`` or ``cancelled``); it raises on failure. Sinks are plain callables,
called with every :class:`~seqattn.training.progress.Progress` of a training and every
:class:`~seqattn.sweeps.cells.CellResult` of a run of cells; the run's own files are
one sink, the CLI's printer another.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

from seqattn.model.config import ModelConfig, model_config_of
from seqattn.problem.config import ProblemConfig
from seqattn.model.registry import MODEL_NAMES, check_names
from seqattn.runs import CellLogWriter, RunWriter, save_models_atomic, save_result, update_status
from seqattn.sweeps import cluster
from seqattn.sweeps.executors import dask_backend, local_backend, run_cells
from seqattn.sweeps.grid import SweepConfig, grid_cells
from seqattn.training.config import TrainConfig
from seqattn.training.session import SetupSource, train
from seqattn.training.setup import build_setup
from seqattn.training.threads import fit_threads_to_process

Sink = Callable[[Any], None]
CHECKPOINT_SECONDS = 5.0  # a training saves its models at an evaluation at most this often


@dataclass
class TaskContext:
    """Everything a task needs.

    Attributes:
        directory: the run directory (only :mod:`seqattn.runs` opens its files).
        meta: the run's ``run.json``.
        stop: the stop check; true once the job was cancelled.
        sinks: extra progress sinks beside the run's files.
        setups: where training setups may come from besides building them (None: always built;
            the speed machinery passes its own, :class:`~seqattn.training.session.SetupSource`).
    """

    directory: Path
    meta: dict[str, Any]
    stop: Callable[[], bool]
    sinks: list[Sink] = field(default_factory=list)
    setups: SetupSource | None = None

    @property
    def problem(self) -> ProblemConfig:
        return ProblemConfig.from_dict(self.meta["problem"])

    @property
    def train(self) -> TrainConfig:
        return TrainConfig.from_dict(self.meta["train"])

    @property
    def model(self) -> ModelConfig:
        return model_config_of(self.meta)

    @property
    def names(self) -> tuple[str, ...]:
        return check_names(self.meta.get("names") or MODEL_NAMES)

    def emit(self, event: Any) -> None:
        for sink in self.sinks:
            sink(event)


def save_checkpoint(directory: Path, models: dict[str, Any], progress: Any) -> None:
    """Save every model as it is at an evaluation, and note it in status.json as ``checkpoint``.

    Every ``<model>.keras`` is written to a temporary name, then all are renamed into place
    (:func:`seqattn.runs.save_models_atomic`), so a run killed at any moment, or whose disk
    fills up mid-save, keeps whole models from one evaluation; ``checkpoint`` (update,
    accuracy, time) is written after all of them, so it never names an evaluation whose
    models are not all saved.
    """
    save_models_atomic(models, directory)
    update_status(directory, checkpoint={"update": progress.update, "accuracy": progress.accuracy,
                                         "time": time.time()})


def setup_for(ctx: TaskContext) -> Any:
    """The job's training setup: the one its ``setups`` has ready (a warm process's, say), else a fresh one."""
    ready = ctx.setups.take(ctx.problem, ctx.train, ctx.model, ctx.names) if ctx.setups is not None else None
    if ready is not None:
        return ready
    return build_setup(ctx.problem, ctx.train, ctx.names, ctx.model)


def run_training(ctx: TaskContext) -> str:
    """One training of the run's models; progress, evaluations and models go into the run.

    The models are saved at an evaluation at most every ``CHECKPOINT_SECONDS``
    (:func:`save_checkpoint`), so an interrupted, failed or cancelled run still
    has them as they were then.
    """
    fit_threads_to_process()  # leaves a core to the dashboard on small machines
    writer = RunWriter(ctx.directory, ctx.names)
    setup = setup_for(ctx)
    update_status(ctx.directory, prepared=bool(getattr(setup, "ahead", False)))
    last_checkpoint = time.monotonic()

    def report(progress: Any) -> None:
        nonlocal last_checkpoint
        writer.on_progress(progress)
        # The final models are saved with the result; between, at most every CHECKPOINT_SECONDS
        # (a short run's first seconds are not spent saving models).
        if progress.accuracy is not None and not progress.final and time.monotonic() - last_checkpoint >= CHECKPOINT_SECONDS:
            save_checkpoint(ctx.directory, setup.models, progress)
            last_checkpoint = time.monotonic()
        ctx.emit(progress)

    try:
        result = train(ctx.problem, ctx.train, model=ctx.model, names=ctx.names, on_progress=report, stop=ctx.stop,
                       setup=setup)
    finally:
        writer.close()
    save_result(ctx.directory, result)
    return "cancelled" if result.cancelled else "done"


def sweep_of(meta: dict[str, Any]) -> SweepConfig:
    """The grid of a run of cells: its ``sweep`` settings, or a comparison's repeats over seeds."""
    if meta.get("kind") == "compare":
        return SweepConfig(axis=None, seeds=int(meta.get("repeats", 10)))
    return SweepConfig.from_dict(meta["sweep"])


def backend_for(meta: dict[str, Any]) -> Any:
    """Where a run's cells go: the Dask scheduler in ``meta`` (or the environment's),
    a local Dask cluster for sweeps, this process for comparisons."""
    address = cluster.scheduler_address(meta.get("scheduler"))
    if address is None and meta.get("kind") != "sweep":
        fit_threads_to_process()  # cells train here: leave a core to the dashboard
        return local_backend()
    return dask_backend(cluster.client(address))


def check_before_slot(meta: dict[str, Any]) -> None:
    """What a job checks before it waits for the training slot: a run of cells on an external
    Dask scheduler connects to it first, so a cluster that does not answer (or cannot run cells)
    never holds the slot that a training is waiting for.

    Raises:
        ClusterError: the cluster cannot be used (one line for the user, see :func:`cluster.connect`).
    """
    if meta.get("kind") not in ("sweep", "compare"):
        return
    address = cluster.scheduler_address(meta.get("scheduler"))
    if address is not None:
        cluster.connect(address).close()


def run_cells_task(ctx: TaskContext) -> str:
    """Every cell of a comparison or sweep; each finished cell is stored as it arrives."""
    train = ctx.train
    cells = grid_cells(ctx.problem, train, sweep_of(ctx.meta), ctx.names, model=ctx.model)
    log = CellLogWriter(ctx.directory, len(cells), train.updates)
    backend = backend_for(ctx.meta)
    update_status(ctx.directory, backend=backend.description, workers=backend.workers,
                  phase="training" if not backend.in_process else "preparing")

    def on_result(result: Any) -> None:
        log.on_result(result)
        ctx.emit(result)

    def on_progress(spec: Any, progress: Any) -> None:
        log.on_progress(spec.index, progress.update)
        ctx.emit(dataclasses.replace(progress, final=False))

    try:
        _, cancelled = run_cells(cells, backend, on_result=on_result, on_progress=on_progress, stop=ctx.stop,
                                  setups=ctx.setups)
    finally:
        backend.close()
    return "cancelled" if cancelled else "done"


TASKS: dict[str, Callable[[TaskContext], str]] = {
    "train": run_training,
    "compare": run_cells_task,
    "sweep": run_cells_task,
}
