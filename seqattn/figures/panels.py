"""The heatmap itself, as plain dicts: its trace, its square-cell axes, one panel of a figure, the click layer.

* :func:`heatmap_trace` is the heatmap trace (cells centred on whole numbers),
  :func:`heatmap_axes` the settings of its axes (token tick labels, step 1 on
  top, square cells);
* :func:`heatmap_panel` fills panel k of a side-by-side figure with both, and
  the padding hatch (:mod:`~seqattn.figures.overlays`);
* :func:`cell_click_layer` is an invisible scatter over the cells that makes
  them clickable in Streamlit (``st.plotly_chart(on_select="rerun",
  selection_mode="points")``; heatmaps themselves emit no selection events).
  Reading the click back from Streamlit's event is the dashboard's job:
  :func:`ui.heatmap_clicks.clicked_cell`.

Steps and positions are 0-based in ``customdata``; x = input position + 1 and
y = output step + 1 are the cell centres.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from seqattn.figures.overlays import input_padding_shapes, padding_shapes
from seqattn.figures.panel_axes import axis_refs, layout_axis_keys, place_on_axes
from seqattn.figures.style import BASE_FONT_SIZE, HEATMAP_COLORSCALE, sparse_ticks

# Beyond this many rows or columns the cell values are too small to read.
MAX_ANNOTATED_CELLS = 15
# The name of the click layer's trace (:func:`cell_click_layer`).
CLICK_LAYER_NAME = "cells"


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
    ``xaxis``/``yaxis`` place it in another panel (:func:`~seqattn.figures.panel_axes.axis_refs`).
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
    place_on_axes(trace, xaxis, yaxis)
    return trace


def heatmap_axes(
    x_labels: Sequence[str], y_labels: Sequence[str], *, scaleanchor: str = "x"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Settings for the x and y axes of a grid of unit cells: token tick labels, step 1 on top, square cells.

    Merge them into the axes of :func:`~seqattn.figures.style.style_layout`
    (``layout["xaxis"].update(x)``). In panel k of a side-by-side figure pass
    that panel's x axis as ``scaleanchor`` (``axis_refs(k)[0]``).
    """
    xs = list(range(1, len(x_labels) + 1))
    ys = list(range(1, len(y_labels) + 1))
    x_tickvals, x_ticktext = sparse_ticks(xs, x_labels)
    y_tickvals, y_ticktext = sparse_ticks(ys, y_labels)
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


def cell_click_layer(hover: Sequence[Sequence[str]], *, xaxis: str = "x", yaxis: str = "y") -> dict[str, Any]:
    """An invisible scatter trace with one point per cell, so cells can be clicked in Streamlit.

    Plotly heatmaps emit no selection events in ``st.plotly_chart(...,
    on_select="rerun", selection_mode="points")``; scatter points do. Each
    point sits on a cell centre (x = input position + 1, y = output step + 1),
    row by row, and carries ``customdata = [output step, input position]``
    (0-based), which :func:`ui.heatmap_clicks.clicked_cell` reads back. The
    markers are fully transparent (also when selected) but still take hover and
    clicks; the trace carries the cells' ``hover`` text (rows of strings, as
    from :func:`~seqattn.figures.labels.heatmap_hover_text`), so the heatmap
    under it should be drawn with ``hoverable=False``. Named :data:`CLICK_LAYER_NAME` (``"cells"``), no legend entry.
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
    place_on_axes(trace, xaxis, yaxis)
    return trace


def heatmap_panel(
    layout: dict[str, Any],
    panel: int,
    z: np.ndarray,
    hover: list[list[str]],
    x_labels: Sequence[str],
    y_labels: Sequence[str],
    pad_from: int,
    *,
    padded: Sequence[bool] | None = None,
    **trace: Any,
) -> list[dict[str, Any]]:
    """Fill panel ``panel`` (1-based) of a side-by-side ``layout`` with a heatmap; returns its trace(s).

    Sets the panel's axes (:func:`heatmap_axes`, square cells anchored to the
    panel's own x axis) and appends its padding hatch, and the grey of the input
    positions flagged in ``padded``, to ``layout["shapes"]`` (legend entries on
    panel 1 only). ``trace`` goes to :func:`heatmap_trace` (colour scale,
    ``showscale``, ``colorbar``, ...).
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
        + input_padding_shapes(padded, steps, xref=x_ref, yref=y_ref, showlegend=panel == 1)
    )
    return [heatmap_trace(z, hover, xaxis=x_ref, yaxis=y_ref, **trace)]

