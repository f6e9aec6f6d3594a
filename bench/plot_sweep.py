"""Render a length sweep's headline figure (exact match against input length) to SVG and PNG.

Usage: ``.venv/bin/python bench/plot_sweep.py docs/length_sweep.csv docs/length_sweep.svg``

Reads the per-cell CSV written by ``python -m seqattn sweep`` and draws
:func:`seqattn.figures.sweep_figure` with the chance line, then prints the table of mean
exact match per input length for both models (the figure the README quotes).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from bench.plot_comparison import export  # noqa: E402
from seqattn.figures import sweep_figure  # noqa: E402
from seqattn.sweeps.grid import chance_exact_match, summary_table  # noqa: E402


def main(csv: str, out: str) -> None:
    cells = pd.read_csv(csv)
    first = cells.iloc[0]
    chance = chance_exact_match({"cardinality": int(first["cardinality"]), "n_out": int(first["n_out"])})
    figure = sweep_figure(cells, "n_in", chance=chance)
    svg = Path(out)
    export({svg: figure, svg.with_suffix(".png"): figure})
    table = summary_table(cells, "n_in").pivot(index="n_in", columns="model", values=["mean", "min", "max"])
    print(table.map(lambda v: f"{v:.1%}").to_string())
    wall = cells.drop_duplicates("cell")["seconds"]
    print(f"{len(wall)} cells, {wall.sum():.0f} cell-seconds in all")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: plot_sweep.py SWEEP_CSV OUT.svg")
    main(sys.argv[1], sys.argv[2])
