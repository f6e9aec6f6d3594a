"""Tests for ui.heatmap_clicks.clicked_cell: the clicked heatmap cell read back from a Streamlit selection event."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ui.heatmap_clicks import clicked_cell

ROOT = Path(__file__).resolve().parents[1]


def _event(*points) -> dict:
    return {"selection": {"points": list(points), "point_indices": [], "box": [], "lasso": []}}


def test_clicked_cell_reads_the_first_point_with_customdata():
    click = {"curve_number": 1, "point_number": 7, "point_index": 7, "x": 4, "y": 2, "customdata": [1, 3]}
    assert clicked_cell(_event(click)) == (1, 3)
    # The inner selection alone, floats from JSON, and a point without customdata first.
    outline = {"curve_number": 2, "point_index": 0, "x": 1, "y": 1}
    assert clicked_cell({"points": [outline, {"customdata": [2.0, 0.0]}]}) == (2, 0)


class _AttributeDict(dict):
    """Like Streamlit's PlotlyState: a dict whose keys are also attributes (importing streamlit here would
    change plotly's default template for the other figure tests)."""

    def __getattr__(self, key):
        try:
            value = self[key]
        except KeyError:
            raise AttributeError(key) from None
        return _AttributeDict(value) if isinstance(value, dict) else value


class _SelectionObject:
    def __init__(self, points):
        self.points = points


def test_clicked_cell_reads_attribute_style_events():
    assert clicked_cell(_AttributeDict(_event({"customdata": [0, 4], "x": 5, "y": 1}))) == (0, 4)
    assert clicked_cell(_SelectionObject([{"customdata": (3, 1)}])) == (3, 1)
    assert clicked_cell({"selection": {"points": [{"customdata": np.array([2, 2])}]}}) == (2, 2)


@pytest.mark.parametrize(
    "selection",
    [
        None,
        {},
        [],
        "points",
        _event(),
        {"selection": None},
        {"selection": {"points": None}},
        {"selection": {"points": "nope"}},
        _event({"x": 1, "y": 2}),
        _event({"customdata": None}),
        _event({"customdata": [1]}),
        _event({"customdata": "12"}),
        _event({"customdata": ["a", "b"]}),
        _event({"customdata": [1.5, 2]}),
        _event({"customdata": [-1, 2]}),
        _event(None, 3, "x"),
    ],
)
def test_clicked_cell_tolerates_malformed_selections(selection):
    assert clicked_cell(selection) is None



def test_clicked_cell_reads_back_the_click_layer_of_a_clickable_heatmap():
    from seqattn.figures import CLICK_LAYER_NAME, attention_heatmap

    att = np.random.default_rng(0).dirichlet(np.ones(4), size=3)
    fig = attention_heatmap(att, [5, 6, 7, 8], [5, 6, 0], n_out=2, clickable=True)
    layer = next(t for t in fig.data if t.name == CLICK_LAYER_NAME)
    index = 2 * 4 + 1  # output step 2, input position 1 (0-based), row by row
    point = {"curve_number": 1, "point_index": index, "x": layer.x[index], "y": layer.y[index],
             "customdata": list(layer.customdata[index])}
    assert clicked_cell(_event(point)) == (2, 1)


def test_a_click_on_a_wide_heatmap_of_characters_with_padding_reads_back_too():
    from seqattn.figures import CLICK_LAYER_NAME, attention_heatmap

    inputs = list("9␣may␣2018") + ["·"] * 19  # a date: 29 characters, padded at the end
    att = np.random.default_rng(0).dirichlet(np.ones(29), size=10)
    fig = attention_heatmap(att, inputs, list("2018-05-09"), n_out=10, clickable=True,
                            pad_positions=[t == "·" for t in inputs])
    layer = next(t for t in fig.data if t.name == CLICK_LAYER_NAME)
    assert len(layer.x) == 10 * 29
    index = 4 * 29 + 2  # output step 4, input position 2 ("m")
    assert "input position 3 (token m)" in layer.text[index]
    point = {"curve_number": 1, "point_index": index, "customdata": list(layer.customdata[index])}
    assert clicked_cell(_event(point)) == (4, 2)


def test_module_imports_neither_streamlit_nor_plotly():
    code = "import sys, ui.heatmap_clicks; print(sorted(m for m in ('streamlit', 'plotly') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
