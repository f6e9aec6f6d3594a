"""Forced attention: what the attention model says if one step looked elsewhere.

Pick an output step and an input position; that step's attention is set to
``weight`` on the position (one-hot at ``weight=1``), the rest renormalised, and
the decoder runs again (the predictor's ``force``,
:class:`seqattn.model.prediction.SequencePredictor`). The new prediction and the
new later attention rows sit beside the original ones.

A task whose inputs are padded (a date's characters, padded at the end) gives
padding no attention; given which positions are padding (``padded``), forcing onto
one is refused with a message, and the rest of a row is never spread onto them.

Core code only (no Streamlit): the dashboard and the tests call it alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqattn.model.prediction import Prediction, SequencePredictor

# Below this total the other positions count as carrying no attention at all.
_NO_MASS = 1e-9


def nothing_to_move(n_in: int) -> str | None:
    """Why forcing attention can change nothing for inputs of ``n_in`` positions, or None when it can.

    With one input position every attention row is ``[1.0]``: there is nowhere else to look and
    no weight but 1 to give, so a page shows this sentence instead of the what-if's controls.

    Args:
        n_in: the input length of the run's problem.

    Returns:
        One line saying so and what to do, or None for two or more positions.
    """
    if n_in >= 2:
        return None
    return ("With a single input position all the attention is already on it, so there is nowhere else to look; "
            "train a run with an input length of 2 or more to force attention elsewhere.")


def padded_position(position: int, padded: Sequence[bool] | None) -> str | None:
    """Why ``position`` (0-based) cannot be forced because it is padding, or None when it can be."""
    if padded is None or not 0 <= position < len(padded) or not padded[position]:
        return None
    return (f"input position {position + 1} is padding: the model never attends to padding, so forcing it there "
            f"says nothing; pick a position that holds part of the input.")


def forced_row(row: np.ndarray, position: int, weight: float = 1.0, padded: Sequence[bool] | None = None) -> np.ndarray:
    """An attention row with ``weight`` on ``position`` and the rest renormalised.

    The remaining ``1 - weight`` is spread over the other positions in
    proportion to their weights in ``row``; if those are all about 0 it is
    spread evenly (over the positions that are not padding).

    Args:
        row: float (n_in,) attention weights of one output step (non-negative).
        position: the input position to force, 0 .. n_in - 1.
        weight: the mass put on ``position``, from 0 to 1 (1: one-hot).
        padded: optional, one bool per input position, True where the input is padding.

    Returns:
        float32 (n_in,), non-negative, summing to 1, ``weight`` at ``position``, 0 on padding.

    Raises:
        ValueError: a row that is not one non-negative finite weight per input,
            a position out of range or padded, a weight outside 0..1, or ``padded``
            of another length.
    """
    row = np.asarray(row, dtype=np.float64)
    if row.ndim != 1 or row.size == 0:
        raise ValueError(f"the attention row must be one weight per input position; got shape {row.shape}.")
    if not np.all(np.isfinite(row)) or row.min() < 0:
        raise ValueError("the attention row must hold finite, non-negative weights.")
    n_in = row.size
    if isinstance(position, (bool, np.bool_)) or not isinstance(position, (int, np.integer)) \
            or not 0 <= position < n_in:
        raise ValueError(f"position must be an input position from 0 to {n_in - 1}; got {position!r}.")
    if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, (int, float, np.integer, np.floating)) \
            or not math.isfinite(weight) or not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be a number from 0 to 1 (1 puts all the attention on the position); "
                         f"got {weight!r}.")
    real = np.ones(n_in, dtype=bool)
    if padded is not None:
        if len(padded) != n_in:
            raise ValueError(f"padded must have one flag per input position ({n_in}); got {len(padded)}.")
        real = ~np.asarray(padded, dtype=bool)
        refused = padded_position(int(position), padded)
        if refused:
            raise ValueError(refused)
    rest = 1.0 - float(weight)
    others = np.where(real, row, 0.0)
    others[position] = 0.0
    elsewhere = int(real.sum()) - 1  # the positions that may take the rest
    if elsewhere == 0:
        if rest > _NO_MASS:
            raise ValueError("with a single input position all the attention is on it; weight must be 1.")
        out = np.zeros(n_in)
        out[position] = 1.0
        return out.astype(np.float32)
    total = others.sum()
    if total > _NO_MASS:
        out = others / total * rest
    else:
        out = np.where(real, rest / elsewhere, 0.0)
    out[position] = float(weight)
    return out.astype(np.float32)


@dataclass(frozen=True)
class WhatIf:
    """One forced-attention experiment on one input sequence.

    Attributes:
        step: the output step whose attention was forced.
        position: the input position it was forced onto.
        weight: the mass put there (1.0: one-hot).
        original: the model's own :class:`~seqattn.model.prediction.Prediction` (batch of 1:
            tokens (1, steps), attention (1, steps, n_in)).
        forced: the prediction with the forced row, same shapes; its
            ``attention[0, step]`` is the forced row.
        changed_steps: output steps whose token differs between the two.
    """

    step: int
    position: int
    weight: float
    original: Prediction
    forced: Prediction
    changed_steps: list[int]


def force_attention(predictor: SequencePredictor, inputs: np.ndarray, step: int, position: int, weight: float = 1.0,
                    *, padded: Sequence[bool] | None = None) -> WhatIf:
    """Force output ``step`` to attend ``position`` (with ``weight``) and rerun the decoder.

    Args:
        predictor: a :class:`~seqattn.model.prediction.SequencePredictor` of an attention model.
        inputs: int (n_in,) or (1, n_in), one input sequence.
        step: output step, 0 .. steps - 1.
        position: input position, 0 .. n_in - 1.
        weight: mass on ``position`` from 0 to 1; the rest of the step's own
            attention is renormalised over the other positions (:func:`forced_row`).
        padded: optional, one bool per input position, True where the input is padding
            (the caller knows its task's pad token; the model module does not).

    Returns:
        A :class:`WhatIf` holding both predictions and the steps whose token changed.

    Raises:
        ValueError: a model without attention, more than one sequence, or a
            step, position or weight out of range, or a padded position (the message says which).
    """
    if not getattr(predictor, "with_attention", False):
        raise ValueError("only a model with attention can have its attention forced; "
                         "this one has no attention decoder.")
    inputs = np.asarray(inputs)
    if inputs.ndim == 2 and inputs.shape[0] != 1:
        raise ValueError(f"force attention on one input sequence at a time; got {inputs.shape[0]}.")
    steps = predictor.steps
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)) or not 0 <= step < steps:
        raise ValueError(f"step must be an output step from 0 to {steps - 1}; got {step!r}.")
    refused = padded_position(position, padded) if isinstance(position, (int, np.integer)) else None
    if refused:  # before running the model: the message is all there is to say
        raise ValueError(refused)
    original = predictor(inputs)
    row = forced_row(original.attention[0, step], position, weight, padded)
    forced = predictor.force(inputs, int(step), row)
    changed = np.flatnonzero(original.tokens[0] != forced.tokens[0])
    return WhatIf(step=int(step), position=int(position), weight=float(weight), original=original,
                  forced=forced, changed_steps=[int(t) for t in changed])
