"""A warm training process kept ready by the dashboard, so a click trains at once.

A cold job pays, before its first update, for a new Python process, importing
TensorFlow (3-5 s on 2 cores) and tracing and compiling the update step (2-6 s).
The dashboard's server keeps one process ready instead
(``python -m seqattn.speed.warm_process``, :mod:`seqattn.speed.warm_process`): it has imported TensorFlow, fitted its
threads, and prepared the job most likely to come (:mod:`seqattn.speed.warm_start`):
at first the Train form's defaults, then the job last started (the same click
again) if it is small, else the defaults again; then it waits on its stdin. :meth:`WarmPool.launch` (the launcher the dashboard
hands to :func:`seqattn.jobs.control.start`) gives it a run directory; from there it is exactly the process
:func:`seqattn.jobs.control.launch_worker` would have started (``seqattn.jobs.worker``:
budget, slot, watchdog, cancel, heartbeat), with its output in the run's log.

Each warm process runs one job and exits, so nothing of one run (models,
optimizer, Keras session, random state) can reach the next: the pool starts a
fresh one for the next job, which waits for the job it follows to end before
it loads anything (it would otherwise take the running job's CPU). A job that
does not match the prepared one still saves the import, and a preparation
still under way stops at its next stage instead of competing with the job for
the CPU; any failure in the warm process falls back to a cold start, and so does
one that does not take its job within ``TAKE_SECONDS`` (it is killed). A job that
must wait for the slot starts cold: a cold process waits without TensorFlow.
``SEQATTN_WARM_WORKER=0`` turns the pool off.

Readiness is visible to other processes (benchmarks, tests): a ready process
writes ``<runs root>/.warm/<pid>.ready``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from seqattn.jobs.control import launch_worker, worker_env
from seqattn.jobs.neighbours import another_job_active
from seqattn.model.config import ModelConfig, model_config_of
from seqattn.model.registry import MODEL_NAMES, check_names
from seqattn.problem.config import ProblemConfig
from seqattn.processes import process_alive, process_start_time, reap_in_background
from seqattn.runs import RunError, ensure_root, open_log, read_meta, read_status, update_status
from seqattn.settings import read
from seqattn.speed import warm_start
from seqattn.training.config import TrainConfig

WARM_ENV = "SEQATTN_WARM_WORKER"  # "0" turns the pool off
WAIT_POLL = 0.2  # s between checks that the job a new warm process follows has ended
POOL_DIR = ".warm"
FORM_STILL_SECONDS = 1.0  # the Train form unchanged this long: the job it shows is worth preparing
# A waiting process prepares at most this many jobs after its first (each leaves some memory behind,
# about 25-50 MiB); then a fresh process prepares the next. XLA jobs always get a fresh process: a
# second compile in one process misses XLA's disk cache (other layer names) and is never freed.
IN_PLACE_AT_MOST = 3
TAKE_SECONDS = 5.0  # a warm process takes a job in well under 1 s; not within this long: frozen, start cold
HELPER_ROLE = "warm training process"


def enabled() -> bool:
    """Whether a pool may start: ``$SEQATTN_WARM_WORKER`` is on (default); neither on nor off: SettingError."""
    return bool(read(WARM_ENV))


def default_job() -> dict[str, Any]:
    """The job a warm process prepares unless told otherwise: the Train form's defaults, as plain dicts."""
    return {"problem": ProblemConfig().to_dict(), "train": TrainConfig(protocol="batched").to_dict(),
            "model": ModelConfig().to_dict(), "names": list(MODEL_NAMES)}


def job_configs(job: dict[str, Any]) -> tuple[Any, Any, Any, tuple[str, ...]]:
    """(problem, recipe, model, names) of a job in :func:`default_job`'s form; ValueError or KeyError if it makes none."""
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
        self._after: int | None = None  # the process the waiting one loads nothing before
        self._eager = False  # the waiting process loads at once, even beside a running job (the form asked)
        self._wanted: threading.Timer | None = None  # the form's job, prepared once the form is still
        self._in_place = 0  # preparations the waiting process made after its first one
        self._launched: dict[Path, int] = {}  # run directory -> pid of the jobs this pool started, while they live

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

    def _spawn(self, after: int | None, eager: bool = False) -> subprocess.Popen[bytes] | None:
        self._after, self._eager, self._in_place = after, eager, 0
        command = [sys.executable, "-m", "seqattn.speed.warm_process", str(self.folder), "--job", json.dumps(self.job)]
        if after is not None:
            command += ["--after", str(after)]
        if eager:
            command.append("--eager")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.folder / "warm.log", "ab") as log:
                return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                                        env=worker_env(), close_fds=True)
        except OSError:
            return None  # jobs then start cold

    def want(self, problem: ProblemConfig, train: TrainConfig, model: ModelConfig | None = None,
             names: tuple[str, ...] = MODEL_NAMES) -> None:
        """The Train form shows this job now: once it has been still for ``FORM_STILL_SECONDS``, prepare it.

        Called on every redraw of the form (cheap: it only restarts a timer). When the
        timer fires, :meth:`prepare_for` decides whether the waiting process must change.
        The form shown while the waiting process still waits for a running job (the speaker
        pressed "Train another") does not wait for the timer: loading TensorFlow takes seconds.
        """
        job = {"problem": problem.to_dict(), "train": train.to_dict(), "model": (model or ModelConfig()).to_dict(),
               "names": list(check_names(names))}
        with self._lock:
            self._drop_wanted()
            waiting = not self._eager and self._after is not None and process_alive(self._after)
            self._wanted = threading.Timer(0.0 if waiting else FORM_STILL_SECONDS, self.prepare_for, args=(job,))
            self._wanted.daemon = True
            self._wanted.start()

    def _drop_wanted(self) -> None:
        """Forget the form's job still waiting for stillness (the lock held)."""
        if self._wanted is not None:
            self._wanted.cancel()
            self._wanted = None

    def prepare_for(self, job: dict[str, Any]) -> bool:
        """Have the waiting process prepare ``job`` (:func:`default_job`'s form); True if a new process was started.

        Nothing changes when the waiting process already prepares a job of the same shapes
        (a seed differs: the job reseeds it, :func:`seqattn.speed.warm_start.take`) and
        may load now, or when ``job`` is too large to hold while idle
        (:func:`seqattn.speed.warm_start.small_enough`). A job without XLA is prepared by the
        waiting process itself, where TensorFlow is already loaded (``{"prepare": job}`` on its
        stdin; at most ``IN_PLACE_AT_MOST`` times). Otherwise the waiting process exits and a
        fresh one prepares ``job`` at once, beside a running job if there is one: the form is
        shown while a job runs when the speaker is about to start another.
        """
        try:
            configs = job_configs(job)
            key = warm_start.shape_key(warm_start.job_key(*configs))
        except (KeyError, TypeError, ValueError):
            return False
        if not warm_start.small_enough(*configs[:3]):
            return False
        busy = another_job_active(self.folder.parent, also=self._launched)
        with self._lock:
            process = self._process
            alive = process is not None and process.poll() is None
            loading = alive and (self._eager or not busy)  # it loads (or has loaded) TensorFlow now
            if loading and warm_start.shape_key(warm_start.job_key(*job_configs(self.job))) == key:
                self.job = job
                return False
            if loading and not configs[1].jit_compile and self._in_place < IN_PLACE_AT_MOST and self._tell(
                    {"prepare": job}):
                self.job, self._in_place = job, self._in_place + 1
                return True
            old, self.job = process, job
            self._process = self._spawn(after=None, eager=busy)
        if old is not None and old.stdin is not None:
            with contextlib.suppress(OSError):
                old.stdin.close()  # it exits, and what it prepared with it
            reap_in_background(old)
        return True

    def _tell(self, message: dict[str, Any]) -> bool:
        """Write one line to the waiting process (the lock held); False if it cannot be told (then replace it)."""
        process = self._process
        if process is None or process.stdin is None:
            return False
        try:
            process.stdin.write((json.dumps(message) + "\n").encode())
            process.stdin.flush()
            return True
        except OSError:
            return False

    def hand_off(self, directory: Path) -> int | None:
        """Give the run in ``directory`` to the waiting process; returns its pid, or None (start it cold).

        A fresh warm process is started for the next job either way; it prepares
        this job's settings (the likeliest next click is the same job again) if their
        estimate is small (:func:`seqattn.speed.warm_start.small_enough`), else the Train
        form's defaults: an idle process must not hold a big job's memory.
        """
        job = job_of_run(directory)
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
            if job is not None:  # the likeliest next click is the same job; only a small one is worth holding
                self.job = job if warm_start.small_enough(*job_configs(job)[:3]) else default_job()
            self._process = self._spawn(after=pid)
        return pid

    def launch(self, directory: Path) -> int:
        """A launcher for :func:`seqattn.jobs.control.start`: the warm process takes the run, else a new one starts.

        Only a job that gets the slot at once goes to the warm process: one that must wait
        starts cold, because a cold process waits light (no TensorFlow, no models) where the
        warm one would hold both while it waits; the waiting warm process is then replaced by
        one that loads nothing before that job ends. A warm process that does not take its job
        within ``TAKE_SECONDS`` (frozen, say) is killed and the job started cold
        (:meth:`_watch_take`, in a thread: the click returns at once).
        """
        self._launched = {d: pid for d, pid in self._launched.items() if process_alive(pid)}
        with self._lock:
            # The form's job waiting for stillness is this one (the click redrew the form): preparing it
            # now would load TensorFlow beside the job it is, and slow that job's race.
            self._drop_wanted()
        if another_job_active(self.folder.parent, directory, also=self._launched):
            return self._start_cold(directory)
        pid = self.hand_off(directory)
        if pid is None:
            return self._start_cold(directory)
        self._launched[directory.resolve()] = pid
        threading.Thread(target=self._watch_take, args=(directory, pid), name="seqattn-warm-take", daemon=True).start()
        return pid

    def _start_cold(self, directory: Path, instead_of: int | None = None) -> int:
        """Start the job in a new process; the waiting warm process (if it follows ``instead_of``) follows it instead."""
        pid = launch_worker(directory, module="seqattn.speed.worker")
        self._launched[directory.resolve()] = pid
        with self._lock:
            if instead_of is None or self._after == instead_of:
                waiting, self._process = self._process, self._spawn(after=pid)
                if waiting is not None and waiting.stdin is not None:
                    with contextlib.suppress(OSError):
                        waiting.stdin.close()  # it exits, and its memory with it
                    reap_in_background(waiting)
        return pid

    def _watch_take(self, directory: Path, pid: int) -> None:
        """Start the job cold unless warm process ``pid`` takes it (its worker names itself in the run's status)."""
        deadline = time.monotonic() + TAKE_SECONDS
        while not _taken_by(directory, pid) and time.monotonic() < deadline:
            time.sleep(WAIT_POLL)
        with contextlib.suppress(OSError):  # it can no longer take the job while we decide
            os.kill(pid, signal.SIGSTOP)
        if _taken_by(directory, pid):  # it did, just now: let it go on
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGCONT)
            return
        with contextlib.suppress(OSError), open_log(directory) as log:
            log.write(f"The warm training process did not take this job within {TAKE_SECONDS:.0f} s (frozen?); "
                      "it was stopped and the job started in a new process.\n".encode())
        # Named in the status before the frozen one dies: a reader must never see the run's process dead.
        cold = self._start_cold(directory, instead_of=pid)
        with contextlib.suppress(OSError, RunError):
            update_status(directory, pid=cold, pid_start=process_start_time(cold))
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)  # it must neither hold the job nor wake up to run it

    def close(self) -> None:
        """Let the waiting process exit (its stdin closes)."""
        with self._lock:
            process, self._process = self._process, None
            self._drop_wanted()
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

def _taken_by(directory: Path, pid: int) -> bool:
    """Whether process ``pid`` runs the job in ``directory``: its worker wrote its pid, start time and heartbeat."""
    try:
        status = read_status(directory)
    except RunError:
        return False
    return status.get("pid") == pid and status.get("pid_start") is not None and "heartbeat" in status


def job_of_run(directory: Path) -> dict[str, Any] | None:
    """The training job of the run in ``directory`` in :func:`default_job`'s form (None: not a training, unreadable)."""
    try:
        meta = read_meta(directory)
        if meta.get("kind", "train") != "train":
            return None
        job = {"problem": meta["problem"], "train": meta["train"], "model": model_config_of(meta).to_dict(),
               "names": list(check_names(meta.get("names") or MODEL_NAMES))}
        job_configs(job)  # settings that make no configuration: nothing to prepare
        return job
    except Exception:  # the worker reports a damaged run itself
        return None
