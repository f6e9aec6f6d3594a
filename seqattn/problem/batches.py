"""Batches of any task: tokens drawn by the task, one-hot encoded for the models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqattn.configuration import check_int_range
from seqattn.problem.config import ProblemConfig


@dataclass(frozen=True)
class ProblemBatch:
    """One batch of pairs.

    Attributes:
        inputs: int32 array (batch, n_in), values in [0, input_size).
        targets: int32 array (batch, target_len), values in [0, output_size).
        x: float32 one-hot inputs (batch, n_in, input_size).
        y: float32 one-hot targets (batch, target_len, output_size).
    """

    inputs: np.ndarray
    targets: np.ndarray
    x: np.ndarray
    y: np.ndarray


def one_hot(values: np.ndarray, cardinality: int) -> np.ndarray:
    """One-hot encode integers: int array (...,) -> float32 array (..., cardinality)."""
    values = np.asarray(values)
    return np.eye(cardinality, dtype=np.float32)[values]


def decode(probabilities: np.ndarray) -> np.ndarray:
    """Argmax decode: (..., K) scores or one-hot rows -> int array (...,)."""
    return np.argmax(np.asarray(probabilities), axis=-1).astype(np.int32)


def targets_for(inputs: np.ndarray, config: ProblemConfig) -> np.ndarray:
    """Targets for int inputs (batch, n_in) -> int32 (batch, target_len), by the config's task."""
    return config.task_spec.targets(config, np.asarray(inputs, dtype=np.int32))


def _batch(inputs: np.ndarray, targets: np.ndarray, config: ProblemConfig) -> ProblemBatch:
    return ProblemBatch(inputs=inputs, targets=targets, x=one_hot(inputs, config.input_size),
                        y=one_hot(targets, config.output_size))


def batch_from_inputs(inputs: np.ndarray, config: ProblemConfig) -> ProblemBatch:
    """Build a :class:`ProblemBatch` from int inputs of shape (batch, n_in)."""
    inputs = np.asarray(inputs, dtype=np.int32)
    return _batch(inputs, targets_for(inputs, config), config)


def draw_pairs(config: ProblemConfig, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` fresh pairs from ``rng`` by the config's task: (inputs int32 (n, n_in), targets int32 (n, target_len))."""
    check_int_range("batch_size", n, 1, 1_000_000)
    inputs, targets = config.task_spec.draw(config, n, rng)
    return np.asarray(inputs, dtype=np.int32), np.asarray(targets, dtype=np.int32)


def make_batch(config: ProblemConfig, batch_size: int, rng: np.random.Generator) -> ProblemBatch:
    """Draw ``batch_size`` fresh pairs from ``rng``, with their one-hot encodings (see :class:`ProblemBatch`)."""
    return _batch(*draw_pairs(config, batch_size, rng), config)


def make_pair(config: ProblemConfig, rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """One example as plain lists: (input of n_in ints, target of target_len ints)."""
    inputs, targets = draw_pairs(config, 1, rng)
    return inputs[0].tolist(), targets[0].tolist()
