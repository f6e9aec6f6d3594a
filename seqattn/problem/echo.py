"""Echo, the tutorial's task: random integer sequences whose first ``n_out`` values are echoed.

An input is ``n_in`` integers drawn uniformly from ``[0, K)``. With ``pad_target``
(the tutorial's form) the target is the first ``n_out`` inputs followed by zeros,
so it has ``n_in`` steps; without it the target is just the first ``n_out`` inputs.
Expected alignment: output step t on input position t (the padding steps read nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from seqattn.problem.task import IntegerTask, one_position_alignment

if TYPE_CHECKING:
    from seqattn.problem.config import ProblemConfig


class EchoTask(IntegerTask):
    """Echo the first ``n_out`` of ``n_in`` integers (the tutorial's problem)."""

    name = "echo"
    label = "Echo"
    summary = "The target is the first n_out inputs (padded with zeros to n_in steps in the tutorial's form)."
    settings = ("cardinality", "n_in", "n_out", "pad_target")
    defaults = {"cardinality": 50, "n_in": 5, "n_out": 2, "pad_target": True}

    def target_len(self, config: ProblemConfig) -> int:
        return config.n_in if config.pad_target else config.n_out

    def targets(self, config: ProblemConfig, inputs: np.ndarray) -> np.ndarray:
        inputs = np.asarray(inputs, dtype=np.int32)
        targets = np.zeros((inputs.shape[0], self.target_len(config)), dtype=np.int32)
        targets[:, : config.n_out] = inputs[:, : config.n_out]
        return targets

    def expected_alignment(self, config: ProblemConfig, inputs: np.ndarray) -> np.ndarray:
        steps = np.arange(self.target_len(config))
        positions = np.where(steps < config.n_out, steps, -1)
        return one_position_alignment(np.tile(positions, (len(inputs), 1)), config.n_in)

    def chance(self, config: ProblemConfig) -> float:
        # The padding is free: only the echoed tokens have to be guessed.
        return float((1.0 / config.cardinality) ** config.n_out)

    def describe(self, config: ProblemConfig) -> str:
        return f"echo K={config.cardinality} n_in={config.n_in} n_out={config.n_out}"
