"""Cancel latency (issue 11: "cancel must stay under 2 s"): seconds from ``jobs.cancel`` to a final state.

Two cases, each ``--repeats`` times (median printed):

* *training*: a job trains (seed problem, batched, a long run), is cancelled after 50
  updates, and stops after its current update, keeping its history and models;
* *warm start*: a job is handed to a warm training process (``seqattn.speed.warm_pool``) that
  is still importing TensorFlow and preparing when the cancel comes.

Run: ``.venv/bin/python bench/cancel_latency.py [--repeats 3]`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seqattn.jobs import control as jobs
from seqattn.speed import warm_pool  # noqa: E402
from seqattn.model.config import ModelConfig  # noqa: E402
from seqattn.problem.config import ProblemConfig  # noqa: E402
from seqattn.runs import create_run, run_dir  # noqa: E402
from seqattn.training.config import TrainConfig  # noqa: E402

PROBLEM = ProblemConfig()
LONG = TrainConfig(protocol="batched", updates=50_000, eval_every=1000)  # minutes: never ends by itself here


def until_final(run_id: str, root: Path, asked: float, timeout: float = 60) -> float:
    while jobs.status(run_id, root).active:
        if time.monotonic() - asked > timeout:
            raise SystemExit(f"run {run_id} did not stop within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - asked


def cancel_training(root: Path) -> float:
    run_id = jobs.start(PROBLEM, LONG, model=ModelConfig(), root=root)
    while jobs.status(run_id, root).update < 50:
        time.sleep(0.05)
    asked = time.monotonic()
    jobs.cancel(run_id, root)
    return until_final(run_id, root, asked)


def cancel_warm_start(root: Path) -> float:
    pool = warm_pool.WarmPool(root)
    blocker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        pool.ensure(after=blocker.pid)  # loads nothing until the job arrives
        time.sleep(1.0)
        run_id = create_run(PROBLEM, LONG.to_dict(), model=ModelConfig().to_dict(), root=root)
        pool.hand_off(run_dir(run_id, root))
        time.sleep(0.5)  # importing TensorFlow now
        asked = time.monotonic()
        jobs.cancel(run_id, root)
        return until_final(run_id, root, asked)
    finally:
        pool.close()
        blocker.kill()
        blocker.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        for label, measure in (("training", cancel_training), ("warm start", cancel_warm_start)):
            seconds = [measure(root) for _ in range(args.repeats)]
            runs = ", ".join(f"{s:.2f} s" for s in seconds)
            print(f"cancel during {label}: median {statistics.median(seconds):.2f} s (runs: {runs}; goal < 2 s)",
                  flush=True)


if __name__ == "__main__":
    main()
