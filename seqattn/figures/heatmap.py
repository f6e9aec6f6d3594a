"""The attention heatmap, built from pieces a related figure can reuse.

:func:`attention_heatmap` draws one attention matrix: which input position each
output step looked at. Its pieces work on any (output steps x input positions)
grid of values with the same tokens, for instance a difference map of two
attention matrices on a diverging scale (:func:`heatmap_trace` with
``zmin=-1, zmax=1``) or a bar chart per output step (:func:`step_labels`,
:func:`step_notes`):

* :func:`check_attention` validates a matrix against its tokens;
* :func:`input_labels`, :func:`step_labels` write the tick labels, and
  :func:`step_notes` what hover says about each step (padding, wrong);
* :func:`heatmap_hover_text` is the per-cell hover text;
* :func:`heatmap_trace`, :func:`heatmap_axes`, :func:`heatmap_height` are the
  heatmap trace, its square-cell axes and the figure height;
* :func:`padding_shapes` hatches the padding steps, :func:`cell_outlines`
  outlines chosen cells (:func:`expected_outlines`: the ideal alignment).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from seqattn.figures.style import (
    BASE_FONT_SIZE,
    EXPECTED_COLOR,
    HEATMAP_COLORSCALE,
    WRONG_COLOR,
    _note,
    _sparse_ticks,
    _style_layout,
)

MAX_HEATMAP_HEIGHT = 900
# Beyond this many rows or columns the cell values are too small to read.
MAX_ANNOTATED_CELLS = 15


# --------------------------------------------------------------------------- validation


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


def wrong_steps(outputs: Sequence[int], expected: Sequence[int] | None) -> list[bool]:
    """Per output step, whether its prediction differs from the expected token (all False without one)."""
    return [expected is not None and outputs[i] != expected[i] for i in range(len(outputs))]


# --------------------------------------------------------------------------- labels and hover


def input_labels(inputs: Sequence[int]) -> list[str]:
    """x tick labels ``"position: token"`` (1-based), unique even when a token repeats."""
    return [f"{j}: {tok}" for j, tok in enumerate(inputs, start=1)]


def step_labels(outputs: Sequence[int], pad_from: int, wrong: Sequence[bool]) -> list[str]:
    """y tick labels ``"step → token"``: ``" (pad)"`` from step ``pad_from`` (0-based) on, a red ✗ where ``wrong``."""
    labels = []
    for i, tok in enumerate(outputs):
        label = f"{i + 1} → {tok}"
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


# --------------------------------------------------------------------------- trace, axes, size


def heatmap_height(steps: int, title: str | None = None) -> int:
    """Figure height: grows with the output steps up to :data:`MAX_HEATMAP_HEIGHT`, plus room for a title."""
    return min(MAX_HEATMAP_HEIGHT, max(320, 140 + 60 * steps)) + (30 if title else 0)


def heatmap_trace(
    z: np.ndarray,
    hover: list[list[str]],
    *,
    colorscale: Any = HEATMAP_COLORSCALE,
    zmin: float = 0.0,
    zmax: float = 1.0,
    colorbar_title: str = "attention",
    name: str = "attention",
    cell_format: str = ".2f",
) -> dict[str, Any]:
    """A heatmap trace as a plain dict, cells centred on 1..n_in (x) and 1..steps (y).

    Cell values are written in when the matrix is at most
    :data:`MAX_ANNOTATED_CELLS` on each side. For a diverging map centred at 0
    pass ``zmin=-1, zmax=1`` and a diverging ``colorscale``.
    """
    steps, n_in = z.shape
    annotate = steps <= MAX_ANNOTATED_CELLS and n_in <= MAX_ANNOTATED_CELLS
    return dict(
        type="heatmap",
        z=z,
        x=list(range(1, n_in + 1)),
        y=list(range(1, steps + 1)),
        zmin=zmin,
        zmax=zmax,
        colorscale=colorscale,
        colorbar=dict(
            title=dict(text=colorbar_title, side="right", font=dict(size=BASE_FONT_SIZE)),
            tickfont=dict(size=BASE_FONT_SIZE - 2),
            thickness=18,
            len=0.9,
        ),
        text=hover,
        hovertemplate="%{text}<extra></extra>",
        texttemplate=f"%{{z:{cell_format}}}" if annotate else None,
        textfont=dict(size=15 if max(steps, n_in) <= 8 else 12),
        name=name,
        # Thin gaps separate cells without hiding values; they help on projectors.
        xgap=1,
        ygap=1,
    )


def heatmap_axes(x_labels: Sequence[str], y_labels: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Settings for the x and y axes of a grid of unit cells: token tick labels, step 1 on top, square cells.

    Merge them into the axes of :func:`~seqattn.figures.style._style_layout`
    (``layout["xaxis"].update(x)``).
    """
    xs = list(range(1, len(x_labels) + 1))
    ys = list(range(1, len(y_labels) + 1))
    x_tickvals, x_ticktext = _sparse_ticks(xs, x_labels)
    y_tickvals, y_ticktext = _sparse_ticks(ys, y_labels)
    xaxis = dict(
        tickmode="array",
        tickvals=x_tickvals,
        ticktext=x_ticktext,
        range=[0.5, len(xs) + 0.5],
        showgrid=False,
        zeroline=False,
        constrain="domain",
    )
    yaxis = dict(
        tickmode="array",
        tickvals=y_tickvals,
        ticktext=y_ticktext,
        # Step 1 on top, reading down like the sequence is produced.
        autorange="reversed",
        showgrid=False,
        zeroline=False,
        # Square cells: one unit of x is drawn as long as one unit of y.
        scaleanchor="x",
        scaleratio=1,
        constrain="domain",
    )
    return xaxis, yaxis


# --------------------------------------------------------------------------- overlays


def _hatch_path(x0: float, x1: float, y0: float, y1: float, spacing: float) -> str:
    """SVG path of 45-degree lines (x + y = c) clipped to the rectangle, in data coordinates."""
    parts = []
    c = x0 + y0 + spacing
    while c < x1 + y1:
        # Where the line x + y = c enters and leaves the rectangle.
        ax, ay = max(x0, c - y1), min(y1, c - x0)
        bx, by = min(x1, c - y0), max(y0, c - x1)
        parts.append(f"M {ax:.3f} {ay:.3f} L {bx:.3f} {by:.3f}")
        c += spacing
    return " ".join(parts)


def padding_shapes(pad_from: int, steps: int, n_in: int) -> list[dict[str, Any]]:
    """Shapes hatching the padding rows (steps ``pad_from``..``steps``, 0-based) across all ``n_in`` columns.

    A dashed rectangle named ``"padding (target 0)"`` whose legend entry explains
    the hatching, and the hatch itself; none when no step is padding.
    """
    if pad_from >= steps:
        return []
    y0, y1 = pad_from + 0.5, steps + 0.5
    return [
        dict(
            type="rect",
            name="padding (target 0)",
            xref="x",
            yref="y",
            x0=0.5,
            x1=n_in + 0.5,
            y0=y0,
            y1=y1,
            fillcolor="rgba(255,255,255,0.30)",
            line=dict(color="#444444", width=2, dash="dash"),
            layer="above",
            showlegend=True,
        ),
        dict(
            type="path",
            name="padding hatch",
            xref="x",
            yref="y",
            path=_hatch_path(0.5, n_in + 0.5, y0, y1, spacing=0.5),
            line=dict(color="rgba(255,255,255,0.45)", width=1.5),
            layer="above",
        ),
    ]


def _square_outlines(positions: Sequence[tuple[int, int]], inset: float = 0.08) -> tuple[list, list]:
    """x and y lists drawing one closed square per (x, y) cell centre, separated by None."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    half = 0.5 - inset
    for cx, cy in positions:
        xs += [cx - half, cx + half, cx + half, cx - half, cx - half, None]
        ys += [cy - half, cy - half, cy + half, cy + half, cy - half, None]
    return xs, ys


def cell_outlines(positions: Sequence[tuple[int, int]], name: str, color: str) -> dict[str, Any]:
    """A line trace (plain dict) outlining the cells centred on ``positions`` ((input position, step), 1-based)."""
    xs, ys = _square_outlines(positions)
    return dict(
        type="scatter",
        x=xs,
        y=ys,
        mode="lines",
        name=name,
        line=dict(color=color, width=4),
        hoverinfo="skip",
        showlegend=True,
    )


def expected_outlines(n_out: int, n_in: int, steps: int) -> dict[str, Any]:
    """The echo task's ideal alignment, step t reads input position t (t <= n_out): a trace named ``"expected"``."""
    diagonal = [(t + 1, t + 1) for t in range(min(n_out, n_in, steps))]
    return cell_outlines(diagonal, "expected", EXPECTED_COLOR)


# --------------------------------------------------------------------------- the figure


def attention_heatmap(
    attention: np.ndarray,
    input_tokens: Sequence[int],
    output_tokens: Sequence[int],
    n_out: int,
    expected_tokens: Sequence[int] | None = None,
    show_expected: bool = False,
    title: str | None = None,
) -> go.Figure:
    """Heatmap of one attention matrix: which input each output step looked at.

    Axes are numeric (input position 1..n_in, output step 1..steps) with tick
    labels naming the tokens, so labels stay unique when a token repeats and
    overlays line up with cells exactly.

    Args:
        attention: (steps, n_in) probabilities; row t is output step t+1 and sums to 1.
        input_tokens: n_in input ints; x tick labels read ``"position: token"``.
        output_tokens: steps predicted ints; y tick labels read ``"step → token"``.
        n_out: echoed prefix length; rows at steps >= n_out (0-based) are padding
            (target 0): they get ``" (pad)"`` in their label and a hatched
            overlay (a layout shape named ``"padding (target 0)"``).
        expected_tokens: optional steps target ints; rows whose prediction differs
            get a red ``✗`` after their label.
        show_expected: overlay the ideal alignment (output step t reads input
            position t, t < n_out) as outlined cells, a trace named ``"expected"``.
        title: optional figure title.

    Returns:
        A figure whose first trace is the heatmap (z has the shape of
        ``attention``, zmin 0, zmax 1, Cividis), plus the ``"expected"`` trace
        when asked. Cell values are written in when the matrix is at most 15 x 15.

    Raises:
        ValueError: if ``attention`` is not 2-D with shape
            ``(len(output_tokens), len(input_tokens))``, if ``expected_tokens``
            has a different length from ``output_tokens``, or if ``n_out`` < 0.
    """
    att, inputs, outputs, expected = check_attention(attention, input_tokens, output_tokens, n_out, expected_tokens)
    steps, n_in = att.shape
    # Everything is assembled as plain dicts and validated once by go.Figure:
    # this builder runs on every keystroke of the Explore page.
    layout = _style_layout(x_title="input position: token", y_title="output step → predicted token",
                           height=heatmap_height(steps, title), title=title)
    if steps == 0 or n_in == 0:
        return _note(go.Figure(layout=layout), "No attention to show")

    pad_from = min(n_out, steps)
    wrong = wrong_steps(outputs, expected)
    hover = heatmap_hover_text(att, inputs, outputs, step_notes(pad_from, wrong, expected))
    data: list[dict[str, Any]] = [heatmap_trace(att, hover)]
    xaxis, yaxis = heatmap_axes(input_labels(inputs), step_labels(outputs, pad_from, wrong))
    layout["xaxis"].update(xaxis)
    layout["yaxis"].update(yaxis)
    layout["shapes"] = padding_shapes(pad_from, steps, n_in)
    if show_expected:
        data.append(expected_outlines(n_out, n_in, steps))
    return go.Figure(data=data, layout=layout)


def probe_heatmap(record: Mapping[str, Any], problem: Mapping[str, Any], title: str | None = None) -> go.Figure:
    """The attention heatmap of one evaluation record of a training (``evals.jsonl``).

    Args:
        record: an evaluation with ``attention`` (target_len x n_in) and, when
            recorded, ``probe`` (the input) and ``probe_tokens`` (the prediction);
            older records without them get positions and zeros as labels.
        problem: the run's problem as a dict (``n_in``, ``n_out``).
        title: the figure's title.
    """
    attention = record["attention"]
    inputs = record.get("probe") or list(range(problem["n_in"]))
    outputs = record.get("probe_tokens") or [0] * len(attention)
    return attention_heatmap(attention, inputs, outputs, problem["n_out"], title=title)
