"""Sweep cells with and without XLA: what one cell costs on a single-threaded worker, both ways.

For each input length, trains the Sweep form's default cell (K=50, 150 units, batched
protocol, 500 updates) twice with XLA and twice without, in this process with one
TensorFlow thread (as on a sweep worker) and XLA's disk cache off (as on a fresh machine).
The first cell of a shape pays building, tracing and (with XLA) compiling; the second takes
the first one's traced step (``seqattn.sweeps.cells``), as a sweep's second seed does. Prints both
cells' seconds per length, the seconds of a 3-seed grid point both ways and their ratio:
the reason sweeps default to XLA off (``seqattn.sweeps.grid.CELL_XLA``).

Run: ``.venv/bin/python bench/sweep_xla.py [--lengths 5,10,20] [--updates 500]`` (about 5 minutes).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

os.environ["SEQATTN_XLA_CACHE"] = "off"  # before seqattn starts TensorFlow: time a fresh machine's compile
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seqattn.sweeps.cells import CellSpec, train_cell  # noqa: E402
from seqattn.training.threads import fit_threads_to_process
from seqattn.model.config import ModelConfig  # noqa: E402
from seqattn.problem.config import ProblemConfig  # noqa: E402
from seqattn.training.config import TrainConfig  # noqa: E402

SEEDS = 3  # the Sweep form's default seeds per value


def cell_seconds(problem: ProblemConfig, train: TrainConfig, seed: int) -> float:
    result = train_cell(CellSpec(index=0, problem=problem, train=dataclasses.replace(train, seed=seed),
                                 model=ModelConfig()))
    if result.status != "done":
        raise SystemExit(f"cell failed: {result.error}")
    return result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="5,10,20", help="input lengths, comma-separated (default 5,10,20)")
    parser.add_argument("--updates", type=int, default=500, help="updates per cell (default 500, the form's)")
    args = parser.parse_args()
    fit_threads_to_process(1)
    train_cell(CellSpec(index=0, problem=ProblemConfig(n_in=2), train=TrainConfig(protocol="batched", updates=5,
                        eval_size=10, jit_compile=False), model=ModelConfig(units=8)))  # imports, not timed
    print(f"one thread, XLA disk cache off; K=50, 150 units, batched, {args.updates} updates per cell")
    totals = {True: 0.0, False: 0.0}
    for n_in in (int(v) for v in args.lengths.split(",")):
        problem = ProblemConfig(cardinality=50, n_in=n_in, n_out=2)
        line = [f"n_in {n_in:2}:"]
        grid = {}
        for jit in (True, False):
            train = TrainConfig(protocol="batched", updates=args.updates, jit_compile=jit)
            first, second = cell_seconds(problem, train, 0), cell_seconds(problem, train, 1)
            grid[jit] = first + (SEEDS - 1) * second
            totals[jit] += grid[jit]
            line.append(f"{'XLA' if jit else 'no XLA'} first cell {first:5.1f} s, next seed {second:5.1f} s;")
        line.append(f"{SEEDS} seeds {grid[True]:5.1f} s vs {grid[False]:5.1f} s without XLA "
                    f"({grid[True] / grid[False]:.2f}x)")
        print(" ".join(line), flush=True)
    print(f"all lengths, {SEEDS} seeds each: {totals[True]:.1f} s with XLA vs {totals[False]:.1f} s without: "
          f"sweep cells are {totals[True] / totals[False]:.2f}x faster without XLA")


if __name__ == "__main__":
    main()
