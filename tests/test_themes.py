"""Light and dark (issue 26): both themes declared, and every figure and the home page's diagram readable on both.

Figures are built for the light page and rewritten for the dark one by
:func:`seqattn.figures.apply_theme`; these tests build each builder's figure with small
data, as the builders' own tests do, and look at the colours that come out.
"""

from __future__ import annotations

import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from seqattn import figures as F
from seqattn import palette
from seqattn.diagrams import example_pair_svg
from seqattn.figures.theme import (
    DARK_DIFFERENCE_COLORSCALE,
    GRAPHICS_CONTRAST,
    TEXT_CONTRAST,
    contrast_ratio,
    dark_color,
    parse_color,
    relative_luminance,
)
from seqattn.problem.config import ProblemConfig

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".streamlit" / "config.toml"
INPUTS, OUTPUTS = [12, 20, 36, 40, 12], [12, 20, 0, 0, 7]
# Below these contrasts with the dark page, text (at least the dimmed padding grey's 2.8:1) or an axis or
# grid line (faint on purpose) was drawn for white: dark ink on the dark page.
TEXT_MINIMUM, LINE_MINIMUM = 2.5, 1.2


def _attention(steps: int = 5, n_in: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(n_in), size=steps)


def _history() -> pd.DataFrame:
    n = 10
    return pd.DataFrame({
        "update": np.arange(1, n + 1) * 10,
        "loss_baseline": np.linspace(4, 2, n), "loss_attention": np.linspace(4, 0.1, n),
        "smoothed_baseline": np.linspace(3.9, 2.1, n), "smoothed_attention": np.linspace(3.9, 0.2, n),
        "accuracy_baseline": np.linspace(0, 0.3, n), "accuracy_attention": np.linspace(0, 1, n),
    })


def _cells(until: bool) -> pd.DataFrame:
    rows = []
    for n_in in (5, 10):
        for seed in (0, 1):
            for model, reached, score in (("baseline", 600 if n_in == 5 else np.nan, 0.4), ("attention", 200, 0.99)):
                row = dict(n_in=n_in, seed=seed, model=model, exact_match=score, status="done",
                           alignment=0.8 if model == "attention" else np.nan)
                if until:
                    row.update(reached=reached, until=95, cap=2000)
                rows.append(row)
    return pd.DataFrame(rows)


def _losses() -> pd.DataFrame:
    rows = [(r, u, m, (3.0 if m == "baseline" else 1.0) + 0.1 * r) for r in range(2) for u in range(1, 21)
            for m in ("attention", "baseline")]
    return pd.DataFrame(rows, columns=["repeat", "update", "model", "loss"])


def _probe() -> go.Figure:
    record = {"update": 50, "attention": _attention(4, 4).tolist(), "probe": [5, 6, 7, 8], "probe_tokens": [5, 6, 0, 0]}
    return F.probe_heatmap(record, ProblemConfig(cardinality=10, n_in=4, n_out=2).to_dict(), "Probe")


# One entry per builder (and the variants that draw more: overlays, notes, padding, references).
FIGURES: dict[str, Callable[[], go.Figure]] = {
    "loss_race_figure": lambda: F.loss_race_figure(_history(), 50, log_y=True),
    "loss_race_figure (empty)": lambda: F.loss_race_figure(None, 50),
    "accuracy_race_figure": lambda: F.accuracy_race_figure(_history()),
    "attention_heatmap": lambda: F.attention_heatmap(
        _attention(), INPUTS, OUTPUTS, n_out=2, expected_tokens=[12, 20, 0, 0, 0], show_expected=True,
        highlight_step=1, clickable=True, title="Example"),
    "attention_heatmap (padded inputs)": lambda: F.attention_heatmap(
        _attention(3, 6), list("ab c··"), list("abc"), n_out=3, pad_positions=[False] * 4 + [True] * 2),
    "attention_heatmap (empty)": lambda: F.attention_heatmap(np.zeros((0, 0)), [], [], n_out=0),
    "probe_heatmap": _probe,
    "attention_step_bars": lambda: F.attention_step_bars(_attention(), INPUTS, 1, pad_positions=[False] * 4 + [True]),
    "top_tokens_bars": lambda: F.top_tokens_bars(
        {"baseline": _attention(5, 10, 1), "attention": _attention(5, 10, 2)}, 1, expected=[3, 4, 5, 6, 7], k=3),
    "attention_difference": lambda: F.attention_difference(
        _attention(seed=1), _attention(seed=2), INPUTS, [12, 20, 99, 40, 12], OUTPUTS, [12, 20, 5, 0, 7], n_out=2),
    "forced_attention_comparison": lambda: F.forced_attention_comparison(
        _attention(seed=3), _attention(seed=4), INPUTS, OUTPUTS, [12, 36, 0, 0, 7], n_out=2, step=1, position=2),
    "accuracy_by_position_figure": lambda: F.accuracy_by_position_figure(
        {"attention": [1.0, 0.9, 1, 1, 1], "baseline": [0.5, 0.4, 1, 1, 0.9]}, n_out=2),
    "comparison_figure": lambda: F.comparison_figure(
        pd.DataFrame({"repeat": [0, 0, 1, 1], "model": ["baseline", "attention"] * 2,
                      "exact_match": [0.2, 0.9, 0.3, 1.0]}), {"baseline": 0.231, "attention": 0.957}),
    "comparison_figure (empty)": lambda: F.comparison_figure(None),
    "mean_loss_band_figure": lambda: F.mean_loss_band_figure(_losses()),
    "sweep_figure": lambda: F.sweep_figure(_cells(until=False), chance=0.02),
    "sweep_figure (learning speed)": lambda: F.sweep_figure(_cells(until=True), chance=0.02),
}
NOT_BUILDERS = {"downsample", "largest_moves", "apply_presentation", "apply_theme"}


def _built(name: str, dark: bool) -> go.Figure:
    return F.apply_theme(FIGURES[name](), dark=dark)


def _colours(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every ``(path, colour)`` of a figure part's ``*color`` settings and text spans."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("template", "meta"):
                continue
            here = f"{path}.{key}" if path else key
            if key.endswith("color") and isinstance(value, str):
                yield here, value
            elif key.endswith("color") and isinstance(value, list | tuple):
                yield from ((here, v) for v in value if isinstance(v, str))
            elif isinstance(value, str):
                yield from ((here, m) for m in re.findall(r"color:\s*([^;\"'>]+)", value))
            else:
                yield from _colours(value, here)
    elif isinstance(node, list | tuple):
        for k, item in enumerate(node):
            yield from _colours(item, f"{path}[{k}]")


def _text_colours(fig: go.Figure) -> list[tuple[str, str]]:
    """The colours text and axes are drawn in: fonts and spans, axis lines, and the template's defaults."""
    spec = fig.to_plotly_json()
    template = spec["layout"].get("template", {}).get("layout", {})
    found = list(_colours(spec["layout"])) + [(f"template.{p}", c) for p, c in _colours(template)]
    found += [(f"data[{k}].{p}", c) for k, t in enumerate(spec["data"]) for p, c in _colours(t)]
    axis_parts = ("font", "gridcolor", "linecolor", "zerolinecolor", "tickcolor", "ticktext", ".text")
    return [(p, c) for p, c in found if any(part in p for part in axis_parts) or "color:" in p]


def _visible(colour: str) -> bool:
    parsed = parse_color(colour)
    return parsed is not None and parsed[3] > 0


# --------------------------------------------------------------------------- config.toml


def test_config_declares_a_light_and_a_dark_theme():
    theme = tomllib.loads(CONFIG.read_text())["theme"]
    light, dark = theme["light"], theme["dark"]
    # The light one looks as the app always did.
    assert light == {"primaryColor": "#0072B2", "backgroundColor": palette.LIGHT_BACKGROUND,
                     "secondaryBackgroundColor": "#F0F2F6", "textColor": palette.LIGHT_TEXT}
    # The figures' dark colours are the dark page's.
    assert (dark["backgroundColor"], dark["textColor"]) == (palette.DARK_BACKGROUND, palette.DARK_TEXT)
    assert contrast_ratio(dark["textColor"], dark["backgroundColor"]) >= 7
    assert contrast_ratio(dark["secondaryBackgroundColor"], dark["backgroundColor"]) > 1.2
    assert contrast_ratio(dark["primaryColor"], dark["backgroundColor"]) >= GRAPHICS_CONTRAST
    # Colours in [theme] itself would apply to both themes, and a base would pick one for everybody.
    assert not [key for key in theme if key.endswith("Color") or key == "base"]


def test_streamlit_knows_every_theme_option():
    from streamlit import config

    theme = tomllib.loads(CONFIG.read_text())["theme"]
    for section in ("theme.light", "theme.dark"):
        known = config.get_options_for_section(section)
        assert set(theme[section.split(".")[1]]) <= set(known), section
    assert {k for k, v in theme.items() if not isinstance(v, dict)} <= set(config.get_options_for_section("theme"))


# --------------------------------------------------------------------------- colours


def test_contrast_of_black_on_white_is_21():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21)
    assert relative_luminance("rgba(255,255,255,0.3)") == pytest.approx(1)
    assert parse_color("#abc") == (170, 187, 204, 1.0) and parse_color("rgba(1,2,3,0.5)") == (1, 2, 3, 0.5)
    assert parse_color("Cividis") is None and dark_color("Cividis") == "Cividis"


PALETTE = sorted({getattr(palette, n) for n in dir(palette) if n.endswith("_COLOR")} | set(F.MODEL_COLORS.values()))


def _grey(colour: str) -> bool:
    r, g, b, _ = parse_color(colour)
    return max(r, g, b) - min(r, g, b) <= 16


@pytest.mark.parametrize("colour", PALETTE)
def test_every_palette_colour_reads_on_the_dark_page(colour):
    dark = dark_color(colour)
    if _grey(colour):  # a grey keeps the contrast it had on white (a dimmed grey stays dimmed)
        most = contrast_ratio("#FFFFFF", palette.DARK_BACKGROUND)  # black on white has more than anything here
        assert contrast_ratio(dark, palette.DARK_BACKGROUND) == pytest.approx(
            min(contrast_ratio(colour, palette.LIGHT_BACKGROUND), most), rel=0.05)
    else:  # a colour keeps itself where it has 3:1 on the dark page: every one of the palette does
        assert dark == colour
        assert contrast_ratio(dark, palette.DARK_BACKGROUND) >= GRAPHICS_CONTRAST


def test_the_models_keep_their_colours_and_text_gets_text_contrast():
    for colour in F.MODEL_COLORS.values():
        assert dark_color(colour) == colour
    assert contrast_ratio(dark_color("#0072B2", text=True), palette.DARK_BACKGROUND) >= TEXT_CONTRAST
    # Greys are mirrored: black on white becomes white on the dark page, a white hatch turns dark.
    assert dark_color("#000000") == "#FFFFFF" and relative_luminance(dark_color("#FFFFFF")) < 0.01
    assert dark_color("rgba(255,255,255,0.45)").endswith(",0.45)")


# --------------------------------------------------------------------------- every figure


def test_every_builder_is_covered():
    builders = {name for name in F.__all__ if callable(getattr(F, name)) and name not in NOT_BUILDERS}
    covered = {name.split(" ")[0] for name in FIGURES}
    assert builders <= covered, builders - covered


@pytest.mark.parametrize("name", FIGURES)
def test_light_is_the_figure_unchanged(name):
    fig = FIGURES[name]()
    before = fig.to_json()
    assert F.apply_theme(fig, dark=False) is fig
    assert fig.to_json() == before


@pytest.mark.parametrize("name", FIGURES)
def test_dark_leaves_no_black_text_or_axis(name):
    fig = _built(name, dark=True)
    lines = ("gridcolor", "linecolor", "zerolinecolor", "tickcolor")
    dark = [(path, c) for path, c in _text_colours(fig) if _visible(c) and contrast_ratio(c, palette.DARK_BACKGROUND)
            < (LINE_MINIMUM if path.endswith(lines) else TEXT_MINIMUM)]
    assert not dark, dark
    # Text colours that were set read on the dark page (greys as well as they did on white).
    template_font = fig.layout.template.layout.font.color
    assert contrast_ratio(template_font, palette.DARK_BACKGROUND) >= 7


@pytest.mark.parametrize("name", FIGURES)
def test_dark_backgrounds_are_dark_or_transparent(name):
    fig = _built(name, dark=True)
    for key in ("paper_bgcolor", "plot_bgcolor"):
        colour = fig.layout[key] or fig.layout.template.layout[key]
        parsed = parse_color(colour)
        assert parsed is not None and (parsed[3] == 0 or relative_luminance(colour) < 0.05), (key, colour)


@pytest.mark.parametrize("name", FIGURES)
def test_dark_keeps_the_data_colours(name):
    light, dark = FIGURES[name](), _built(name, dark=True)
    assert len(light.data) == len(dark.data)
    for before, after in zip(light.data, dark.data):
        for part in ("line", "marker"):
            if part in before and isinstance(before[part].color, str):
                old, new = before[part].color, after[part].color
                assert new in (old, dark_color(old)), (before.name, part, old, new)
                if old in F.MODEL_COLORS.values():
                    assert new == old
        if before.type == "heatmap":
            if before.zmid == 0:  # the difference map
                assert [list(s) for s in after.colorscale] == [list(s) for s in DARK_DIFFERENCE_COLORSCALE]
            else:
                assert after.colorscale == before.colorscale  # Cividis


@pytest.mark.parametrize("name", FIGURES)
def test_dark_marks_set_by_builders_read_on_the_dark_page(name):
    light, dark = FIGURES[name](), _built(name, dark=True)
    pairs = list(zip(_colours(light.layout.to_plotly_json()), _colours(dark.layout.to_plotly_json())))
    for (path, old), (_, new) in pairs:
        parsed = parse_color(old)
        if parsed is None or parsed[3] < 1:  # translucent fills are tints, not marks
            continue
        expected = min(contrast_ratio(old, palette.LIGHT_BACKGROUND), GRAPHICS_CONTRAST)
        assert contrast_ratio(new, palette.DARK_BACKGROUND) >= expected - 0.1, (path, old, new)


@pytest.mark.parametrize("name", FIGURES)
def test_dark_twice_is_dark_once(name):
    once = _built(name, dark=True).to_json()
    assert F.apply_theme(_built(name, dark=True), dark=True).to_json() == once


def test_dark_then_presentation_mode_keeps_both():
    fig = F.apply_presentation(_built("attention_heatmap", dark=True), True)
    assert fig.layout.meta["seqattn_theme"] == "dark" and fig.layout.meta["seqattn_presentation"]
    assert fig.layout.font.size == F.LARGE_FONT_SIZE


def test_dark_halos_and_padding_are_mirrored():
    fig = _built("attention_heatmap", dark=True)
    shapes = {s.name: s for s in fig.layout.shapes}
    assert relative_luminance(shapes["step 2"].line.color) > 0.9  # the halo: white on the dark page
    assert relative_luminance(shapes["step 2 (inner)"].line.color) < 0.01  # the line on it: dark
    assert relative_luminance(shapes["padding (target 0)"].line.color) > 0.4
    hatch = parse_color(shapes["padding hatch"].line.color)
    assert max(hatch[:3]) < 40 and hatch[3] == pytest.approx(0.45)
    step_labels = fig.layout.yaxis.ticktext
    assert all(palette.WRONG_COLOR in t or "color" not in t for t in step_labels)  # vermillion reads on dark


# --------------------------------------------------------------------------- the home page's diagram

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(("inputs", "target", "n_out"), [([12, 20, 36, 40, 12], [12, 20, 0, 0, 0], 2), ([], [], 2)])
def test_the_diagram_hard_codes_no_dark_ink(inputs, target, n_out):
    """Ink follows the page's text colour (``currentColor``) or is a grey that reads on both pages; the only
    fixed dark ink is the text of the echoed boxes, on their own light colour."""
    root = ET.fromstring(example_pair_svg(inputs, target, n_out))
    on_echo = set()
    for group in root.iter(f"{SVG_NS}g"):
        rect, text = group.find(f"{SVG_NS}rect"), group.find(f"{SVG_NS}text")
        if rect.get("fill") == palette.ECHO_COLOR:
            assert contrast_ratio(text.get("fill"), palette.ECHO_COLOR) >= TEXT_CONTRAST
            on_echo.add(id(text))
        else:  # a plain box is a faint tint of the page's text colour: light on white, dark on the dark page
            assert rect.get("fill") == "currentColor" and float(rect.get("fill-opacity")) <= 0.1
    for element in root.iter():
        if id(element) in on_echo or element.tag == f"{SVG_NS}rect":
            continue
        for attribute in ("fill", "stroke"):
            colour = element.get(attribute)
            if colour in (None, "none", "currentColor"):
                continue
            for page in (palette.LIGHT_BACKGROUND, palette.DARK_BACKGROUND):
                assert contrast_ratio(colour, page) >= 2.5, (element.tag, attribute, colour, page)
