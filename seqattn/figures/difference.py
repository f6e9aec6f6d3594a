"""Two attention matrices compared: side by side, and as a difference map.

* :func:`attention_difference`: the attention of two input sequences (e.g. the
  typed one and a copy with one token changed) and how it moved, on a diverging
  scale centred at 0, the largest moves outlined (:func:`largest_moves`);
* :func:`forced_attention_comparison`: the attention as the model looked and
  with one step forced onto one position, with the predictions that changed.

Both are built from the heatmap's pieces (:mod:`~seqattn.figures.labels`,
:mod:`~seqattn.figures.panels`, :mod:`~seqattn.figures.overlays`), one panel
each: side by side, or one above the other when the inputs are wide (a date's 29
characters), so cells stay large enough to read. Tokens may be ints or a task's
shown strings. Steps and positions are 0-based in arguments and results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from seqattn.figures.heatmap import heatmap_height
from seqattn.figures.labels import (
    COMPACT_FROM,
    Token,
    check_attention,
    check_padding,
    check_step,
    compact_labels,
    heatmap_hover_text,
    input_axis_title,
    input_labels,
    same_token,
    step_labels,
    step_notes,
)
from seqattn.figures.overlays import haloed_outlines, row_outline
from seqattn.figures.panel_axes import axis_refs, layout_axis_keys
from seqattn.figures.panels import heatmap_panel
from seqattn.figures.style import (
    BASE_FONT_SIZE,
    DIFFERENCE_COLORSCALE,
    note,
    side_by_side_layout,
    style_layout,
)

# The difference scale spans at least ±DIFFERENCE_EPSILON, so an all-zero difference still draws (all white).
DIFFERENCE_EPSILON = 1e-6
LARGEST_MOVES_NAME = "largest moves"
FORCED_CELL_NAME = "forced cell"
# Stacked panels span the page: about this many pixels for a panel's cells, and this many
# per panel for its title, tick labels and axis title.
STACKED_WIDTH = 840
STACKED_EXTRA = 120


def _check_pair(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(first, dtype=float)
    b = np.asarray(second, dtype=float)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"the two attention matrices must be 2-D with the same shape; got {a.shape} and {b.shape}")
    return a, b


def largest_moves(first: np.ndarray, second: np.ndarray, top: int = 3) -> list[tuple[int, int, float]]:
    """The ``top`` cells whose attention moved most from ``first`` to ``second``.

    Args:
        first, second: (steps, n_in) attention matrices of the same shape.
        top: how many cells at most.

    Returns:
        ``(step, position, change)`` with 0-based step and position and
        ``change = second - first`` at that cell, sorted by ``|change|``
        descending (ties: earlier step, then earlier position). Cells that did
        not move (change 0) are left out, so fewer than ``top`` can come back.

    Raises:
        ValueError: the matrices are not 2-D or differ in shape.
    """
    a, b = _check_pair(first, second)
    if top <= 0:
        return []
    diff = b - a
    flat = np.abs(diff).ravel()
    order = np.argsort(-flat, kind="stable")[:top]
    n_in = diff.shape[1]
    return [(int(i // n_in), int(i % n_in), float(diff.flat[i])) for i in order if flat[i] > 0]


def difference_hover_text(
    first: np.ndarray,
    second: np.ndarray,
    first_inputs: Sequence[Token],
    second_inputs: Sequence[Token],
    first_tokens: Sequence[Token],
    second_tokens: Sequence[Token],
) -> list[list[str]]:
    """Hover text per cell of a difference map: both inputs and predictions, both weights and the change (4 decimals)."""

    def pair(a: Token, b: Token) -> str:
        return f"{a}" if same_token(a, b) else f"{a} → {b}"

    return [
        [
            f"output step {i + 1} (predicts {pair(first_tokens[i], second_tokens[i])})"
            f"<br>input position {j + 1} (token {pair(first_inputs[j], second_inputs[j])})"
            f"<br>first p = {first[i, j]:.4f}<br>second p = {second[i, j]:.4f}"
            f"<br>change = {second[i, j] - first[i, j]:+.4f}"
            for j in range(len(first_inputs))
        ]
        for i in range(len(first_tokens))
    ]


def _colorbar_beside(layout: dict[str, Any], panel: int, title: str) -> dict[str, Any]:
    """Colour bar settings placing it just right of panel ``panel``'s domain, as tall as 80 % of it."""
    x_key, y_key = layout_axis_keys(panel)
    right = layout[x_key]["domain"][1]
    bottom, top = layout[y_key]["domain"]
    return dict(
        x=right + 0.005,
        xanchor="left",
        y=(bottom + top) / 2,
        yanchor="middle",
        len=0.8 * (top - bottom),
        thickness=14,
        title=dict(text=title, side="top", font=dict(size=BASE_FONT_SIZE - 2)),
    )


def _panel_layout(titles: Sequence[str], steps: int, n_in: int, title: str | None, x_title: str) -> dict[str, Any]:
    """Panels in the house style, side by side (y title on the first only) or, for wide inputs
    (:data:`~seqattn.figures.labels.COMPACT_FROM` positions or more), stacked (a y title on each);
    axis titles on every panel."""
    stacked = n_in >= COMPACT_FROM
    if stacked:
        cell = min(60.0, STACKED_WIDTH / n_in)
        height = len(titles) * round(cell * steps + STACKED_EXTRA) + (60 if title else 0)
        layout = side_by_side_layout(titles, horizontal_spacing=min(0.2, STACKED_EXTRA * 0.8 / height), stacked=True)
    else:
        height = heatmap_height(steps, title) + 40
        layout = side_by_side_layout(titles, horizontal_spacing=0.1)
    style = style_layout(title=title, height=height)
    layout.update({key: value for key, value in style.items() if key not in ("xaxis", "yaxis")})
    axis_title = dict(font=dict(size=BASE_FONT_SIZE))
    for panel in range(1, len(titles) + 1):
        x_key, y_key = layout_axis_keys(panel)
        layout[x_key]["title"] = dict(text=x_title, **axis_title)
        if stacked or panel == 1:
            layout[y_key]["title"] = dict(text="output step → predicted token", **axis_title)
    # The legend goes above the (first) panel titles instead of over them.
    layout["legend"]["y"] = 1 + 45 / height if stacked else 1.14
    layout["margin"]["t"] += 80 if title else 40  # room for the title above the legend
    # Subplot titles are annotations; keep them at the house font size.
    for annotation in layout.get("annotations", []):
        annotation["font"] = dict(size=BASE_FONT_SIZE)
    return layout


def attention_difference(
    first: np.ndarray,
    second: np.ndarray,
    first_inputs: Sequence[Token],
    second_inputs: Sequence[Token],
    first_tokens: Sequence[Token],
    second_tokens: Sequence[Token],
    n_out: int,
    *,
    top: int = 3,
    title: str | None = None,
    first_padded: Sequence[bool] | None = None,
    second_padded: Sequence[bool] | None = None,
) -> go.Figure:
    """How attention moved between two input sequences: both heatmaps and their difference, side by side.

    Args:
        first, second: (steps, n_in) attention matrices of the two inputs.
        first_inputs, second_inputs: the n_in tokens of each input; x tick
            labels read ``"position: token"``, and positions where the inputs
            differ are bold vermillion with a ``" ≠"`` (the difference panel
            writes ``"position: a→b"`` there; for one-character tokens, the
            second's token alone, see :func:`~seqattn.figures.labels.compact_labels`).
        first_tokens, second_tokens: the steps predicted tokens for each input;
            the second panel's step labels read ``"t → b (was a)"`` where the
            prediction changed.
        n_out: echoed prefix length; later steps are hatched as padding.
        top: how many of the largest moves to outline on the difference panel.
        title: the figure title.
        first_padded, second_padded: one bool per input position, True where that
            input is padding: dimmed in its panel (``"padding (input)"`` shapes), and in
            the difference panel where both are.

    Returns:
        Three heatmap traces, in panels 1-3 (axes x/y, x2/y2, x3/y3): ``first``
        and ``second`` on the attention scale 0..1 (one shared colour bar), and
        ``second - first`` named ``"difference"`` on a diverging scale with
        ``zmid=0`` and ``zmin = -zmax`` = ``-max|difference|`` (at least
        :data:`DIFFERENCE_EPSILON`). Its hover gives both weights and the
        change to 4 decimals. Then, when anything moved, two line traces in
        panel 3 outlining the :func:`largest_moves` cells: ``"largest moves"``
        (black halo, in the legend; ``meta`` holds the moves as ``[step,
        position, change]`` lists) and ``"largest moves (inner)"`` (white).

    Raises:
        ValueError: shapes disagree with each other or with the tokens or padding, or ``n_out`` < 0.
    """
    a, b = _check_pair(first, second)
    a, in1, out1, _ = check_attention(a, first_inputs, first_tokens, n_out)
    b, in2, out2, _ = check_attention(b, second_inputs, second_tokens, n_out)
    steps, n_in = a.shape
    pad1 = check_padding(first_padded, n_in, "first_padded")
    pad2 = check_padding(second_padded, n_in, "second_padded")
    pad_both = None if pad1 is None or pad2 is None else [x and y for x, y in zip(pad1, pad2)]
    layout = _panel_layout(["First input", "Second input", "Change (second − first)"], steps, n_in, title,
                           input_axis_title(in1))
    if steps == 0 or n_in == 0:
        return note(go.Figure(layout=layout), "No attention to show")

    pad_from = min(n_out, steps)
    no_wrong = [False] * steps
    notes = step_notes(pad_from, no_wrong, None)
    changed_in = [not same_token(x, y) for x, y in zip(in1, in2)]
    diff = b - a
    span = max(float(np.abs(diff).max()), DIFFERENCE_EPSILON)
    attention_bar = _colorbar_beside(layout, 2, "attention")
    difference_bar = _colorbar_beside(layout, 3, "change")

    data = heatmap_panel(
        layout, 1, a, heatmap_hover_text(a, in1, out1, notes, padded=pad1), input_labels(in1, changed_in, pad1),
        step_labels(out1, pad_from, no_wrong), pad_from, padded=pad1, name="first", showscale=False,
    )
    data += heatmap_panel(
        layout, 2, b, heatmap_hover_text(b, in2, out2, notes, padded=pad2), input_labels(in2, changed_in, pad2),
        step_labels(out2, pad_from, no_wrong, was=out1), pad_from, padded=pad2, name="second",
        colorbar=attention_bar,
    )
    # "a→b" where the inputs differ; one-character tokens (a date's) are labelled by the second's alone,
    # so the axis stays one character per column (both are in the hover text and the panels above).
    both_tokens: list[Token] = in2 if compact_labels(in1) and compact_labels(in2) else [
        f"{x}→{y}" if changed else x for x, y, changed in zip(in1, in2, changed_in)]
    data += heatmap_panel(
        layout, 3, diff, difference_hover_text(a, b, in1, in2, out1, out2),
        input_labels(both_tokens, changed_in, pad_both), [str(t) for t in range(1, steps + 1)], pad_from,
        padded=pad_both, name="difference", colorscale=DIFFERENCE_COLORSCALE, zmin=-span, zmax=span, zmid=0.0,
        colorbar_title="change", colorbar=difference_bar, cell_format="+.2f",
    )
    moves = largest_moves(a, b, top)
    if moves:
        x_ref, y_ref = axis_refs(3)
        outlines = haloed_outlines([(j + 1, i + 1) for i, j, _ in moves], LARGEST_MOVES_NAME, xaxis=x_ref, yaxis=y_ref)
        outlines[0]["meta"] = [[i, j, change] for i, j, change in moves]
        data += outlines
    return go.Figure(data=data, layout=layout)


def forced_attention_comparison(
    original: np.ndarray,
    forced: np.ndarray,
    inputs: Sequence[Token],
    original_tokens: Sequence[Token],
    forced_tokens: Sequence[Token],
    n_out: int,
    step: int,
    position: int,
    *,
    title: str | None = None,
    pad_positions: Sequence[bool] | None = None,
) -> go.Figure:
    """The attention as the model looked, beside the attention with step ``step`` forced onto ``position``.

    Args:
        original: (steps, n_in) attention as the model computed it.
        forced: (steps, n_in) attention of the rerun with output step ``step``
            forced to look at input ``position`` (later steps may look elsewhere too).
        inputs: the n_in input tokens.
        original_tokens, forced_tokens: the predictions without and with forcing.
        n_out: echoed prefix length; later steps are hatched as padding.
        step, position: the forced output step and input position, 0-based.
        title: the figure title.
        pad_positions: one bool per input position, True where the input is padding
            (dimmed in both panels).

    Returns:
        Two heatmap traces on the 0..1 attention scale (one colour bar), named
        ``"original"`` (panel 1, ``"As the model looked"``) and ``"forced"``
        (panel 2, ``"Forced: step t looks at position j"``, 1-based). Panel 2's
        step labels read ``"t → 7 (was 3)"`` (bold vermillion) where the
        prediction changed; the forced step is framed in both panels (layout
        shapes named ``"forced step <t>"``, see
        :func:`~seqattn.figures.overlays.row_outline`) and the forced cell
        outlined in panel 2 (traces ``"forced cell"`` and ``"forced cell (inner)"``).

    Raises:
        ValueError: shapes disagree with each other or with the tokens,
            ``n_out`` < 0, or ``step``/``position`` out of range.
    """
    a, b = _check_pair(original, forced)
    a, ins, out1, _ = check_attention(a, inputs, original_tokens, n_out)
    b, _, out2, _ = check_attention(b, inputs, forced_tokens, n_out)
    steps, n_in = a.shape
    check_step(step, steps)
    check_step(position, n_in, "position")
    padded = check_padding(pad_positions, n_in)
    panel_titles = ["As the model looked", f"Forced: step {step + 1} looks at position {position + 1}"]
    layout = _panel_layout(panel_titles, steps, n_in, title, input_axis_title(ins))
    pad_from = min(n_out, steps)
    no_wrong = [False] * steps
    notes = step_notes(pad_from, no_wrong, None)
    changed = [not same_token(x, y) for x, y in zip(out1, out2)]
    forced_notes = [
        lines + (f"<br>prediction changed: was {out1[i]}" if changed[i] else "") + ("<br>forced step" if i == step else "")
        for i, lines in enumerate(notes)
    ]
    x_labels = input_labels(ins, padded=padded)
    data = heatmap_panel(
        layout, 1, a, heatmap_hover_text(a, ins, out1, notes, padded=padded), x_labels,
        step_labels(out1, pad_from, no_wrong), pad_from, padded=padded, name="original", showscale=False,
    )
    data += heatmap_panel(
        layout, 2, b, heatmap_hover_text(b, ins, out2, forced_notes, padded=padded), x_labels,
        step_labels(out2, pad_from, no_wrong, was=out1), pad_from, padded=padded, name="forced",
        colorbar=_colorbar_beside(layout, 2, "attention"),
    )
    for panel in (1, 2):
        x_ref, y_ref = axis_refs(panel)
        layout["shapes"] += row_outline(step, n_in, name=f"forced step {step + 1}", xref=x_ref, yref=y_ref)
    x_ref, y_ref = axis_refs(2)
    data += haloed_outlines([(position + 1, step + 1)], FORCED_CELL_NAME, xaxis=x_ref, yaxis=y_ref)
    return go.Figure(data=data, layout=layout)
