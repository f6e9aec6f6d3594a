"""Accuracy of a model on the echo problem: exact match and per position."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqattn.problem.echo import ProblemConfig, make_batch


@dataclass(frozen=True)
class Accuracy:
    """Accuracy over ``n`` pairs.

    Attributes:
        exact_match: fraction of pairs whose every decoded step equals the target
            (the tutorial's metric, padded steps included).
        per_position: fraction right at each output step, length target_len.
        n: number of pairs scored.
    """

    exact_match: float
    per_position: tuple[float, ...]
    n: int

    def to_dict(self) -> dict[str, object]:
        return {"exact_match": self.exact_match, "per_position": list(self.per_position), "n": self.n}


def score(predicted: np.ndarray, targets: np.ndarray) -> Accuracy:
    """Score int predictions against int targets, both (n, steps)."""
    predicted, targets = np.asarray(predicted), np.asarray(targets)
    if predicted.shape != targets.shape or predicted.ndim != 2:
        raise ValueError(f"predictions {predicted.shape} and targets {targets.shape} must be equal 2-D shapes")
    right = predicted == targets
    return Accuracy(
        exact_match=float(np.mean(np.all(right, axis=1))),
        per_position=tuple(float(v) for v in np.mean(right, axis=0)),
        n=int(targets.shape[0]),
    )


def held_out_inputs(problem: ProblemConfig, n: int, seed: int) -> np.ndarray:
    """``n`` fresh int inputs (n, n_in) from ``seed``, for a fixed test set."""
    return make_batch(problem, n, np.random.default_rng(seed)).inputs


def evaluate(model: object, problem: ProblemConfig, n: int = 1000, seed: int = 12345, batch_size: int = 1000) -> Accuracy:
    """Exact-match and per-position accuracy of ``model`` on ``n`` fresh pairs.

    ``model`` is a Keras model or a :class:`seqattn.model.builders.Predictor`; inputs are
    scored in batches of ``batch_size`` (never one ``predict`` per pair).
    """
    from seqattn.model.builders import Predictor

    predictor = model if isinstance(model, Predictor) else Predictor(model)
    batch = make_batch(problem, n, np.random.default_rng(seed))
    predicted = np.concatenate(
        [predictor(batch.inputs[i : i + batch_size]).tokens for i in range(0, n, batch_size)]
    )
    return score(predicted, batch.targets)
