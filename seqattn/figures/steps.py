"""One output step up close: where it looks (attention bars) and what it considered (top-k tokens per model).

:func:`attention_step_bars` is one row of the attention heatmap as bars, and
:func:`top_tokens_bars` the models' most likely tokens at one step. Steps are
0-based in arguments (as in the heatmap's ``customdata``, which
:func:`ui.heatmap_clicks.clicked_cell` reads back from a click) and 1-based in
what a reader sees. Input tokens may be ints or a task's shown strings; output tokens
are named by ``output_names`` (a task's output vocabulary as shown) when given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from seqattn.figures.labels import Token, check_padding, check_step, input_axis_title, input_labels, tokens_of
from seqattn.figures.panels import MAX_ANNOTATED_CELLS
from seqattn.figures.style import (
    BASE_FONT_SIZE,
    EXPECTED_COLOR,
    HALO_COLOR,
    UNIT_TICKS,
    model_color,
    model_label,
    note,
    ordered_models,
    rgba,
    side_by_side_layout,
    sparse_ticks,
    style_layout,
)
from seqattn.model.registry import attending_names

# Probability axes run a little past 1 so a value written above a bar of p = 1 stays under the panel title.
_HEADROOM = 1.12


def _attention_color() -> str:
    attending = attending_names()
    return model_color(attending[0]) if attending else HALO_COLOR


def attention_step_bars(
    attention: np.ndarray,
    inputs: Sequence[Token],
    step: int,
    *,
    title: str | None = None,
    pad_positions: Sequence[bool] | None = None,
) -> go.Figure:
    """Attention of output step ``step`` over the input positions, as bars.

    Args:
        attention: (steps, n_in) attention weights; row ``step`` is drawn.
        inputs: the n_in input tokens (ints or shown strings); x tick labels read
            ``"position: token"`` like the heatmap's input axis.
        step: the output step, 0-based.
        title: the figure title; default ``"Output step <step + 1>: where it looks"``.
        pad_positions: one bool per input position, True where the input is padding:
            its tick label is grey and its hover says so (its weight is 0).

    Returns:
        One bar trace named ``"attention"``: x = input positions 1..n_in, y =
        ``attention[step]``, ``customdata`` = the input tokens. The largest bar
        is drawn in the attention model's full colour with a black outline and
        its weight written above it; the others are paler (``marker.color`` is a
        list, one colour per bar). Hover: ``"input position j (token x)<br>weight
        = 0.1234"``. The y axis is 0..1.

    Raises:
        ValueError: ``attention`` is not 2-D, its width differs from
            ``len(inputs)`` (or ``pad_positions``'s), or ``step`` is not a row of it.
    """
    att = np.asarray(attention, dtype=float)
    tokens = tokens_of(inputs)
    if att.ndim != 2:
        raise ValueError(f"attention must be a 2-D (output steps, input positions) array; got shape {att.shape}")
    if att.shape[1] != len(tokens):
        raise ValueError(f"attention has {att.shape[1]} input positions but {len(tokens)} input tokens were given")
    check_step(step, att.shape[0])
    padded = check_padding(pad_positions, len(tokens))
    layout = style_layout(
        x_title=input_axis_title(tokens),
        y_title="attention weight",
        title=title or f"Output step {step + 1}: where it looks",
    )
    n_in = len(tokens)
    if n_in == 0:
        return note(go.Figure(layout=layout), "No input positions")
    weights = att[step]
    largest = int(np.argmax(weights))
    color = _attention_color()
    colors = [color if j == largest else rgba(color, 0.45) for j in range(n_in)]
    outline = [3 if j == largest else 0 for j in range(n_in)]
    # Every weight written in while the bars are wide enough to read it; else only the largest.
    every = n_in <= MAX_ANNOTATED_CELLS
    text = [f"{w:.2f}" if every or j == largest else "" for j, w in enumerate(weights)]
    positions = list(range(1, n_in + 1))
    trace = dict(
        type="bar",
        name="attention",
        x=positions,
        y=weights,
        customdata=tokens,
        marker=dict(color=colors, line=dict(color=HALO_COLOR, width=outline)),
        text=text,
        textposition="outside",
        cliponaxis=False,
        hovertext=[
            f"input position {j + 1} (token {tok}{', padding' if padded and padded[j] else ''})<br>weight = {w:.4f}"
            for j, (tok, w) in enumerate(zip(tokens, weights))
        ],
        hovertemplate="%{hovertext}<extra></extra>",
        showlegend=False,
    )
    tickvals, ticktext = sparse_ticks(positions, input_labels(tokens, padded=padded))
    layout["xaxis"].update(tickmode="array", tickvals=tickvals, ticktext=ticktext, range=[0.5, n_in + 0.5])
    layout["yaxis"].update(range=[0, 1], tickmode="array", tickvals=UNIT_TICKS, zeroline=True)
    layout["margin"]["t"] = max(layout["margin"]["t"], 70)
    return go.Figure(data=[trace], layout=layout)


def _expected_token(expected: int | Sequence[int] | np.ndarray | None, step: int) -> int | None:
    """The expected token at ``step``: ``expected`` itself if a number, else ``expected[step]``."""
    if expected is None:
        return None
    if isinstance(expected, int | np.integer):
        return int(expected)
    values = list(expected)
    if not 0 <= step < len(values):
        raise ValueError(f"expected has {len(values)} tokens; there is no output step {step + 1}")
    return int(values[step])


def top_k(probabilities: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most likely tokens of a distribution (a 1-D array indexed by token) and their probabilities.

    Most likely first; ties go to the smaller token. Fewer than ``k`` when the
    vocabulary is smaller.
    """
    p = np.asarray(probabilities, dtype=float)
    order = np.argsort(-p, kind="stable")[:k]
    return order, p[order]


def top_tokens_bars(
    probabilities: Mapping[str, np.ndarray],
    step: int,
    expected: int | Sequence[int] | np.ndarray | None = None,
    *,
    k: int = 5,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    output_names: Sequence[str] | None = None,
) -> go.Figure:
    """The ``k`` most likely tokens at output step ``step``, one panel per model, side by side.

    Args:
        probabilities: model name -> (steps, K) array; row t is the model's
            distribution over the K tokens at output step t (column = token).
        step: the output step, 0-based.
        expected: the expected token at this step (an int), or the whole
            expected sequence (its ``step``-th token is used); None marks nothing.
        k: bars per model (fewer if K < k).
        labels: model name -> panel title and trace name; default the
            registry's labels (:data:`~seqattn.figures.style.MODEL_LABELS`).
        colors: model name -> bar colour; default the registry's colours.
        output_names: how each output token reads (token t is ``output_names[t]``, e.g.
            a date's ``"0"``..``"9"``, ``"-"``); distinct names. Default ``str(t)``.

    Returns:
        Panels in registry order (baseline first), one bar trace per model
        named by its label: x = the tokens' names, most likely first (a
        category axis), y = their probabilities, ``customdata`` = the tokens as
        ints. Hover: ``"<label><br>token 7<br>p = 0.1234"``. The expected
        token's bar has a thick outline in the "expected" colour
        (``marker.line.width`` is a list, 5 there and 0 elsewhere) and its x tick
        label reads ``"7<br>expected"``; when it is not among the top k, an
        annotation named ``"expected"`` under the panel's title gives its
        probability instead. y axes from 0 with ticks up to 1 (a little
        headroom for the values written above the bars). Works for one model or
        more; an empty mapping gives a "No predictions to show" note.

    Raises:
        ValueError: an array is not 2-D, ``step`` is not one of its rows, ``k`` < 1,
            or ``expected`` is a sequence without a ``step``-th token.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k}")
    models = ordered_models(list(probabilities))
    dists: dict[str, np.ndarray] = {}
    for model in models:
        p = np.asarray(probabilities[model], dtype=float)
        if p.ndim != 2:
            raise ValueError(f"probabilities[{model!r}] must be a 2-D (steps, K) array; got shape {p.shape}")
        check_step(step, p.shape[0])
        dists[model] = p[step]
    target = _expected_token(expected, step)
    names = {m: (labels or {}).get(m, model_label(m)) for m in models}

    def shown(token: int) -> str:
        return output_names[token] if output_names is not None and 0 <= token < len(output_names) else str(token)

    title = f"Output step {step + 1}: the {k} most likely tokens" + (
        f" (expected {shown(target)})" if target is not None else "")
    if not models:
        layout = style_layout(title=title)
        return note(go.Figure(layout=layout), "No predictions to show")

    layout = side_by_side_layout([names[m] for m in models], horizontal_spacing=0.08, shared_yaxes=True)
    style = style_layout(y_title="probability", title=title)
    layout.update({key: value for key, value in style.items() if key not in ("xaxis", "yaxis")})
    layout["showlegend"] = False
    layout.setdefault("annotations", [])
    axis_font = dict(size=BASE_FONT_SIZE - 2)
    data: list[dict[str, Any]] = []
    for index, model in enumerate(models, start=1):
        suffix = "" if index == 1 else str(index)
        x_ref, y_ref = f"x{suffix}", f"y{suffix}"
        tokens, probs = top_k(dists[model], k)
        color = (colors or {}).get(model, model_color(model, index - 1))
        is_expected = [target is not None and int(t) == target for t in tokens]
        data.append(
            dict(
                type="bar",
                name=names[model],
                x=[shown(int(t)) for t in tokens],
                y=probs,
                customdata=[int(t) for t in tokens],
                marker=dict(
                    color=color,
                    line=dict(color=EXPECTED_COLOR, width=[5 if e else 0 for e in is_expected]),
                ),
                text=[f"{p:.2f}" for p in probs],
                textposition="outside",
                cliponaxis=False,
                hovertext=[f"{names[model]}<br>token {shown(int(t))}<br>p = {p:.4f}" for t, p in zip(tokens, probs)],
                hovertemplate="%{hovertext}<extra></extra>",
                xaxis=x_ref,
                yaxis=y_ref,
            )
        )
        layout[f"xaxis{suffix}"].update(
            type="category",
            title=dict(text="token", font=dict(size=BASE_FONT_SIZE + 1)),
            tickfont=axis_font,
            automargin=True,
        )
        layout[f"yaxis{suffix}"].update(
            range=[0, _HEADROOM], tickmode="array", tickvals=UNIT_TICKS, tickfont=axis_font, automargin=True
        )
        if target is None:
            continue
        if any(is_expected):
            # Named under its bar rather than by an arrow above it: the expected token is usually the
            # tallest bar, and an arrow there would run into the panel title.
            ticktext = [
                f'{shown(int(t))}<br><span style="color:{EXPECTED_COLOR}"><b>expected</b></span>' if e
                else shown(int(t))
                for t, e in zip(tokens, is_expected)
            ]
            layout[f"xaxis{suffix}"].update(tickmode="array", tickvals=[shown(int(t)) for t in tokens],
                                            ticktext=ticktext)
        else:
            p_expected = float(dists[model][target]) if 0 <= target < dists[model].shape[0] else 0.0
            domain = layout[f"xaxis{suffix}"]["domain"]
            layout["annotations"].append(
                dict(
                    name="expected",
                    text=f"expected {shown(target)}: p = {p_expected:.4f}, not in the top {k}",
                    xref="paper",
                    yref="paper",
                    x=(domain[0] + domain[1]) / 2,
                    y=0.98,
                    xanchor="center",
                    yanchor="top",
                    showarrow=False,
                    font=dict(size=BASE_FONT_SIZE - 2, color=EXPECTED_COLOR),
                )
            )
    layout["yaxis"]["title"] = dict(text="probability", font=dict(size=BASE_FONT_SIZE + 1))
    return go.Figure(data=data, layout=layout)
