"""The warm training process itself: ``python -m seqattn.speed.warm_process POOL_FOLDER [--after PID] [--job JSON]``.

Started by :class:`seqattn.speed.warm_pool.WarmPool` (the server side). It imports
TensorFlow, fits its threads and prepares its job (:mod:`seqattn.speed.warm_start`) in a
background thread, unless told to wait (``--after``: the job it follows) and not told to
go ahead (``--eager``); it writes ``<runs root>/.warm/<pid>.ready`` once prepared. Then
it reads its stdin, one JSON line at a time: ``{"prepare": job}`` (the Train form now shows
another job: the current preparation stops at its next stage and this one is made, in this
process, where TensorFlow is loaded), a run directory to run as :mod:`seqattn.jobs.worker`
would, or nothing (the pool closed it: it exits).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

from seqattn.jobs.neighbours import another_job_active, register_helper, unregister_helper
from seqattn.jobs.worker import NICENESS
from seqattn.jobs.worker import main as run_worker
from seqattn.processes import lower_priority_to, process_alive, return_free_heap
from seqattn.runs import open_log
from seqattn.speed import warm_start, xla_cache
from seqattn.speed.setups import FastSetups
from seqattn.speed.warm_pool import HELPER_ROLE, WAIT_POLL, job_configs, job_of_run, default_job
from seqattn.training.threads import fit_threads_to_process


WAITING_NICENESS = NICENESS // 2


def _wait_for(pid: int | None, job_arrived: threading.Event, root: Path) -> None:
    """Until every job of ours under ``root`` has ended (a queued one may be cancelled first), and process ``pid``
    with it: once seen active, its job's end is enough, as its process's teardown (up to a second of
    TensorFlow's) frees nothing this one needs first; never seen active (it has not named itself yet), its exit."""
    seen_active = False
    while not job_arrived.is_set():
        active = another_job_active(root)
        seen_active = seen_active or active
        if not active and (pid is None or seen_active or not process_alive(pid)):
            return
        time.sleep(WAIT_POLL)


def _key_of_run(directory: Path) -> str:
    """The :func:`seqattn.speed.warm_start.job_key` of the run in ``directory`` ("" if it is not a readable training)."""
    job = job_of_run(directory)
    if job is None:
        return ""
    try:
        return warm_start.job_key(*job_configs(job))
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
    """``python -m seqattn.speed.warm_process POOL_FOLDER [--after PID] [--job JSON]``: get ready, wait for one job, run it."""
    parser = argparse.ArgumentParser(prog="python -m seqattn.speed.warm_process")
    parser.add_argument("folder", type=Path, help="the pool's folder (ready markers)")
    parser.add_argument("--after", type=int, help="load nothing before this process ends")
    parser.add_argument("--job", type=json.loads, help="the job to prepare, as JSON (default_job's form)")
    parser.add_argument("--eager", action="store_true", help="prepare at once, even while another job runs")
    args = parser.parse_args(argv)
    folder, after = args.folder, args.after
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    xla_cache.enable()  # before TensorFlow loads (in the preparation's thread)
    # Below the dashboard, above a running job: what it loads and prepares is the speaker's next click (the
    # job the Train form shows, even while another job trains); a job it takes lowers it to the jobs'
    # NICENESS (seqattn.jobs.worker). At NICENESS, a preparation after a run lost to the pages drawing it.
    lower_priority_to(WAITING_NICENESS)
    marker = folder / f"{os.getpid()}.ready"
    register_helper(folder.parent, HELPER_ROLE)  # a job's budget counts what this process holds
    job_arrived = threading.Event()

    def load() -> None:
        if not args.eager:
            _wait_for(after, job_arrived, folder.parent)
        if job_arrived.is_set() and after is not None and process_alive(after):
            # The job must wait for the one before: it loads TensorFlow once it has the slot, not now.
            raise warm_start.Abandoned("its job waits for the slot")
        fit_threads_to_process()  # before the first op: TensorFlow fixes its thread pools then

    incoming: list[str] = []  # the key of the job that arrived, once one did
    wanted: list[str] = []  # the key of the job to prepare: the last "prepare" message's, else --job's

    def still_wanted(key: str) -> bool:
        if job_arrived.is_set():  # a job of the same shapes reseeds the preparation (warm_start.take)
            return bool(incoming) and warm_start.shape_key(incoming[0]) == warm_start.shape_key(key)
        return wanted[-1] == key

    marking = threading.Lock()  # the marker never outlives the job's arrival, nor marks a dropped preparation

    def mark_ready(preparing: threading.Thread, key: str) -> None:
        preparing.join()
        return_free_heap()  # what building and tracing freed (about 15 MiB): idle, it holds only what it needs
        with marking:
            if not job_arrived.is_set() and wanted[-1] == key:
                marker.touch()

    def prepare(job: dict, before=None) -> None:
        configs = job_configs(job)
        wanted.append(warm_start.job_key(*configs))
        with marking:
            marker.unlink(missing_ok=True)
        preparing = warm_start.prepare_in_background(*configs, before=before, still_wanted=still_wanted)
        threading.Thread(target=mark_ready, args=(preparing, wanted[-1]), daemon=True).start()

    prepare(args.job or default_job(), before=load)
    while True:
        line = sys.stdin.readline()
        message = json.loads(line) if line.strip() else None
        if message is None or "prepare" not in message:
            break
        # The Train form changed: prepare its job here, where TensorFlow is loaded (WarmPool.prepare_for).
        prepare(message["prepare"])
    if message is not None:
        incoming.append(_key_of_run(Path(message["directory"])))
    with marking:
        job_arrived.set()
        marker.unlink(missing_ok=True)
    unregister_helper(folder.parent)  # from here on it is the job's process (or gone)
    if message is None:
        return 0  # the dashboard stopped or closed the pool
    os.environ.clear()
    os.environ.update(message["env"])
    directory = Path(message["directory"])
    _redirect_output(directory)
    xla_cache.repeat_warnings()  # said at start-up, in warm.log: the run's log says it too
    return run_worker([str(directory)], setups=FastSetups())


if __name__ == "__main__":
    sys.exit(main())
