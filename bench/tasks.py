"""Every task at its demo defaults: how well both models do, and how soon the attention model gets there.

Usage: ``python bench/tasks.py [--tasks echo,reverse,sort,dates] [--seeds 3] [--out docs/tasks.json]``

Each (task, seed) is one ``python -m seqattn train --task <task> --protocol batched --until 95
--seed <seed>`` in a fresh process, at the task's defaults (``Task.defaults``: sizes, units,
updates), so the clock starts where a click's would on a cold machine: the process's launch,
TensorFlow's import, model building and XLA compilation included. Each model trains until 95 %
held-out exact match or the task's update cap; the run's ``result.json`` says when each model
stopped (``stops``: update and training seconds), ``progress.csv`` the attention model's last
alignment score against the task's expected alignment.

Printed per task: held-out exact match of both models at the end (mean, min-max over seeds),
the attention model's updates and wall seconds from launch to 95 %, its alignment score, and
the issue's goal (attention >= 95 % within 60 s on Reverse and Sort, 180 s on Dates).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seqattn.problem.registry import task_names  # noqa: E402

GOALS = {"reverse": 60.0, "sort": 60.0, "dates": 180.0}  # seconds from the click to attention >= 95 %
UNTIL = 95


def one_run(task: str, seed: int, out: Path) -> dict:
    """Train ``task`` at its defaults with ``seed`` in a fresh process; what it measured."""
    command = [sys.executable, "-m", "seqattn", "train", "--task", task, "--protocol", "batched",
               "--until", str(UNTIL), "--seed", str(seed), "--out", str(out), "--quiet"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ})
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    run = Path(done.stdout.strip().splitlines()[-1])
    result = json.loads((run / "result.json").read_text())
    meta = json.loads((run / "run.json").read_text())
    # Start-up is everything the process did besides training; the attention model's stop is on the training clock.
    startup = wall - result["elapsed"]
    stop = result["stops"]["attention"]
    with open(run / "progress.csv") as handle:
        rows = [row for row in csv.DictReader(line for line in handle if not line.startswith("#"))]
    alignments = [float(row["alignment"]) for row in rows if row.get("alignment") not in (None, "", "nan")]
    return {
        "task": task, "seed": seed, "wall": wall, "startup": startup,
        "exact_match": {name: acc["exact_match"] for name, acc in result["accuracy"].items()},
        "reached": stop["reached"], "attention_seconds": startup + stop["seconds"] if stop["reached"] else None,
        "baseline_reached": result["stops"]["baseline"]["reached"], "cap": meta["train"]["updates"],
        "alignment": alignments[-1] if alignments else math.nan,
        "problem": meta["problem"], "model": meta["model"], "train": meta["train"],
    }


def spread(values: list[float], form: str = "{:.1%}") -> str:
    """``mean (min-max)`` of ``values`` in ``form``."""
    return f"{form.format(statistics.mean(values))} ({form.format(min(values))}-{form.format(max(values))})"


def report(task: str, runs: list[dict]) -> list[str]:
    first = runs[0]
    lines = [f"{task}: problem {first['problem']}, units {first['model']['units']}, encoder {first['model']['encoder']}, "
             f"batch {first['train']['batch_size']}, learning rate {first['train']['learning_rate']}, "
             f"cap {first['cap']:,} updates, {len(runs)} seeds"]
    for name in ("attention", "baseline"):
        lines.append(f"  {name:9} exact match at the end {spread([r['exact_match'][name] for r in runs])}")
    reached = [r for r in runs if r["reached"]]
    if reached:
        lines.append(f"  attention reached {UNTIL} % in {len(reached)} of {len(runs)} seeds: updates "
                     f"{spread([r['reached'] for r in reached], '{:,.0f}')}, seconds from launch "
                     f"{spread([r['attention_seconds'] for r in reached], '{:.1f}')} "
                     f"(start-up {spread([r['startup'] for r in runs], '{:.1f}')})")
    else:
        lines.append(f"  attention did not reach {UNTIL} % within {first['cap']:,} updates in any seed")
    baseline = [r["baseline_reached"] for r in runs if r["baseline_reached"]]
    lines.append(f"  baseline reached {UNTIL} % in {len(baseline)} of {len(runs)} seeds"
                 + (f" (updates {spread(baseline, '{:,.0f}')})" if baseline else ""))
    lines.append(f"  attention alignment score {spread([r['alignment'] for r in runs], '{:.2f}')}")
    if task in GOALS:
        worst = max((r["attention_seconds"] or math.inf) for r in runs)
        verdict = "met" if worst <= GOALS[task] else "NOT met"
        lines.append(f"  goal: attention >= {UNTIL} % within {GOALS[task]:.0f} s of the click: {verdict} "
                     f"(slowest seed {worst:.1f} s)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(task_names()))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=None, help="also write every run's figures to this JSON file")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; each run a fresh process, one at a time", flush=True)
    every = []
    with tempfile.TemporaryDirectory() as folder:
        for task in args.tasks.split(","):
            runs = [one_run(task, seed, Path(folder)) for seed in range(args.seeds)]
            every += runs
            print("\n".join(report(task, runs)), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(every, indent=1))


if __name__ == "__main__":
    main()
