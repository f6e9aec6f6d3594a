"""The live training races: loss and held-out exact match of both models against updates."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from seqattn.figures.style import (
    MODEL_COLORS,
    chance_line,
    model_color,
    model_label,
    loss_axis,
    note,
    percent_axis,
    styled,
)

# pandas is imported when first used: the home page must render without pandas.
if TYPE_CHECKING:
    import pandas as pd


def downsample(df: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """Keep at most ``max_points`` evenly spaced rows of ``df``, always the first and last.

    Rows are taken by position, in the order given (sort first if needed); the
    index is kept. A frame of ``max_points`` rows or fewer is returned as is.
    The last row is always kept because it is the newest progress report, the
    one a viewer of a live race is looking at.

    Args:
        df: any frame, n rows.
        max_points: the most rows to keep, at least 1.

    Returns:
        ``min(n, max_points)`` rows of ``df``.
    """
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1; got {max_points}")
    n = len(df)
    if n <= max_points:
        return df
    if max_points == 1:
        return df.iloc[[-1]]
    # Rounded linspace from 0 to n-1: both ends included, and since n > max_points
    # the steps are at least 1 so no position repeats.
    positions = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
    return df.iloc[positions]


def _clean_series(df: pd.DataFrame, x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` arrays of the rows where ``y`` is a number; a gap in the data must not break the line."""
    import pandas as pd

    part = df[[x, y]].apply(pd.to_numeric, errors="coerce").dropna()
    return part[x].to_numpy(), part[y].to_numpy(dtype=float)


def loss_race_figure(history: pd.DataFrame, output_size: int, log_y: bool = False, max_points: int = 600,
                     revision: str = "") -> go.Figure:
    """Training loss of both models against updates, with the chance level.

    Args:
        history: one row per progress report, columns ``update`` (int) and any of
            ``loss_baseline``, ``loss_attention`` (raw loss: mean over the window
            since the previous report), ``smoothed_baseline``,
            ``smoothed_attention`` (exponential moving average). A model whose
            columns are absent is not drawn; NaN cells are skipped.
        output_size: K, the size of the output vocabulary (the task's, e.g. the
            integer tasks' K, or the 11 characters of an ISO date); a model that
            guesses uniformly among them scores ln K, drawn as a dashed grey line.
        log_y: use a logarithmic loss axis (the late, small losses become visible).
        max_points: rows drawn at most; longer histories are thinned with
            :func:`downsample` (the last report is always kept).
        revision: what the chart shows, e.g. the run's id: ``layout.uirevision`` is
            ``loss:<revision>:<scale>``, the same for every refresh of one run's chart
            (so the user's zoom is kept, :mod:`ui.zoom`) and another for another run or scale.

    Returns:
        Per model present, a faint raw-loss line (``"<label> (raw)"``, hidden from
        the legend but toggled with its model) then a solid smoothed line; the
        chance level is a layout shape named ``"chance"``.
    """
    if output_size < 1:
        raise ValueError(f"output_size (the output cardinality K) must be at least 1; got {output_size}")
    chance = math.log(output_size)
    fig = go.Figure()
    styled(fig, x_title="update", y_title="cross-entropy loss")
    # A uirevision constant per run keeps the user's zoom and legend clicks across the live
    # view's refreshes; it changes with the run and the scale so either re-ranges the axes.
    fig.update_layout(hovermode="x unified", uirevision=f"loss:{revision}:{'log' if log_y else 'linear'}")
    # autorangeoptions.include keeps the chance line and its label inside the plot
    # even when every loss is already below chance.
    include = [chance * 1.3] if log_y else [0, chance * 1.12]
    loss_axis(fig, log_y)
    fig.update_yaxes(autorangeoptions=dict(include=include))
    chance_line(fig, chance, f"chance (ln K = {chance:.2f})")
    if history is None or history.empty or "update" not in history.columns:
        # Without data the autorange would be centred on the line and cut its label.
        fig.update_xaxes(range=[0, 1], showticklabels=False)
        if log_y:
            fig.update_yaxes(range=[math.log10(chance) - 1, math.log10(chance) + 0.2])
        else:
            fig.update_yaxes(range=[0, chance * 1.25])
        return note(fig, "No progress yet")

    frame = downsample(history.sort_values("update", kind="stable"), max_points)
    models = [m for m in MODEL_COLORS if f"loss_{m}" in frame.columns or f"smoothed_{m}" in frame.columns]
    for model in models:
        color, label = model_color(model), model_label(model)
        # Raw first so the smoothed line is drawn on top of it.
        styles = {
            f"loss_{model}": dict(name=f"{label} (raw)", showlegend=False, opacity=0.25,
                                  line=dict(color=color, width=1.5)),
            f"smoothed_{model}": dict(name=label, line=dict(color=color, width=3)),
        }
        for column, style in styles.items():
            if column in frame.columns:
                x, y = _clean_series(frame, "update", column)
                fig.add_trace(go.Scatter(x=x, y=y, mode="lines", legendgroup=model, hovertemplate="%{y:.4f}",
                                         **style))
    return fig


def accuracy_race_figure(history: pd.DataFrame) -> go.Figure:
    """Held-out exact match of both models against updates.

    Args:
        history: columns ``update`` and any of ``accuracy_baseline``,
            ``accuracy_attention`` (fractions 0..1, NaN in rows where no
            evaluation happened; those rows are dropped per model).

    Returns:
        One lines+markers trace per model present; y axis 0..1 shown as percent.
    """
    fig = go.Figure()
    styled(fig, x_title="update", y_title="held-out exact match")
    percent_axis(fig)
    fig.update_layout(hovermode="x unified")
    if history is None or history.empty or "update" not in history.columns:
        return note(fig, "No evaluation yet")
    frame = history.sort_values("update", kind="stable")
    drawn = 0
    for model in [m for m in MODEL_COLORS if f"accuracy_{m}" in frame.columns]:
        x, y = _clean_series(frame, "update", f"accuracy_{model}")
        drawn += len(x)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines+markers",
                name=model_label(model),
                legendgroup=model,
                line=dict(color=model_color(model), width=3),
                marker=dict(size=8, color=model_color(model)),
                # Points at exactly 0 % or 100 % would be half cut off by the fixed range.
                cliponaxis=False,
                hovertemplate="%{y:.1%}",
            )
        )
    if drawn == 0:
        note(fig, "No evaluation yet")
    return fig
