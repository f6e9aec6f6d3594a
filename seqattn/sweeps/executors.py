"""Where cells run: in this process, or on a Dask cluster, behind one ``concurrent.futures`` seam.

:func:`run_cells` takes a :class:`Backend` (an executor plus a stop flag its
tasks can see) and hands each finished cell to ``on_result`` as it completes,
so a caller can store it at once and partial results survive a cancel or a crash.

- :func:`local_backend`: cells one after another in a thread of this process
  (the executor the comparison always used; per-update progress is available).
- :func:`dask_backend`: cells on a Dask cluster (:mod:`seqattn.sweeps.cluster` finds or
  starts it); a running cell is stopped cooperatively through a
  ``distributed.Event`` its trainer polls, pending ones are cancelled.
"""

from __future__ import annotations

import concurrent.futures as cf
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Sequence

from seqattn.sweeps.cells import CellResult, CellSpec, train_cell
from seqattn.sweeps.cluster import train_cell_on_worker
from seqattn.training.progress import Progress
from seqattn.training.session import SetupSource

StopCheck = Callable[[], bool]


class DaskStopFlag:
    """A stop flag shared with Dask tasks by name (a ``distributed.Event``), picklable.

    Tasks poll :meth:`is_set` before every update; it asks the scheduler at
    most every ``interval`` seconds so polling costs nothing measurable.
    """

    def __init__(self, name: str, interval: float = 0.25) -> None:
        self.name = name
        self.interval = interval
        self._event: Any = None
        self._checked = 0.0
        self._set = False

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "interval": self.interval}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["name"], state["interval"])  # type: ignore[misc]

    def _get(self) -> Any:
        if self._event is None:
            from distributed import Event  # on a Dask worker, where distributed is loaded anyway

            self._event = Event(self.name)
        return self._event

    def set(self) -> None:
        self._get().set()
        self._set = True

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self._set and now - self._checked >= self.interval:
            self._checked = now
            try:
                self._set = bool(self._get().is_set())
            except Exception:  # scheduler gone: the driver is gone too, stop
                self._set = True
        return self._set


@dataclass
class Backend:
    """An executor for cells and the stop flag its tasks poll.

    Attributes:
        executor: a ``concurrent.futures.Executor`` that runs :func:`train_cell`.
        stop_flag: passed to every task; ``set()`` asks running cells to stop.
        workers: how many cells run at once (for estimates and submission).
        in_process: True if tasks share this process (progress callbacks work).
        description: for logs and the page ("this process", "Dask at tcp://...").
        task: the function each cell runs (:func:`train_cell`, or its Dask-worker wrapper).
    """

    executor: cf.Executor
    stop_flag: Any
    workers: int
    in_process: bool
    description: str
    _close: Callable[[], None] | None = field(default=None, repr=False)
    task: Callable[..., CellResult] = train_cell

    def close(self) -> None:
        """Release the executor (a shared cluster stays up)."""
        if self._close is not None:
            self._close()


def local_backend() -> Backend:
    """Cells one after another in one thread of this process."""
    executor = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="seqattn-cell")
    return Backend(executor, threading.Event(), 1, True, "this process",
                   lambda: executor.shutdown(wait=True, cancel_futures=True))


def dask_backend(client: Any, retries: int = 1) -> Backend:
    """Cells on the cluster behind a ``distributed.Client``.

    A cell whose worker dies is run again by Dask on another worker (up to its
    ``distributed.scheduler.allowed-failures``, 3 by default), then reported failed
    with the reason; ``retries`` covers only errors raised outside the cell, since
    a cell's own exceptions are results (:func:`train_cell`).
    """
    workers = max(1, sum(client.nthreads().values()))
    flag = DaskStopFlag(f"seqattn-stop-{secrets.token_hex(6)}")
    executor = client.get_executor(pure=False, retries=retries)
    return Backend(executor, flag, workers, False, f"Dask at {client.scheduler.address}", task=train_cell_on_worker)


def failed_result(spec: CellSpec, reason: str) -> CellResult:
    """The result recorded for a cell that never returned (its worker died, say)."""
    return CellResult(index=spec.index, repeat=spec.repeat, seed=spec.train.seed, values=dict(spec.values),
                      problem=spec.problem.to_dict(), model=spec.model.to_dict(), status="failed",
                      error=reason[:500], until=spec.train.until, cap=spec.train.updates)


def run_cells(
    cells: Sequence[CellSpec],
    backend: Backend,
    *,
    on_result: Callable[[CellResult], None] | None = None,
    on_progress: Callable[[CellSpec, Progress], None] | None = None,
    stop: StopCheck | threading.Event | None = None,
    poll: float = 0.2,
    setups: SetupSource | None = None,
) -> tuple[list[CellResult], bool]:
    """Run every cell on ``backend``; return (results in grid order, cancelled).

    Args:
        cells: the grid.
        backend: where to run them.
        on_result: called in this thread with each finished (or failed) cell, as it completes.
        on_progress: per-report progress of a running cell (in-process backends only).
        stop: polled every ``poll`` seconds; once true, pending cells are cancelled,
            running ones asked to stop, and cancelled cells are not reported.
        setups: where each cell's training setup may come from (it travels with the cell;
            see :func:`~seqattn.sweeps.cells.train_cell`).

    A cell that raises inside the executor (a dead worker, a lost connection)
    becomes a ``failed`` result with the reason; the other cells go on.
    """
    check: StopCheck | None = stop.is_set if isinstance(stop, threading.Event) else stop
    results: dict[int, CellResult] = {}
    pending: dict[cf.Future, CellSpec] = {}
    for spec in cells:
        if backend.in_process and on_progress is not None:
            callback: Any = lambda progress, spec=spec: on_progress(spec, progress)  # noqa: E731
            future = backend.executor.submit(backend.task, spec, backend.stop_flag, callback, setups=setups)
        else:
            future = backend.executor.submit(backend.task, spec, backend.stop_flag, setups=setups)
        pending[future] = spec
    cancelled = False
    while pending:
        if check is not None and check() and not cancelled:
            cancelled = True
            backend.stop_flag.set()
            for future in pending:
                future.cancel()
        done, _ = cf.wait(list(pending), timeout=poll, return_when=cf.FIRST_COMPLETED)
        for future in done:
            spec = pending.pop(future)
            if future.cancelled():
                continue
            try:
                result = future.result()
            except Exception as exc:  # the task never returned: record why, go on
                result = failed_result(spec, f"the cell's worker failed ({exc.__class__.__name__}: {exc})")
            if result.status == "cancelled":
                cancelled = True
                continue
            results[result.index] = result
            if on_result is not None:
                on_result(result)
    return [results[i] for i in sorted(results)], cancelled
