"""What an attention heatmap says in words: its inputs checked, its tick labels, its hover text.

Works on any (output steps x input positions) grid of values with the same
tokens, so the difference map (:mod:`~seqattn.figures.difference`) and the
step bars (:mod:`~seqattn.figures.steps`) use it too:

* :func:`check_attention` validates a matrix against its tokens, :func:`check_step`
  an output step, and :func:`wrong_steps` says which predictions are wrong;
* :func:`input_labels`, :func:`step_labels` write the tick labels, and
  :func:`step_notes` what hover says about each step (padding, wrong);
* :func:`heatmap_hover_text` is the per-cell hover text.

Steps and positions are 0-based in every argument; the labels and hover text a
reader sees count from 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqattn.figures.style import WRONG_COLOR


def check_attention(
    attention: np.ndarray,
    input_tokens: Sequence[int],
    output_tokens: Sequence[int],
    n_out: int,
    expected_tokens: Sequence[int] | None = None,
) -> tuple[np.ndarray, list[int], list[int], list[int] | None]:
    """Validate an attention matrix against its tokens.

    Returns:
        ``(attention as a float array, input ints, output ints, expected ints or None)``.

    Raises:
        ValueError: if ``attention`` is not 2-D with shape
            ``(len(output_tokens), len(input_tokens))``, if ``expected_tokens``
            has a different length from ``output_tokens``, or if ``n_out`` < 0.
    """
    att = np.asarray(attention, dtype=float)
    inputs = [int(t) for t in input_tokens]
    outputs = [int(t) for t in output_tokens]
    steps, n_in = len(outputs), len(inputs)
    if att.ndim != 2:
        raise ValueError(f"attention must be a 2-D (output steps, input positions) array; got shape {att.shape}")
    if att.shape != (steps, n_in):
        raise ValueError(
            f"attention has shape {att.shape}, but {steps} output tokens and {n_in} input tokens "
            f"need shape ({steps}, {n_in})"
        )
    expected = None if expected_tokens is None else [int(t) for t in expected_tokens]
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


def wrong_steps(outputs: Sequence[int], expected: Sequence[int] | None) -> list[bool]:
    """Per output step, whether its prediction differs from the expected token (all False without one)."""
    return [expected is not None and outputs[i] != expected[i] for i in range(len(outputs))]


# --------------------------------------------------------------------------- labels and hover


def _emphasis(label: str) -> str:
    """A tick label in bold vermillion (bold so it stands out without colour too)."""
    return f'<span style="color:{WRONG_COLOR}"><b>{label}</b></span>'


def input_labels(inputs: Sequence[int], changed: Sequence[bool] | None = None) -> list[str]:
    """x tick labels ``"position: token"`` (1-based), unique even when a token repeats.

    Positions flagged in ``changed`` (e.g. where two compared inputs differ) are
    written in bold vermillion with a trailing ``" ≠"``.
    """
    labels = [f"{j}: {tok}" for j, tok in enumerate(inputs, start=1)]
    if changed is not None:
        labels = [_emphasis(f"{label} ≠") if changed[j] else label for j, label in enumerate(labels)]
    return labels


def step_labels(
    outputs: Sequence[int], pad_from: int, wrong: Sequence[bool], was: Sequence[int] | None = None
) -> list[str]:
    """y tick labels ``"step → token"``: ``" (pad)"`` from step ``pad_from`` (0-based) on, a red ✗ where ``wrong``.

    With ``was`` (the tokens of another prediction, e.g. before attention was
    forced), steps whose token differs read ``"step → token (was old)"`` in bold
    vermillion.
    """
    labels = []
    for i, tok in enumerate(outputs):
        label = f"{i + 1} → {tok}"
        if was is not None and int(was[i]) != int(tok):
            label = _emphasis(f"{label} (was {was[i]})")
        if i >= pad_from:
            label += " (pad)"
        if wrong[i]:
            label += f' <span style="color:{WRONG_COLOR}">✗</span>'
        labels.append(label)
    return labels


def step_notes(pad_from: int, wrong: Sequence[bool], expected: Sequence[int] | None) -> list[str]:
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
    inputs: Sequence[int],
    outputs: Sequence[int],
    notes: Sequence[str],
    value_name: str = "p",
    value_format: str = ".4f",
) -> list[list[str]]:
    """Hover text per cell: the output step and its prediction, the input position and its token, the value.

    Prebuilt rather than a hovertemplate so each row can carry its own ``notes``
    (from :func:`step_notes`). A difference map would pass e.g.
    ``value_name="Δp", value_format="+.4f"``.
    """
    return [
        [
            f"output step {i + 1} (predicts {out_tok})<br>input position {j + 1} (token {in_tok})"
            f"<br>{value_name} = {values[i, j]:{value_format}}{notes[i]}"
            for j, in_tok in enumerate(inputs)
        ]
        for i, out_tok in enumerate(outputs)
    ]

