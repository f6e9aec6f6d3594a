"""Tests for the Explore-deeper figures: step bars, top tokens, difference map, forced attention, clickable heatmap."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from seqattn import figures as F
from seqattn.figures import CLICK_LAYER_NAME

INPUTS = [12, 20, 36, 40, 12]
OUTPUTS = [12, 20, 0, 0, 7]


def _attention(steps: int = 5, n_in: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(n_in), size=steps)


def _centres(trace) -> list[tuple[int, int]]:
    """(x, y) centres of the squares a cell-outline trace draws (5 points and a None each)."""
    xs = np.array([v for v in trace.x if v is not None], dtype=float).reshape(-1, 5)
    ys = np.array([v for v in trace.y if v is not None], dtype=float).reshape(-1, 5)
    return [(round(x), round(y)) for x, y in zip(xs[:, :4].mean(1), ys[:, :4].mean(1))]


def _trace(fig: go.Figure, name: str):
    matches = [t for t in fig.data if t.name == name]
    assert len(matches) == 1, [t.name for t in fig.data]
    return matches[0]


# --------------------------------------------------------------------------- attention step bars


def test_step_bars_heights_labels_and_range():
    att = _attention()
    fig = F.attention_step_bars(att, INPUTS, 2)
    bar = fig.data[0]
    assert bar.type == "bar" and len(fig.data) == 1
    np.testing.assert_allclose(bar.y, att[2])
    assert list(bar.x) == [1, 2, 3, 4, 5]
    assert list(bar.customdata) == INPUTS
    assert list(fig.layout.xaxis.ticktext) == ["1: 12", "2: 20", "3: 36", "4: 40", "5: 12"]
    assert tuple(fig.layout.yaxis.range) == (0, 1)
    assert fig.layout.title.text == "Output step 3: where it looks"
    assert F.attention_step_bars(att, INPUTS, 0, title="Mine").layout.title.text == "Mine"


def test_step_bars_emphasise_the_largest_and_hover_has_4_decimals():
    att = _attention()
    att[1] = [0.1, 0.05, 0.61234, 0.2, 0.03766]
    bar = F.attention_step_bars(att, INPUTS, 1).data[0]
    colors = list(bar.marker.color)
    assert colors[2] == F.MODEL_COLORS["attention"]
    assert all(c != colors[2] for k, c in enumerate(colors) if k != 2)
    widths = list(bar.marker.line.width)
    assert widths[2] > 0 and all(w == 0 for k, w in enumerate(widths) if k != 2)
    assert bar.hovertext[2] == "input position 3 (token 36)<br>weight = 0.6123"
    assert "%{hovertext}" in bar.hovertemplate


@pytest.mark.parametrize("step", [-1, 5, 99])
def test_step_bars_reject_step_out_of_range(step):
    with pytest.raises(ValueError, match="step"):
        F.attention_step_bars(_attention(), INPUTS, step)


def test_step_bars_reject_bad_shapes():
    with pytest.raises(ValueError, match="2-D"):
        F.attention_step_bars(np.ones(5) / 5, INPUTS, 0)
    with pytest.raises(ValueError, match="input"):
        F.attention_step_bars(_attention(3, 4), INPUTS, 0)


# --------------------------------------------------------------------------- top tokens


def _probabilities(steps: int = 4, k: int = 10) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {"attention": rng.dirichlet(np.ones(k), size=steps), "baseline": rng.dirichlet(np.ones(k), size=steps)}


def test_top_tokens_k_bars_per_model_in_order_and_colours():
    probs = _probabilities()
    fig = F.top_tokens_bars(probs, 1, k=4)
    # Registry order: baseline first, whatever the mapping order.
    assert [t.name for t in fig.data] == [F.MODEL_LABELS["baseline"], F.MODEL_LABELS["attention"]]
    for trace, model in zip(fig.data, ["baseline", "attention"]):
        row = probs[model][1]
        expected_tokens = np.argsort(-row)[:4]
        assert len(trace.x) == 4
        assert list(trace.customdata) == expected_tokens.tolist()
        assert list(trace.x) == [str(t) for t in expected_tokens]
        np.testing.assert_allclose(trace.y, row[expected_tokens])
        assert list(trace.y) == sorted(trace.y, reverse=True)
        assert trace.marker.color == F.MODEL_COLORS[model]
        assert trace.hovertext[0] == f"{F.MODEL_LABELS[model]}<br>token {expected_tokens[0]}<br>p = {row[expected_tokens[0]]:.4f}"
    # One panel per model, each its own category axis from 0.
    assert fig.data[0].xaxis in (None, "x") and fig.data[1].xaxis == "x2"
    assert fig.layout.xaxis.type == "category" and fig.layout.xaxis2.type == "category"
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] >= 1
    assert [a.text for a in fig.layout.annotations][:2] == [F.MODEL_LABELS["baseline"], F.MODEL_LABELS["attention"]]


def test_top_tokens_marks_the_expected_token():
    probs = {"attention": np.array([[0.05, 0.6, 0.2, 0.1, 0.05], [0.9, 0.04, 0.03, 0.02, 0.01]])}
    fig = F.top_tokens_bars(probs, 0, expected=[2, 0], k=3)
    assert len(fig.data) == 1
    bar = fig.data[0]
    assert list(bar.customdata) == [1, 2, 3]
    assert list(bar.marker.line.width) == [0, 5, 0]
    assert bar.marker.line.color == F.EXPECTED_COLOR
    ticks = list(fig.layout.xaxis.ticktext)
    assert "expected" in ticks[1] and not any("expected" in t for k, t in enumerate(ticks) if k != 1)
    # An int works as the expected token too.
    same = F.top_tokens_bars(probs, 0, expected=2, k=3)
    assert list(same.data[0].marker.line.width) == [0, 5, 0]


def test_top_tokens_expected_outside_top_k_is_noted():
    probs = {"attention": np.array([[0.05, 0.6, 0.2, 0.1, 0.05]])}
    fig = F.top_tokens_bars(probs, 0, expected=4, k=2)
    assert list(fig.data[0].marker.line.width) == [0, 0]
    notes = [a.text for a in fig.layout.annotations if a.name == "expected"]
    assert notes == ["expected 4: p = 0.0500, not in the top 2"]


def test_top_tokens_custom_labels_colours_small_vocabulary_and_errors():
    probs = {"attention": np.array([[0.7, 0.3]])}
    fig = F.top_tokens_bars(probs, 0, k=5, labels={"attention": "Mine"}, colors={"attention": "#123456"})
    assert fig.data[0].name == "Mine" and fig.data[0].marker.color == "#123456"
    assert len(fig.data[0].x) == 2  # K < k
    assert "No predictions to show" in [a.text for a in F.top_tokens_bars({}, 0).layout.annotations]
    with pytest.raises(ValueError, match="step"):
        F.top_tokens_bars(probs, 1)
    with pytest.raises(ValueError, match="k"):
        F.top_tokens_bars(probs, 0, k=0)
    with pytest.raises(ValueError, match="2-D"):
        F.top_tokens_bars({"attention": np.ones(3)}, 0)


# --------------------------------------------------------------------------- difference map


def test_largest_moves_sorted_by_size_with_sign():
    first = np.zeros((2, 3))
    second = np.zeros((2, 3))
    second[0, 1] = 0.5
    second[1, 2] = -0.7
    second[1, 0] = 0.2
    moves = F.largest_moves(first, second, top=2)
    assert moves == [(1, 2, pytest.approx(-0.7)), (0, 1, pytest.approx(0.5))]
    assert len(F.largest_moves(first, second, top=10)) == 3  # unmoved cells are left out
    assert F.largest_moves(first, first) == []
    assert F.largest_moves(first, second, top=0) == []
    with pytest.raises(ValueError, match="same shape"):
        F.largest_moves(first, np.zeros((3, 2)))


def test_difference_panels_values_and_scale():
    first, second = _attention(seed=1), _attention(seed=2)
    second_inputs = [12, 20, 99, 40, 12]
    fig = F.attention_difference(first, second, INPUTS, second_inputs, OUTPUTS, [12, 20, 5, 0, 7], n_out=2)
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert [t.name for t in heat] == ["first", "second", "difference"]
    assert [t.xaxis or "x" for t in heat] == ["x", "x2", "x3"]
    np.testing.assert_allclose(heat[0].z, first)
    np.testing.assert_allclose(heat[1].z, second)
    np.testing.assert_allclose(heat[2].z, second - first)
    assert (heat[0].zmin, heat[0].zmax) == (0, 1) and (heat[1].zmin, heat[1].zmax) == (0, 1)
    span = np.abs(second - first).max()
    assert heat[2].zmid == 0
    assert heat[2].zmin == pytest.approx(-span) and heat[2].zmax == pytest.approx(span)
    # One shared attention colour bar, one for the change.
    assert heat[0].showscale is False and heat[1].showscale is not False and heat[2].showscale is not False
    # Positions where the inputs differ are highlighted on every panel.
    for axis in (fig.layout.xaxis, fig.layout.xaxis2, fig.layout.xaxis3):
        marked = ["≠" in label for label in axis.ticktext]
        assert marked == [False, False, True, False, False]
    assert "36→99" in fig.layout.xaxis3.ticktext[2]
    assert "3: 99" in fig.layout.xaxis2.ticktext[2]
    # The second panel's step labels say which predictions changed.
    assert "(was 0)" in fig.layout.yaxis2.ticktext[2]
    assert not any("(was" in label for k, label in enumerate(fig.layout.yaxis2.ticktext) if k != 2)


def test_difference_hover_has_both_weights_and_change():
    first, second = _attention(seed=1), _attention(seed=2)
    fig = F.attention_difference(first, second, INPUTS, INPUTS, OUTPUTS, OUTPUTS, n_out=5)
    text = _trace(fig, "difference").text[1][3]
    assert f"first p = {first[1, 3]:.4f}" in text
    assert f"second p = {second[1, 3]:.4f}" in text
    assert f"change = {second[1, 3] - first[1, 3]:+.4f}" in text
    assert "output step 2" in text and "input position 4" in text


@pytest.mark.parametrize("top", [1, 3, 5])
def test_difference_outlines_the_largest_moves(top):
    first, second = _attention(seed=4), _attention(seed=5)
    fig = F.attention_difference(first, second, INPUTS, INPUTS, OUTPUTS, OUTPUTS, n_out=2, top=top)
    moves = F.largest_moves(first, second, top)
    outline = _trace(fig, "largest moves")
    assert outline.xaxis == "x3" and outline.yaxis == "y3"
    assert _centres(outline) == [(j + 1, i + 1) for i, j, _ in moves]
    assert [tuple(m) for m in outline.meta] == [(i, j, pytest.approx(c)) for i, j, c in moves]
    assert _centres(_trace(fig, "largest moves (inner)")) == _centres(outline)


def test_difference_of_equal_matrices_still_renders():
    att = _attention()
    fig = F.attention_difference(att, att, INPUTS, INPUTS, OUTPUTS, OUTPUTS, n_out=2)
    diff = _trace(fig, "difference")
    assert np.allclose(diff.z, 0)
    assert diff.zmax > 0 and diff.zmin == -diff.zmax
    assert not any(t.name == "largest moves" for t in fig.data)


def test_difference_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        F.attention_difference(_attention(5, 5), _attention(4, 5), INPUTS, INPUTS, OUTPUTS, OUTPUTS, 2)
    with pytest.raises(ValueError):
        F.attention_difference(_attention(), _attention(), INPUTS, INPUTS[:4], OUTPUTS, OUTPUTS, 2)


# --------------------------------------------------------------------------- heatmap additions


def test_default_heatmap_is_unchanged_by_the_new_options():
    att = _attention()
    plain = F.attention_heatmap(att, INPUTS, OUTPUTS, n_out=2)
    explicit = F.attention_heatmap(att, INPUTS, OUTPUTS, n_out=2, highlight_step=None, clickable=False)
    assert plain.to_plotly_json() == explicit.to_plotly_json()
    assert len(plain.data) == 1 and plain.data[0].hovertemplate == "%{text}<extra></extra>"


def test_highlight_step_frames_that_row():
    fig = F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2, highlight_step=3)
    frames = [s for s in fig.layout.shapes if s.name == "step 4"]
    assert len(frames) == 1
    frame = frames[0]
    assert (frame.y0, frame.y1) == (3.5, 4.5) and (frame.x0, frame.x1) == (0.5, 5.5)
    assert any(s.name == "step 4 (inner)" for s in fig.layout.shapes)
    with pytest.raises(ValueError, match="highlight_step"):
        F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2, highlight_step=5)


def test_clickable_layer_has_one_point_per_cell_with_customdata():
    att = _attention(3, 4)
    fig = F.attention_heatmap(att, INPUTS[:4], OUTPUTS[:3], n_out=2, clickable=True, show_expected=True)
    cells = _trace(fig, CLICK_LAYER_NAME)
    assert cells.type == "scatter" and cells.mode == "markers"
    assert len(cells.x) == 12
    custom = [tuple(c) for c in cells.customdata]
    assert custom == [(i, j) for i in range(3) for j in range(4)]
    assert list(cells.x) == [j + 1 for _, j in custom] and list(cells.y) == [i + 1 for i, _ in custom]
    assert cells.marker.opacity == 0 and cells.showlegend is False
    # Hover shows once: on the click layer, not on the heatmap.
    heat = fig.data[0]
    assert heat.hoverinfo == "skip" and heat.hovertemplate is None
    assert cells.hovertemplate == "%{text}<extra></extra>"
    assert f"p = {att[2, 1]:.4f}" in cells.text[2 * 4 + 1]
    assert "output step 3 (predicts 0)" in cells.text[9] and "input position 2 (token 20)" in cells.text[9]
    assert fig.layout.hoverdistance == -1


def test_heatmap_hover_has_positions_tokens_and_4_decimal_weight():
    att = _attention()
    att[4] = [0.1, 0.2, 0.3, 0.123456, 0.276544]
    text = F.attention_heatmap(att, INPUTS, OUTPUTS, n_out=2).data[0].text[4][3]
    assert "output step 5 (predicts 7)" in text and "input position 4 (token 40)" in text and "p = 0.1235" in text


# --------------------------------------------------------------------------- forced attention


def test_forced_comparison_marks_changed_tokens_and_the_forced_row():
    original, forced = _attention(seed=6), _attention(seed=7)
    fig = F.forced_attention_comparison(original, forced, INPUTS, OUTPUTS, [12, 36, 0, 0, 7], n_out=2, step=1, position=2)
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert [t.name for t in heat] == ["original", "forced"]
    np.testing.assert_allclose(heat[0].z, original)
    np.testing.assert_allclose(heat[1].z, forced)
    assert [a.text for a in fig.layout.annotations][:2] == ["As the model looked", "Forced: step 2 looks at position 3"]
    labels = list(fig.layout.yaxis2.ticktext)
    assert "2 → 36 (was 20)" in labels[1]
    assert not any("(was" in label for k, label in enumerate(labels) if k != 1)
    assert not any("(was" in label for label in fig.layout.yaxis.ticktext)
    frames = [s for s in fig.layout.shapes if s.name == "forced step 2"]
    assert sorted(s.xref for s in frames) == ["x", "x2"]
    assert all((s.y0, s.y1) == (1.5, 2.5) for s in frames)
    assert _centres(_trace(fig, "forced cell")) == [(3, 2)]
    assert "prediction changed: was 20" in heat[1].text[1][0]


def test_forced_comparison_rejects_bad_step_and_position():
    att = _attention()
    with pytest.raises(ValueError, match="step"):
        F.forced_attention_comparison(att, att, INPUTS, OUTPUTS, OUTPUTS, 2, step=5, position=0)
    with pytest.raises(ValueError, match="position"):
        F.forced_attention_comparison(att, att, INPUTS, OUTPUTS, OUTPUTS, 2, step=0, position=-1)


# --------------------------------------------------------------------------- task tokens (issue 23)

DATE = list("9 may 2018".replace(" ", "␣")) + ["·"] * 19
DATE_PAD = [t == "·" for t in DATE]
ISO = list("2018-05-09")
OUTPUT_NAMES = list("0123456789-")


def test_top_tokens_are_named_by_the_tasks_output_names():
    p = np.full((10, 11), 0.01)
    p[4, 10], p[4, 3] = 0.8, 0.1  # step 5: the dash
    fig = F.top_tokens_bars({"attention": p}, 4, [2, 0, 1, 8, 10, 0, 5, 10, 0, 9], k=3, output_names=OUTPUT_NAMES)
    bar = fig.data[0]
    assert list(bar.x) == ["-", "3", "0"] and list(bar.customdata) == [10, 3, 0]
    assert "(expected -)" in fig.layout.title.text and "token -" in bar.hovertext[0]
    assert "expected" in fig.layout.xaxis.ticktext[0] and fig.layout.xaxis.tickvals[0] == "-"
    elsewhere = F.top_tokens_bars({"attention": p}, 4, 5, k=2, output_names=OUTPUT_NAMES)
    assert any(a.text.startswith("expected 5: p = ") for a in elsewhere.layout.annotations)


def test_step_bars_take_string_tokens_and_grey_the_padding():
    att = _attention(10, 29)
    fig = F.attention_step_bars(att, DATE, 0, pad_positions=DATE_PAD)
    bar = fig.data[0]
    assert list(bar.customdata)[:3] == ["9", "␣", "m"]
    ticks = list(fig.layout.xaxis.ticktext)
    assert ticks[:3] == ["9", "␣", "m"] and F.PAD_COLOR in ticks[-1] and F.PAD_COLOR not in ticks[0]
    assert "padding" in bar.hovertext[-1] and "padding" not in bar.hovertext[0]
    with pytest.raises(ValueError, match="pad_positions"):
        F.attention_step_bars(att, DATE, 0, pad_positions=[True])


def test_difference_of_two_dates_stacks_its_panels_and_dims_each_ones_padding():
    first, second = _attention(10, 29, seed=1), _attention(10, 29, seed=2)
    other = DATE[:10] + ["x"] + ["·"] * 18  # one more character: it differs at position 11 and pads from 12
    fig = F.attention_difference(first, second, DATE, other, ISO, list("2018-05-19"), 10,
                                 first_padded=DATE_PAD, second_padded=[t == "·" for t in other])
    heat = {t.name: t for t in fig.data if t.type == "heatmap"}
    np.testing.assert_allclose(heat["difference"].z, second - first)
    # One above the other: the panels share the width, not the height.
    assert fig.layout.xaxis.domain == fig.layout.xaxis3.domain == (0.0, 1.0)
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1] > fig.layout.yaxis3.domain[1]
    assert fig.layout.yaxis3.title.text == "output step → predicted token"
    # Padding per panel: the first from position 11, the second from 12, the change where both are.
    runs = [(s.xref, s.x0) for s in fig.layout.shapes if s.name == "padding (input)"]
    assert runs == [("x", 10.5), ("x2", 11.5), ("x3", 11.5)]
    # One character per column on every panel; where the inputs differ, bold vermillion.
    third = list(fig.layout.xaxis3.ticktext)
    assert third[:3] == ["9", "␣", "m"] and "x" in third[10] and F.WRONG_COLOR in third[10]
    assert "→" not in "".join(third) and F.WRONG_COLOR in fig.layout.xaxis.ticktext[10]
    assert list(fig.layout.yaxis2.ticktext)[8].find("(was 0)") > 0


def test_forced_comparison_takes_string_tokens_and_padding():
    att = _attention(10, 29)
    fig = F.forced_attention_comparison(att, att, DATE, ISO, ISO, 10, step=0, position=2, pad_positions=DATE_PAD)
    assert [t.name for t in fig.data if t.type == "heatmap"] == ["original", "forced"]
    assert sorted(s.xref for s in fig.layout.shapes if s.name == "padding (input)") == ["x", "x2"]
    assert list(fig.layout.xaxis2.ticktext)[:3] == ["9", "␣", "m"]
    assert not any("(was" in label for label in fig.layout.yaxis2.ticktext)
