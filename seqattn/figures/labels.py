"""What an attention heatmap says in words: its inputs checked, its tick labels, its hover text.

Works on any (output steps x input positions) grid of values with the same
tokens, so the difference map (:mod:`~seqattn.figures.difference`) and the
step bars (:mod:`~seqattn.figures.steps`) use it too:

* :func:`check_attention` validates a matrix against its tokens, :func:`check_step`
  an output step, and :func:`wrong_steps` says which predictions are wrong;
* :func:`input_labels`, :func:`step_labels` write the tick labels, and
  :func:`step_notes` what hover says about each step (padding, wrong);
* :func:`heatmap_hover_text` is the per-cell hover text.

Tokens are what a reader sees: ints (the integer tasks' tokens, as older callers pass
them) or strings (a task's shown tokens, e.g. ``"w"`` or ``"␣"`` for a character of
a date). Nothing here converts a string to an int, so any vocabulary can be drawn.

Steps and positions are 0-based in every argument; the labels and hover text a
reader sees count from 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from seqattn.figures.style import PAD_COLOR, WRONG_COLOR

Token = int | str
# Beyond this many input positions, character tokens are labelled by the character alone:
# "12: ␣" on 29 narrow columns would be turned on its side and crowd the axis.
COMPACT_FROM = 16


def tokens_of(values: Sequence[Any]) -> list[Token]:
    """Tokens as drawn: strings kept as given (a task's shown tokens), integers (also NumPy's, or whole floats
    from JSON) as ``int``, anything else as its ``str``."""
    tokens: list[Token] = []
    for value in values:
        if isinstance(value, str):
            tokens.append(value)
        elif isinstance(value, int | np.integer):
            tokens.append(int(value))
        elif isinstance(value, float | np.floating) and float(value).is_integer():
            tokens.append(int(value))
        else:
            tokens.append(str(value))
    return tokens


def same_token(a: Token, b: Token) -> bool:
    """Whether two tokens read the same (``5`` and ``"5"`` do): predictions and targets may come as either."""
    return str(a) == str(b)


def check_padding(padded: Sequence[bool] | None, n_in: int, name: str = "pad_positions") -> list[bool] | None:
    """``padded`` as a list of bools, one per input position, or None.

    Raises:
        ValueError: if it does not have ``n_in`` entries.
    """
    if padded is None:
        return None
    flags = [bool(p) for p in padded]
    if len(flags) != n_in:
        raise ValueError(f"{name} has {len(flags)} entries but there are {n_in} input positions")
    return flags


def check_alignment(alignment: np.ndarray | None, steps: int, n_in: int) -> np.ndarray | None:
    """An expected-alignment matrix as a float array of shape (steps, n_in), or None.

    Raises:
        ValueError: if it has another shape.
    """
    if alignment is None:
        return None
    matrix = np.asarray(alignment, dtype=float)
    if matrix.shape != (steps, n_in):
        raise ValueError(f"expected_alignment has shape {matrix.shape}; the attention's is ({steps}, {n_in})")
    return matrix


def check_attention(
    attention: np.ndarray,
    input_tokens: Sequence[Token],
    output_tokens: Sequence[Token],
    n_out: int,
    expected_tokens: Sequence[Token] | None = None,
) -> tuple[np.ndarray, list[Token], list[Token], list[Token] | None]:
    """Validate an attention matrix against its tokens (ints or shown strings, see :func:`tokens_of`).

    Returns:
        ``(attention as a float array, input tokens, output tokens, expected tokens or None)``.

    Raises:
        ValueError: if ``attention`` is not 2-D with shape
            ``(len(output_tokens), len(input_tokens))``, if ``expected_tokens``
            has a different length from ``output_tokens``, or if ``n_out`` < 0.
    """
    att = np.asarray(attention, dtype=float)
    inputs = tokens_of(input_tokens)
    outputs = tokens_of(output_tokens)
    steps, n_in = len(outputs), len(inputs)
    if att.ndim != 2:
        raise ValueError(f"attention must be a 2-D (output steps, input positions) array; got shape {att.shape}")
    if att.shape != (steps, n_in):
        raise ValueError(
            f"attention has shape {att.shape}, but {steps} output tokens and {n_in} input tokens "
            f"need shape ({steps}, {n_in})"
        )
    expected = None if expected_tokens is None else tokens_of(expected_tokens)
    if expected is not None and len(expected) != steps:
        raise ValueError(f"expected_tokens has {len(expected)} tokens but there are {steps} output tokens")
    if n_out < 0:
        raise ValueError(f"n_out must not be negative; got {n_out}")
    return att, inputs, outputs, expected


def check_step(step: int | None, steps: int, name: str = "step") -> None:
    """Raise ValueError unless ``step`` is None or an output step index ``0 <= step < steps``."""
    if step is None:
        return
    if isinstance(step, bool) or not isinstance(step, int | np.integer):
        raise ValueError(f"{name} must be an int output step (0-based); got {step!r}")
    if not 0 <= step < steps:
        raise ValueError(f"{name} must be in 0..{steps - 1} (0-based output step); got {step}")


def wrong_steps(outputs: Sequence[Token], expected: Sequence[Token] | None) -> list[bool]:
    """Per output step, whether its prediction differs from the expected token (all False without one)."""
    return [expected is not None and not same_token(outputs[i], expected[i]) for i in range(len(outputs))]


# --------------------------------------------------------------------------- labels and hover


def _emphasis(label: str) -> str:
    """A tick label in bold vermillion (bold so it stands out without colour too)."""
    return f'<span style="color:{WRONG_COLOR}"><b>{label}</b></span>'


def _dimmed(label: str) -> str:
    """A tick label in grey: a padded input position (it holds no token, and gets no attention)."""
    return f'<span style="color:{PAD_COLOR}">{label}</span>'


def compact_labels(inputs: Sequence[Token]) -> bool:
    """Whether the input axis names each position by its token alone: many positions (at least
    :data:`COMPACT_FROM`) that are all one-character strings (e.g. a date's characters). The
    position is then in the hover text and the axis title says so."""
    return len(inputs) >= COMPACT_FROM and all(isinstance(t, str) and len(t) == 1 for t in inputs)


def input_axis_title(inputs: Sequence[Token]) -> str:
    """The input axis's title: ``"input position: token"``, or ``"input (one column per position)"`` when
    :func:`compact_labels`."""
    return "input (one column per position)" if compact_labels(inputs) else "input position: token"


def input_labels(
    inputs: Sequence[Token], changed: Sequence[bool] | None = None, padded: Sequence[bool] | None = None
) -> list[str]:
    """x tick labels ``"position: token"`` (1-based), unique even when a token repeats.

    Many one-character tokens (:func:`compact_labels`) are labelled by the token alone.
    Positions flagged in ``changed`` (e.g. where two compared inputs differ) are
    written in bold vermillion with a trailing ``" ≠"`` (compact labels: bold
    vermillion only, so they stay one character wide); positions flagged in
    ``padded`` are written in grey.
    """
    compact = compact_labels(inputs)
    labels = [str(tok) if compact else f"{j}: {tok}" for j, tok in enumerate(inputs, start=1)]
    if padded is not None:
        labels = [_dimmed(label) if padded[j] else label for j, label in enumerate(labels)]
    if changed is not None:
        mark = "" if compact else " ≠"
        labels = [_emphasis(f"{label}{mark}") if changed[j] else label for j, label in enumerate(labels)]
    return labels


def step_labels(
    outputs: Sequence[Token], pad_from: int, wrong: Sequence[bool], was: Sequence[Token] | None = None
) -> list[str]:
    """y tick labels ``"step → token"``: ``" (pad)"`` from step ``pad_from`` (0-based) on, a red ✗ where ``wrong``.

    With ``was`` (the tokens of another prediction, e.g. before attention was
    forced), steps whose token differs read ``"step → token (was old)"`` in bold
    vermillion.
    """
    labels = []
    for i, tok in enumerate(outputs):
        label = f"{i + 1} → {tok}"
        if was is not None and not same_token(was[i], tok):
            label = _emphasis(f"{label} (was {was[i]})")
        if i >= pad_from:
            label += " (pad)"
        if wrong[i]:
            label += f' <span style="color:{WRONG_COLOR}">✗</span>'
        labels.append(label)
    return labels


def step_notes(pad_from: int, wrong: Sequence[bool], expected: Sequence[Token] | None) -> list[str]:
    """Per output step, hover lines: it is padding (from ``pad_from``, 0-based) or wrong, and what was expected."""
    notes = []
    for i, is_wrong in enumerate(wrong):
        note = ""
        if i >= pad_from:
            note += "<br>padding step (target 0)"
        if is_wrong:
            note += f"<br>wrong: expected {expected[i]}"  # type: ignore[index]
        notes.append(note)
    return notes


def heatmap_hover_text(
    values: np.ndarray,
    inputs: Sequence[Token],
    outputs: Sequence[Token],
    notes: Sequence[str],
    value_name: str = "p",
    value_format: str = ".4f",
    padded: Sequence[bool] | None = None,
) -> list[list[str]]:
    """Hover text per cell: the output step and its prediction, the input position and its token, the value.

    Prebuilt rather than a hovertemplate so each row can carry its own ``notes``
    (from :func:`step_notes`). A difference map would pass e.g.
    ``value_name="Δp", value_format="+.4f"``. Positions flagged in ``padded`` say
    ``"padding, no attention"`` after their token.
    """
    columns = [
        f"input position {j + 1} (token {tok}{', padding, no attention' if padded and padded[j] else ''})"
        for j, tok in enumerate(inputs)
    ]
    return [
        [
            f"output step {i + 1} (predicts {out_tok})<br>{column}"
            f"<br>{value_name} = {values[i, j]:{value_format}}{notes[i]}"
            for j, column in enumerate(columns)
        ]
        for i, out_tok in enumerate(outputs)
    ]

