"""What a model says about input sequences (:class:`Prediction`), and the checks
every predictor makes on what it is asked.

Shared by the TensorFlow predictor (:class:`seqattn.model.builders.Predictor`) and the
NumPy one (:class:`seqattn.model.inference.ArrayPredictor`), so both accept and refuse
exactly the same things. Imports NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np



@dataclass(frozen=True)
class Prediction:
    """What a model says about a batch of input sequences.

    Attributes:
        tokens: int32 (batch, steps), the argmax token at each output step.
        confidence: float32 (batch, steps), the probability of that token.
        probabilities: float32 (batch, steps, K).
        attention: float32 (batch, steps, n_in) for the attention model, else None.
    """

    tokens: np.ndarray
    confidence: np.ndarray
    probabilities: np.ndarray
    attention: np.ndarray | None

    @classmethod
    def of(cls, probabilities: np.ndarray, attention: np.ndarray | None) -> Prediction:
        """From probabilities (batch, steps, K) and attention (batch, steps, n_in) or None."""
        probabilities = np.asarray(probabilities, dtype=np.float32)
        tokens = np.argmax(probabilities, axis=-1).astype(np.int32)
        confidence = np.take_along_axis(probabilities, tokens[..., None], axis=-1)[..., 0]
        return cls(
            tokens=tokens,
            confidence=confidence.astype(np.float32),
            probabilities=probabilities,
            attention=None if attention is None else np.asarray(attention, dtype=np.float32),
        )


class SequencePredictor(Protocol):
    """What the dashboard asks of a model: :class:`seqattn.model.builders.Predictor` (TensorFlow)
    and :class:`seqattn.model.inference.ArrayPredictor` (NumPy) both answer it.

    Attributes: cardinality K, input length n_in, output steps, with_attention.
    """

    cardinality: int
    n_in: int
    steps: int
    with_attention: bool

    def __call__(self, inputs: np.ndarray) -> Prediction:
        """Predict for int inputs (n_in,) or (batch, n_in) with values in [0, K)."""
        ...

    def force(self, inputs: np.ndarray, step: int, row: np.ndarray) -> Prediction:
        """Predict with output ``step``'s attention replaced by ``row`` (n_in,)."""
        ...


def one_hot_inputs(inputs: np.ndarray, n_in: int, cardinality: int) -> np.ndarray:
    """Checked int inputs (n_in,) or (batch, n_in) -> one-hot float32 (batch, n_in, K).

    Raises:
        ValueError: the wrong shape, or a value outside 0..K-1.
    """
    inputs = np.asarray(inputs, dtype=np.int32)
    if inputs.ndim == 1:
        inputs = inputs[None, :]
    if inputs.ndim != 2 or inputs.shape[1] != n_in:
        raise ValueError(f"inputs must have shape (batch, {n_in}); got {inputs.shape}")
    if inputs.size and (inputs.min() < 0 or inputs.max() >= cardinality):
        raise ValueError(f"input tokens must be in 0..{cardinality - 1}")
    return np.eye(cardinality, dtype=np.float32)[inputs]


def forced_rows(batch: int, steps: int, n_in: int, step: int, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The decoder's ``forced_attention`` (batch, steps, n_in) and ``forced_mask`` (batch, steps)
    that replace output ``step``'s attention by ``row`` (n_in,) for every sequence of a batch.

    Raises:
        ValueError: a step out of range, or a row of the wrong length, with
            negative weights or not summing to 1.
    """
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)) or not 0 <= step < steps:
        raise ValueError(f"step must be an output step from 0 to {steps - 1}; got {step!r}.")
    row = np.asarray(row, dtype=np.float32)
    if row.shape != (n_in,):
        raise ValueError(f"the attention row must have one weight per input position ({n_in}); "
                         f"got shape {row.shape}.")
    if not np.all(np.isfinite(row)) or row.min() < 0 or abs(float(row.sum()) - 1.0) > 1e-3:
        raise ValueError(f"the attention row must be non-negative weights summing to 1; "
                         f"got {np.round(row, 4).tolist()} (sum {float(row.sum()):.4f}).")
    rows = np.zeros((batch, steps, n_in), dtype=np.float32)
    rows[:, step] = row
    mask = np.zeros((batch, steps), dtype=np.float32)
    mask[:, step] = 1.0
    return rows, mask


NO_ATTENTION = ("only a model with attention can have its attention forced; "
                "this one has no attention decoder.")
