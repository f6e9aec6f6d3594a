"""The data a training sees: the seeded stream of training batches and the held-out set."""

from __future__ import annotations

import numpy as np

from seqattn.problem.config import ProblemConfig

from seqattn.problem.batches import draw_pairs, make_batch


class DataStream:
    """The shared, seeded stream of training batches, drawn in chunks for speed."""

    def __init__(self, problem: ProblemConfig, batch_size: int, seed: int, chunk: int = 256,
                 max_bytes: int = 32 * 2**20) -> None:
        self.problem = problem
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        # Pre-drawing saves per-update overhead, but one-hot chunks of a large
        # problem get big: cap the chunk's memory, down to one batch.
        batch_bytes = 4 * batch_size * (problem.input_size * problem.n_in + problem.output_size * problem.target_len)
        self.chunk = max(1, min(chunk, max_bytes // batch_bytes))
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._inputs: np.ndarray | None = None
        self._i = self.chunk

    def next(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Next (inputs (B, n_in) int32, x (B, n_in, K), y (B, target_len, K))."""
        if self._i >= self.chunk:
            batch = make_batch(self.problem, self.chunk * self.batch_size, self.rng)
            shape = (self.chunk, self.batch_size)
            self._inputs = batch.inputs.reshape(shape + batch.inputs.shape[1:])
            self._x = batch.x.reshape(shape + batch.x.shape[1:])
            self._y = batch.y.reshape(shape + batch.y.shape[1:])
            self._i = 0
        i = self._i
        self._i += 1
        return self._inputs[i], self._x[i], self._y[i]


def held_out_set(problem: ProblemConfig, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed held-out pairs of a training with ``seed``: (inputs (size, n_in), targets (size, target_len)) ints.

    Drawn from their own generator (``[seed, 1]``), so the training stream never touches them.
    """
    return draw_pairs(problem, size, np.random.default_rng([seed, 1]))


def fresh_pairs(problem: ProblemConfig, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` fresh pairs from ``seed``, for scoring a saved model: (inputs (n, n_in), targets (n, target_len))."""
    batch = make_batch(problem, n, np.random.default_rng(seed))
    return batch.inputs, batch.targets
