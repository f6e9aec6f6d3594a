"""Peak memory of a training process vs :func:`seqattn.training.budget.estimate_peak_bytes`.

Trains a few problem sizes for a few updates, each in a fresh subprocess (as a
job's worker does: TensorFlow threads fitted, XLA on, a final evaluation of
1000 held-out pairs), and prints the process's peak RSS beside the estimate and
the seconds per update beside :func:`seqattn.training.cost.estimate_update_seconds`.
With ``--fit`` it also fits the memory model's factors (non-negative least
squares of the peak on the features of :func:`seqattn.training.budget.memory_terms`).

    .venv/bin/python bench/job_memory.py [--fit] [--updates 4] [--only 0 1] [--records FILE] [--fit-only]

Figures on the 2-core, 23 GiB reference machine (shared, so the seconds are
slow; peak RSS in GiB; estimate with the factors now in seqattn/budget.py):

       K  n_in n_out units batch | peak   est  ratio
      50     5     2   150    32 | 1.08  1.21  1.12
      50    20    10   512   256 | 2.52  2.13  0.85
    1000    10     5   256   512 | 1.90  2.02  1.06
     200    10     5  1024    32 | 2.13  2.30  1.08
      50    40    20   256   256 | 2.45  2.57  1.05
      50    30    15   128  1024 | 2.31  2.58  1.12
     100    60    30   128   128 | 2.47  2.57  1.04
      50    50    25   256   512 | 3.87  4.09  1.06
      20    30    15   512  1024 | 5.07  5.18  1.02

    fit: baseline 1.063 GiB, parameters x8.77, sequence x10.16, attention x1.14, steps x8.44

The issue's job (K 1000, n_in 100, n_out 100, 1024 units, batch 4096) is
estimated at about 254 GiB (its attention energies alone are 4096 x 100 x 100
x 1024 floats): it is refused.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GIB = 2**30

# (cardinality, n_in, n_out, units, batch): small enough for a 2-core, 24 GiB machine,
# varied so each term of the model dominates somewhere.
SIZES = [
    (50, 5, 2, 150, 32),  # the default problem: baseline
    (50, 20, 10, 512, 256),  # sequence and attention
    (1000, 10, 5, 256, 512),  # large K: one-hot, softmax, K^2 parameters
    (200, 10, 5, 1024, 32),  # parameters
    (50, 40, 20, 256, 256),  # attention
    (50, 30, 15, 128, 1024),  # attention and sequence with a big batch
    (100, 60, 30, 128, 128),  # long sequences (not unrolled)
    (50, 50, 25, 256, 512),  # attention dominates
    (20, 30, 15, 512, 1024),  # attention dominates, big batch
]


def child(spec: dict) -> None:
    """Train one size for a few updates in this process; print one JSON line."""
    import resource
    import threading

    import psutil

    from seqattn.training.threads import fit_threads_to_process
    from seqattn.model.config import ModelConfig
    from seqattn.problem.config import ProblemConfig
    from seqattn.training.config import TrainConfig
    from seqattn.training.session import train

    process = psutil.Process()
    peak = [process.memory_info().rss]

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()
    fit_threads_to_process()
    problem = ProblemConfig(spec["cardinality"], spec["n_in"], spec["n_out"])
    model = ModelConfig(units=spec["units"])
    config = TrainConfig(protocol="batched", updates=spec["updates"], batch_size=spec["batch"],
                         eval_every=10**6, seed=0)
    times: list[float] = []
    last = [time.perf_counter()]

    def on_progress(progress) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    started = time.perf_counter()
    train(problem, config, model=model, on_progress=on_progress, report_every=1)
    total = time.perf_counter() - started
    # Updates after the first (which compiles); the last report also evaluates.
    steady = sorted(times[1:-1]) if len(times) > 2 else times
    print(json.dumps({"peak_rss": max(peak[0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024),
                      "update_seconds": steady[len(steady) // 2] if steady else None, "seconds": total}))


def run_size(size: tuple[int, ...], updates: int, timeout: float) -> dict | None:
    cardinality, n_in, n_out, units, batch = size
    spec = dict(cardinality=cardinality, n_in=n_in, n_out=n_out, units=units, batch=batch, updates=updates)
    try:
        out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True,
                             text=True, timeout=timeout, cwd=ROOT, env={**__import__("os").environ,
                                                                       "TF_CPP_MIN_LOG_LEVEL": "2"})
    except subprocess.TimeoutExpired:
        print(f"{size}: timed out after {timeout:.0f} s", flush=True)
        return None
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        print(f"{size}: failed ({out.returncode}): {out.stderr[-500:]}", flush=True)
        return None
    return {**spec, **json.loads(lines[-1])}


def configs(record: dict):
    from seqattn.model.config import ModelConfig
    from seqattn.problem.config import ProblemConfig
    from seqattn.training.config import TrainConfig

    problem = ProblemConfig(record["cardinality"], record["n_in"], record["n_out"])
    train = TrainConfig(protocol="batched", updates=record["updates"], batch_size=record["batch"])
    return problem, train, ModelConfig(units=record["units"])


def fit(records: list[dict]) -> None:
    import numpy as np

    from seqattn.training.budget import MEMORY_FACTORS, memory_terms

    names = tuple(MEMORY_FACTORS)
    rows = [[1.0] + [memory_terms(*configs(r))[n] for n in names] for r in records]
    a, b = np.array(rows), np.array([r["peak_rss"] for r in records], dtype=float)
    scale = a.max(axis=0)
    # Non-negative least squares by elimination: refit without any negative factor.
    keep = list(range(a.shape[1]))
    while True:
        solution, *_ = np.linalg.lstsq(a[:, keep] / scale[keep], b, rcond=None)
        if (solution >= 0).all() or len(keep) == 1:
            break
        keep.pop(int(np.argmin(solution)))
    coef = np.zeros(a.shape[1])
    coef[keep] = np.maximum(solution, 0) / scale[keep]
    print(f"fit: baseline {coef[0] / GIB:.3f} GiB, " + ", ".join(f"{n} x{c:.2f}" for n, c in zip(names, coef[1:])))
    for record, row in zip(records, a):
        print(f"  {record['peak_rss'] / GIB:6.2f} GiB measured, {row @ coef / GIB:6.2f} GiB fitted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--updates", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--fit", action="store_true", help="fit the memory model's factors")
    parser.add_argument("--only", type=int, nargs="*", help="indices of SIZES to run")
    parser.add_argument("--records", type=Path, help="JSON-lines file: measurements are appended to it, and "
                                                     "--fit fits every measurement in it")
    parser.add_argument("--fit-only", action="store_true", help="fit the --records file without measuring")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    from seqattn.training.budget import estimate_peak_bytes
    from seqattn.training.cost import estimate_update_seconds

    print(f"{'K':>5} {'n_in':>5} {'n_out':>5} {'units':>5} {'batch':>5} | {'peak GiB':>8} {'est GiB':>8} "
          f"{'ratio':>5} | {'s/update':>8} {'est s/up':>8} | {'wall s':>6}", flush=True)
    records = []
    for index, size in enumerate(SIZES):
        if args.fit_only or (args.only and index not in args.only):
            continue
        record = run_size(size, args.updates, args.timeout)
        if record is None:
            continue
        records.append(record)
        if args.records:
            with open(args.records, "a") as fh:
                fh.write(json.dumps(record) + "\n")
        problem, train, model = configs(record)
        estimate = estimate_peak_bytes(problem, train, model)
        print(f"{size[0]:5} {size[1]:5} {size[2]:5} {size[3]:5} {size[4]:5} | {record['peak_rss'] / GIB:8.2f} "
              f"{estimate / GIB:8.2f} {estimate / record['peak_rss']:5.2f} | {record['update_seconds'] or 0:8.3f} "
              f"{estimate_update_seconds(problem, train, model):8.3f} | {record['seconds']:6.1f}", flush=True)
    if args.records and args.records.exists():
        records = [json.loads(line) for line in args.records.read_text().splitlines() if line.strip()]
    if (args.fit or args.fit_only) and len(records) >= 5:
        fit(records)


if __name__ == "__main__":
    main()
