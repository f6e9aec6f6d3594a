"""Reverse: the target is the input read backwards; a perfect alignment is the anti-diagonal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from seqattn.problem.task import PermutationTask, one_position_alignment

if TYPE_CHECKING:
    from seqattn.problem.config import ProblemConfig


class ReverseTask(PermutationTask):
    """Write ``n_in`` integers in reverse order (``n_out = n_in``)."""

    name = "reverse"
    label = "Reverse"
    summary = "The target is the input reversed: the last input first."

    def targets(self, config: ProblemConfig, inputs: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(inputs, dtype=np.int32)[:, ::-1])

    def expected_alignment(self, config: ProblemConfig, inputs: np.ndarray) -> np.ndarray:
        positions = np.arange(config.n_in)[::-1]
        return one_position_alignment(np.tile(positions, (len(inputs), 1)), config.n_in)
