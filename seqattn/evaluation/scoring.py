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


def alignment_score(attention: np.ndarray, expected: np.ndarray | int) -> float:
    """Mean attention mass each output step puts where a perfect alignment would look.

    Args:
        attention: (batch, steps, n_in) attention probabilities.
        expected: the task's expected alignment (batch, steps, n_in) (rows summing to 1, or all
            zero for a step that reads no input: such steps are left out), from
            :meth:`seqattn.problem.task.Task.expected_alignment`; or an int ``n_out``, the echo
            task's diagonal (output step t on input position t, for t < n_out).

    Returns:
        A float in [0, 1]: 1 means every step looks only where it should; uniform attention
        scores (positions looked at) / n_in.
    """
    attention = np.asarray(attention)
    if isinstance(expected, (int, np.integer)):
        steps = min(int(expected), attention.shape[1], attention.shape[2])
        idx = np.arange(steps)
        return float(np.mean(attention[:, idx, idx])) if steps else 0.0
    expected = np.asarray(expected)
    if expected.shape != attention.shape:
        raise ValueError(f"expected alignment {expected.shape} and attention {attention.shape} must have one shape")
    mass = np.sum(attention * (expected > 0), axis=-1)  # (batch, steps)
    reads = np.any(expected > 0, axis=-1)
    return float(np.mean(mass[reads])) if reads.any() else 0.0
