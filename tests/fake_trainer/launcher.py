"""A fake job launcher for page tests, registered through the jobs seam (:func:`ui.backend.use_launcher`).

A page starts a job as always (:func:`seqattn.jobs.control.start` writes the run
and calls the launcher with its directory); this launcher plays the job in a
thread of the test process with the fakes of ``sitecustomize.py`` (falling
losses, rising accuracy, finished cells), writing the run's files as a worker
would. No process is started and nothing trains. After :meth:`FakeLauncher.hold`
a job stays running until :meth:`FakeLauncher.release`, so a test sees the live view.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from fake_trainer.sitecustomize import fake_train, fake_train_cell
from seqattn.model.config import ModelConfig
from seqattn.model.registry import MODEL_NAMES
from seqattn.problem.config import ProblemConfig
from seqattn.processes import process_start_time
from seqattn.runs import CellLogWriter, RunWriter, cancel_requested, read_meta, update_status
from seqattn.runs.saved_models import save_result
from seqattn.sweeps.grid import SweepConfig, grid_cells
from seqattn.training.config import TrainConfig


class FakeLauncher:
    """Plays each job it is given; ``launched`` lists their directories."""

    def __init__(self) -> None:
        self.launched: list[Path] = []
        self._go = threading.Event()
        self._go.set()
        self._threads: list[threading.Thread] = []

    def __call__(self, directory: Path) -> int:
        self.launched.append(directory)
        pid = os.getpid()  # a live process owns the run, so readers see it running
        update_status(directory, state="running", pid=pid, pid_start=process_start_time(pid), phase="training")
        thread = threading.Thread(target=self._play, args=(directory,), name="fake-job", daemon=True)
        thread.start()
        self._threads.append(thread)
        return pid

    def hold(self) -> None:
        """Keep the jobs launched from now on running (their live view shows) until :meth:`release`."""
        self._go.clear()

    def release(self) -> None:
        """Let held jobs play to their end."""
        self._go.set()

    def join(self, timeout: float = 30) -> None:
        self.release()
        for thread in self._threads:
            thread.join(timeout)

    def _play(self, directory: Path) -> None:
        deadline = time.monotonic() + 120
        while not self._go.wait(0.05) and time.monotonic() < deadline:
            if cancel_requested(directory):  # a held job still stops when cancelled, untrained, as a worker would
                update_status(directory, state="cancelled", finished=time.time())
                return
        meta = read_meta(directory)
        problem, train = ProblemConfig.from_dict(meta["problem"]), TrainConfig.from_dict(meta["train"])
        model, names = ModelConfig.from_dict(meta.get("model") or {}), tuple(meta.get("names") or MODEL_NAMES)
        stop = lambda: cancel_requested(directory)  # noqa: E731
        try:
            if meta.get("kind", "train") == "train":
                writer = RunWriter(directory, names, status_interval=0)
                result = fake_train(problem, train, model=model, names=names, on_progress=writer.on_progress, stop=stop)
                writer.close()
                save_result(directory, result)
                state = "cancelled" if result.cancelled else "done"
            else:
                sweep = (SweepConfig(axis=None, seeds=int(meta.get("repeats", 1))) if meta["kind"] == "compare"
                         else SweepConfig.from_dict(meta["sweep"]))
                cells = grid_cells(problem, train, sweep, names, model=model)
                log = CellLogWriter(directory, len(cells), train.updates, status_interval=0)
                for spec in cells:
                    if stop():
                        break
                    log.on_result(fake_train_cell(spec))
                state = "cancelled" if stop() else "done"
        except Exception as exc:  # a broken fake must show as a failed run, not hang the test
            update_status(directory, state="failed", error=f"fake job: {exc.__class__.__name__}: {exc}")
            raise
        update_status(directory, state=state, finished=time.time())
