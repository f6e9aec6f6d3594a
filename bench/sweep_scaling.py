"""Sweep scaling: identical cells one after another in this process vs on a 2-worker Dask LocalCluster.

Prints both wall times and the speedup, the pure training seconds of a cell, the fixed cost
of a task (cell wall time minus its pure training; the scheduler round trip of a trivial
task) and how the wall time scales with N workers. ``--calibrate`` instead times updates of
both models at a few sizes, single-threaded like a sweep worker, and prints fitted values for
the cost-model constants of ``seqattn/training/cost.py`` (it edits nothing); ``--calibrate --no-jit`` fits
the model of cells trained without XLA (``GRAPH_COSTS``), the sweep's default.

Run: ``.venv/bin/python bench/sweep_scaling.py`` (5 to 8 minutes on 2 cores: the 8 cells run twice) or
``.venv/bin/python bench/sweep_scaling.py --calibrate [--no-jit]`` (about 2 minutes).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from seqattn.sweeps import cluster
from seqattn.sweeps import grid as sweep  # noqa: E402
from seqattn.training import cost  # noqa: E402
from seqattn.speed.setups import FastSetups  # noqa: E402
from seqattn.sweeps.cells import CellResult, CellSpec, train_cell  # noqa: E402
from seqattn.training.threads import fit_threads_to_process
from seqattn.sweeps.executors import dask_backend, local_backend, run_cells  # noqa: E402
from seqattn.problem.config import ProblemConfig  # noqa: E402
from seqattn.model.config import ModelConfig  # noqa: E402
from seqattn.training.config import TrainConfig  # noqa: E402

PROBLEM = ProblemConfig(cardinality=50, n_in=5, n_out=2)
# (units, batch size, n_in) of the calibration cells, on the seed problem's cardinality.
CALIBRATION_SIZES = ((50, 32, 5), (150, 32, 5), (150, 32, 20), (300, 32, 10))


def timed_cell(spec: CellSpec, stop: Any = None, on_progress: Any = None) -> CellResult:
    """:func:`train_cell` that also records ``train_seconds``, the pure time of its update loop.

    The pace between the first progress report (after the XLA compile) and the last one,
    times the updates, excludes build, compile and the final evaluation. On a Dask worker the
    process was prepared by a warm-up through ``cluster.train_cell_on_worker``.
    """
    marks: list[tuple[int, float]] = []

    def record(progress: Any) -> None:
        marks.append((progress.update, progress.elapsed))
        if on_progress is not None:
            on_progress(progress)

    result = train_cell(spec, stop, record, setups=FastSetups())
    (first_update, first_elapsed), (last_update, last_elapsed) = marks[0], marks[-1]
    pace = (last_elapsed - first_elapsed) / max(1, last_update - first_update)
    result.train_seconds = pace * result.updates_done  # type: ignore[attr-defined]
    return result


def cells_of(count: int, updates: int, jit: bool = True) -> list[CellSpec]:
    config = TrainConfig(protocol="batched", updates=updates, eval_every=updates, jit_compile=jit)
    return sweep.grid_cells(PROBLEM, config, sweep.SweepConfig(axis=None, seeds=count))


def tiny_cell() -> CellSpec:
    config = TrainConfig(protocol="batched", updates=5, eval_size=10)
    return CellSpec(index=0, problem=PROBLEM, train=config, model=ModelConfig(units=8))


def timed_run(backend: Any, cells: list[CellSpec]) -> tuple[float, list[CellResult]]:
    backend = dataclasses.replace(backend, task=timed_cell)
    started = time.perf_counter()
    try:
        results, _ = run_cells(cells, backend, setups=FastSetups())
    finally:
        backend.close()
    wall = time.perf_counter() - started
    failed = [r.error for r in results if r.status != "done"]
    if failed:
        raise SystemExit(f"cells failed: {failed}")
    return wall, results


def describe(label: str, wall: float, results: list[CellResult]) -> tuple[float, float]:
    """Print a run's figures, just after it (other work on the machine skews them: the load is shown);
    returns (mean train seconds, mean fixed seconds) per cell."""
    train = statistics.mean(r.train_seconds for r in results)  # type: ignore[attr-defined]
    seconds = statistics.mean(r.seconds for r in results)
    print(f"{label}: {wall:6.1f} s wall for {len(results)} cells; per cell {seconds:5.2f} s "
          f"= {train:5.2f} s training + {seconds - train:4.2f} s fixed (build, compile, evaluation); "
          f"1-min load average at its end {os.getloadavg()[0]:.1f}", flush=True)
    return train, seconds - train


def round_trip_ms(client: Any, repeats: int = 30) -> float:
    """Median ms of submitting a trivial task and getting its result back."""
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        client.submit(int, i, pure=False).result()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def scaling(args: argparse.Namespace) -> None:
    cells = cells_of(args.cells, args.updates)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{args.cells} identical cells: K={PROBLEM.cardinality} n_in={PROBLEM.n_in} n_out={PROBLEM.n_out}, batched, "
          f"{cells[0].model.units} units, {args.updates} updates, batch {cells[0].train.batch_size}, XLA on, "
          f"one final evaluation; seeds 0..{args.cells - 1}")
    print(f"machine: {os.cpu_count()} cores, load average {load} at start", flush=True)

    # (a) In this process, one cell after another: TensorFlow's default thread pools, or --threads
    # (a comparison job's worker process takes cores - 1).
    if args.threads:
        fit_threads_to_process(args.threads)
    threads = f"{args.threads} intra-op thread(s)" if args.threads else "TensorFlow's default threads"
    train_cell(tiny_cell())  # warm-up: imports and first graph, not timed
    local_wall, local_results = timed_run(local_backend(), cells)
    _, local_fixed = describe(f"(a) this process, one after another, {threads}", local_wall, local_results)

    # (b) On the LocalCluster: started and warmed (one throwaway tiny cell per worker) before timing.
    os.environ[cluster.WORKERS_ENV] = str(args.workers)
    started = time.perf_counter()
    client = cluster.client()
    workers = list(client.scheduler_info()["workers"])
    startup = time.perf_counter() - started
    started = time.perf_counter()
    warm = [client.submit(cluster.train_cell_on_worker, tiny_cell(), workers=[w], pure=False) for w in workers]
    client.gather(warm)
    warmup = time.perf_counter() - started
    trip = round_trip_ms(client)
    print(f"cluster: {len(workers)} single-threaded workers; start {startup:.1f} s and warm-up "
          f"(TensorFlow import, one tiny cell per worker) {warmup:.1f} s, both not counted in (b)")
    try:
        dask_wall, dask_results = timed_run(dask_backend(client), cells)
    finally:
        client.close()
        cluster.close_local_cluster()
    train, fixed = describe(f"(b) LocalCluster, {len(workers)} single-threaded workers", dask_wall, dask_results)
    print()
    print(f"speedup (a)/(b): {local_wall / dask_wall:.2f}x on {len(workers)} workers (goal >= 1.7x on 2 cores)")
    print()
    print(f"per-cell pure training: {train:.2f} s on a worker (1 thread), "
          f"{statistics.mean(r.train_seconds for r in local_results):.2f} s in this process")  # type: ignore[attr-defined]
    print(f"fixed cost per task: {fixed:.2f} s on a worker (cell wall minus pure training; {local_fixed:.2f} s in "
          f"this process) + {trip:.1f} ms scheduler round trip of a trivial task")
    per_cell = train + fixed + trip / 1000
    predicted = ", ".join(f"N={n}: {math.ceil(args.cells / n) * per_cell:.0f} s" for n in sorted({1, 2, 4, args.cells}))
    print(f"scaling: T(N) ~= ceil(cells/N) * (cell seconds + fixed cost) = ceil({args.cells}/N) * ({train:.2f} + "
          f"{fixed + trip / 1000:.2f}) s while each worker has a core of its own: {predicted}; "
          f"measured N={len(workers)}: {dask_wall:.0f} s")


def calibrate(args: argparse.Namespace) -> None:
    """Fit the cost model on cells trained single-threaded, as on a sweep worker."""
    fit_threads_to_process(1)
    train_cell(tiny_cell())  # warm-up
    rows = []
    for units, batch, n_in in CALIBRATION_SIZES:
        problem = dataclasses.replace(PROBLEM, n_in=n_in)
        config = TrainConfig(protocol="batched", batch_size=batch, updates=args.updates, eval_every=args.updates,
                             jit_compile=args.jit)
        model = ModelConfig(units=units)
        result = timed_cell(CellSpec(index=0, problem=problem, train=config, model=model))
        per_update = result.train_seconds / result.updates_done  # type: ignore[attr-defined]
        steps = n_in + problem.target_len
        work = batch * steps * units * (units + problem.cardinality)
        rows.append((work, steps, per_update, result.seconds - result.train_seconds))  # type: ignore[attr-defined]
        print(f"units {units:3} batch {batch} n_in {n_in:2}: work {work:.2e}, {per_update * 1000:6.2f} ms/update, "
              f"cell fixed {rows[-1][3]:5.2f} s (build, trace{', compile' if args.jit else ''}, one evaluation); "
              f"the model says {cost.estimate_update_seconds(problem, config, model) * 1000:6.2f} ms/update")
    # Evaluations are not in the cost model: show their share at the protocol's default cadence.
    config = TrainConfig(protocol="batched", updates=args.updates, jit_compile=args.jit)
    result = timed_cell(CellSpec(index=0, problem=PROBLEM, train=config))
    with_evals = result.train_seconds / result.updates_done  # type: ignore[attr-defined]
    print(f"units 150 batch 32 n_in  5 with an evaluation of {config.eval_size} pairs every {config.eval_every} "
          f"updates: {with_evals * 1000:6.2f} ms/update (vs {rows[1][2] * 1000:.2f} without)")
    works, steps, seconds, fixed = (np.array(column, dtype=float) for column in zip(*rows))
    # Sequence length costs beyond its share of the work (sequential steps, a larger graph to compile).
    terms = np.column_stack([np.ones_like(works), steps, works])
    (a, b, c), *_ = np.linalg.lstsq(terms, seconds, rcond=None)
    d, e = np.polyfit(steps, fixed, 1)[::-1]
    current = cost.cost_model(config)
    print()
    print(f"fitted (1 thread, this machine, XLA {'on' if args.jit else 'off'}); current values of "
          f"seqattn/training/cost.py's {'XLA_COSTS' if args.jit else 'GRAPH_COSTS'} in brackets:")
    print(f"update_fixed={a:.2e} [{current.update_fixed:.2e}], update_per_step={b:.2e} [{current.update_per_step:.2e}], "
          f"update_per_work={c:.2e} [{current.update_per_work:.2e}]")
    print(f"cell_fixed={d:.1f} [{current.cell_fixed:.1f}], cell_per_step={e:.2f} [{current.cell_per_step:.2f}]")
    print(f"  worst relative error of the update fit: {relative_error(terms @ [a, b, c], seconds):.0%}")


def relative_error(predicted: np.ndarray, measured: np.ndarray) -> float:
    return float(np.max(np.abs(predicted - measured) / measured))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=8, help="identical cells (default 8)")
    parser.add_argument("--updates", type=int, default=None, help="updates per cell (default 1500; 300 with --calibrate)")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    parser.add_argument("--threads", type=int, default=None,
                        help="TensorFlow intra-op threads of run (a) (default: TensorFlow's choice, all cores)")
    parser.add_argument("--calibrate", action="store_true", help="fit the cost-model constants instead")
    parser.add_argument("--no-jit", dest="jit", action="store_false", help="calibrate cells trained without XLA")
    args = parser.parse_args()
    if args.calibrate:
        args.updates = args.updates or 300
        calibrate(args)
    else:
        args.updates = args.updates or 1500
        scaling(args)


if __name__ == "__main__":
    main()
