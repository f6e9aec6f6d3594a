"""Reverse: the target is the input read backwards; a perfect alignment is the anti-diagonal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from seqattn.problem.task import IntegerTask, one_position_alignment

if TYPE_CHECKING:
    from seqattn.problem.config import ProblemConfig


class ReverseTask(IntegerTask):
    """Write ``n_in`` integers in reverse order (``n_out = n_in``)."""

    name = "reverse"
    label = "Reverse"
    summary = "The target is the input reversed: the last input first."
    # A live demo on 2 cores, chosen by measurement (bench/tasks.py, README "Tasks").
    defaults = {"cardinality": 10, "n_in": 8, "units": 64, "protocol": "batched", "updates": 1000, "batch_size": 32,
                "learning_rate": 5e-3}

    def fixed(self, config: ProblemConfig) -> dict[str, Any]:
        return {"n_out": config.n_in, "pad_target": True}

    def targets(self, config: ProblemConfig, inputs: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(inputs, dtype=np.int32)[:, ::-1])

    def expected_alignment(self, config: ProblemConfig, inputs: np.ndarray) -> np.ndarray:
        positions = np.arange(config.n_in)[::-1]
        return one_position_alignment(np.tile(positions, (len(inputs), 1)), config.n_in)
