"""Answering one typed input with both models: what the Explore page shows.

``explain`` is the whole per-keystroke path (parse, one compiled forward pass
per model, attention), so it is what ``bench/predict_latency.py`` times. It keeps
the tokens as ints for computing, and carries what to *show* beside them: the
tokens as the run's task writes them (characters for a date, ``str(int)`` for the
integer tasks), the alignment the task expects for this input, and which input
positions are padding.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from seqattn.problem.batches import targets_for
from seqattn.problem.config import ProblemConfig

if TYPE_CHECKING:  # pandas only for the tables: a cold Explore draws its heatmap before importing it (0.3 s)
    import pandas as pd


@dataclass(frozen=True)
class ModelAnswer:
    """One model's answer to one input.

    Attributes:
        tokens: predicted token per output step (target_len ints).
        confidence: probability of each predicted token.
        correct: per step, whether the token equals the expected one.
        shown: the tokens as the task writes them (``"2"``, ``"-"``; ``"12"`` for Echo).
    """

    tokens: list[int]
    confidence: list[float]
    correct: list[bool]
    shown: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        """True if every step is right (the tutorial's exact match)."""
        return all(self.correct)


@dataclass(frozen=True)
class Explanation:
    """Both models' answers to one input.

    Attributes:
        inputs: the n_in input tokens; expected: the target_len expected tokens (ints).
        answers: ModelAnswer by model name.
        attending: the model whose attention ``attention`` is (None without one).
        attention: the attention model's (target_len, n_in) matrix, or None.
        n_out: how many leading steps echo an input (later steps are padding).
        probabilities: each model's output distributions, float (target_len, output_size), by name.
        text: the input as text that parses back to ``inputs`` (:func:`typed_text`).
        shown_inputs, shown_expected: the input and expected tokens as the task writes them.
        expected_alignment: float (target_len, n_in), where a perfect model would look for
            this input (the task's; rows of steps that read nothing are zero), or None.
        padded: per input position, True where it is the task's pad token (no attention).
        output_names: every output token as the task writes it (index = token).
        separator: what joins shown output tokens into one answer (the task's ``separator``).
    """

    inputs: list[int]
    expected: list[int]
    answers: dict[str, ModelAnswer]
    attention: np.ndarray | None
    n_out: int
    attending: str | None = None
    probabilities: dict[str, np.ndarray] = field(default_factory=dict)
    text: str = ""
    shown_inputs: list[str] = field(default_factory=list)
    shown_expected: list[str] = field(default_factory=list)
    expected_alignment: np.ndarray | None = None
    padded: list[bool] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)
    separator: str = " "

    def joined(self, shown: Sequence[str]) -> str:
        """Shown output tokens as one answer: ``"2018-05-09"`` for a date, ``"3 1 0 0 0"`` for Echo."""
        return self.separator.join(shown)

    @property
    def expected_text(self) -> str:
        """The expected output as one answer (:meth:`joined`)."""
        return self.joined(self.shown_expected)

    @property
    def real_positions(self) -> list[int]:
        """The input positions (0-based) that are not padding."""
        return [j for j in range(len(self.inputs)) if not (self.padded and self.padded[j])]


def output_names(problem: ProblemConfig) -> list[str]:
    """Every output token of ``problem``'s task as it is written (index = token)."""
    task = problem.task_spec
    return [task.show_output(problem, t) for t in range(problem.output_size)]


def typed_text(problem: ProblemConfig, inputs: Sequence[int]) -> str:
    """``inputs`` as text the task parses back to them: its ``typed`` form, commas without the space
    after them when that still reads back (``3,1,4,1,5``, as the address has always held it;
    ``wednesday, may 9, 2018`` keeps its spaces: a date needs them)."""
    task = problem.task_spec
    text = task.typed(problem, inputs)
    tight = text.replace(", ", ",")
    if tight != text:
        try:
            if task.parse(tight, problem) == list(inputs):
                return tight
        except ValueError:
            pass
    return text


def explain(text: str | Sequence[int], problem: ProblemConfig, predictors: Mapping[str, Any]) -> Explanation:
    """Parse ``text`` by the problem's task (or take a list of ints) and run every predictor on it.

    Args:
        text: what was typed, checked by the task's ``parse`` (integers for Echo,
            Reverse and Sort; a date for Dates), or the n_in input tokens as ints.
        problem: the run's problem.
        predictors: :class:`seqattn.model.prediction.SequencePredictor` by model name.

    Returns:
        An :class:`Explanation`: the answers, the attention, and what to show.

    Raises:
        ValueError: the input is not valid for ``problem`` (a message naming what is
            wrong and what is accepted).
    """
    task = problem.task_spec
    values = task.parse(text, problem) if isinstance(text, str) else [int(v) for v in text]
    batch = np.asarray([values], dtype=np.int32)
    expected = targets_for(batch, problem)[0].tolist()
    answers: dict[str, ModelAnswer] = {}
    probabilities: dict[str, np.ndarray] = {}
    attention = None
    attending = None
    for name, predictor in predictors.items():
        prediction = predictor(batch)
        tokens = prediction.tokens[0].tolist()
        probabilities[name] = prediction.probabilities[0]
        answers[name] = ModelAnswer(
            tokens=tokens,
            confidence=[float(c) for c in prediction.confidence[0]],
            correct=[a == b for a, b in zip(tokens, expected)],
            shown=[task.show_output(problem, t) for t in tokens],
        )
        if prediction.attention is not None:
            attention, attending = prediction.attention[0], name
    pad = problem.pad_token
    names = output_names(problem)
    return Explanation(
        inputs=list(values), expected=expected, answers=answers, attention=attention, n_out=problem.n_out,
        attending=attending, probabilities=probabilities, text=typed_text(problem, values),
        shown_inputs=[task.show_input(problem, t) for t in values],
        shown_expected=[task.show_output(problem, t) for t in expected],
        expected_alignment=task.expected_alignment(problem, batch)[0],
        padded=[pad is not None and v == pad for v in values], output_names=names,
        separator=problem.task_spec.separator,
    )


def _shown(explanation: Explanation, tokens: Sequence[int], shown: Sequence[str]) -> list[str]:
    """Shown tokens, or the ints as text for an explanation made without them."""
    return list(shown) if len(shown) == len(tokens) else [str(t) for t in tokens]


def answers_table(explanation: Explanation, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Side-by-side table: rows Input, Expected and one per model; columns ``step 1..``.

    Cells hold the tokens as the task writes them (a date's characters); model
    cells read ``token (confidence %)``. Input has n_in cells; the other rows have
    target_len cells (empty where a row is shorter).
    """
    import pandas as pd

    labels = labels or {}
    width = max(len(explanation.inputs), len(explanation.expected))
    columns = [f"step {i + 1}" for i in range(width)]

    def row(values: list[str]) -> list[str]:
        return values + [""] * (width - len(values))

    rows = {"Input": row(_shown(explanation, explanation.inputs, explanation.shown_inputs)),
            "Expected": row(_shown(explanation, explanation.expected, explanation.shown_expected))}
    for name, answer in explanation.answers.items():
        shown = _shown(explanation, answer.tokens, answer.shown)
        rows[labels.get(name, name)] = row([f"{t} ({c:.0%})" for t, c in zip(shown, answer.confidence)])
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def wrong_cells(explanation: Explanation, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Boolean frame shaped like :func:`answers_table`: True where a model is wrong."""
    import pandas as pd

    table = answers_table(explanation, labels)
    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    labels = labels or {}
    for name, answer in explanation.answers.items():
        for step, right in enumerate(answer.correct):
            mask.iloc[mask.index.get_loc(labels.get(name, name)), step] = not right
    return mask


def attention_frame(explanation: Explanation) -> pd.DataFrame:
    """The attention matrix as a labelled frame: index ``output t``, columns ``input j (token)``.

    Tokens as the task writes them (``input 1 (w)``, ``input 25 (·)`` for a date's padding).
    """
    import pandas as pd

    if explanation.attention is None:
        return pd.DataFrame()
    steps, n_in = explanation.attention.shape
    inputs = _shown(explanation, explanation.inputs, explanation.shown_inputs)
    return pd.DataFrame(
        explanation.attention,
        index=[f"output {t + 1}" for t in range(steps)],
        columns=[f"input {j + 1} ({inputs[j]})" for j in range(n_in)],
    )


def export_bundle(explanation: Explanation, run_config: Mapping[str, Any]) -> bytes:
    """A zip with ``attention.csv`` (the matrix) and ``config.json`` (run config and input).

    ``config.json`` holds the tokens as ints (``sequence``, ``expected``, ``predictions``)
    and as read (``text``: the input typed; ``expected_text`` and ``answers``: the outputs
    written as the task writes them, e.g. ``"2018-05-09"``).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("attention.csv", attention_frame(explanation).to_csv(float_format="%.6f"))
        payload = {
            **dict(run_config),
            "sequence": explanation.inputs,
            "expected": explanation.expected,
            "predictions": {k: v.tokens for k, v in explanation.answers.items()},
            "text": explanation.text,
            "expected_text": explanation.joined(_shown(explanation, explanation.expected, explanation.shown_expected)),
            "answers": {k: explanation.joined(_shown(explanation, v.tokens, v.shown))
                        for k, v in explanation.answers.items()},
        }
        archive.writestr("config.json", json.dumps(payload, indent=2, ensure_ascii=False))
    return buffer.getvalue()
