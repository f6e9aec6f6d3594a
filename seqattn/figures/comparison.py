"""Figures that compare the models: accuracy per output step, exact match over repeats, loss bands over repeats."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from seqattn.figures.races import downsample
from seqattn.figures.style import (
    BASE_FONT_SIZE,
    MAX_TICK_LABELS,
    model_color,
    model_label,
    loss_axis,
    mean_in_band,
    note,
    ordered_models,
    percent_axis,
    rgba,
    spread,
    styled,
)

# pandas is imported when first used: the home page must render without pandas.
if TYPE_CHECKING:
    import pandas as pd


def accuracy_by_position_figure(per_position: Mapping[str, Sequence[float]], n_out: int | None = None) -> go.Figure:
    """Accuracy at each output step, one bar group per step and one bar per model.

    Args:
        per_position: model name -> accuracy (0..1) of output steps 1..steps
            (``"baseline"``/``"attention"`` get their house colours; other names
            are drawn too). Models may have different lengths.
        n_out: echoed prefix length; if given, steps > n_out (1-based), the
            padding steps whose target is 0, are shaded (shape named ``"padding"``).

    Returns:
        One bar trace per model with a non-empty sequence; y axis 0..1 as percent.
    """
    fig = go.Figure()
    styled(fig, x_title="output step", y_title="accuracy at this step")
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
    models = [m for m in ordered_models(list(per_position)) if len(per_position[m]) > 0]
    steps = max((len(per_position[m]) for m in models), default=0)
    # Percent on each bar reads from the back of the room, until bars get thin.
    label_bars = 0 < steps * len(models) <= 16
    padded = n_out is not None and n_out < steps
    # Headroom above 100 % for the bar labels and the padding label.
    top = 1.0 + (0.08 if label_bars else 0.0) + (0.08 if padded else 0.0)
    percent_axis(fig, top)
    if not models:
        return note(fig, "No evaluation yet")
    for k, model in enumerate(models):
        values = np.asarray(per_position[model], dtype=float)
        fig.add_trace(
            go.Bar(
                x=np.arange(1, len(values) + 1),
                y=values,
                name=model_label(model),
                marker=dict(color=model_color(model, k)),
                texttemplate="%{y:.0%}" if label_bars else None,
                textposition="outside" if label_bars else "none",
                cliponaxis=False,
                hovertemplate=f"{model_label(model)}<br>output step %{{x}}: %{{y:.1%}}<extra></extra>",
            )
        )
    fig.update_xaxes(tickmode="linear", tick0=1, dtick=max(1, math.ceil(steps / MAX_TICK_LABELS)), range=[0.5, steps + 0.5])
    if padded:
        fig.add_shape(
            type="rect",
            name="padding",
            xref="x",
            yref="y",
            x0=max(n_out, 0) + 0.5,  # type: ignore[arg-type]
            x1=steps + 0.5,
            y0=0,
            y1=top,
            fillcolor="rgba(128,128,128,0.15)",
            line=dict(width=0),
            layer="below",
            label=dict(
                # Short: on a projector at 1024x768 this panel is narrow; the legend and
                # the axis's "(pad)" ticks say the target there is 0.
                text="padding",
                textposition="top right",
                font=dict(size=BASE_FONT_SIZE - 2, color="#555555"),
            ),
        )
    return fig


def comparison_figure(results: pd.DataFrame, reference: Mapping[str, float] | None = None) -> go.Figure:
    """Exact match over repeated runs: one box per model with every run shown.

    Args:
        results: columns ``repeat``, ``model`` (``"baseline"``/``"attention"``),
            ``exact_match`` (0..1); one row per model and repeat. NaN scores are
            dropped.
        reference: optional model -> mean exact match to compare against, e.g.
            the tutorial's ``{"baseline": 0.231, "attention": 0.957}``. Each is a
            dashed line across its model's box, a layout shape named
            ``"reference <model>"`` labelled ``"tutorial: 95.7%"``.

    Returns:
        One box trace per model in ``results`` (boxpoints "all"); x ticks name the
        models with their mean and number of runs; y axis as percent.
    """
    import pandas as pd

    fig = go.Figure()
    styled(fig, x_title=None, y_title="held-out exact match")
    fig.update_yaxes(tickformat=".0%", dtick=0.2, range=[-0.03, 1.05])
    reference = dict(reference or {})
    frame = pd.DataFrame(columns=["repeat", "model", "exact_match"]) if results is None else results
    if not frame.empty:
        missing = {"model", "exact_match"} - set(frame.columns)
        if missing:
            raise ValueError(f"results is missing column(s): {', '.join(sorted(missing))}")
        frame = frame.assign(exact_match=pd.to_numeric(frame["exact_match"], errors="coerce")).dropna(
            subset=["exact_match"]
        )
    scored = ordered_models(list(frame["model"].astype(str))) if not frame.empty else []
    # A model with only a reference still gets a slot, so the tutorial's numbers
    # are on screen before the first repeat finishes.
    models = ordered_models(scored + list(reference))
    if not models:
        return note(fig, "No results yet")

    ticktext = []
    for pos, model in enumerate(models):
        color, label = model_color(model, pos), model_label(model)
        rows = frame[frame["model"].astype(str) == model] if model in scored else frame.iloc[0:0]
        if len(rows):
            values = rows["exact_match"].to_numpy(dtype=float)
            repeats = rows["repeat"].to_numpy() if "repeat" in rows.columns else np.arange(1, len(rows) + 1)
            # Numeric x positions (not categories) so reference lines can span a box exactly.
            fig.add_trace(
                go.Box(
                    x=np.full(len(values), pos),
                    y=values,
                    name=label,
                    customdata=repeats,
                    boxpoints="all",
                    jitter=0.4,
                    pointpos=0,
                    boxmean=True,
                    width=0.5,
                    marker=dict(color=color, size=9, opacity=0.8),
                    line=dict(color=color, width=2),
                    fillcolor=rgba(color, 0.15),
                    showlegend=False,
                    hovertemplate=f"{label}<br>repeat %{{customdata}}: %{{y:.1%}}<extra></extra>",
                )
            )
            ticktext.append(f"{label}<br>mean {values.mean():.1%} (n={len(values)})")
        else:
            ticktext.append(label)
        if model in reference and reference[model] is not None:
            value = float(reference[model])
            fig.add_shape(
                type="line",
                name=f"reference {model}",
                xref="x",
                yref="y",
                x0=pos - 0.32,
                x1=pos + 0.32,
                y0=value,
                y1=value,
                line=dict(color="#333333", width=3, dash="dash"),
                # Written left of the line, in the gap between boxes, where no
                # box or point can cover it.
                label=dict(
                    text=f"tutorial: {value:.1%}",
                    textposition="start",
                    xanchor="right",
                    yanchor="middle",
                    font=dict(size=BASE_FONT_SIZE - 2, color="#333333"),
                ),
            )
    fig.update_xaxes(
        tickmode="array",
        tickvals=list(range(len(models))),
        ticktext=ticktext,
        range=[-0.9, len(models) - 0.5],
        showgrid=False,
        zeroline=False,
    )
    if not scored:
        note(fig, "No results yet")
    return fig


def mean_loss_band_figure(losses: pd.DataFrame, max_points: int = 600, log_y: bool = False) -> go.Figure:
    """Loss over updates across repeats: the mean as a line inside a min-max band.

    Args:
        losses: long format, columns ``repeat``, ``update``, ``model``, ``loss``
            (the per-update loss of every repeat). NaN losses are dropped.
        max_points: updates drawn at most per model; the per-update mean, min and
            max are computed over all repeats first, then thinned with
            :func:`downsample`.
        log_y: logarithmic loss axis.

    Returns:
        Per model three traces in order: the band's lower edge (min, no line, no
        hover), its upper edge (max, ``fill="tonexty"`` in the model colour at low
        opacity, no hover) and the mean (solid line, named with the model label).

    Raises:
        ValueError: if a non-empty ``losses`` lacks ``update``, ``model`` or ``loss``.
    """
    import pandas as pd

    fig = go.Figure()
    styled(fig, x_title="update", y_title="cross-entropy loss")
    loss_axis(fig, log_y)
    fig.update_layout(hovermode="x unified")
    if losses is None or losses.empty:
        return note(fig, "No results yet")
    missing = {"update", "model", "loss"} - set(losses.columns)
    if missing:
        raise ValueError(f"losses is missing column(s): {', '.join(sorted(missing))}")
    frame = losses.assign(loss=pd.to_numeric(losses["loss"], errors="coerce")).dropna(subset=["loss", "update"])
    if frame.empty:
        return note(fig, "No results yet")

    for k, model in enumerate(ordered_models(list(frame["model"].astype(str)))):
        color, label = model_color(model, k), model_label(model)
        rows = frame[frame["model"].astype(str) == model]
        # Aggregate before thinning: thinning first would drop repeats' extremes.
        agg = downsample(spread(rows, "update", "loss"), max_points)
        n_repeats = rows["repeat"].nunique() if "repeat" in rows.columns else int(agg["count"].max())
        name = f"{label}: mean of {n_repeats}" if n_repeats > 1 else label
        fig.add_traces(
            mean_in_band(
                agg, "update", model=model, color=color, name=name,
                customdata=agg[["min", "max"]].to_numpy(),
                hovertemplate="mean %{y:.4f} (range %{customdata[0]:.4f}–%{customdata[1]:.4f})",
            )
        )
    return fig


