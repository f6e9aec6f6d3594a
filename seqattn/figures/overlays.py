"""What is drawn over the cells of an attention heatmap: the padding hatch and outlines of cells and rows.

* :func:`padding_shapes` hatches the padding steps (layout shapes), and
  :func:`input_padding_shapes` dims the padded input positions (a task whose
  inputs are padded, e.g. a date's characters, gives those no attention);
* :func:`cell_outlines` outlines chosen cells (a line trace),
  :func:`haloed_outlines` the same as a white line on a black halo, readable on
  any cell colour, and :func:`expected_outlines` a task's expected alignment
  (the echo task's diagonal when no alignment is given);
* :func:`row_outline` frames one output step (layout shapes).

Cells are centred on whole numbers: x = input position + 1, y = output step + 1.
Each builder takes the axes of the panel it draws on
(:func:`~seqattn.figures.panel_axes.axis_refs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from seqattn.figures.panel_axes import place_on_axes
from seqattn.figures.style import EXPECTED_COLOR, HALO_COLOR, HIGHLIGHT_COLOR


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


def padding_shapes(
    pad_from: int, steps: int, n_in: int, *, xref: str = "x", yref: str = "y", showlegend: bool = True
) -> list[dict[str, Any]]:
    """Shapes hatching the padding rows (steps ``pad_from``..``steps``, 0-based) across all ``n_in`` columns.

    A dashed rectangle named ``"padding (target 0)"`` whose legend entry explains
    the hatching, and the hatch itself; none when no step is padding. Panels
    after the first of a figure pass ``showlegend=False`` (one legend entry).
    """
    if pad_from >= steps:
        return []
    y0, y1 = pad_from + 0.5, steps + 0.5
    return [
        dict(
            type="rect",
            name="padding (target 0)",
            xref=xref,
            yref=yref,
            x0=0.5,
            x1=n_in + 0.5,
            y0=y0,
            y1=y1,
            fillcolor="rgba(255,255,255,0.30)",
            line=dict(color="#444444", width=2, dash="dash"),
            layer="above",
            showlegend=showlegend,
        ),
        dict(
            type="path",
            name="padding hatch",
            xref=xref,
            yref=yref,
            path=_hatch_path(0.5, n_in + 0.5, y0, y1, spacing=0.5),
            line=dict(color="rgba(255,255,255,0.45)", width=1.5),
            layer="above",
        ),
    ]


INPUT_PADDING_NAME = "padding (input)"


def padded_runs(padded: Sequence[bool]) -> list[tuple[int, int]]:
    """The runs of consecutive padded positions as ``(first, last)`` 0-based pairs, in order."""
    runs: list[tuple[int, int]] = []
    for j, flag in enumerate(padded):
        if not flag:
            continue
        if runs and runs[-1][1] == j - 1:
            runs[-1] = (runs[-1][0], j)
        else:
            runs.append((j, j))
    return runs


def input_padding_shapes(
    padded: Sequence[bool] | None, steps: int, *, xref: str = "x", yref: str = "y", showlegend: bool = True
) -> list[dict[str, Any]]:
    """Semi-transparent grey rectangles over the padded input positions, across all ``steps`` rows.

    One rectangle per run of consecutive padded positions (:func:`padded_runs`), each
    named :data:`INPUT_PADDING_NAME` (``"padding (input)"``); only the first carries the
    legend entry (and none when ``showlegend`` is False). Drawn above the cells: the
    attention there is exactly 0, and the grey says it is padding, not a weight.
    """
    if not padded or steps == 0:
        return []
    return [
        dict(
            type="rect",
            name=INPUT_PADDING_NAME,
            xref=xref,
            yref=yref,
            x0=first + 0.5,
            x1=last + 1.5,
            y0=0.5,
            y1=steps + 0.5,
            fillcolor="rgba(235,235,235,0.78)",
            line=dict(width=0),
            layer="above",
            showlegend=showlegend and k == 0,
        )
        for k, (first, last) in enumerate(padded_runs(padded))
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


def cell_outlines(
    positions: Sequence[tuple[int, int]],
    name: str,
    color: str,
    *,
    xaxis: str = "x",
    yaxis: str = "y",
    showlegend: bool = True,
) -> dict[str, Any]:
    """A line trace (plain dict) outlining the cells centred on ``positions`` ((input position, step), 1-based)."""
    xs, ys = _square_outlines(positions)
    trace = dict(
        type="scatter",
        x=xs,
        y=ys,
        mode="lines",
        name=name,
        line=dict(color=color, width=4),
        hoverinfo="skip",
        showlegend=showlegend,
    )
    place_on_axes(trace, xaxis, yaxis)
    return trace


def haloed_outlines(
    positions: Sequence[tuple[int, int]], name: str, *, xaxis: str = "x", yaxis: str = "y", showlegend: bool = True
) -> list[dict[str, Any]]:
    """:func:`cell_outlines` drawn as a white line on a black halo, readable on any cell colour: two traces.

    The first (the black halo, wider) is named ``name`` and carries the legend
    entry; the second, ``"<name> (inner)"``, is the white line on top. Both share
    the legend group ``name``, so they toggle together.
    """
    halo = cell_outlines(positions, name, HALO_COLOR, xaxis=xaxis, yaxis=yaxis, showlegend=showlegend)
    inner = cell_outlines(positions, f"{name} (inner)", HIGHLIGHT_COLOR, xaxis=xaxis, yaxis=yaxis, showlegend=False)
    halo["line"]["width"] = 7
    inner["line"]["width"] = 3
    halo["legendgroup"] = inner["legendgroup"] = name
    return [halo, inner]


def row_outline(
    step: int, n_in: int, *, name: str | None = None, xref: str = "x", yref: str = "y"
) -> list[dict[str, Any]]:
    """Two rectangle shapes framing output step ``step`` (0-based) across all ``n_in`` columns.

    The first, named ``"step <step + 1>"`` (or ``name``), is a wide black halo;
    the second, ``"<name> (inner)"``, a white line on it, so the frame reads on
    any cell colour. Both unfilled, above the cells.
    """
    name = name or f"step {step + 1}"
    frame = dict(
        type="rect",
        xref=xref,
        yref=yref,
        x0=0.5,
        x1=n_in + 0.5,
        y0=step + 0.5,
        y1=step + 1.5,
        fillcolor="rgba(0,0,0,0)",
        layer="above",
    )
    return [
        dict(frame, name=name, line=dict(color=HALO_COLOR, width=6)),
        dict(frame, name=f"{name} (inner)", line=dict(color=HIGHLIGHT_COLOR, width=2.5)),
    ]


def expected_outlines(n_out: int, n_in: int, steps: int, alignment: np.ndarray | None = None) -> dict[str, Any]:
    """The expected alignment as outlined cells: a trace named ``"expected"``.

    With ``alignment`` ((steps, n_in), a task's expected alignment for this input) every
    cell where it is above 0 is outlined: where the weight is shared (a field of a date,
    a value that repeats in a sort) all those cells. Without it, the echo task's: step t
    reads input position t (t < n_out), as older callers expect.
    """
    if alignment is None:
        cells = [(t + 1, t + 1) for t in range(min(n_out, n_in, steps))]
    else:
        rows, columns = np.nonzero(np.asarray(alignment) > 0)
        cells = [(int(j) + 1, int(i) + 1) for i, j in zip(rows, columns)]
    return cell_outlines(cells, "expected", EXPECTED_COLOR)

