"""The echo problem: random integer sequences whose first ``n_out`` values are echoed.

An input is ``n_in`` integers drawn uniformly from ``[0, K)``. With ``pad_target``
(the tutorial's form) the target is the first ``n_out`` inputs followed by zeros,
so it has ``n_in`` steps; without it the target is just the first ``n_out`` inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqattn.configuration import DictConfig, check_int_range, check_settings, setting

MAX_CARDINALITY = 1000
MAX_LENGTH = 100


@dataclass(frozen=True)
class ProblemConfig(DictConfig):
    """Shape of the echo problem.

    Args:
        cardinality: K, the number of distinct tokens (2..1000). Tokens are 0..K-1.
        n_in: input length (1..100).
        n_out: how many leading inputs the target echoes (1..n_in).
        pad_target: if True (the tutorial) the target is padded with zeros to
            ``n_in`` steps; if False it has ``n_out`` steps.
    """

    KIND = "problem"

    cardinality: int = setting(50, "Cardinality", "K: tokens are the integers 0..K-1.", 2, MAX_CARDINALITY)
    n_in: int = setting(5, "Input length", "n_in, the length of each input sequence.", 1, MAX_LENGTH)
    n_out: int = setting(2, "Echo length", "n_out: how many leading inputs the target repeats (1 to n_in).")
    pad_target: bool = setting(True, "Pad target", "On (the tutorial): the target is padded with zeros to n_in steps. "
                                                   "Off: the decoder emits only n_out steps.")

    def __post_init__(self) -> None:
        check_settings(self)
        check_int_range("n_out", self.n_out, 1, self.n_in)
        if not isinstance(self.pad_target, (bool, np.bool_)):
            raise ValueError(f"pad_target must be true or false; got {self.pad_target!r}.")

    @property
    def target_len(self) -> int:
        """Number of decoder steps: ``n_in`` when padded, else ``n_out``."""
        return self.n_in if self.pad_target else self.n_out


@dataclass(frozen=True)
class EchoBatch:
    """One batch of the echo problem.

    Attributes:
        inputs: int32 array (batch, n_in), values in [0, K).
        targets: int32 array (batch, target_len).
        x: float32 one-hot inputs (batch, n_in, K).
        y: float32 one-hot targets (batch, target_len, K).
    """

    inputs: np.ndarray
    targets: np.ndarray
    x: np.ndarray
    y: np.ndarray


def one_hot(values: np.ndarray, cardinality: int) -> np.ndarray:
    """One-hot encode integers: int array (...,) -> float32 array (..., K)."""
    values = np.asarray(values)
    return np.eye(cardinality, dtype=np.float32)[values]


def decode(probabilities: np.ndarray) -> np.ndarray:
    """Argmax decode: (..., K) scores or one-hot rows -> int array (...,)."""
    return np.argmax(np.asarray(probabilities), axis=-1).astype(np.int32)


def targets_for(inputs: np.ndarray, config: ProblemConfig) -> np.ndarray:
    """Targets for integer inputs (batch, n_in) -> (batch, target_len)."""
    inputs = np.asarray(inputs, dtype=np.int32)
    targets = np.zeros((inputs.shape[0], config.target_len), dtype=np.int32)
    targets[:, : config.n_out] = inputs[:, : config.n_out]
    return targets


def batch_from_inputs(inputs: np.ndarray, config: ProblemConfig) -> EchoBatch:
    """Build an :class:`EchoBatch` from integer inputs of shape (batch, n_in)."""
    inputs = np.asarray(inputs, dtype=np.int32)
    targets = targets_for(inputs, config)
    return EchoBatch(
        inputs=inputs,
        targets=targets,
        x=one_hot(inputs, config.cardinality),
        y=one_hot(targets, config.cardinality),
    )


def make_batch(config: ProblemConfig, batch_size: int, rng: np.random.Generator) -> EchoBatch:
    """Draw ``batch_size`` fresh pairs from ``rng``.

    Returns an :class:`EchoBatch` with inputs (batch, n_in) and targets
    (batch, target_len) plus their one-hot float32 encodings.
    """
    check_int_range("batch_size", batch_size, 1, 1_000_000)
    inputs = rng.integers(0, config.cardinality, size=(batch_size, config.n_in), dtype=np.int32)
    return batch_from_inputs(inputs, config)


def make_pair(config: ProblemConfig, rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """One example as plain lists: (input of n_in ints, target of target_len ints)."""
    batch = make_batch(config, 1, rng)
    return batch.inputs[0].tolist(), batch.targets[0].tolist()
