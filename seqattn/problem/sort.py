"""Sort: the target is the input in ascending order; a perfect alignment is a permutation of each input.

Output step t holds the t-th smallest value; it should look at the input position(s)
holding that value, sharing the weight equally where the value repeats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from seqattn.problem.task import PermutationTask

if TYPE_CHECKING:
    from seqattn.problem.config import ProblemConfig


class SortTask(PermutationTask):
    """Sort ``n_in`` integers ascending (``n_out = n_in``)."""

    name = "sort"
    label = "Sort"
    summary = "The target is the input sorted ascending."

    def targets(self, config: ProblemConfig, inputs: np.ndarray) -> np.ndarray:
        return np.sort(np.asarray(inputs, dtype=np.int32), axis=1)

    def expected_alignment(self, config: ProblemConfig, inputs: np.ndarray) -> np.ndarray:
        inputs = np.asarray(inputs, dtype=np.int32)
        targets = self.targets(config, inputs)
        holds = (targets[:, :, None] == inputs[:, None, :]).astype(np.float32)  # (n, steps, n_in)
        return holds / holds.sum(axis=2, keepdims=True)
