"""Scores of predictions: exact match and accuracy by output step, and the attention alignment score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


def alignment_score(attention: np.ndarray, n_out: int) -> float:
    """Mean attention mass that echoed output step t puts on input position t.

    Args:
        attention: (batch, steps, n_in) attention probabilities.
        n_out: how many leading output steps echo an input.

    Returns:
        A float in [0, 1]; 1 means a perfect diagonal, 1/n_in is uniform attention.
    """
    attention = np.asarray(attention)
    steps = min(n_out, attention.shape[1], attention.shape[2])
    idx = np.arange(steps)
    return float(np.mean(attention[:, idx, idx]))
