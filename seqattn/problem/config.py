"""The problem's settings: :class:`ProblemConfig`, one frozen dataclass for every task.

The task (:mod:`seqattn.problem.registry`) says which settings it reads and fixes the
rest (Reverse sets ``n_out = n_in``; Dates fixes every size), so a config always
records the sizes its models were built with, and a run saved before tasks existed
(no ``task``) loads as Echo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqattn.configuration import DictConfig, check_int_range, check_settings, setting
from seqattn.problem.registry import DEFAULT_TASK, task_named
from seqattn.problem.task import Task

MAX_CARDINALITY = 1000
MAX_LENGTH = 100


@dataclass(frozen=True)
class ProblemConfig(DictConfig):
    """Shape of the problem.

    Args:
        cardinality: K, the number of distinct tokens (2..1000). Tokens are 0..K-1.
        n_in: input length (1..100).
        n_out: how many leading inputs the echo target repeats (1..n_in).
        pad_target: if True (the tutorial) the echo target is padded with zeros to
            ``n_in`` steps; if False it has ``n_out`` steps.
        task: the task's name in :mod:`seqattn.problem.registry` (``echo``, the
            tutorial's, by default). Fields the task does not read are set by it.

    Raises:
        ValueError: an unknown task, or settings the task cannot take (the message names them).
    """

    KIND = "problem"

    cardinality: int = setting(50, "Cardinality", "K: tokens are the integers 0..K-1.", 2, MAX_CARDINALITY)
    n_in: int = setting(5, "Input length", "n_in, the length of each input sequence.", 1, MAX_LENGTH)
    n_out: int = setting(2, "Echo length", "n_out: how many leading inputs the target repeats (1 to n_in).")
    pad_target: bool = setting(True, "Pad target", "On (the tutorial): the target is padded with zeros to n_in steps. "
                                                   "Off: the decoder emits only n_out steps.")
    task: str = setting(DEFAULT_TASK, "Task", "What the models learn: echo the first n_out inputs (the tutorial), "
                                              "reverse them, sort them, or write a date as YYYY-MM-DD.")

    def __post_init__(self) -> None:
        task = task_named(self.task)
        for name, value in task.fixed(self).items():
            object.__setattr__(self, name, value)
        check_settings(self)
        check_int_range("n_out", self.n_out, 1, self.n_in)
        if not isinstance(self.pad_target, (bool, np.bool_)):
            raise ValueError(f"pad_target must be true or false; got {self.pad_target!r}.")
        task.check(self)

    @property
    def task_spec(self) -> Task:
        """The :class:`~seqattn.problem.task.Task` this config is for."""
        return task_named(self.task)

    @property
    def target_len(self) -> int:
        """Number of decoder steps (Echo: ``n_in`` when padded, else ``n_out``)."""
        return self.task_spec.target_len(self)

    @property
    def input_size(self) -> int:
        """Input vocabulary size: the one-hot width of an input step (K for the integer tasks)."""
        return self.task_spec.input_size(self)

    @property
    def output_size(self) -> int:
        """Output vocabulary size: the width of each output distribution (K for the integer tasks)."""
        return self.task_spec.output_size(self)

    @property
    def pad_token(self) -> int | None:
        """The input token that only pads (zero attention), or None."""
        return self.task_spec.pad_token
