"""Plotly figure builders for the dashboard: loss and accuracy races, attention heatmaps, comparisons.

Every builder takes plain data (pandas frames, numpy arrays, sequences of ints)
and returns a :class:`plotly.graph_objects.Figure`; nothing here trains or
predicts, and the module imports neither Streamlit nor TensorFlow, so figures
can be built and tested in milliseconds.

Conventions shared by all figures:

* the two models always get the same colours (Okabe-Ito, colour-blind safe):
  :data:`MODEL_COLORS`, and the same legend names: :data:`MODEL_LABELS`;
* template ``plotly_white`` and fonts large enough for a projector;
  :func:`apply_presentation` makes them larger still for presenting;
* an empty input gives a figure with a short "nothing yet" note rather than an
  error, because a live dashboard draws before the first result arrives.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

__all__ = [
    "MODEL_COLORS",
    "MODEL_LABELS",
    "HEATMAP_COLORSCALE",
    "TEMPLATE",
    "downsample",
    "loss_race_figure",
    "accuracy_race_figure",
    "attention_heatmap",
    "accuracy_by_position_figure",
    "comparison_figure",
    "mean_loss_band_figure",
    "example_pair_figure",
    "apply_presentation",
]

MODEL_COLORS: dict[str, str] = {"baseline": "#E69F00", "attention": "#0072B2"}
MODEL_LABELS: dict[str, str] = {"baseline": "Baseline (no attention)", "attention": "Attention"}
# Cividis is perceptually uniform and readable with every common colour-vision deficiency.
HEATMAP_COLORSCALE = "Cividis"
TEMPLATE = "plotly_white"
# Assigning a template to every figure costs ~7 ms of validation, most of the
# Explore page's per-keystroke budget; as the default it is applied for free.
pio.templates.default = TEMPLATE

BASE_FONT_SIZE = 16
LARGE_FONT_SIZE = 22
LARGE_SCALE = 1.4
DEFAULT_HEIGHT = 420
MAX_HEATMAP_HEIGHT = 900
# Beyond this many rows or columns the cell values are too small to read.
MAX_ANNOTATED_CELLS = 15
# Beyond this many ticks the labels overlap, so only every k-th one is written.
MAX_TICK_LABELS = 30

CHANCE_COLOR = "#7F7F7F"
PAD_COLOR = "#9A9A9A"
# Okabe-Ito reddish purple stands out on both the dark-blue and the yellow end of Cividis.
EXPECTED_COLOR = "#CC79A7"
# Okabe-Ito vermillion: the palette's "something is wrong" colour.
WRONG_COLOR = "#D55E00"
ECHO_COLOR = "#56B4E9"
_FALLBACK_COLORS = ("#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")

# Stored in layout.meta so apply_presentation can tell it already ran on a figure.
_PRESENTATION_FLAG = "seqattn_presentation"


# --------------------------------------------------------------------------- helpers


def _color(model: str, index: int = 0) -> str:
    return MODEL_COLORS.get(model, _FALLBACK_COLORS[index % len(_FALLBACK_COLORS)])


def _label(model: str) -> str:
    return MODEL_LABELS.get(model, str(model))


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _ordered_models(models: Sequence[str]) -> list[str]:
    """Known models in MODEL_COLORS order first, so colours and legend order never swap between figures."""
    present = list(dict.fromkeys(models))
    known = [m for m in MODEL_COLORS if m in present]
    return known + [m for m in present if m not in MODEL_COLORS]


def _style_layout(
    *,
    x_title: str | None = None,
    y_title: str | None = None,
    height: int = DEFAULT_HEIGHT,
    title: str | None = None,
) -> dict[str, Any]:
    """The house style as a layout dict: projector-size fonts, legend above the plot."""
    axis_font = dict(size=BASE_FONT_SIZE - 2)
    layout: dict[str, Any] = dict(
        height=height,
        font=dict(size=BASE_FONT_SIZE),
        # The legend sits above the plot area so it never covers late training updates.
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, font=dict(size=BASE_FONT_SIZE)),
        margin=dict(l=20, r=20, t=90 if title else 50, b=20),
        hoverlabel=dict(font=dict(size=BASE_FONT_SIZE - 1)),
        # automargin lets long tick labels and titles push the margins out instead of being clipped.
        xaxis=dict(title=dict(text=x_title, font=dict(size=BASE_FONT_SIZE + 1)), tickfont=axis_font, automargin=True),
        yaxis=dict(title=dict(text=y_title, font=dict(size=BASE_FONT_SIZE + 1)), tickfont=axis_font, automargin=True),
    )
    if title:
        layout["title"] = dict(text=title, font=dict(size=BASE_FONT_SIZE + 4), x=0, xanchor="left")
    return layout


def _style(
    fig: go.Figure,
    *,
    x_title: str | None = None,
    y_title: str | None = None,
    height: int = DEFAULT_HEIGHT,
    title: str | None = None,
) -> go.Figure:
    """Apply the house style (:func:`_style_layout`) to a figure, in one layout update."""
    fig.update_layout(_style_layout(x_title=x_title, y_title=y_title, height=height, title=title))
    return fig


def _note(fig: go.Figure, text: str) -> go.Figure:
    """Centre a grey message on an otherwise empty plot."""
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font=dict(size=BASE_FONT_SIZE + 4, color=CHANCE_COLOR),
    )
    return fig


def _percent_axis(fig: go.Figure, top: float = 1.0) -> None:
    """0..1 as percent; ``top`` > 1 leaves headroom for labels while ticks stop at 100 %."""
    fig.update_yaxes(range=[0, top], tickformat=".0%", tickmode="array", tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0])


def _loss_axis(fig: go.Figure, log_y: bool) -> None:
    if log_y:
        # Only 1-2-5 ticks, written in full: every minor digit of each decade is noise on a projector.
        fig.update_yaxes(type="log", dtick="D2", minorloglabels="complete")
    else:
        fig.update_yaxes(type="linear")


def _sparse_ticks(values: Sequence[int], labels: Sequence[str]) -> tuple[list[int], list[str]]:
    """Every label if they fit, else every k-th one (always the first)."""
    step = max(1, math.ceil(len(values) / MAX_TICK_LABELS))
    return list(values)[::step], list(labels)[::step]


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
    part = df[[x, y]].apply(pd.to_numeric, errors="coerce").dropna()
    return part[x].to_numpy(), part[y].to_numpy(dtype=float)


# --------------------------------------------------------------------------- training races


def loss_race_figure(history: pd.DataFrame, cardinality: int, log_y: bool = False, max_points: int = 600) -> go.Figure:
    """Training loss of both models against updates, with the chance level.

    Args:
        history: one row per progress report, columns ``update`` (int) and any of
            ``loss_baseline``, ``loss_attention`` (raw loss: mean over the window
            since the previous report), ``smoothed_baseline``,
            ``smoothed_attention`` (exponential moving average). A model whose
            columns are absent is not drawn; NaN cells are skipped.
        cardinality: K, the number of tokens; a model that guesses uniformly
            scores ln K, drawn as a dashed grey line.
        log_y: use a logarithmic loss axis (the late, small losses become visible).
        max_points: rows drawn at most; longer histories are thinned with
            :func:`downsample` (the last report is always kept).

    Returns:
        Per model present, a faint raw-loss line (``"<label> (raw)"``, hidden from
        the legend but toggled with its model) then a solid smoothed line; the
        chance level is a layout shape named ``"chance"``.
    """
    if cardinality < 1:
        raise ValueError(f"cardinality must be at least 1; got {cardinality}")
    chance = math.log(cardinality)
    fig = go.Figure()
    _style(fig, x_title="update", y_title="cross-entropy loss")
    fig.update_layout(hovermode="x unified")
    # autorangeoptions.include keeps the chance line and its label inside the plot
    # even when every loss is already below chance.
    include = [chance * 1.3] if log_y else [0, chance * 1.12]
    _loss_axis(fig, log_y)
    fig.update_yaxes(autorangeoptions=dict(include=include))
    # A shape, not an annotation: shape labels stay on the line on a log axis too,
    # where annotation y positions would need log10 coordinates.
    fig.add_shape(
        type="line",
        name="chance",
        xref="paper",
        x0=0,
        x1=1,
        yref="y",
        y0=chance,
        y1=chance,
        line=dict(color=CHANCE_COLOR, width=2, dash="dash"),
        label=dict(
            text=f"chance (ln K = {chance:.2f})",
            textposition="end",
            yanchor="bottom",
            font=dict(size=BASE_FONT_SIZE - 2, color=CHANCE_COLOR),
        ),
    )
    if history is None or history.empty or "update" not in history.columns:
        # Without data the autorange would be centred on the line and cut its label.
        fig.update_xaxes(range=[0, 1], showticklabels=False)
        if log_y:
            fig.update_yaxes(range=[math.log10(chance) - 1, math.log10(chance) + 0.2])
        else:
            fig.update_yaxes(range=[0, chance * 1.25])
        return _note(fig, "No progress yet")

    frame = downsample(history.sort_values("update", kind="stable"), max_points)
    models = [m for m in MODEL_COLORS if f"loss_{m}" in frame.columns or f"smoothed_{m}" in frame.columns]
    for model in models:
        color, label = _color(model), _label(model)
        # Raw first so the smoothed line is drawn on top of it.
        if f"loss_{model}" in frame.columns:
            x, y = _clean_series(frame, "update", f"loss_{model}")
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines",
                    name=f"{label} (raw)",
                    legendgroup=model,
                    showlegend=False,
                    opacity=0.25,
                    line=dict(color=color, width=1.5),
                    hovertemplate="%{y:.4f}",
                )
            )
        if f"smoothed_{model}" in frame.columns:
            x, y = _clean_series(frame, "update", f"smoothed_{model}")
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines",
                    name=label,
                    legendgroup=model,
                    line=dict(color=color, width=3),
                    hovertemplate="%{y:.4f}",
                )
            )
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
    _style(fig, x_title="update", y_title="held-out exact match")
    _percent_axis(fig)
    fig.update_layout(hovermode="x unified")
    if history is None or history.empty or "update" not in history.columns:
        return _note(fig, "No evaluation yet")
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
                name=_label(model),
                legendgroup=model,
                line=dict(color=_color(model), width=3),
                marker=dict(size=8, color=_color(model)),
                # Points at exactly 0 % or 100 % would be half cut off by the fixed range.
                cliponaxis=False,
                hovertemplate="%{y:.1%}",
            )
        )
    if drawn == 0:
        _note(fig, "No evaluation yet")
    return fig


# --------------------------------------------------------------------------- attention heatmap


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


def _square_outlines(positions: Sequence[tuple[int, int]], inset: float = 0.08) -> tuple[list, list]:
    """x and y lists drawing one closed square per (x, y) cell centre, separated by None."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    half = 0.5 - inset
    for cx, cy in positions:
        xs += [cx - half, cx + half, cx + half, cx - half, cx - half, None]
        ys += [cy - half, cy - half, cy + half, cy + half, cy - half, None]
    return xs, ys


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

    height = min(MAX_HEATMAP_HEIGHT, max(320, 140 + 60 * steps)) + (30 if title else 0)
    # Everything is assembled as plain dicts and validated once by go.Figure:
    # this builder runs on every keystroke of the Explore page.
    layout = _style_layout(x_title="input position: token", y_title="output step → predicted token",
                           height=height, title=title)
    if steps == 0 or n_in == 0:
        return _note(go.Figure(layout=layout), "No attention to show")

    xs = list(range(1, n_in + 1))
    ys = list(range(1, steps + 1))
    pad_from = min(n_out, steps)
    wrong = [expected is not None and outputs[i] != expected[i] for i in range(steps)]

    x_labels = [f"{j}: {tok}" for j, tok in zip(xs, inputs)]
    y_labels = []
    for i, tok in enumerate(outputs):
        label = f"{i + 1} → {tok}"
        if i >= pad_from:
            label += " (pad)"
        if wrong[i]:
            label += f' <span style="color:{WRONG_COLOR}">✗</span>'
        y_labels.append(label)

    # Hover text is prebuilt so it can say "padding" and "expected" per row,
    # which a hovertemplate alone cannot.
    hover = []
    for i, out_tok in enumerate(outputs):
        row_note = ""
        if i >= pad_from:
            row_note += "<br>padding step (target 0)"
        if wrong[i]:
            row_note += f"<br>wrong: expected {expected[i]}"  # type: ignore[index]
        hover.append(
            [
                f"output step {i + 1} (predicts {out_tok})<br>input position {j + 1} (token {in_tok})"
                f"<br>p = {att[i, j]:.4f}{row_note}"
                for j, in_tok in enumerate(inputs)
            ]
        )

    annotate = steps <= MAX_ANNOTATED_CELLS and n_in <= MAX_ANNOTATED_CELLS
    data: list[dict[str, Any]] = [
        dict(
            type="heatmap",
            z=att,
            x=xs,
            y=ys,
            zmin=0.0,
            zmax=1.0,
            colorscale=HEATMAP_COLORSCALE,
            colorbar=dict(
                title=dict(text="attention", side="right", font=dict(size=BASE_FONT_SIZE)),
                tickfont=dict(size=BASE_FONT_SIZE - 2),
                thickness=18,
                len=0.9,
            ),
            text=hover,
            hovertemplate="%{text}<extra></extra>",
            texttemplate="%{z:.2f}" if annotate else None,
            textfont=dict(size=15 if max(steps, n_in) <= 8 else 12),
            name="attention",
            # Thin gaps separate cells without hiding values; they help on projectors.
            xgap=1,
            ygap=1,
        )
    ]

    x_tickvals, x_ticktext = _sparse_ticks(xs, x_labels)
    y_tickvals, y_ticktext = _sparse_ticks(ys, y_labels)
    layout["xaxis"].update(
        tickmode="array",
        tickvals=x_tickvals,
        ticktext=x_ticktext,
        range=[0.5, n_in + 0.5],
        showgrid=False,
        zeroline=False,
        constrain="domain",
    )
    layout["yaxis"].update(
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

    shapes: list[dict[str, Any]] = []
    if pad_from < steps:
        y0, y1 = pad_from + 0.5, steps + 0.5
        shapes.append(dict(
            type="rect",
            # The shape's legend entry explains the hatching.
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
        ))
        shapes.append(dict(
            type="path",
            name="padding hatch",
            xref="x",
            yref="y",
            path=_hatch_path(0.5, n_in + 0.5, y0, y1, spacing=0.5),
            line=dict(color="rgba(255,255,255,0.45)", width=1.5),
            layer="above",
        ))
    layout["shapes"] = shapes

    if show_expected:
        diag = [(t + 1, t + 1) for t in range(min(n_out, n_in, steps))]
        ex, ey = _square_outlines(diag)
        data.append(
            dict(
                type="scatter",
                x=ex,
                y=ey,
                mode="lines",
                name="expected",
                line=dict(color=EXPECTED_COLOR, width=4),
                hoverinfo="skip",
                showlegend=True,
            )
        )
    return go.Figure(data=data, layout=layout)


# --------------------------------------------------------------------------- accuracy per step and comparisons


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
    _style(fig, x_title="output step", y_title="accuracy at this step")
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
    models = [m for m in _ordered_models(list(per_position)) if len(per_position[m]) > 0]
    steps = max((len(per_position[m]) for m in models), default=0)
    # Percent on each bar reads from the back of the room, until bars get thin.
    label_bars = 0 < steps * len(models) <= 16
    padded = n_out is not None and n_out < steps
    # Headroom above 100 % for the bar labels and the padding label.
    top = 1.0 + (0.08 if label_bars else 0.0) + (0.08 if padded else 0.0)
    _percent_axis(fig, top)
    if not models:
        return _note(fig, "No evaluation yet")
    for k, model in enumerate(models):
        values = np.asarray(per_position[model], dtype=float)
        fig.add_trace(
            go.Bar(
                x=np.arange(1, len(values) + 1),
                y=values,
                name=_label(model),
                marker=dict(color=_color(model, k)),
                texttemplate="%{y:.0%}" if label_bars else None,
                textposition="outside" if label_bars else "none",
                cliponaxis=False,
                hovertemplate=f"{_label(model)}<br>output step %{{x}}: %{{y:.1%}}<extra></extra>",
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
                text="padding (target 0)",
                textposition="top center",
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
    fig = go.Figure()
    _style(fig, x_title=None, y_title="held-out exact match")
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
    scored = _ordered_models(list(frame["model"].astype(str))) if not frame.empty else []
    # A model with only a reference still gets a slot, so the tutorial's numbers
    # are on screen before the first repeat finishes.
    models = _ordered_models(scored + list(reference))
    if not models:
        return _note(fig, "No results yet")

    ticktext = []
    for pos, model in enumerate(models):
        color, label = _color(model, pos), _label(model)
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
                    fillcolor=_rgba(color, 0.15),
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
        _note(fig, "No results yet")
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
    fig = go.Figure()
    _style(fig, x_title="update", y_title="cross-entropy loss")
    _loss_axis(fig, log_y)
    fig.update_layout(hovermode="x unified")
    if losses is None or losses.empty:
        return _note(fig, "No results yet")
    missing = {"update", "model", "loss"} - set(losses.columns)
    if missing:
        raise ValueError(f"losses is missing column(s): {', '.join(sorted(missing))}")
    frame = losses.assign(loss=pd.to_numeric(losses["loss"], errors="coerce")).dropna(subset=["loss", "update"])
    if frame.empty:
        return _note(fig, "No results yet")

    for k, model in enumerate(_ordered_models(list(frame["model"].astype(str)))):
        color, label = _color(model, k), _label(model)
        rows = frame[frame["model"].astype(str) == model]
        # Aggregate before thinning: thinning first would drop repeats' extremes.
        agg = rows.groupby("update", sort=True)["loss"].agg(["mean", "min", "max", "count"]).reset_index()
        agg = downsample(agg, max_points)
        n_repeats = rows["repeat"].nunique() if "repeat" in rows.columns else int(agg["count"].max())
        x = agg["update"].to_numpy()
        fig.add_trace(
            go.Scatter(
                x=x,
                y=agg["min"].to_numpy(),
                mode="lines",
                name=f"{label} min",
                legendgroup=model,
                line=dict(width=0, color=color),
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=agg["max"].to_numpy(),
                mode="lines",
                name=f"{label} max",
                legendgroup=model,
                line=dict(width=0, color=color),
                fill="tonexty",
                fillcolor=_rgba(color, 0.2),
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=agg["mean"].to_numpy(),
                mode="lines",
                name=f"{label}: mean of {n_repeats}" if n_repeats > 1 else label,
                legendgroup=model,
                line=dict(color=color, width=3),
                customdata=agg[["min", "max"]].to_numpy(),
                hovertemplate="mean %{y:.4f} (range %{customdata[0]:.4f}–%{customdata[1]:.4f})",
            )
        )
    return fig


# --------------------------------------------------------------------------- illustration


def example_pair_figure(input_tokens: Sequence[int], target_tokens: Sequence[int], n_out: int) -> go.Figure:
    """One echo pair drawn as two rows of boxes: the input, and the target below it.

    The first ``n_out`` positions are highlighted in both rows and joined by
    arrows (input position t -> target position t); the target's padding zeros
    are greyed.

    Args:
        input_tokens: the n_in input ints.
        target_tokens: the target ints (the first n_out inputs, then zeros).
        n_out: how many leading inputs the target echoes.

    Returns:
        Three text traces (position numbers, ``"input"``, ``"target"``), one
        rectangle shape per token and one arrow annotation per echoed position;
        no axes.
    """
    inputs = [int(t) for t in input_tokens]
    targets = [int(t) for t in target_tokens]
    fig = go.Figure()
    _style(fig, height=260)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, range=[-0.55, 1.75], fixedrange=True)
    fig.update_layout(showlegend=False, margin=dict(l=10, r=10, t=10, b=10))
    width = max(len(inputs), len(targets))
    if width == 0:
        return _note(fig, "No example")
    # Room on the left for the row names.
    fig.update_xaxes(range=[-0.9, width + 0.6], fixedrange=True)
    half_w, half_h = 0.42, 0.3

    def row(tokens: list[int], y: float, kind: str) -> None:
        text_colors = []
        for t, tok in enumerate(tokens):
            echoed = t < n_out
            padding = kind == "target" and not echoed
            fill = ECHO_COLOR if echoed else ("#FAFAFA" if padding else "#EEEEEE")
            fig.add_shape(
                type="rect",
                name=f"{kind} {t + 1}",
                x0=t + 1 - half_w,
                x1=t + 1 + half_w,
                y0=y - half_h,
                y1=y + half_h,
                fillcolor=fill,
                line=dict(color=PAD_COLOR if padding else "#666666", width=1.5, dash="dot" if padding else "solid"),
                layer="below",
            )
            text_colors.append(PAD_COLOR if padding else "#111111")
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(tokens) + 1),
                y=np.full(len(tokens), y),
                mode="text",
                name=kind,
                text=[str(tok) for tok in tokens],
                textfont=dict(size=BASE_FONT_SIZE + 4, color=text_colors),
                hovertemplate=f"{kind} position %{{x}}: token %{{text}}<extra></extra>",
            )
        )
        fig.add_annotation(
            x=0.4, y=y, xref="x", yref="y", text=f"<b>{kind}</b>", showarrow=False, xanchor="right",
            font=dict(size=BASE_FONT_SIZE + 2),
        )

    fig.add_trace(
        go.Scatter(
            x=np.arange(1, width + 1),
            y=np.full(width, 1.52),
            mode="text",
            name="position",
            text=[str(p) for p in range(1, width + 1)],
            textfont=dict(size=BASE_FONT_SIZE - 2, color=PAD_COLOR),
            hoverinfo="skip",
        )
    )
    row(inputs, 1.0, "input")
    row(targets, 0.0, "target")
    for t in range(min(n_out, len(inputs), len(targets))):
        fig.add_annotation(
            x=t + 1,
            y=half_h + 0.03,
            ax=t + 1,
            ay=1 - half_h - 0.03,
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            text="",
            showarrow=True,
            arrowhead=2,
            arrowsize=1.3,
            arrowwidth=2,
            arrowcolor="#333333",
        )
    return fig


# --------------------------------------------------------------------------- presentation mode


def _scaled(size: float | None, default: float) -> float:
    return round((size if size is not None else default) * LARGE_SCALE, 1)


def apply_presentation(fig: go.Figure, large: bool) -> go.Figure:
    """Enlarge a figure's text and height for a projector ("presentation mode").

    With ``large`` the global font becomes 22 px, titles, axis titles, tick
    labels, legend, colour bars, annotations, shape labels, cell and marker
    text grow by about 1.4x, and the height by 1.4x. Applying it twice has no
    further effect (a flag is kept in ``layout.meta``). With ``large`` False the
    figure is left unchanged.

    Args:
        fig: any figure from this module (others work too).
        large: whether to enlarge.

    Returns:
        ``fig`` itself, modified in place, for chaining.
    """
    if not large:
        return fig
    meta = fig.layout.meta
    if isinstance(meta, dict) and meta.get(_PRESENTATION_FLAG):
        return fig

    layout = fig.layout
    fig.update_layout(
        font=dict(size=LARGE_FONT_SIZE),
        height=round((layout.height or 450) * LARGE_SCALE),
        legend=dict(font=dict(size=LARGE_FONT_SIZE - 2)),
        hoverlabel=dict(font=dict(size=LARGE_FONT_SIZE - 2)),
    )
    if layout.title.text:
        fig.update_layout(title=dict(font=dict(size=LARGE_FONT_SIZE + 6)))
    fig.update_xaxes(title=dict(font=dict(size=LARGE_FONT_SIZE + 2)), tickfont=dict(size=LARGE_FONT_SIZE - 2))
    fig.update_yaxes(title=dict(font=dict(size=LARGE_FONT_SIZE + 2)), tickfont=dict(size=LARGE_FONT_SIZE - 2))
    for annotation in layout.annotations:
        annotation.font.size = _scaled(annotation.font.size, BASE_FONT_SIZE)
    for shape in layout.shapes:
        if shape.label.text:
            shape.label.font.size = _scaled(shape.label.font.size, BASE_FONT_SIZE)
    for trace in fig.data:
        if "colorbar" in trace and trace.colorbar is not None:
            trace.colorbar.title.font.size = LARGE_FONT_SIZE
            trace.colorbar.tickfont.size = LARGE_FONT_SIZE - 2
        if "textfont" in trace and trace.textfont.size is not None:
            trace.textfont.size = _scaled(trace.textfont.size, BASE_FONT_SIZE)
        if trace.type == "scatter" and isinstance(trace.marker.size, (int, float)):
            trace.marker.size = _scaled(trace.marker.size, 6)
    new_meta = dict(meta) if isinstance(meta, dict) else {}
    if meta is None or isinstance(meta, dict):
        new_meta[_PRESENTATION_FLAG] = True
        fig.layout.meta = new_meta
    return fig
