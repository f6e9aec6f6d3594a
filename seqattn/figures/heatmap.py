"""The attention heatmap figure: one attention matrix, or one evaluation record of a training.

:func:`attention_heatmap` draws which input position each output step looked
at; :func:`probe_heatmap` does so for a record of ``evals.jsonl``, and
:func:`heatmap_height` is the height both use. They are assembled from pieces
that related figures reuse (:mod:`~seqattn.figures.difference`, :mod:`~seqattn.figures.steps`):

* :mod:`~seqattn.figures.labels`: the inputs checked, tick labels, hover text;
* :mod:`~seqattn.figures.panels`: the heatmap trace, its axes, one panel of a
  side-by-side figure, the invisible click layer;
* :mod:`~seqattn.figures.overlays`: the padding hatch and cell and row outlines;
* :mod:`~seqattn.figures.panel_axes`: the axis names of panel k.

Tokens may be ints or the strings a task shows (``"w"``, ``"␣"`` and ``"·"`` for a
date's characters, its space and its padding); they are drawn as given.
Steps and positions are 0-based in every argument and in ``customdata``; the
labels and hover text a reader sees count from 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from seqattn.figures.labels import (
    Token,
    check_alignment,
    check_attention,
    check_padding,
    check_step,
    heatmap_hover_text,
    input_axis_title,
    input_labels,
    step_labels,
    step_notes,
    wrong_steps,
)
from seqattn.figures.overlays import expected_outlines, input_padding_shapes, padding_shapes, row_outline
from seqattn.figures.panels import cell_click_layer, heatmap_axes, heatmap_trace
from seqattn.figures.style import note, style_layout

MAX_HEATMAP_HEIGHT = 900
# About the width a heatmap's cells get on the page (a column of the wide layout, less its labels
# and colour bar): cells are square, so a wide matrix (a date's 29 characters) needs less height.
PLOT_WIDTH = 720
CELL_SIZE = 60


def heatmap_height(steps: int, title: str | None = None, n_in: int | None = None) -> int:
    """Figure height in pixels: 60 per output step (less per step when ``n_in`` columns would make
    square cells narrower than that in :data:`PLOT_WIDTH`), within 320..:data:`MAX_HEATMAP_HEIGHT`,
    plus room for a title."""
    cell = CELL_SIZE if not n_in else min(CELL_SIZE, PLOT_WIDTH / n_in)
    return min(MAX_HEATMAP_HEIGHT, max(320, round(140 + cell * steps))) + (30 if title else 0)



def attention_heatmap(
    attention: np.ndarray,
    input_tokens: Sequence[Token],
    output_tokens: Sequence[Token],
    n_out: int,
    expected_tokens: Sequence[Token] | None = None,
    show_expected: bool = False,
    title: str | None = None,
    *,
    highlight_step: int | None = None,
    clickable: bool = False,
    expected_alignment: np.ndarray | None = None,
    pad_positions: Sequence[bool] | None = None,
) -> go.Figure:
    """Heatmap of one attention matrix: which input each output step looked at.

    Axes are numeric (input position 1..n_in, output step 1..steps) with tick
    labels naming the tokens, so labels stay unique when a token repeats and
    overlays line up with cells exactly.

    Args:
        attention: (steps, n_in) probabilities; row t is output step t+1 and sums to 1.
        input_tokens: the n_in input tokens, ints or shown strings; x tick labels read
            ``"position: token"`` (many one-character tokens, such as a date's: the
            token alone, :func:`~seqattn.figures.labels.compact_labels`).
        output_tokens: the steps predicted tokens; y tick labels read ``"step → token"``.
        n_out: echoed prefix length; rows at steps >= n_out (0-based) are padding
            (target 0): they get ``" (pad)"`` in their label and a hatched
            overlay (a layout shape named ``"padding (target 0)"``).
        expected_tokens: optional steps target tokens; rows whose prediction differs
            get a red ``✗`` after their label.
        show_expected: overlay the expected alignment as outlined cells, a trace
            named ``"expected"``: the cells where ``expected_alignment`` is above 0,
            or without it the echo task's (output step t reads input position t, t < n_out).
        title: optional figure title.
        highlight_step: frame output step ``highlight_step`` (0-based) with a
            white-on-black rectangle: layout shapes named ``"step <t + 1>"``
            and ``"step <t + 1> (inner)"`` (:func:`~seqattn.figures.overlays.row_outline`).
        clickable: add an invisible scatter named ``"cells"`` with one point per
            cell and ``customdata = [output step, input position]`` (0-based),
            so a click on a cell in ``st.plotly_chart(fig, on_select="rerun",
            selection_mode="points")`` comes back as that point (read it with
            :func:`ui.heatmap_clicks.clicked_cell`). The scatter then carries the hover text and
            the heatmap none, so each cell's label shows once.
        expected_alignment: the task's expected alignment for this input, (steps, n_in).
        pad_positions: one bool per input position, True where the input is padding:
            those columns are dimmed (grey layout shapes named ``"padding (input)"``,
            one per run of padded positions, and grey tick labels) and their hover says so.

    Returns:
        A figure whose first trace is the heatmap (z has the shape of
        ``attention``, zmin 0, zmax 1, Cividis), then the ``"expected"`` trace
        when asked, then the ``"cells"`` layer when clickable. Cell values are
        written in when the matrix is at most 15 x 15 (a 10 x 29 date is not). Each cell's hover names
        the output step and its prediction, the input position and its token,
        and the weight to 4 decimals (``p = 0.8731``).

    Raises:
        ValueError: if ``attention`` is not 2-D with shape
            ``(len(output_tokens), len(input_tokens))``, if ``expected_tokens``
            has a different length from ``output_tokens``, if ``n_out`` < 0, if
            ``highlight_step`` is not an output step, or if ``expected_alignment``
            or ``pad_positions`` do not fit the matrix.
    """
    att, inputs, outputs, expected = check_attention(attention, input_tokens, output_tokens, n_out, expected_tokens)
    steps, n_in = att.shape
    alignment = check_alignment(expected_alignment, steps, n_in)
    padded = check_padding(pad_positions, n_in)
    # Everything is assembled as plain dicts and validated once by go.Figure:
    # this builder runs on every keystroke of the Explore page.
    layout = style_layout(x_title=input_axis_title(inputs), y_title="output step → predicted token",
                           height=heatmap_height(steps, title, n_in), title=title)
    if steps == 0 or n_in == 0:
        return note(go.Figure(layout=layout), "No attention to show")

    check_step(highlight_step, steps, "highlight_step")
    pad_from = min(n_out, steps)
    wrong = wrong_steps(outputs, expected)
    hover = heatmap_hover_text(att, inputs, outputs, step_notes(pad_from, wrong, expected), padded=padded)
    data: list[dict[str, Any]] = [heatmap_trace(att, hover, hoverable=not clickable)]
    xaxis, yaxis = heatmap_axes(input_labels(inputs, padded=padded), step_labels(outputs, pad_from, wrong))
    layout["xaxis"].update(xaxis)
    layout["yaxis"].update(yaxis)
    layout["shapes"] = padding_shapes(pad_from, steps, n_in) + input_padding_shapes(padded, steps)
    if highlight_step is not None:
        layout["shapes"] += row_outline(highlight_step, n_in)
    if show_expected:
        data.append(expected_outlines(n_out, n_in, steps, alignment))
    if clickable:
        click_hover = [[f"{text}<br><i>click to inspect step {i + 1}</i>" for text in row] for i, row in enumerate(hover)]
        data.append(cell_click_layer(click_hover))
        # The nearest cell centre is the cell under the pointer: hover (and clicks) work anywhere in a cell.
        layout.update(hovermode="closest", hoverdistance=-1)
    return go.Figure(data=data, layout=layout)


def _shown_probe(
    problem: Mapping[str, Any], inputs: Sequence[int], outputs: Sequence[int]
) -> tuple[list[str], list[str], list[bool] | None] | None:
    """The probe's tokens as the run's task shows them, and its padded positions; None if the problem
    does not load (a damaged or future run: the caller then draws the ints)."""
    try:
        # Imported here: the figures load without the problem package unless a probe is drawn.
        from seqattn.problem.config import ProblemConfig

        config = ProblemConfig.from_dict(dict(problem))
        task = config.task_spec
        shown_in = [task.show_input(config, t) for t in inputs]
        shown_out = [task.show_output(config, t) for t in outputs]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    pad = config.pad_token
    return shown_in, shown_out, None if pad is None else [int(t) == pad for t in inputs]


def probe_heatmap(record: Mapping[str, Any], problem: Mapping[str, Any], title: str | None = None) -> go.Figure:
    """The attention heatmap of one evaluation record of a training (``evals.jsonl``).

    Args:
        record: an evaluation with ``attention`` (target_len x n_in) and, when
            recorded, ``probe`` (the input ints) and ``probe_tokens`` (the predicted ints);
            older records without them get positions and zeros as labels.
        problem: the run's problem as a dict (``n_in``, ``n_out``, ``task``): the probe's
            tokens are drawn as its task shows them (a date's characters, its padding
            dimmed), or as ints when the dict does not make a problem.
        title: the figure's title.
    """
    attention = record["attention"]
    inputs: Sequence[Token] = record.get("probe") or list(range(problem["n_in"]))
    outputs: Sequence[Token] = record.get("probe_tokens") or [0] * len(attention)
    padded = None
    if record.get("probe") and record.get("probe_tokens"):
        shown = _shown_probe(problem, record["probe"], record["probe_tokens"])
        if shown is not None:
            inputs, outputs, padded = shown
    return attention_heatmap(attention, inputs, outputs, problem["n_out"], title=title, pad_positions=padded)
