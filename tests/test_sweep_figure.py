"""Tests for seqattn.figures.sweep_figure: exact match against a swept setting, from plain frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqattn import figures as F

LENGTHS = [5, 10, 20]
SEEDS = [0, 1, 2]


def _cells() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for n_in in LENGTHS:
        for seed in SEEDS:
            rows.append(dict(n_in=n_in, seed=seed, model="baseline", exact_match=rng.random() * 0.5,
                             alignment=np.nan, status="done"))
            rows.append(dict(n_in=n_in, seed=seed, model="attention", exact_match=0.5 + rng.random() * 0.5,
                             alignment=rng.random(), status="done"))
    return pd.DataFrame(rows)


def _by_name(fig):
    return {t.name: t for t in fig.data}


def _stats(cells: pd.DataFrame, model: str, column: str = "exact_match") -> pd.DataFrame:
    rows = cells[cells["model"] == model]
    return rows.groupby("n_in", sort=True)[column].agg(["mean", "min", "max", "count"])


def test_sweep_traces_per_model_then_alignment():
    fig = F.sweep_figure(_cells())
    assert [t.name for t in fig.data] == [
        "Baseline (no attention) min",
        "Baseline (no attention) max",
        "Baseline (no attention)",
        "Attention min",
        "Attention max",
        "Attention",
        "Attention alignment",
    ]
    for model in ("baseline", "attention"):
        mean = _by_name(fig)[F.MODEL_LABELS[model]]
        assert mean.mode == "lines+markers"
        assert mean.line.color == F.MODEL_COLORS[model]
        assert mean.showlegend is not False
    assert fig.layout.title.text == "Exact match against input length"
    assert fig.layout.xaxis.title.text == "input length"
    assert fig.layout.yaxis.title.text == "held-out exact match"
    assert fig.layout.yaxis.tickformat.endswith("%") and tuple(fig.layout.yaxis.range) == (0, 1)
    assert list(fig.layout.xaxis.tickvals) == LENGTHS


def test_sweep_mean_and_band_are_mean_min_max_over_seeds():
    cells = _cells()
    fig = F.sweep_figure(cells)
    for model in ("baseline", "attention"):
        label = F.MODEL_LABELS[model]
        by_name = _by_name(fig)
        low, high, mean = by_name[f"{label} min"], by_name[f"{label} max"], by_name[label]
        stats = _stats(cells, model)
        assert list(mean.x) == LENGTHS
        np.testing.assert_allclose(mean.y, stats["mean"])
        np.testing.assert_allclose(low.y, stats["min"])
        np.testing.assert_allclose(high.y, stats["max"])
        assert high.fill == "tonexty" and low.fill in (None, "none")
        assert low.hoverinfo == "skip" and high.hoverinfo == "skip"
        assert low.showlegend is False and high.showlegend is False
        assert low.legendgroup == high.legendgroup == mean.legendgroup == model
        assert float(high.fillcolor.rstrip(")").split(",")[-1]) < 0.5
        # Hover: x, mean, min, max and how many seeds.
        assert "%{x}" in mean.hovertemplate and "%{y" in mean.hovertemplate
        assert "customdata[0]" in mean.hovertemplate and "customdata[1]" in mean.hovertemplate
        assert "customdata[2]" in mean.hovertemplate
        first = list(mean.customdata[0])
        assert first[0] == pytest.approx(stats["min"].iloc[0]) and first[1] == pytest.approx(stats["max"].iloc[0])
        assert first[2] == "3 seeds"


def test_sweep_alignment_only_for_the_attention_model_on_a_secondary_axis():
    cells = _cells()
    cells.loc[cells["model"] == "baseline", "alignment"] = 0.123  # ignored: the baseline does not attend
    fig = F.sweep_figure(cells)
    aligned = [t for t in fig.data if "alignment" in t.name]
    assert [t.name for t in aligned] == ["Attention alignment"]
    trace = aligned[0]
    assert trace.yaxis == "y2" and trace.line.dash == "dot"
    assert trace.line.color == F.MODEL_COLORS["attention"]
    np.testing.assert_allclose(trace.y, _stats(cells, "attention", "alignment")["mean"])
    assert all(t.yaxis in (None, "y") for t in fig.data if t is not trace)
    assert fig.layout.yaxis2.title.text == "alignment score"
    assert tuple(fig.layout.yaxis2.range) == (0, 1) and fig.layout.yaxis2.overlaying == "y"


def test_sweep_without_alignment_has_no_secondary_axis():
    cells = _cells().drop(columns=["alignment"])
    fig = F.sweep_figure(cells)
    assert not any("alignment" in t.name for t in fig.data)
    assert "yaxis2" not in fig.to_plotly_json()["layout"]


def test_sweep_chance_line_only_when_given():
    fig = F.sweep_figure(_cells(), chance=0.05)
    chance = [s for s in fig.layout.shapes if s.name == "chance"]
    assert len(chance) == 1
    assert chance[0].y0 == pytest.approx(0.05) and chance[0].y1 == pytest.approx(0.05)
    assert chance[0].yref == "y" and chance[0].line.dash == "dash"
    assert chance[0].label.text == "chance"
    assert not F.sweep_figure(_cells()).layout.shapes


def test_sweep_ignores_rows_not_done_and_nan_scores():
    cells = _cells()
    done = cells.copy()
    cells.loc[0, "status"] = "failed"
    cells.loc[1, "status"] = "running"
    cells.loc[2, "exact_match"] = np.nan
    # A whole length that is still running must not appear at all.
    extra = _cells().query("n_in == 5").assign(n_in=40, status="running", exact_match=1.0)
    fig = F.sweep_figure(pd.concat([cells, extra], ignore_index=True))
    expected = done.drop(index=[0, 1, 2])
    for model in ("baseline", "attention"):
        mean = _by_name(fig)[F.MODEL_LABELS[model]]
        assert 40 not in list(mean.x)
        np.testing.assert_allclose(mean.y, _stats(expected, model)["mean"])
    # Length 5 kept one baseline seed (rows 0 and 2 dropped) and two attention seeds (row 1 dropped).
    assert list(_by_name(fig)["Baseline (no attention)"].customdata[0])[2] == "1 seed"
    assert list(_by_name(fig)["Attention"].customdata[0])[2] == "2 seeds"
    assert list(fig.layout.xaxis.tickvals) == LENGTHS


def test_sweep_single_seed_band_collapses_onto_the_mean():
    cells = _cells().query("seed == 0")
    fig = F.sweep_figure(cells)
    low, high, mean = fig.data[3:6]
    np.testing.assert_allclose(low.y, mean.y)
    np.testing.assert_allclose(high.y, mean.y)
    assert list(mean.customdata[0])[2] == "1 seed"


def test_sweep_other_axis_and_labels():
    cells = _cells().rename(columns={"n_in": "cardinality"})
    fig = F.sweep_figure(cells, axis="cardinality")
    assert fig.layout.xaxis.title.text == "cardinality"
    assert fig.layout.title.text == "Exact match against cardinality"
    fig = F.sweep_figure(_cells(), axis_label="input length n", title="Fig. 2")
    assert fig.layout.xaxis.title.text == "input length n" and fig.layout.title.text == "Fig. 2"


@pytest.mark.parametrize(
    "cells",
    [
        None,
        pd.DataFrame(),
        pd.DataFrame(columns=["n_in", "seed", "model", "exact_match", "alignment", "status"]),
        _cells().assign(status="running"),
        _cells().assign(exact_match=np.nan),
    ],
)
def test_sweep_nothing_done_gives_a_note(cells):
    fig = F.sweep_figure(cells, chance=0.1)
    assert len(fig.data) == 0
    assert "No results yet" in [a.text for a in fig.layout.annotations]
    assert [s.name for s in fig.layout.shapes] == ["chance"]


def test_sweep_rejects_missing_columns():
    with pytest.raises(ValueError, match="exact_match"):
        F.sweep_figure(pd.DataFrame({"n_in": [5], "model": ["attention"], "score": [0.2]}))
    with pytest.raises(ValueError, match="n_out"):
        F.sweep_figure(_cells(), axis="n_out")


def test_sweep_presentation_mode_enlarges_both_y_axes():
    fig = F.apply_presentation(F.sweep_figure(_cells()), True)
    assert fig.layout.yaxis.title.font.size == fig.layout.yaxis2.title.font.size > F.BASE_FONT_SIZE + 1


# --- trained to a threshold: updates to it, exact match at the end, alignment ---------------------

CAP = 2000


def _until_cells() -> pd.DataFrame:
    """Attention reaches 95 % in 200-300 updates everywhere; the baseline needs more as inputs grow,
    one seed misses the cap at length 10 and every seed at length 20."""
    baseline = {5: [600, 700, 800], 10: [1500, 1800, None], 20: [None, None, None]}
    rows = []
    for n_in in LENGTHS:
        for seed in SEEDS:
            reached = baseline[n_in][seed]
            rows.append(dict(n_in=n_in, seed=seed, model="baseline", reached=reached if reached else np.nan,
                             exact_match=0.96 if reached else 0.01, alignment=np.nan, until=95, cap=CAP, status="done"))
            rows.append(dict(n_in=n_in, seed=seed, model="attention", reached=200 + 50 * seed, exact_match=0.99,
                             alignment=0.8, until=95, cap=CAP, status="done"))
    rows.append(dict(n_in=20, seed=3, model="attention", reached=np.nan, exact_match=np.nan, alignment=np.nan,
                     until=95, cap=CAP, status="failed"))
    return pd.DataFrame(rows)


def test_a_sweep_trained_to_a_threshold_gets_three_panels_sharing_x():
    fig = F.sweep_figure(_until_cells(), chance=0.0004, caption="until 95 %, cap 2,000, batched, seeds 0-2")
    assert fig.layout.title.subtitle.text == "until 95 %, cap 2,000, batched, seeds 0-2"
    long = "Each model trained until 95 % or 2,000 updates (the cap); batched protocol, batch 32; seeds 0-2; K = 50"
    assert F.sweep_figure(_until_cells(), caption=long).layout.title.subtitle.text == (
        "Each model trained until 95 % or 2,000 updates (the cap); batched protocol, batch 32; seeds 0-2;<br>K = 50")
    assert fig.layout.yaxis.type == "log", "(a) updates to the threshold, log scale"
    assert fig.layout.yaxis2.tickformat.endswith("%"), "(b) exact match at the end"
    assert fig.layout.xaxis3.title.text == "input length"
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:3] == ["Updates to reach 95 % exact match (log scale)", "Held-out exact match at the end",
                          "Alignment score of the attention model"]
    panels = {(t.xaxis, t.yaxis) for t in fig.data if t.x is not None and t.x[0] is not None}
    assert panels == {("x", "y"), ("x2", "y2"), ("x3", "y3")}
    shapes = {s.name: s for s in fig.layout.shapes}
    assert shapes["cap"].y0 == CAP and shapes["cap"].yref == "y"
    assert shapes["chance"].y0 == 0.0004 and shapes["chance"].yref == "y2"


def test_updates_to_threshold_count_a_missed_seed_at_the_cap_with_its_own_marker():
    fig = F.sweep_figure(_until_cells())
    lines = {(t.name, t.yaxis): t for t in fig.data}
    baseline = lines[("Baseline (no attention)", "y")]
    assert list(baseline.x) == LENGTHS
    assert list(baseline.y) == pytest.approx([700, (1500 + 1800 + CAP) / 3, CAP])
    assert list(baseline.marker.symbol) == ["circle", "triangle-up", "x"]
    assert baseline.customdata[1][2] == "2 of 3 seeds reached it; 1 did not, counted at the cap (2,000): a lower bound"
    assert "0 of 3" in baseline.customdata[2][2]
    band = lines[("Baseline (no attention) max", "y")]
    assert list(band.y) == [800, CAP, CAP]
    attention = lines[("Attention", "y")]
    assert list(attention.y) == pytest.approx([250, 250, 250]), "the failed cell is left out"
    assert list(attention.marker.symbol) == ["circle"] * 3
    legend_only = [t.name for t in fig.data if t.x is not None and t.x[0] is None]
    assert legend_only == ["some seeds did not reach it (lower bound)", "no seed reached it (at the cap)"]
    end = lines[("Baseline (no attention) exact match", "y2")]
    assert list(end.y) == pytest.approx([0.96, (0.96 * 2 + 0.01) / 3, 0.01])
    assert lines[("Attention alignment", "y3")].y[0] == pytest.approx(0.8)


def test_a_threshold_figure_needs_its_columns_and_says_when_nothing_finished():
    cells = _until_cells()
    with pytest.raises(ValueError, match="reached"):
        F.sweep_figure(cells.drop(columns=["reached"]))
    empty = F.sweep_figure(cells.assign(status="failed"))
    assert [a.text for a in empty.layout.annotations][-1] == "No results yet"
    assert not empty.data
