"""The process that runs one job: ``python -m seqattn.worker <run directory>``.

Launched by :func:`seqattn.jobs.start`. It waits for a slot (:mod:`seqattn.slots`),
trains at a lower scheduling priority so the dashboard stays responsive, runs
the task of the run's kind (:mod:`seqattn.tasks`), and ends in ``done``,
``cancelled``, ``failed`` or ``interrupted``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any
from collections.abc import Callable, Sequence

from seqattn.processes import lower_priority_to, process_start_time
from seqattn.runs import cancel_requested, read_meta, update_status
from seqattn.slots import wait_for_slot

POLL_SECONDS = 0.1
GRACE_SECONDS = 1.0
NICENESS = 10


class Worker:
    """Runs one job directory from queue to a final state.

    Args:
        directory: the run directory.
        sinks: extra progress sinks (the CLI prints with one).
    """

    def __init__(self, directory: Path, sinks: Sequence[Callable[[Any], None]] = ()) -> None:
        self.directory = directory
        self.sinks = list(sinks)
        self.meta = read_meta(directory)
        self.stop = threading.Event()
        self.acknowledged = False  # the task saw the stop request and is winding down
        self.cancel_time: float | None = None
        self.finished = False
        self.parent = os.getppid()
        self._slot: Any = None

    def finish(self, state: str, **fields: Any) -> None:
        if not self.finished:
            self.finished = True
            update_status(self.directory, state=state, finished=time.time(), **fields)

    def watch(self) -> None:
        """Background thread: cancel requests and a vanished parent."""
        while not self.finished:
            if cancel_requested(self.directory) and not self.stop.is_set():
                self.stop.set()
                self.cancel_time = time.monotonic()
            if self.cancel_time is not None and not self.acknowledged and time.monotonic() - self.cancel_time > GRACE_SECONDS:
                # Queued, building or compiling: the task cannot see the
                # request soon, and there is no trained model to keep yet.
                self.finish("cancelled", error=None)
                os._exit(0)
            if os.getppid() != self.parent:
                self.finish("interrupted", error="The dashboard or command that started this run stopped.")
                os._exit(1)
            time.sleep(POLL_SECONDS)

    def should_stop(self) -> bool:
        """The task's stop check, called before every update."""
        if self.stop.is_set():
            self.acknowledged = True
            return True
        return False

    def run(self) -> None:
        from seqattn.tasks import TASKS, TaskContext

        pid = os.getpid()
        update_status(self.directory, pid=pid, pid_start=process_start_time(pid), state="queued")
        threading.Thread(target=self.watch, daemon=True).start()
        self._slot = wait_for_slot(self.directory, self.meta["created"])
        lower_priority_to(NICENESS)
        total = self.meta.get("train", {}).get("updates") if self.meta.get("kind", "train") == "train" else None
        update_status(self.directory, state="running", started=time.time(), phase="preparing", total=total)
        try:
            task = TASKS[self.meta.get("kind", "train")]
            state = task(TaskContext(self.directory, self.meta, self.should_stop, self.sinks))
            self.finish(state, error=None)
        except Exception as exc:  # any failure becomes a readable state, not a crash
            traceback.print_exc()
            self.finish("failed", error=f"Training failed: {exc.__class__.__name__}: {exc}"[:500])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m seqattn.worker RUN_DIRECTORY", file=sys.stderr)
        return 2
    Worker(Path(args[0])).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
