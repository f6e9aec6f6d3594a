"""Which heatmap cell was clicked: read back from the event Streamlit returns for a clickable heatmap.

A heatmap built with ``attention_heatmap(..., clickable=True)`` carries an
invisible click layer (:func:`seqattn.figures.panels.cell_click_layer`, trace
name :data:`seqattn.figures.CLICK_LAYER_NAME`) whose points hold
``customdata = [output step, input position]``. Drawn with
``st.plotly_chart(fig, on_select="rerun", selection_mode="points", key=...)``,
a click comes back as a selection event; :func:`clicked_cell` turns it into
``(step, position)``. This module only parses that event (a dict or
Streamlit's attribute dictionary), so it imports neither Streamlit nor Plotly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


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
        has a two-number one (the click layer of
        :func:`seqattn.figures.attention_heatmap` with ``clickable=True``),
        else None. Malformed input gives None, never an error.
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
