"""The process that runs one job: ``python -m seqattn.jobs.worker <run directory>``.

Launched by :func:`seqattn.jobs.control.start`. It checks the job against the budget
(:mod:`seqattn.training.budget`), waits for a slot (:mod:`seqattn.jobs.slots`) before
loading TensorFlow (a queued job stays a small process), checks again that it fits the budget beside
our other live processes (:mod:`seqattn.jobs.neighbours`), trains at a lower scheduling priority so the dashboard stays
responsive, runs the task of the run's kind (:mod:`seqattn.jobs.tasks`), and ends in
``done``, ``cancelled``, ``failed`` or ``interrupted``.

Its watchdog thread, from start to end: follows cancel requests, writes a
heartbeat into status.json every ``HEARTBEAT_SECONDS`` (a frozen worker is
then seen as stalled and loses its slot), stops the job as ``failed`` when the
memory of the process and its children reaches the budget, and stops it as
``interrupted`` when it wakes up from a freeze to find its slot taken over.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any
from collections.abc import Callable, Sequence

from seqattn.model.config import model_config_of
from seqattn.problem.config import ProblemConfig
from seqattn.processes import lower_priority_to, process_start_time
from seqattn.runs import cancel_requested, read_meta, update_status
from seqattn.runs.files import is_no_space
from seqattn.runs.space import no_space_message
from seqattn.settings import SettingError, check_all
from seqattn.jobs.slots import HEARTBEAT_SECONDS, wait_for_slot
from seqattn.jobs.control import check_job
from seqattn.jobs.neighbours import describe, neighbours
from seqattn.jobs.tasks import TASKS, TaskContext, check_before_slot, sweep_of
from seqattn.sweeps.cluster import ClusterError
from seqattn.sweeps.grid import grid_cells
from seqattn.training.budget import GIB, estimate_peak_bytes, memory_budget_bytes, process_tree_rss, room_problem
from seqattn.training.config import TrainConfig

POLL_SECONDS = 0.1
GRACE_SECONDS = 1.0
NICENESS = 10
MEMORY_CHECK_SECONDS = 0.5
# A job over its memory budget gets this long to stop between two updates (and
# keep its models) before it is ended at once; past HARD_MEMORY_FACTOR x the
# budget it is ended at once.
MEMORY_GRACE_SECONDS = 5.0
HARD_MEMORY_FACTOR = 1.15


class Worker:
    """Runs one job directory from queue to a final state.

    Args:
        directory: the run directory.
        sinks: extra progress sinks (the CLI prints with one).
        setups: where the job's training setups may come from besides building them
            (:class:`~seqattn.training.session.SetupSource`; None: always built).
    """

    def __init__(self, directory: Path, sinks: Sequence[Callable[[Any], None]] = (), setups: Any = None) -> None:
        self.directory = directory
        self.sinks = list(sinks)
        self.setups = setups
        self.meta = read_meta(directory)
        self.stop = threading.Event()
        self.acknowledged = False  # the task saw the stop request and is winding down
        self.cancel_time: float | None = None
        self.finished = False
        self.parent = os.getppid()
        self._slot: Any = None
        self._finish_lock = threading.Lock()
        # Why the worker itself stopped the job: (final state, error), else None.
        self.stop_reason: tuple[str, str] | None = None
        self.stop_time: float | None = None
        self.memory_budget: float | None = None

    def finish(self, state: str, **fields: Any) -> None:
        with self._finish_lock:
            if not self.finished:
                self.finished = True
                update_status(self.directory, state=state, finished=time.time(), **fields)
                slot, self._slot = self._slot, None
                if slot is not None:
                    with contextlib.suppress(OSError):  # else its lock goes with the process, as before
                        slot.release()

    def stop_for(self, state: str, error: str) -> None:
        """Stop the job cooperatively (like a cancel) and end it in ``state`` with ``error``."""
        if self.stop_reason is None:
            self.stop_reason = (state, error)
            self.stop_time = time.monotonic()
            print(error, file=sys.stderr, flush=True)
            self.stop.set()

    def _check_memory(self) -> None:
        if self.memory_budget is None:
            self.memory_budget = memory_budget_bytes()
        used = process_tree_rss(file_pages=False)  # shared library pages are not this job's to count
        if used < self.memory_budget:
            return
        message = f"stopped: memory use {used / GIB:.1f} GiB reached the budget {self.memory_budget / GIB:.1f} GiB"
        self.stop_for("failed", message)
        if used > HARD_MEMORY_FACTOR * self.memory_budget:
            self.finish("failed", error=message)
            os._exit(1)

    def _check_slot(self, silent: float) -> None:
        if self._slot is not None and not self._slot.still_mine():
            self.stop_for("interrupted", f"stopped: this job gave no sign of life for {silent:.0f} s (frozen or "
                                         "swapping) and its slot went to the next job.")

    def watch(self) -> None:
        """Background thread: cancel requests, a vanished parent, the heartbeat, memory and the slot."""
        last_beat = last_memory = 0.0
        while not self.finished:
            now = time.monotonic()
            if cancel_requested(self.directory) and not self.stop.is_set():
                self.stop.set()
                self.cancel_time = now
            if self.cancel_time is not None and not self.acknowledged and now - self.cancel_time > GRACE_SECONDS:
                # Queued, building or compiling: the task cannot see the
                # request soon, and there is no trained model to keep yet.
                self.finish("cancelled", error=None)
                os._exit(0)
            if self.stop_time is not None and not self.acknowledged and now - self.stop_time > MEMORY_GRACE_SECONDS:
                state, error = self.stop_reason or ("failed", "stopped")
                self.finish(state, error=error)
                os._exit(1)
            if os.getppid() != self.parent:
                self.finish("interrupted", error="The dashboard or command that started this run stopped.")
                os._exit(1)
            if now - last_beat >= HEARTBEAT_SECONDS:
                if not self.finished:
                    with contextlib.suppress(OSError):  # a full disk must not end the watchdog; the task fails instead
                        update_status(self.directory, heartbeat=time.time())
                self._check_slot(now - last_beat if last_beat else 0.0)
                last_beat = now
            if now - last_memory >= MEMORY_CHECK_SECONDS:
                self._check_memory()
                last_memory = now
            time.sleep(POLL_SECONDS)

    def should_stop(self) -> bool:
        """The task's stop check, called before every update."""
        if self.stop.is_set():
            self.acknowledged = True
            return True
        return False

    def check_budget(self) -> None:
        """Refuse a job over the budget before it waits or loads TensorFlow: it ends ``failed``.

        Raises:
            ValueError: the refusal (the command line turns it into exit status 2).
        """
        try:
            check_job(ProblemConfig.from_dict(self.meta["problem"]), self.meta.get("train") or {},
                      model_config_of(self.meta), kind=self.meta.get("kind", "train"), extra=self.meta)
        except ValueError as exc:
            self.finish("failed", error=f"Refused: {exc}")
            raise

    def check_room(self) -> None:
        """Refuse the job, once it has the slot and before it loads TensorFlow, if its estimated peak does not fit
        the budget beside what our other live processes hold now (:mod:`seqattn.jobs.neighbours`: running,
        stalled and queued jobs, the warm training process); it then ends ``failed``, nothing trained.

        Raises:
            ValueError: the refusal (the command line turns it into exit status 2).
        """
        others = neighbours(self.directory.parent)
        if not others:
            return
        problem, model = ProblemConfig.from_dict(self.meta["problem"]), model_config_of(self.meta)
        train = TrainConfig.from_dict(self.meta.get("train") or {})
        trainings = [(problem, train, model)]
        if self.meta.get("kind", "train") != "train":  # cells of a comparison or sweep: the largest must fit
            trainings = [(c.problem, c.train, c.model) for c in grid_cells(problem, train, sweep_of(self.meta),
                                                                             model=model)]
        largest = max(trainings, key=lambda cell: estimate_peak_bytes(*cell))
        message = room_problem(*largest, others_bytes=sum(p.memory for p in others), others=describe(others),
                               subject="this training" if len(trainings) == 1 else "one cell")
        if message is not None:
            self.finish("failed", error=f"Refused: {message}")
            raise ValueError(message)

    def run(self) -> None:
        """Run the job to a final state.

        Raises:
            ValueError: the job is over the budget (alone or, once it has the slot, beside our other live
                processes: :meth:`check_room`), or a ``SEQATTN_*`` variable holds a value that is
                not accepted (it ended ``failed`` with the message, nothing trained).
        """
        pid = os.getpid()
        update_status(self.directory, pid=pid, pid_start=process_start_time(pid), state="queued",
                      heartbeat=time.time())
        try:
            check_all()  # before the watchdog, which reads the stall time and the memory budget
        except SettingError as exc:
            self.finish("failed", error=str(exc))
            raise
        threading.Thread(target=self.watch, daemon=True).start()
        self.check_budget()
        try:
            check_before_slot(self.meta)  # a sweep takes the training slot only once its cluster answers
        except ClusterError as exc:
            self.finish("failed", error=str(exc))
            return
        self._slot = wait_for_slot(self.directory, self.meta["created"])
        self.check_room()
        lower_priority_to(NICENESS)
        total = self.meta.get("train", {}).get("updates") if self.meta.get("kind", "train") == "train" else None
        update_status(self.directory, state="running", started=time.time(), phase="preparing", total=total)
        try:
            task = TASKS[self.meta.get("kind", "train")]
            state = task(TaskContext(self.directory, self.meta, self.should_stop, self.sinks, self.setups))
            if self.stop_reason is not None:
                self.finish(self.stop_reason[0], error=self.stop_reason[1])
            self.finish(state, error=None)
        except ClusterError as exc:  # a cluster that cannot run cells: its message (in the status) says what to do
            self.finish("failed", error=str(exc))
        except Exception as exc:  # any failure becomes a readable state, not a crash
            if not is_no_space(exc):  # a full disk is said in one line, below
                with contextlib.suppress(OSError):  # the log may be on a full disk
                    traceback.print_exc()
            if self.stop_reason is not None:
                self.finish(self.stop_reason[0], error=self.stop_reason[1])
            if is_no_space(exc):  # models stay as at the last checkpoint: saved as a set, never half-replaced
                message = no_space_message(self.directory.parent)
                self.finish("failed", error=message[0].upper() + message[1:])
            # The cause only: the state says it failed, and pages and the CLI lead with that ("Training failed.").
            self.finish("failed", error=f"{exc.__class__.__name__}: {exc}"[:500])


def main(argv: list[str] | None = None, setups: Any = None) -> int:
    """``python -m seqattn.jobs.worker RUN_DIRECTORY``: run the job to a final state; 2 if refused (budget, setting).

    ``setups`` is handed to :class:`Worker` (an entry point that brings its own, such as
    :mod:`seqattn.speed.worker`, calls this).
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m seqattn.jobs.worker RUN_DIRECTORY", file=sys.stderr)
        return 2
    try:
        Worker(Path(args[0]), setups=setups).run()
    except ValueError as exc:  # refused by the budget or a bad setting; the run says so
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
