"""Training speed and accuracy against the tutorial's loop (issue: training engine).

Prints three figures, on the seed problem (K=50, n_in=5, n_out=2) with 150 units:
1. ms per update: the tutorial's ``model.fit`` on one pair vs our compiled trainer;
2. tutorial protocol, 5,000 updates, 3 seeds: exact match on 1,000 held-out pairs;
3. batched protocol: wall time until the attention model first reaches 95 %.

Run: ``.venv/bin/python bench/train_speed.py`` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from seqattn.problem.config import ProblemConfig  # noqa: E402

from seqattn.problem.batches import make_batch  # noqa: E402
from seqattn.training.config import TrainConfig  # noqa: E402
from seqattn.training.setup import build_models
from seqattn.training.session import train

PROBLEM = ProblemConfig(cardinality=50, n_in=5, n_out=2)


def fit_loop_ms(name: str, updates: int) -> float:
    """ms per update of the tutorial's loop: model.fit(x, y, epochs=1) on one fresh pair."""
    model = build_models(PROBLEM, TrainConfig(), (name,))[name]
    rng = np.random.default_rng(0)
    for _ in range(10):  # warm-up: the first calls build and trace
        batch = make_batch(PROBLEM, 1, rng)
        model.fit(batch.x, batch.y, epochs=1, verbose=0)
    start = time.perf_counter()
    for _ in range(updates):
        batch = make_batch(PROBLEM, 1, rng)
        model.fit(batch.x, batch.y, epochs=1, verbose=0)
    return (time.perf_counter() - start) / updates * 1000


def trainer_ms(names: tuple[str, ...], updates: int, jit_compile: bool = True) -> float:
    """ms per update (all named models) of our trainer, compile excluded."""
    config = TrainConfig(protocol="tutorial", updates=updates, eval_every=updates, eval_size=100,
                         jit_compile=jit_compile)
    result = train(PROBLEM, config, names=names)
    first, last = result.reports[0], result.reports[-1]
    return (last.elapsed - first.elapsed) / (last.update - first.update) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sections", default="1,2,3", help="which figures to measure, e.g. 3")
    args = parser.parse_args()
    sections = {int(s) for s in args.sections.split(",")}
    if 1 in sections:
        speed()
    if 2 in sections:
        tutorial_accuracy(args.seeds)
    if 3 in sections:
        time_to_95(args.seeds)


def speed(fit_updates: int = 200) -> None:
    print("1. ms per update, tutorial protocol (one pair per update), 150 units")
    for name in ("baseline", "attention"):
        fit = fit_loop_ms(name, fit_updates)
        ours = trainer_ms((name,), 2000)
        print(f"   {name:9}  model.fit loop {fit:6.2f} ms   our trainer {ours:5.2f} ms   {fit / ours:5.1f}x faster")
    both = trainer_ms(("baseline", "attention"), 2000)
    print(f"   both models in one compiled step: {both:.2f} ms per update ({both / 2:.2f} ms per model-update)")
    plain = trainer_ms(("baseline", "attention"), 2000, jit_compile=False)
    print(f"   the same step as a tf.function without XLA: {plain:.2f} ms per update (XLA kept: {plain / both:.1f}x faster)")



def tutorial_accuracy(seeds: int) -> None:
    print(f"\n2. tutorial protocol, 5,000 updates, {seeds} seeds: exact match on 1,000 held-out pairs")
    accuracy: dict[str, list[float]] = {"baseline": [], "attention": []}
    for seed in range(seeds):
        result = train(PROBLEM, TrainConfig(protocol="tutorial", seed=seed, eval_every=5000, eval_size=1000))
        for name, acc in result.accuracy.items():
            accuracy[name].append(acc.exact_match)
        print(f"   seed {seed}: " + "  ".join(f"{n} {a.exact_match:.1%}" for n, a in result.accuracy.items())
              + f"   ({result.elapsed:.1f} s)")
    for name, values in accuracy.items():
        print(f"   mean {name:9} {statistics.mean(values):.1%}")



def time_to_95(seeds: int) -> None:
    print("\n3. batched protocol (defaults): wall time until attention reaches 95 % exact match (1,000 held-out)")
    for seed in range(seeds):
        reached: dict[str, float] = {}
        wall = time.perf_counter()

        def watch(progress, reached=reached, wall=wall) -> None:
            if progress.accuracy and progress.accuracy.get("attention", 0) >= 0.95 and "t" not in reached:
                reached["t"] = time.perf_counter() - wall
                reached["update"] = progress.update

        config = TrainConfig(protocol="batched", seed=seed, eval_every=25, eval_size=1000)
        result = train(PROBLEM, config, on_progress=watch)
        when = f"{reached['t']:.1f} s (update {reached['update']})" if reached else "not reached"
        print(f"   seed {seed}: {when}, including XLA compilation; final attention "
              f"{result.accuracy['attention'].exact_match:.1%}, baseline {result.accuracy['baseline'].exact_match:.1%}")


if __name__ == "__main__":
    main()
