"""Where the attention model looks, with the tutorial's encoder and with Bahdanau et al.'s (issue 12).

On the seed problem (K=50, n_in=5, n_out=2, 150 units), batched protocol, 3 seeds
each, the attention model is trained with a ``unidirectional`` encoder (the
tutorial's LSTM) and with a ``bidirectional`` one (forward and backward states
concatenated). For each it prints, over 1,000 fresh held-out pairs:

1. exact match and alignment score (mean attention mass that echoed output step
   t puts on input position t: the diagonal), per seed and their mean;
2. the mass one position late (step t on input t+1), the unidirectional
   encoder's habit (see the spec);
3. the mean attention row of each echoed step, averaged over pairs and seeds.

Run: ``.venv/bin/python bench/encoder_alignment.py`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from seqattn.evaluation.scoring import score  # noqa: E402
from seqattn.training.data import fresh_pairs  # noqa: E402
from seqattn.model.config import ENCODERS, ModelConfig  # noqa: E402
from seqattn.problem.config import ProblemConfig  # noqa: E402
from seqattn.problem.batches import targets_for  # noqa: E402
from seqattn.training.config import TrainConfig  # noqa: E402
from seqattn.evaluation.scoring import alignment_score
from seqattn.training.session import train

PROBLEM = ProblemConfig(cardinality=50, n_in=5, n_out=2)
EVAL_PAIRS = 1000
EVAL_SEED = 2026


def late_score(attention: np.ndarray, n_out: int) -> float:
    """Mean mass that echoed step t puts on input t + 1 (one position late); attention (batch, steps, n_in)."""
    steps = min(n_out, attention.shape[1], attention.shape[2] - 1)
    idx = np.arange(steps)
    return float(np.mean(attention[:, idx, idx + 1]))


def one_run(encoder: str, seed: int, units: int, updates: int | None) -> dict[str, object]:
    """Train the attention model once; its exact match, alignment, lateness and mean echoed rows."""
    from seqattn.model.builders import Predictor

    config = TrainConfig(protocol="batched", seed=seed, updates=updates, eval_size=200)
    started = time.perf_counter()
    result = train(PROBLEM, config, model=ModelConfig(units=units, encoder=encoder), names=("attention",))
    seconds = time.perf_counter() - started
    inputs, _ = fresh_pairs(PROBLEM, EVAL_PAIRS, EVAL_SEED)
    prediction = Predictor(result.models["attention"])(inputs)
    attention = prediction.attention  # (pairs, steps, n_in)
    return {
        "exact_match": score(prediction.tokens, targets_for(inputs, PROBLEM)).exact_match,
        "alignment": alignment_score(attention, PROBLEM.n_out),
        "late": late_score(attention, PROBLEM.n_out),
        "rows": attention[:, : PROBLEM.n_out].mean(axis=0),  # (n_out, n_in)
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--units", type=int, default=150)
    parser.add_argument("--updates", type=int, default=None, help="default: the batched protocol's")
    args = parser.parse_args()

    print(f"seed problem K={PROBLEM.cardinality} n_in={PROBLEM.n_in} n_out={PROBLEM.n_out}, "
          f"{args.units} units, batched protocol, {args.seeds} seeds, {EVAL_PAIRS} held-out pairs")
    print(f"{'encoder':15} {'seed':>4} {'exact':>7} {'diag':>6} {'late':>6} {'secs':>6}")
    rows_by_encoder = {}
    summary = []
    for encoder in ENCODERS:
        runs = [one_run(encoder, seed, args.units, args.updates) for seed in range(args.seeds)]
        for seed, run in enumerate(runs):
            print(f"{encoder:15} {seed:>4} {run['exact_match']:7.1%} {run['alignment']:6.3f} "
                  f"{run['late']:6.3f} {run['seconds']:6.1f}", flush=True)
        means = {k: float(np.mean([r[k] for r in runs])) for k in ("exact_match", "alignment", "late")}
        summary.append((encoder, means))
        rows_by_encoder[encoder] = np.mean([r["rows"] for r in runs], axis=0)
    print()
    print(f"{'encoder':15} {'mean exact':>10} {'mean diag':>10} {'mean late':>10}")
    for encoder, means in summary:
        print(f"{encoder:15} {means['exact_match']:10.1%} {means['alignment']:10.3f} {means['late']:10.3f}")
    print()
    print("mean attention row of each echoed step (columns: input positions 0..n_in-1)")
    for encoder, rows in rows_by_encoder.items():
        for t, row in enumerate(rows):
            print(f"{encoder:15} step {t}: " + " ".join(f"{p:.2f}" for p in row))


if __name__ == "__main__":
    main()
