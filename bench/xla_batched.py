"""XLA or not for the batched protocol, on the warm path: what a prepared job costs and how fast it trains.

For each input length and each choice (XLA on, off), a fresh process imports TensorFlow,
prepares the Train form's job (seqattn.speed.warm_start.prepare: build, trace, compile with
XLA from the disk cache if it holds the shape, trace the predictors), then trains it
(500 updates of 32, the batched defaults) and reports: seconds to prepare, to the first
evaluation at which attention reaches 95 % held-out exact match (and its update), and for
all 500 updates. Rounds alternate the two choices; each figure is the median over rounds.

Run: ``.venv/bin/python bench/xla_batched.py [--lengths 5,10] [--rounds 2]`` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

ONE_JOB = """
import json, sys, time
from seqattn.speed import xla_cache
xla_cache.enable()
from seqattn.training.threads import fit_threads_to_process
fit_threads_to_process()
import tensorflow  # noqa: F401  (imported before the clock starts, as in a warm process)
from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.speed import warm_start
from seqattn.training.config import TrainConfig
from seqattn.training.session import train

n_in, jit = int(sys.argv[1]), sys.argv[2] == "1"
problem, config = ProblemConfig(n_in=n_in), TrainConfig(protocol="batched", jit_compile=jit)
started = time.perf_counter()
prepared = warm_start.prepare(problem, config, ModelConfig())
prepare = time.perf_counter() - started
reached = []
started = time.perf_counter()

def on_progress(progress):
    accuracy = (progress.accuracy or {}).get("attention")
    if accuracy is not None and accuracy >= 0.95 and not reached:
        reached.append((time.perf_counter() - started, progress.update))

train(problem, config, model=ModelConfig(), setup=prepared, on_progress=on_progress)
print(json.dumps({"prepare": prepare, "to95": reached[0][0] if reached else None,
                  "update95": reached[0][1] if reached else None, "all": time.perf_counter() - started}))
"""


def one(n_in: int, jit: bool) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(PROJECT)}
    out = subprocess.run([sys.executable, "-c", ONE_JOB, str(n_in), "1" if jit else "0"], env=env, cwd=PROJECT,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="5,10", help="input lengths (default 5,10)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, each choice once per length (default 2)")
    args = parser.parse_args()
    lengths = [int(v) for v in args.lengths.split(",")]
    print(f"xla_batched: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    samples: dict[tuple[int, bool], list[dict]] = {}
    for round_ in range(1, args.rounds + 1):
        for n_in in lengths:
            for jit in (True, False) if round_ % 2 else (False, True):
                result = one(n_in, jit)
                samples.setdefault((n_in, jit), []).append(result)
                print(f"  round {round_}, n_in {n_in}, XLA {'on ' if jit else 'off'}: prepare {result['prepare']:.2f} s, "
                      f"attention >= 95 % after {result['to95'] or float('nan'):.2f} s (update {result['update95']}), "
                      f"500 updates {result['all']:.2f} s", flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}\n")
    print(f"{'n_in':>4} {'XLA':>4} {'prepare':>9} {'to 95 %':>9} {'500 updates':>12}")
    for (n_in, jit), results in sorted(samples.items(), key=lambda item: (item[0][0], not item[0][1])):
        med = {k: statistics.median(r[k] for r in results if r[k] is not None) for k in ("prepare", "to95", "all")}
        print(f"{n_in:>4} {'on' if jit else 'off':>4} {med['prepare']:>7.2f} s {med['to95']:>7.2f} s "
              f"{med['all']:>10.2f} s")


if __name__ == "__main__":
    main()
