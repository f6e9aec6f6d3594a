"""The length sweep as a user runs it: how fast and how well each model learns as inputs grow.

Usage::

    .venv/bin/python bench/length_sweep.py                  # the default grid (the Sweep page's and the CLI's)
    .venv/bin/python bench/length_sweep.py --large --out docs/length_sweep   # `make sweep`

Runs ``python -m seqattn sweep`` on a local Dask cluster (one single-threaded worker per core),
each model trained until 95 % held-out exact match or the cap, then prints per input length and
model the updates to the threshold (mean, min, max over seeds; a seed that missed it counts at
the cap), the exact match at the end and the wall time of the whole sweep. With ``--out`` it
also writes ``<out>.csv``, ``<out>.svg`` and ``<out>.png`` (the headline figure, its caption
saying what was measured).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from bench.plot_comparison import export  # noqa: E402
from seqattn.figures import sweep_figure  # noqa: E402
from seqattn.runs import list_runs  # noqa: E402
from seqattn.sweeps import report  # noqa: E402
from seqattn.sweeps.grid import chance_exact_match, format_threshold_table, threshold_table  # noqa: E402

# The larger grid of `make sweep`: longer inputs and a cap three times the default's, so the
# baseline's growing need for updates shows before it stops reaching the threshold at all.
LARGE = ["--n-in", "5,10,15,20,30", "--updates", "6000"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="the larger grid of `make sweep`")
    parser.add_argument("--out", default=None, help="write <out>.csv, .svg and .png (e.g. docs/length_sweep)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs:
        csv = Path(args.out + ".csv") if args.out else Path(runs) / "sweep.csv"
        command = [sys.executable, "-m", "seqattn", "sweep", *(LARGE if args.large else []), "--csv", str(csv),
                   "--runs-dir", runs, "--quiet"]
        print("$ python -m seqattn sweep " + " ".join((LARGE if args.large else []) + ["--csv", str(csv)]), flush=True)
        started = time.perf_counter()
        result = subprocess.run(command, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
        wall = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(f"the sweep failed (exit {result.returncode})")
        (summary,) = list_runs(runs, kind="sweep")
        caption = report.caption_of(summary)
    cells = pd.read_csv(csv)
    print()
    print(caption)
    print("\n".join(format_threshold_table(threshold_table(cells, "n_in"), "n_in")))
    print(f"whole sweep: {wall:.0f} s wall ({wall / 60:.1f} min) for {cells['cell'].nunique()} cells on "
          f"{os.cpu_count()} cores, from the command to its last line (cluster start-up included)")
    if args.out:
        chance = chance_exact_match({"cardinality": int(cells["cardinality"].iloc[0]), "n_out": int(cells["n_out"].iloc[0])})
        figure = sweep_figure(cells, "n_in", chance=chance, caption=caption)
        svg = Path(args.out + ".svg")
        export({svg: figure, svg.with_suffix(".png"): figure}, height=int(figure.layout.height))


if __name__ == "__main__":
    main()
