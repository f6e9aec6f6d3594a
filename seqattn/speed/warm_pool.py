"""A warm training process kept ready by the dashboard, so a click trains at once.

A cold job pays, before its first update, for a new Python process, importing
TensorFlow (3-5 s on 2 cores) and tracing and compiling the update step (2-6 s).
The dashboard's server keeps one process ready instead
(``python -m seqattn.speed.warm_pool``): it has imported TensorFlow, fitted its
threads, and prepared the job most likely to come (:mod:`seqattn.speed.warm_start`):
at first the Train form's defaults, then the job last started (the same click
again); then it waits on its stdin. :meth:`WarmPool.launch` (the launcher the dashboard
hands to :func:`seqattn.jobs.control.start`) gives it a run directory; from there it is exactly the process
:func:`seqattn.jobs.control.launch_worker` would have started (``seqattn.jobs.worker``:
budget, slot, watchdog, cancel, heartbeat), with its output in the run's log.

Each warm process runs one job and exits, so nothing of one run (models,
optimizer, Keras session, random state) can reach the next: the pool starts a
fresh one for the next job, which waits for the job it follows to end before
it loads anything (it would otherwise take the running job's CPU). A job that
does not match the prepared one still saves the import, and a preparation
still under way stops at its next stage instead of competing with the job for
the CPU; any failure in the warm process falls back to a cold start.
``SEQATTN_WARM_WORKER=0`` turns the pool off.

Readiness is visible to other processes (benchmarks, tests): a ready process
writes ``<runs root>/.warm/<pid>.ready``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from seqattn.jobs.control import launch_worker, worker_env
from seqattn.jobs.worker import NICENESS
from seqattn.jobs.worker import main as run_worker
from seqattn.model.config import ModelConfig, model_config_of
from seqattn.model.registry import MODEL_NAMES, check_names
from seqattn.problem.echo import ProblemConfig
from seqattn.processes import lower_priority_to, process_alive, reap_in_background
from seqattn.runs import ensure_root, open_log, read_meta
from seqattn.speed import warm_start, xla_cache
from seqattn.speed.setups import FastSetups
from seqattn.training.config import TrainConfig
from seqattn.training.threads import fit_threads_to_process

WARM_ENV = "SEQATTN_WARM_WORKER"  # "0" turns the pool off
WAIT_POLL = 0.2  # s between checks that the job a new warm process follows has ended
POOL_DIR = ".warm"


def enabled() -> bool:
    """Whether a pool may start (``$SEQATTN_WARM_WORKER`` is not ``0``)."""
    return os.environ.get(WARM_ENV, "1").strip().lower() not in {"0", "off", "no", "false"}


def default_job() -> dict[str, Any]:
    """The job a warm process prepares unless told otherwise: the Train form's defaults, as plain dicts."""
    return {"problem": ProblemConfig().to_dict(), "train": TrainConfig(protocol="batched").to_dict(),
            "model": ModelConfig().to_dict(), "names": list(MODEL_NAMES)}


def _job_configs(job: dict[str, Any]) -> tuple[Any, Any, Any, tuple[str, ...]]:

    return (ProblemConfig.from_dict(job["problem"]), TrainConfig.from_dict(job["train"]),
            ModelConfig.from_dict(job.get("model") or {}), tuple(job["names"]))


def ready_files(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The ready markers of warm processes waiting for a job under ``root`` (default the runs root)."""
    return sorted((ensure_root(root) / POOL_DIR).glob("*.ready"))


class WarmPool:
    """Keeps one warm training process ready; thread-safe.

    Args:
        root: the runs root (only for the ready markers and the pool's log).
        job: the job its processes prepare (:func:`default_job`'s form; default the Train form's defaults).
    """

    def __init__(self, root: str | os.PathLike[str] | None = None, job: dict[str, Any] | None = None) -> None:
        self.folder = ensure_root(root) / POOL_DIR
        self.job = job or default_job()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The waiting process's pid (None if there is none)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def ensure(self, after: int | None = None) -> None:
        """Start a warm process unless one is waiting; it loads nothing before process ``after`` ends."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._spawn(after)

    def _spawn(self, after: int | None) -> subprocess.Popen[bytes] | None:
        command = [sys.executable, "-m", "seqattn.speed.warm_pool", str(self.folder), "--job", json.dumps(self.job)]
        if after is not None:
            command += ["--after", str(after)]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.folder / "warm.log", "ab") as log:
                return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                                        env=worker_env(), close_fds=True)
        except OSError:
            return None  # jobs then start cold

    def hand_off(self, directory: Path) -> int | None:
        """Give the run in ``directory`` to the waiting process; returns its pid, or None (start it cold).

        A fresh warm process is started for the next job either way; it prepares
        this job's settings (the likeliest next click is the same job again).
        """
        job = _job_of_run(directory)
        with self._lock:
            process, self._process = self._process, None
            pid = None
            if process is not None and process.poll() is None and process.stdin is not None:
                message = {"directory": str(directory.resolve()), "env": worker_env()}
                try:
                    process.stdin.write((json.dumps(message) + "\n").encode())
                    process.stdin.close()
                    pid = process.pid
                except OSError:  # it died meanwhile
                    pid = None
                reap_in_background(process)
            self.job = job or self.job
            self._process = self._spawn(after=pid)
        return pid

    def launch(self, directory: Path) -> int:
        """A launcher for :func:`seqattn.jobs.control.start`: the warm process takes the run, else a new one starts."""
        pid = self.hand_off(directory)
        return pid if pid is not None else launch_worker(directory, module="seqattn.speed.worker")

    def close(self) -> None:
        """Let the waiting process exit (its stdin closes)."""
        with self._lock:
            process, self._process = self._process, None
        if process is not None and process.stdin is not None:
            try:
                process.stdin.close()
            except OSError:
                pass
            reap_in_background(process)


_pool: WarmPool | None = None
_pool_lock = threading.Lock()


def start(root: str | os.PathLike[str] | None = None, job: dict[str, Any] | None = None) -> WarmPool | None:
    """Start this process's pool once (the dashboard's server calls it); None when turned off.

    ``job`` is what its processes prepare (default the Train form's defaults).
    """
    global _pool
    if not enabled():
        return None
    with _pool_lock:
        if _pool is None:
            _pool = WarmPool(root, job)
        pool = _pool
    pool.ensure()
    return pool


# --- the warm process -------------------------------------------------------------------------


def _wait_for(pid: int | None, job_arrived: threading.Event) -> None:

    while pid is not None and process_alive(pid) and not job_arrived.is_set():
        time.sleep(WAIT_POLL)


def _job_of_run(directory: Path) -> dict[str, Any] | None:
    """The training job of the run in ``directory`` in :func:`default_job`'s form (None: not a training, unreadable)."""
    try:
        meta = read_meta(directory)
        if meta.get("kind", "train") != "train":
            return None
        return {"problem": meta["problem"], "train": meta["train"], "model": model_config_of(meta).to_dict(),
                "names": list(check_names(meta.get("names") or MODEL_NAMES))}
    except Exception:  # the worker reports a damaged run itself
        return None


def _key_of_run(directory: Path) -> str:
    """The :func:`seqattn.speed.warm_start.job_key` of the run in ``directory`` ("" if it is not a readable training)."""
    job = _job_of_run(directory)
    if job is None:
        return ""
    try:
        return warm_start.job_key(*_job_configs(job))
    except (KeyError, TypeError, ValueError):
        return ""


def _redirect_output(directory: Path) -> None:

    log = open_log(directory)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    log.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m seqattn.speed.warm_pool POOL_FOLDER [--after PID] [--job JSON]``: get ready, wait for one job, run it."""
    parser = argparse.ArgumentParser(prog="python -m seqattn.speed.warm_pool")
    parser.add_argument("folder", type=Path, help="the pool's folder (ready markers)")
    parser.add_argument("--after", type=int, help="load nothing before this process ends")
    parser.add_argument("--job", type=json.loads, help="the job to prepare, as JSON (default_job's form)")
    args = parser.parse_args(argv)
    folder, after = args.folder, args.after
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    xla_cache.enable()  # before TensorFlow loads (in the preparation's thread)
    lower_priority_to(NICENESS)  # what the job would run at; the dashboard comes first
    marker = folder / f"{os.getpid()}.ready"
    job_arrived = threading.Event()

    def load() -> None:
        _wait_for(after, job_arrived)
        fit_threads_to_process()  # before the first op: TensorFlow fixes its thread pools then

    incoming: list[str] = []  # the key of the job that arrived, once one did

    def still_wanted(key: str) -> bool:
        return not job_arrived.is_set() or incoming == [key]

    problem, config, model, names = _job_configs(args.job or default_job())
    preparing = warm_start.prepare_in_background(problem, config, model, names, before=load,
                                                 still_wanted=still_wanted)

    marking = threading.Lock()  # the marker never outlives the job's arrival

    def mark_ready() -> None:
        preparing.join()
        with marking:
            if not job_arrived.is_set():
                marker.touch()

    threading.Thread(target=mark_ready, daemon=True).start()
    line = sys.stdin.readline()
    message = json.loads(line) if line.strip() else None
    if message is not None:
        incoming.append(_key_of_run(Path(message["directory"])))
    with marking:
        job_arrived.set()
        marker.unlink(missing_ok=True)
    if message is None:
        return 0  # the dashboard stopped or closed the pool
    os.environ.clear()
    os.environ.update(message["env"])
    directory = Path(message["directory"])
    _redirect_output(directory)
    return run_worker([str(directory)], setups=FastSetups())


if __name__ == "__main__":
    sys.exit(main())
