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
  outlines chosen cells (:func:`expected_outlines`: the ideal alignment),
  :func:`row_outline` frames one output step;
* :func:`cell_click_layer` is an invisible scatter over the cells that makes
  them clickable in Streamlit (``st.plotly_chart(on_select="rerun",
  selection_mode="points")``; heatmaps themselves emit no selection events),
  and :func:`clicked_cell` reads the clicked cell back from the returned event;
* :func:`axis_refs` names the axes of panel k of a side-by-side figure
  (``make_subplots(rows=1, cols=n)``); every piece above takes those names, so
  several heatmaps can share one figure (:mod:`~seqattn.figures.difference`).

Steps and positions are 0-based in every argument and in ``customdata``; the
labels and hover text a reader sees count from 1.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from seqattn.figures.style import (
    BASE_FONT_SIZE,
    EXPECTED_COLOR,
    HALO_COLOR,
    HEATMAP_COLORSCALE,
    HIGHLIGHT_COLOR,
    WRONG_COLOR,
    _note,
    _sparse_ticks,
    _style_layout,
)

MAX_HEATMAP_HEIGHT = 900
# Beyond this many rows or columns the cell values are too small to read.
MAX_ANNOTATED_CELLS = 15


# --------------------------------------------------------------------------- validation



def _place(trace: dict[str, Any], xaxis: str, yaxis: str) -> None:
    """Put a trace on a subplot's axes; keys are only added off the first axes, so a plain figure stays as it was."""
    if xaxis != "x":
        trace["xaxis"] = xaxis
    if yaxis != "y":
        trace["yaxis"] = yaxis

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
    zmid: float | None = None,
    showscale: bool = True,
    colorbar: Mapping[str, Any] | None = None,
    hoverable: bool = True,
    xaxis: str = "x",
    yaxis: str = "y",
) -> dict[str, Any]:
    """A heatmap trace as a plain dict, cells centred on 1..n_in (x) and 1..steps (y).

    Cell values are written in when the matrix is at most
    :data:`MAX_ANNOTATED_CELLS` on each side. For a diverging map centred at 0
    pass ``zmid=0``, symmetric ``zmin``/``zmax`` and a diverging ``colorscale``.
    ``showscale=False`` hides the colour bar (panels sharing one scale),
    ``colorbar`` adds to or overrides its settings (``x``, ``len``, ...).
    ``hoverable=False`` leaves hover to another trace (:func:`cell_click_layer`):
    the heatmap then carries no hover text, so a label never shows twice.
    ``xaxis``/``yaxis`` place it in another panel (:func:`axis_refs`).
    """
    steps, n_in = z.shape
    annotate = steps <= MAX_ANNOTATED_CELLS and n_in <= MAX_ANNOTATED_CELLS
    trace = dict(
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
    # Keys are only added when they differ from the defaults, so a plain heatmap stays as it was.
    if colorbar:
        trace["colorbar"] = {**trace["colorbar"], **colorbar}
    if zmid is not None:
        trace["zmid"] = zmid
    if not showscale:
        trace["showscale"] = False
    if not hoverable:
        trace.update(text=None, hovertemplate=None, hoverinfo="skip")
    _place(trace, xaxis, yaxis)
    return trace


def heatmap_axes(
    x_labels: Sequence[str], y_labels: Sequence[str], *, scaleanchor: str = "x"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Settings for the x and y axes of a grid of unit cells: token tick labels, step 1 on top, square cells.

    Merge them into the axes of :func:`~seqattn.figures.style._style_layout`
    (``layout["xaxis"].update(x)``). In panel k of a side-by-side figure pass
    that panel's x axis as ``scaleanchor`` (``axis_refs(k)[0]``).
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
        scaleanchor=scaleanchor,
        scaleratio=1,
        constrain="domain",
    )
    return xaxis, yaxis


def axis_refs(panel: int) -> tuple[str, str]:
    """The x and y axis names of panel ``panel`` (1-based) of ``make_subplots(rows=1, cols=n)``: ``("x2", "y2")``.

    Trace dicts take them as ``xaxis``/``yaxis``, shapes as ``xref``/``yref``;
    the layout keys are :func:`layout_axis_keys`.
    """
    if panel < 1:
        raise ValueError(f"panel numbers start at 1; got {panel}")
    suffix = "" if panel == 1 else str(panel)
    return f"x{suffix}", f"y{suffix}"


def layout_axis_keys(panel: int) -> tuple[str, str]:
    """The layout keys of panel ``panel``'s axes: ``("xaxis", "yaxis")``, ``("xaxis2", "yaxis2")``, ..."""
    x, y = axis_refs(panel)
    return f"xaxis{x[1:]}", f"yaxis{y[1:]}"


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
    _place(trace, xaxis, yaxis)
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


# --------------------------------------------------------------------------- clicking cells

CLICK_LAYER_NAME = "cells"


def cell_click_layer(hover: Sequence[Sequence[str]], *, xaxis: str = "x", yaxis: str = "y") -> dict[str, Any]:
    """An invisible scatter trace with one point per cell, so cells can be clicked in Streamlit.

    Plotly heatmaps emit no selection events in ``st.plotly_chart(...,
    on_select="rerun", selection_mode="points")``; scatter points do. Each
    point sits on a cell centre (x = input position + 1, y = output step + 1),
    row by row, and carries ``customdata = [output step, input position]``
    (0-based), which :func:`clicked_cell` reads back. The markers are fully
    transparent (also when selected) but still take hover and clicks; the
    trace carries the cells' ``hover`` text (rows of strings, as from
    :func:`heatmap_hover_text`), so the heatmap under it should be drawn with
    ``hoverable=False``. Named :data:`CLICK_LAYER_NAME` (``"cells"``), no legend entry.
    """
    steps = len(hover)
    n_in = len(hover[0]) if steps else 0
    rows, cols = np.divmod(np.arange(steps * n_in), max(n_in, 1))
    trace = dict(
        type="scatter",
        mode="markers",
        name=CLICK_LAYER_NAME,
        x=(cols + 1).tolist(),
        y=(rows + 1).tolist(),
        customdata=np.column_stack([rows, cols]).tolist(),
        text=[text for row in hover for text in row],
        hovertemplate="%{text}<extra></extra>",
        # Big enough that a click anywhere near a cell's centre lands on its point.
        marker=dict(size=24, symbol="square", opacity=0, color="#000000"),
        selected=dict(marker=dict(opacity=0)),
        unselected=dict(marker=dict(opacity=0)),
        showlegend=False,
    )
    _place(trace, xaxis, yaxis)
    return trace


def _get(container: Any, key: str) -> Any:
    """``container[key]`` for dicts and Streamlit's attribute dictionaries, else ``container.key``; None if absent."""
    try:
        return container[key]
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    try:
        return getattr(container, key, None)
    except Exception:  # noqa: BLE001 - a selection is user data; reading it must never raise
        return None


def clicked_cell(selection: Any) -> tuple[int, int] | None:
    """The (output step, input position), 0-based, of the first clicked cell in a Streamlit chart event.

    Args:
        selection: what ``st.plotly_chart(fig, on_select="rerun",
            selection_mode="points", key=...)`` returns (or
            ``st.session_state[key]``): ``{"selection": {"points": [{"curve_number":
            1, "point_index": 7, "x": 3, "y": 2, "customdata": [1, 2]}, ...],
            "point_indices": [...], "box": [], "lasso": []}}``. The inner
            ``selection`` dict alone is accepted too, and so is None.

    Returns:
        ``(step, position)`` from the ``customdata`` of the first point that
        has a two-number one (the click layer of :func:`attention_heatmap` with
        ``clickable=True``), else None. Malformed input gives None, never an error.
    """
    if selection is None:
        return None
    inner = _get(selection, "selection")
    points = _get(inner if inner is not None else selection, "points")
    if not isinstance(points, (list, tuple)):
        return None
    for point in points:
        custom = _get(point, "customdata")
        if isinstance(custom, (str, bytes)) or not isinstance(custom, Sequence | np.ndarray):
            continue
        if len(custom) < 2:
            continue
        try:
            step, position = (float(custom[0]), float(custom[1]))
        except (TypeError, ValueError):
            continue
        if not (step.is_integer() and position.is_integer()) or step < 0 or position < 0:
            continue
        return int(step), int(position)
    return None


# --------------------------------------------------------------------------- panels of a side-by-side figure


def heatmap_panel(
    layout: dict[str, Any],
    panel: int,
    z: np.ndarray,
    hover: list[list[str]],
    x_labels: Sequence[str],
    y_labels: Sequence[str],
    pad_from: int,
    **trace: Any,
) -> list[dict[str, Any]]:
    """Fill panel ``panel`` (1-based) of a side-by-side ``layout`` with a heatmap; returns its trace(s).

    Sets the panel's axes (:func:`heatmap_axes`, square cells anchored to the
    panel's own x axis) and appends its padding hatch to ``layout["shapes"]``
    (legend entry on panel 1 only). ``trace`` goes to :func:`heatmap_trace`
    (colour scale, ``showscale``, ``colorbar``, ...).
    """
    x_ref, y_ref = axis_refs(panel)
    x_key, y_key = layout_axis_keys(panel)
    steps, n_in = z.shape
    xaxis, yaxis = heatmap_axes(x_labels, y_labels, scaleanchor=x_ref)
    font = dict(size=BASE_FONT_SIZE - 2)
    layout.setdefault(x_key, {}).update(xaxis, tickfont=font, automargin=True)
    layout.setdefault(y_key, {}).update(yaxis, tickfont=font, automargin=True)
    layout.setdefault("shapes", []).extend(
        padding_shapes(pad_from, steps, n_in, xref=x_ref, yref=y_ref, showlegend=panel == 1)
    )
    return [heatmap_trace(z, hover, xaxis=x_ref, yaxis=y_ref, **trace)]


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
    *,
    highlight_step: int | None = None,
    clickable: bool = False,
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
        highlight_step: frame output step ``highlight_step`` (0-based) with a
            white-on-black rectangle: layout shapes named ``"step <t + 1>"``
            and ``"step <t + 1> (inner)"`` (:func:`row_outline`).
        clickable: add an invisible scatter named ``"cells"`` with one point per
            cell and ``customdata = [output step, input position]`` (0-based),
            so a click on a cell in ``st.plotly_chart(fig, on_select="rerun",
            selection_mode="points")`` comes back as that point (read it with
            :func:`clicked_cell`). The scatter then carries the hover text and
            the heatmap none, so each cell's label shows once.

    Returns:
        A figure whose first trace is the heatmap (z has the shape of
        ``attention``, zmin 0, zmax 1, Cividis), then the ``"expected"`` trace
        when asked, then the ``"cells"`` layer when clickable. Cell values are
        written in when the matrix is at most 15 x 15. Each cell's hover names
        the output step and its prediction, the input position and its token,
        and the weight to 4 decimals (``p = 0.8731``).

    Raises:
        ValueError: if ``attention`` is not 2-D with shape
            ``(len(output_tokens), len(input_tokens))``, if ``expected_tokens``
            has a different length from ``output_tokens``, if ``n_out`` < 0, or
            if ``highlight_step`` is not an output step.
    """
    att, inputs, outputs, expected = check_attention(attention, input_tokens, output_tokens, n_out, expected_tokens)
    steps, n_in = att.shape
    # Everything is assembled as plain dicts and validated once by go.Figure:
    # this builder runs on every keystroke of the Explore page.
    layout = _style_layout(x_title="input position: token", y_title="output step → predicted token",
                           height=heatmap_height(steps, title), title=title)
    if steps == 0 or n_in == 0:
        return _note(go.Figure(layout=layout), "No attention to show")

    check_step(highlight_step, steps, "highlight_step")
    pad_from = min(n_out, steps)
    wrong = wrong_steps(outputs, expected)
    hover = heatmap_hover_text(att, inputs, outputs, step_notes(pad_from, wrong, expected))
    data: list[dict[str, Any]] = [heatmap_trace(att, hover, hoverable=not clickable)]
    xaxis, yaxis = heatmap_axes(input_labels(inputs), step_labels(outputs, pad_from, wrong))
    layout["xaxis"].update(xaxis)
    layout["yaxis"].update(yaxis)
    layout["shapes"] = padding_shapes(pad_from, steps, n_in)
    if highlight_step is not None:
        layout["shapes"] += row_outline(highlight_step, n_in)
    if show_expected:
        data.append(expected_outlines(n_out, n_in, steps))
    if clickable:
        click_hover = [[f"{text}<br><i>click to inspect step {i + 1}</i>" for text in row] for i, row in enumerate(hover)]
        data.append(cell_click_layer(click_hover))
        # The nearest cell centre is the cell under the pointer: hover (and clicks) work anywhere in a cell.
        layout.update(hovermode="closest", hoverdistance=-1)
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
