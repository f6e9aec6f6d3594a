"""What a task is: the seam every problem the models learn goes through.

A task turns a :class:`~seqattn.problem.config.ProblemConfig` into data and words:
which of the config's settings it reads (and which it fixes itself), a seeded
generator of (input, target) token sequences, the input and output vocabularies
(their sizes may differ), how a token is shown, how typed text becomes tokens
(with a message fit for a form when it cannot), the alignment a reader would
expect, and the exact match of guessing.

A new task is one module with a :class:`Task` subclass and one line in
:mod:`seqattn.problem.registry`; nothing else names tasks. :class:`IntegerTask`
does the work the integer tasks (echo, reverse, sort) share: inputs are ``n_in``
integers drawn uniformly from ``[0, K)``, typed as ``12, 20, 36``. This module
imports NumPy and :mod:`seqattn.problem.parsing` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from seqattn.problem.parsing import parse_integers

if TYPE_CHECKING:
    from seqattn.problem.config import ProblemConfig


class Task:
    """One problem the models learn. Subclasses override what differs; every method takes the config.

    Attributes:
        name: identifier in files, URLs and the CLI (``reverse``).
        label: what a reader sees in the form and labels (``Reverse``).
        summary: one sentence saying what the target is.
        settings: the :class:`ProblemConfig` fields a user sets for this task (the form shows these);
            the others are fixed by :meth:`fixed`.
        input_label: the Explore page's input box label.
        pad_token: the input token that only pads (attention gives it exactly zero weight), or None.
        defaults: the settings (problem, model and recipe fields by name) that make a good live demo.
    """

    name = "task"
    label = "Task"
    summary = ""
    settings: tuple[str, ...] = ()
    input_label = "Input sequence"
    pad_token: int | None = None
    defaults: Mapping[str, Any] = {}

    # ----------------------------------------------------------------- settings and sizes

    def fixed(self, config: ProblemConfig) -> dict[str, Any]:
        """The config fields this task sets whatever was given (e.g. ``n_out = n_in``); empty by default."""
        return {}

    def check(self, config: ProblemConfig) -> None:
        """Raise ``ValueError`` (a message a user can act on) if the settings do not make this task."""

    def input_size(self, config: ProblemConfig) -> int:
        """Size of the input vocabulary (the one-hot width of an input step)."""
        return config.cardinality

    def output_size(self, config: ProblemConfig) -> int:
        """Size of the output vocabulary (the width of each output distribution)."""
        return config.cardinality

    def target_len(self, config: ProblemConfig) -> int:
        """Number of output steps."""
        return config.n_in

    @property
    def has_length(self) -> bool:
        """True if the input length is a setting (a sweep can vary it)."""
        return "n_in" in self.settings

    # ----------------------------------------------------------------- data

    def draw(self, config: ProblemConfig, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` fresh pairs from ``rng``: (inputs int32 (n, n_in), targets int32 (n, target_len))."""
        raise NotImplementedError

    def targets(self, config: ProblemConfig, inputs: np.ndarray) -> np.ndarray:
        """The targets of int inputs (n, n_in) -> int32 (n, target_len)."""
        raise NotImplementedError

    def expected_alignment(self, config: ProblemConfig, inputs: np.ndarray) -> np.ndarray:
        """Where each output step of a perfect alignment looks: float32 (n, target_len, n_in).

        Each row sums to 1 (shared among positions that hold the answer equally), or is all
        zero for a step that reads no input (padding, a separator): such steps are left out
        of the alignment score.
        """
        raise NotImplementedError

    def chance(self, config: ProblemConfig) -> float:
        """Exact match of guessing each output token the task does not fix uniformly at random."""
        raise NotImplementedError

    # ----------------------------------------------------------------- words

    def show_input(self, config: ProblemConfig, token: int) -> str:
        """How an input token reads on an axis or in a table."""
        return str(int(token))

    def show_output(self, config: ProblemConfig, token: int) -> str:
        """How an output token reads on an axis or in a table."""
        return str(int(token))

    # Between shown tokens of a sequence: a space for numbers, nothing for characters.
    separator = " "

    def shown(self, config: ProblemConfig, tokens: Sequence[int], output: bool = True) -> str:
        """A sequence as a reader sees it: ``12 20 0`` for integers, ``2018-05-09`` for a date's characters."""
        show = self.show_output if output else self.show_input
        return self.separator.join(show(config, int(t)) for t in tokens)

    def parse(self, text: str, config: ProblemConfig) -> list[int]:
        """What a user typed as ``n_in`` input tokens.

        Raises:
            ValueError: naming what is wrong and what is accepted (no traceback text).
        """
        raise NotImplementedError

    def typed(self, config: ProblemConfig, tokens: Sequence[int]) -> str:
        """The text that :meth:`parse` reads back as ``tokens`` (for the input box and the address)."""
        return ", ".join(str(int(t)) for t in tokens)

    def example(self, config: ProblemConfig) -> list[int]:
        """A readable example input."""
        raise NotImplementedError

    def accepted(self, config: ProblemConfig) -> str:
        """One sentence saying what :meth:`parse` accepts."""
        raise NotImplementedError

    def describe(self, config: ProblemConfig) -> str:
        """The task and its settings in a few words, for run labels (``reverse K=10 n_in=8``)."""
        return f"{self.name} K={config.cardinality} n_in={config.n_in}"


class IntegerTask(Task):
    """A task on ``n_in`` integers drawn uniformly from ``[0, K)``; the target is a function of them.

    Subclasses define :meth:`targets` and :meth:`expected_alignment` (and, where the target
    has padding, :meth:`target_len` and :meth:`chance`).
    """

    settings = ("cardinality", "n_in")

    def draw(self, config: ProblemConfig, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        inputs = rng.integers(0, config.cardinality, size=(n, config.n_in), dtype=np.int32)
        return inputs, self.targets(config, inputs)

    def chance(self, config: ProblemConfig) -> float:
        return float((1.0 / config.cardinality) ** self.target_len(config))

    def parse(self, text: str, config: ProblemConfig) -> list[int]:
        return parse_integers(text, config.n_in, config.cardinality, self.accepted(config))

    def example(self, config: ProblemConfig) -> list[int]:
        pattern = (12, 20, 36, 40, 12, 7, 3, 25)
        return [pattern[i % len(pattern)] % config.cardinality for i in range(config.n_in)]

    def accepted(self, config: ProblemConfig) -> str:
        example = self.example(config)
        shown = ", ".join(map(str, example[:8])) + (", …" if len(example) > 8 else "")
        return (f"Type {config.n_in} whole numbers from 0 to {config.cardinality - 1}, "
                f"separated by spaces or commas, e.g. {shown}.")


class PermutationTask(IntegerTask):
    """An integer task whose target rearranges the input: one output per input (``n_out = n_in``, no padding).

    Its demo defaults (Reverse's and Sort's, measured by ``bench/tasks.py``): K 10, 8 integers,
    64 units, 1,000 batched updates of 32.
    """

    defaults = {"cardinality": 10, "n_in": 8, "units": 64, "protocol": "batched", "updates": 1000, "batch_size": 32,
                "learning_rate": 5e-3}

    def fixed(self, config: ProblemConfig) -> dict[str, Any]:
        return {"n_out": config.n_in, "pad_target": True}


def one_position_alignment(positions: np.ndarray, n_in: int) -> np.ndarray:
    """Alignment rows that each put all weight on one input position.

    Args:
        positions: int (n, steps), the position each step reads; -1 for a step that reads none.
        n_in: input length.

    Returns:
        float32 (n, steps, n_in): one-hot rows, all-zero where the position is -1.
    """
    positions = np.asarray(positions)
    rows = np.zeros(positions.shape + (n_in,), dtype=np.float32)
    n, steps = positions.shape
    batch, step = np.nonzero(positions >= 0)
    rows[batch, step, positions[batch, step]] = 1.0
    return rows
