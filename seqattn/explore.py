"""Answering one typed sequence with both models: what the Explore page shows.

``explain`` is the whole per-keystroke path (parse, one compiled forward pass
per model, attention), so it is what ``bench/predict_latency.py`` times.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Mapping

import numpy as np
import pandas as pd

from seqattn.problem.parsing import parse_sequence
from seqattn.problem.config import ProblemConfig
from seqattn.problem.batches import targets_for


@dataclass(frozen=True)
class ModelAnswer:
    """One model's answer to one input.

    Attributes:
        tokens: predicted token per output step (target_len ints).
        confidence: probability of each predicted token.
        correct: per step, whether the token equals the expected one.
    """

    tokens: list[int]
    confidence: list[float]
    correct: list[bool]

    @property
    def exact(self) -> bool:
        """True if every step is right (the tutorial's exact match)."""
        return all(self.correct)


@dataclass(frozen=True)
class Explanation:
    """Both models' answers to one input sequence.

    Attributes:
        inputs: the n_in input tokens; expected: the target_len expected tokens.
        answers: ModelAnswer by model name.
        attending: the model whose attention ``attention`` is (None without one).
        attention: the attention model's (target_len, n_in) matrix, or None.
        n_out: how many leading steps echo an input (later steps are padding).
        probabilities: each model's output distributions, float (target_len, K), by name.
    """

    inputs: list[int]
    expected: list[int]
    answers: dict[str, ModelAnswer]
    attention: np.ndarray | None
    n_out: int
    attending: str | None = None
    probabilities: dict[str, np.ndarray] = field(default_factory=dict)


def explain(text: str | list[int], problem: ProblemConfig, predictors: Mapping[str, Any]) -> Explanation:
    """Parse ``text`` (or take a list of ints) and run every predictor on it.

    Args:
        text: typed sequence, checked by :func:`seqattn.problem.parsing.parse_sequence`.
        problem: the run's problem.
        predictors: :class:`seqattn.model.prediction.SequencePredictor` by model name.

    Raises:
        ValueError: the sequence is not valid for ``problem`` (user-facing message).
    """
    values = parse_sequence(text, problem) if isinstance(text, str) else list(text)
    expected = targets_for(np.asarray([values]), problem)[0].tolist()
    answers: dict[str, ModelAnswer] = {}
    probabilities: dict[str, np.ndarray] = {}
    attention = None
    attending = None
    for name, predictor in predictors.items():
        prediction = predictor(np.asarray([values], dtype=np.int32))
        tokens = prediction.tokens[0].tolist()
        probabilities[name] = prediction.probabilities[0]
        answers[name] = ModelAnswer(
            tokens=tokens,
            confidence=[float(c) for c in prediction.confidence[0]],
            correct=[a == b for a, b in zip(tokens, expected)],
        )
        if prediction.attention is not None:
            attention, attending = prediction.attention[0], name
    return Explanation(inputs=list(values), expected=expected, answers=answers, attention=attention,
                       n_out=problem.n_out, attending=attending, probabilities=probabilities)


def answers_table(explanation: Explanation, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Side-by-side table: rows Input, Expected and one per model; columns ``step 1..``.

    Model cells read ``token (confidence %)``. Input has n_in cells; the other
    rows have target_len cells (empty where a row is shorter).
    """
    labels = labels or {}
    width = max(len(explanation.inputs), len(explanation.expected))
    columns = [f"step {i + 1}" for i in range(width)]

    def row(values: list[Any]) -> list[Any]:
        return [str(v) for v in values] + [""] * (width - len(values))

    rows = {"Input": row(explanation.inputs), "Expected": row(explanation.expected)}
    for name, answer in explanation.answers.items():
        rows[labels.get(name, name)] = row(
            [f"{t} ({c:.0%})" for t, c in zip(answer.tokens, answer.confidence)]
        )
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def wrong_cells(explanation: Explanation, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Boolean frame shaped like :func:`answers_table`: True where a model is wrong."""
    table = answers_table(explanation, labels)
    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    labels = labels or {}
    for name, answer in explanation.answers.items():
        for step, right in enumerate(answer.correct):
            mask.iloc[mask.index.get_loc(labels.get(name, name)), step] = not right
    return mask


def attention_frame(explanation: Explanation) -> pd.DataFrame:
    """The attention matrix as a labelled frame: index output steps, columns input positions."""
    if explanation.attention is None:
        return pd.DataFrame()
    steps, n_in = explanation.attention.shape
    return pd.DataFrame(
        explanation.attention,
        index=[f"output {t + 1}" for t in range(steps)],
        columns=[f"input {j + 1} ({explanation.inputs[j]})" for j in range(n_in)],
    )


def export_bundle(explanation: Explanation, run_config: Mapping[str, Any]) -> bytes:
    """A zip with ``attention.csv`` (the matrix) and ``config.json`` (run config and sequence)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("attention.csv", attention_frame(explanation).to_csv(float_format="%.6f"))
        payload = {
            **dict(run_config),
            "sequence": explanation.inputs,
            "expected": explanation.expected,
            "predictions": {k: v.tokens for k, v in explanation.answers.items()},
        }
        archive.writestr("config.json", json.dumps(payload, indent=2))
    return buffer.getvalue()
