"""What our idle processes hold: the warm training process and a queued job, after a large job and after a small one.

Started for real, as the dashboard starts them (a :class:`seqattn.speed.warm_pool.WarmPool` and its
launcher, one training slot), in a fresh runs folder, with the user's XLA cache:

1. a cold process that has imported TensorFlow (and Keras, threads fitted): the reference;
2. the first warm process, ready (the Train form's defaults prepared);
3. a large job (``--large``: K 1000, n_in 20, echo 20, batch 2048 by default, a few updates), handed to
   the warm process; behind it a small job, queued (a cold process), and the warm process that
   follows them; then, once the large job has ended, the next warm process while it prepares (peak)
   and once it is ready (idle);
4. the same with a small job (the Train form's defaults, longer) in place of the large one.

Each resident memory (RSS of the process and its children) is printed beside its ratio to the
reference (goal: at most 1.2x for an idle warm process; a queued job should be far below it).
Every process started is ended at the end.

Run: ``.venv/bin/python bench/idle_memory.py [--large K,N_IN,N_OUT,BATCH]`` (about 4 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["SEQATTN_MAX_JOBS"] = "1"

from seqattn.jobs import control as jobs  # noqa: E402
from seqattn.jobs.control import worker_env  # noqa: E402
from seqattn.model.config import ModelConfig  # noqa: E402
from seqattn.problem.config import ProblemConfig  # noqa: E402
from seqattn.runs import read_status, run_dir  # noqa: E402
from seqattn.speed import warm_pool, xla_cache  # noqa: E402
from seqattn.training.budget import MIB, estimate_job, process_tree_rss  # noqa: E402
from seqattn.training.config import TrainConfig  # noqa: E402

COLD_TENSORFLOW = ("from seqattn.training.threads import fit_threads_to_process; fit_threads_to_process(); "
                   "import tensorflow, keras, sys, time; print('ready', flush=True); time.sleep(600)")
QUEUED = TrainConfig(protocol="batched", updates=50)  # the defaults, short: it is cancelled while it waits


def wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.1)


def settled_rss(pid: int, seconds: float = 3.0) -> int:
    """The largest RSS of ``pid``'s tree over ``seconds`` (an idle process's stays flat)."""
    peak, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, process_tree_rss(pid))
        time.sleep(0.2)
    return peak


def cold_reference() -> int:
    process = subprocess.Popen([sys.executable, "-c", COLD_TENSORFLOW], env=worker_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        return settled_rss(process.pid)
    finally:
        process.kill()
        process.wait()


class Peak:
    """Samples the RSS of whatever process ``pid()`` names, in a thread, keeping the largest."""

    def __init__(self, pid) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            pid = self.pid()
            if pid is not None:
                self.peak = max(self.peak, process_tree_rss(pid))
            time.sleep(0.1)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def status_of(run_id: str, root: Path) -> dict:
    return read_status(run_dir(run_id, root))


def one_round(label: str, problem: ProblemConfig, recipe: TrainConfig, pool: warm_pool.WarmPool, root: Path,
              rows: list) -> None:
    estimate = estimate_job(problem, recipe, ModelConfig()).peak_gib
    print(f"{label} job: K {problem.cardinality}, n_in {problem.n_in}, echo {problem.n_out}, batch "
          f"{recipe.batch_size}, {recipe.updates} updates (estimate {estimate:.1f} GiB)", flush=True)
    wait(lambda: warm_pool.ready_files(root), 600, "the warm process getting ready")
    running = jobs.start(problem, recipe, root=root, launcher=pool.launch)
    wait(lambda: jobs.status(running, root).state == "running", 120, f"the {label} job starting")
    queued = jobs.start(ProblemConfig(), QUEUED, root=root, launcher=pool.launch)
    wait(lambda: status_of(queued, root).get("pid_start") is not None, 60, "the queued job's worker starting")
    time.sleep(2.0)
    if jobs.status(queued, root).state == "queued":
        rows.append((f"a queued job, during the {label} job", settled_rss(status_of(queued, root)["pid"])))
    follower = pool.pid
    if follower is not None:
        rows.append((f"the waiting warm process, during the {label} job", settled_rss(follower)))
    jobs.cancel(queued, root)
    running_peak = Peak(lambda: status_of(running, root).get("pid"))
    wait(lambda: not jobs.status(running, root).active, 1800, f"the {label} job ending")
    print(f"  the {label} job: {jobs.status(running, root).state}, peak {running_peak.stop() / MIB:,.0f} MiB",
          flush=True)
    preparing = Peak(lambda: pool.pid)
    wait(lambda: warm_pool.ready_files(root), 600, "the next warm process getting ready")
    rows.append((f"the next warm process while it prepares, after the {label} job", preparing.stop()))
    time.sleep(2.0)
    rows.append((f"the next warm process, ready and idle, after the {label} job", settled_rss(pool.pid, 5.0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", default="1000,20,20,2048", help="K,N_IN,N_OUT,BATCH of the large job")
    parser.add_argument("--updates", type=int, default=10, help="updates of the large job")
    args = parser.parse_args()
    k, n_in, n_out, batch = (int(v) for v in args.large.split(","))
    xla_cache.enable()
    rows: list[tuple[str, int]] = []
    reference = cold_reference()
    root = Path(tempfile.mkdtemp(prefix="seqattn-idle-memory-")) / "runs"
    pool = warm_pool.WarmPool(root)
    try:
        first = Peak(lambda: pool.pid)
        pool.ensure()
        wait(lambda: warm_pool.ready_files(root), 600, "the first warm process getting ready")
        rows.append(("the first warm process while it prepares (the defaults)", first.stop()))
        rows.append(("the first warm process, ready and idle", settled_rss(pool.pid, 5.0)))
        large = TrainConfig(protocol="batched", updates=args.updates, batch_size=batch, eval_every=args.updates,
                            eval_size=200)
        one_round("large", ProblemConfig(cardinality=k, n_in=n_in, n_out=n_out), large, pool, root, rows)
        small = TrainConfig(protocol="batched", updates=1500)  # the defaults, long enough to queue one behind
        one_round("small", ProblemConfig(), small, pool, root, rows)
    finally:
        pool.close()
    print(f"\n{'what':<70} {'RSS':>9} {'ratio':>6}")
    print(f"{'a cold process that has imported TensorFlow (the reference)':<70} {reference / MIB:>5,.0f} MiB {1:>5.2f}x")
    for what, rss in rows:
        print(f"{what:<70} {rss / MIB:>5,.0f} MiB {rss / reference:>5.2f}x")


if __name__ == "__main__":
    main()
