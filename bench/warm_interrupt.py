"""A click that is not the prepared job: seconds to its first loss point while the warm process prepares another.

When the dashboard's server starts, its warm training process (``seqattn.speed.warm_pool``)
imports TensorFlow and then prepares the Train form's defaults: it builds both models,
traces and XLA-compiles their update step, and traces the predictors. A speaker who
changes a setting and clicks "Train both models" meanwhile hands that process a job
it did not prepare. The job then starts cold; this measures the seconds from the
hand-off to the job's first loss point (its first row of progress), two ways:

* *during*: handed off once the warm process has used ``--cpu`` CPU-seconds (TensorFlow
  is imported by then and the defaults' preparation is under way);
* *after*: handed off once the warm process is ready, its preparation finished: the
  same cold start with nothing running beside it.

The job is the defaults with inputs of 10 (the setting the speaker changed). Each way
runs ``--repeats`` times on a fresh warm process with an empty XLA cache, as on a fresh
machine (median printed); each job is cancelled at its first loss point.

Run: ``.venv/bin/python bench/warm_interrupt.py [--repeats 3] [--cpu 5]`` (about 2 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seqattn.jobs import control as jobs
from seqattn.speed import warm_pool
from seqattn.speed import xla_cache  # noqa: E402
from seqattn.model.config import ModelConfig  # noqa: E402
from seqattn.problem.config import ProblemConfig  # noqa: E402
from seqattn.runs import create_run, read_progress, run_dir  # noqa: E402
from seqattn.training.config import TrainConfig  # noqa: E402

CLICKED = ProblemConfig(n_in=10)  # not the form's default n_in of 5, so nothing prepared serves it
RECIPE = TrainConfig(protocol="batched", updates=5_000, eval_every=1_000)


def wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.02)


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def first_point(root: Path, during: bool, cpu: float) -> float:
    """Seconds from handing the clicked job to a fresh warm process to the job's first loss point."""
    cache = tempfile.TemporaryDirectory()
    os.environ["TF_XLA_FLAGS"] = f"{xla_cache.FLAG}={cache.name}"  # the warm process and its job inherit it
    pool = warm_pool.WarmPool(root)
    try:
        pool.ensure()
        pid = pool.pid
        assert pid is not None, "the warm process did not start"
        if during:
            wait(lambda: cpu_seconds(pid) >= cpu, 120, f"the warm process using {cpu} CPU-s")
            assert not warm_pool.ready_files(root), "it was ready already: lower --cpu"
        else:
            wait(lambda: bool(warm_pool.ready_files(root)), 180, "the warm process getting ready")
        run_id = create_run(CLICKED, RECIPE.to_dict(), model=ModelConfig().to_dict(), root=root)
        directory = run_dir(run_id, root)
        handed = time.monotonic()
        assert pool.hand_off(directory) == pid
        wait(lambda: not read_progress(directory).empty, 180, "the job's first loss point")
        seconds = time.monotonic() - handed
        jobs.cancel(run_id, root)
        wait(lambda: not jobs.status(run_id, root).active, 60, "the job stopping")
        return seconds
    finally:
        pool.close()
        cache.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cpu", type=float, default=5.0, help="CPU-s the warm process has used at the hand-off")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        medians = {}
        for label, during in (("during the defaults' preparation", True), ("after it (warm process ready)", False)):
            seconds = [first_point(root, during, args.cpu) for _ in range(args.repeats)]
            medians[during] = statistics.median(seconds)
            runs = ", ".join(f"{s:.1f} s" for s in seconds)
            print(f"first loss point, handed off {label}: median {medians[during]:.1f} s ({runs})", flush=True)
        print(f"a click during the preparation waits {medians[True] - medians[False]:+.1f} s more than after it")


if __name__ == "__main__":
    main()
