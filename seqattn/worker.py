"""The process that trains one run: ``python -m seqattn.worker <run directory>``.

Launched by :func:`seqattn.jobs.start`. It waits for a free slot (at most
``$SEQATTN_MAX_JOBS`` runs train at once, oldest first), trains at a lower
scheduling priority so the dashboard stays responsive, writes progress as it
goes, and ends in ``done``, ``cancelled``, ``failed`` or ``interrupted``.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from seqattn import jobs
from seqattn.runs import (
    RUN_ID_PATTERN,
    RunWriter,
    process_alive,
    process_start_ticks,
    read_json,
    save_result,
    update_status,
    write_json,
)

POLL_SECONDS = 0.1
GRACE_SECONDS = 1.0
NICENESS = 10


class Worker:
    """Runs one job directory from queue to a final state."""

    def __init__(self, directory: Path, echo: Any = None) -> None:
        self.directory = directory
        self.echo = echo  # optional extra progress callback (the CLI prints with it)
        self.meta = read_json(directory / "run.json")
        self.stop = threading.Event()
        self.acknowledged = False  # the update loop saw the stop request and is winding down
        self.cancel_time: float | None = None
        self.finished = False
        self.parent = os.getppid()
        self._slot: Any = None

    # -- lifecycle -----------------------------------------------------------
    def finish(self, state: str, **fields: Any) -> None:
        if not self.finished:
            self.finished = True
            update_status(self.directory, state=state, finished=time.time(), **fields)

    def watch(self) -> None:
        """Background thread: cancel requests and a vanished parent."""
        while not self.finished:
            if jobs.cancel_requested(self.directory) and not self.stop.is_set():
                self.stop.set()
                self.cancel_time = time.monotonic()
            if self.cancel_time is not None and not self.acknowledged and time.monotonic() - self.cancel_time > GRACE_SECONDS:
                # Queued, building or compiling: the update loop cannot see the
                # request soon, and there is no trained model to keep yet.
                self.finish("cancelled", error=None)
                os._exit(0)
            if os.getppid() != self.parent:
                self.finish("interrupted", error="The dashboard or command that started this run stopped.")
                os._exit(1)
            time.sleep(POLL_SECONDS)

    def wait_for_slot(self) -> None:
        """Block until this run is the oldest queued one and a slot is free."""
        slots = self.directory.parent / ".slots"
        slots.mkdir(exist_ok=True)
        limit = jobs.max_jobs()
        while True:
            if not self._older_queued_alive():
                for index in range(limit):
                    handle = open(slots / f"{index}.lock", "a+")
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        handle.close()
                        continue
                    self._slot = handle  # held until the process exits
                    return
            time.sleep(0.2)

    def _older_queued_alive(self) -> bool:
        mine = (self.meta["created"], self.directory.name)
        for other in self.directory.parent.iterdir():
            if other == self.directory or not RUN_ID_PATTERN.fullmatch(other.name):
                continue
            try:
                status = read_json(other / "status.json")
                created = read_json(other / "run.json")["created"]
            except Exception:
                continue
            if (
                status.get("state") == "queued"
                and (created, other.name) < mine
                and process_alive(status.get("pid"), status.get("pid_start"))
            ):
                return True
        return False

    def run(self) -> None:
        update_status(self.directory, pid=os.getpid(), pid_start=process_start_ticks(os.getpid()), state="queued")
        threading.Thread(target=self.watch, daemon=True).start()
        self.wait_for_slot()
        os.nice(NICENESS)
        train = self.meta.get("train", {})
        total = train.get("updates")
        if total and self.meta.get("kind") == "compare":
            total *= int(self.meta.get("repeats", 1))
        update_status(self.directory, state="running", started=time.time(), total=total, phase="preparing")
        try:
            self.train()
        except Exception as exc:  # any failure becomes a readable state, not a crash
            traceback.print_exc()
            self.finish("failed", error=f"Training failed: {exc.__class__.__name__}: {exc}"[:500])

    def should_stop(self) -> bool:
        """The trainer's stop check, called before every update."""
        if self.stop.is_set():
            self.acknowledged = True
            return True
        return False

    # -- the work ------------------------------------------------------------
    def train(self) -> None:
        import tensorflow as tf

        # Leave a core to the dashboard on small machines.
        threads = max(1, (os.cpu_count() or 2) - 1)
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)

        from seqattn.problem import ProblemConfig
        from seqattn.training import TrainConfig

        problem = ProblemConfig.from_dict(self.meta["problem"])
        config = TrainConfig.from_dict(self.meta["train"])
        if os.environ.get("SEQATTN_WORKER_FAIL"):  # lets tests exercise the failure path
            raise RuntimeError(os.environ["SEQATTN_WORKER_FAIL"])
        writer = RunWriter(self.directory)
        if self.echo is not None:
            write = writer.on_progress

            def both(progress: Any) -> None:
                write(progress)
                self.echo(progress)

            writer.on_progress = both  # type: ignore[method-assign]
        try:
            if self.meta.get("kind") == "compare":
                self.run_comparison(problem, config, writer)
            else:
                self.run_training(problem, config, writer)
        finally:
            writer.close()

    def run_training(self, problem: Any, config: Any, writer: RunWriter) -> None:
        from seqattn.training import train

        names = tuple(self.meta.get("names") or ("baseline", "attention"))
        result = train(problem, config, names=names, on_progress=writer.on_progress, stop=self.should_stop)
        save_result(self.directory, result)
        self.finish("cancelled" if result.cancelled else "done", error=None)

    def run_comparison(self, problem: Any, config: Any, writer: RunWriter) -> None:
        import dataclasses

        from seqattn.compare import compare

        repeats = int(self.meta.get("repeats", 10))

        def on_progress(repeat: int, progress: Any) -> None:
            shifted = dataclasses.replace(
                progress,
                update=repeat * config.updates + progress.update,
                total=repeats * config.updates,
                final=progress.final and repeat == repeats - 1,
            )
            writer.on_progress(shifted)

        def on_repeat(repeat: int, rows: Any) -> None:
            path = self.directory / "results.csv"
            rows.to_csv(path, mode="a", header=not path.exists(), index=False)

        outcome = compare(problem, config, repeats, on_progress=on_progress, on_repeat=on_repeat, stop=self.should_stop)
        outcome.losses.to_csv(self.directory / "losses.csv", index=False)
        write_json(
            self.directory / "result.json",
            {
                "summary": outcome.summary().reset_index().to_dict(orient="records"),
                "repeats_done": int(outcome.results["repeat"].nunique()) if not outcome.results.empty else 0,
                "cancelled": outcome.cancelled,
                "updates_done": int(len(outcome.losses)),
                "accuracy": {},
            },
        )
        self.finish("cancelled" if outcome.cancelled else "done", error=None)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m seqattn.worker RUN_DIRECTORY", file=sys.stderr)
        return 2
    Worker(Path(args[0])).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
