"""The dark theme for any figure of this package: :func:`apply_theme` rewrites a built figure.

Builders draw for the light page, as they always did, and know nothing of themes; the
dark theme is one rewrite of the finished figure, here:

* the **chrome** (text, axes, grid lines, backgrounds, bar edges) is the figure's template:
  the house template with light text, faint grid lines, transparent paper and plot so the
  page shows through. In the template rather than on the layout because Streamlit's
  ``theme="streamlit"`` (``st.plotly_chart``'s default) merges the page's live theme into
  the template: a viewer who switches theme in the settings menu sees text and grid
  follow at once, before the page reruns; elsewhere (an exported image, ``theme=None``)
  the template's own dark values apply;
* every **colour a builder set** on the layout (annotations, shapes, axes, legend) or on a
  trace (lines, markers, bar edges, fills, fonts), and the colours of ``<span
  style="color:...">`` in tick labels and annotation text, goes through :func:`dark_color`:
  greys are mirrored (as far from the dark page as they were from white: a black halo
  becomes white, a white hatch dark, the dimmed grey of padding stays dimmed), other
  colours are kept while they have at least 3:1 contrast with the dark page (4.5:1 as
  text; every palette colour does: the model colours and Cividis are untouched) and
  lightened until they do otherwise; translucent ones (bands, paler bars, a trace's
  ``opacity``: the raw loss lines) are made as visible against the dark page as they
  were against white, which for the attention blue means more opaque;
* the difference map's red-white-blue scale becomes :data:`DARK_DIFFERENCE_COLORSCALE`,
  red-dark-blue: no change fades into the page on both themes.

Colours are ``#RGB``, ``#RRGGBB``, ``rgb()``, ``rgba()``, ``white`` or ``black``; any other
value (a named colour, a number for a colour scale) is left as it is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from seqattn.figures.style import DIFFERENCE_COLORSCALE, TEMPLATE
from seqattn.palette import DARK_BACKGROUND, DARK_GRID, DARK_TEXT, DARK_ZERO_LINE, LIGHT_BACKGROUND

# WCAG 2 contrast minimums: graphical objects (lines, bars, outlines), and text.
GRAPHICS_CONTRAST = 3.0
TEXT_CONTRAST = 4.5
TRANSPARENT = "rgba(0,0,0,0)"
# RdBu's colours ordered by lightness from a dark centre: blue (less attention) and red (more) grow
# lighter, so larger changes stand out more, as they grow darker on the light page's RdBu_r.
DARK_DIFFERENCE_COLORSCALE = [
    [0.0, "#92C5DE"], [1 / 6, "#4393C3"], [1 / 3, "#2166AC"], [0.5, "#1F2430"],
    [2 / 3, "#B2182B"], [5 / 6, "#D6604D"], [1.0, "#F4A582"],
]
# Channels within this of each other make a grey, which is mirrored rather than kept.
_GREY_SPREAD = 16
# Stored in layout.meta so apply_theme can tell it already ran on a figure.
_THEME_FLAG = "seqattn_theme"
_NAMED = {"white": (255, 255, 255), "black": (0, 0, 0)}
_SPAN_COLOR = re.compile(r"(color:\s*)([^;\"'>]+)")
# Keys that hold data or bookkeeping, never a colour setting: not walked.
_SKIPPED = frozenset({"template", "meta", "x", "y", "z", "customdata", "hovertext", "path", "colorscale"})
_DARK_CHROME = dict(
    font=dict(color=DARK_TEXT),
    paper_bgcolor=TRANSPARENT,
    plot_bgcolor=TRANSPARENT,
    xaxis=dict(gridcolor=DARK_GRID, linecolor=DARK_GRID, zerolinecolor=DARK_ZERO_LINE),
    yaxis=dict(gridcolor=DARK_GRID, linecolor=DARK_GRID, zerolinecolor=DARK_ZERO_LINE),
    annotationdefaults=dict(arrowcolor=DARK_TEXT),
    shapedefaults=dict(line=dict(color=DARK_TEXT)),
)


# --------------------------------------------------------------------------- colour arithmetic


def parse_color(color: Any) -> tuple[int, int, int, float] | None:
    """``(r, g, b, alpha)`` (0..255 and 0..1) of a ``#RGB``/``#RRGGBB``/``rgb()``/``rgba()``/white/black string; else None."""
    if not isinstance(color, str):
        return None
    text = color.strip().lower()
    if text in _NAMED:
        return (*_NAMED[text], 1.0)
    if text.startswith("#") and len(text) in (4, 7):
        digits = text[1:] if len(text) == 7 else "".join(c * 2 for c in text[1:])
        try:
            r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        except ValueError:
            return None
        return r, g, b, 1.0
    match = re.fullmatch(r"rgba?\(([^)]*)\)", text)
    if not match:
        return None
    try:
        parts = [float(p) for p in match.group(1).split(",")]
    except ValueError:
        return None
    if len(parts) not in (3, 4):
        return None
    r, g, b = (round(min(255.0, max(0.0, p))) for p in parts[:3])
    return r, g, b, (parts[3] if len(parts) == 4 else 1.0)


def relative_luminance(color: str) -> float:
    """WCAG relative luminance (0 black .. 1 white) of ``color``, ignoring its alpha; ValueError if unreadable."""
    parsed = parse_color(color)
    if parsed is None:
        raise ValueError(f"not a colour this module reads: {color!r}")

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = parsed
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours, 1 (same luminance) .. 21 (black on white)."""
    low, high = sorted((relative_luminance(first), relative_luminance(second)))
    return (high + 0.05) / (low + 0.05)


def _formatted(r: int, g: int, b: int, alpha: float, like: str) -> str:
    """The colour as ``#RRGGBB`` when ``like`` was written in hex (and is opaque), else ``rgba(...)``."""
    if alpha == 1.0 and not like.strip().lower().startswith("rgba"):
        return f"#{r:02X}{g:02X}{b:02X}"
    return f"rgba({r},{g},{b},{alpha:g})"


def _grey_of_luminance(luminance: float) -> int:
    """The sRGB channel value (0..255) of the grey with this relative luminance."""
    lum = min(1.0, max(0.0, luminance))
    c = lum * 12.92 if lum <= 0.0031308 else 1.055 * lum ** (1 / 2.4) - 0.055
    return round(c * 255)


@functools.lru_cache(maxsize=512)
def dark_color(color: str, text: bool = False) -> str:
    """The colour to draw ``color`` with on the dark page instead of the light one.

    A grey (``#444444``, ``rgba(255,255,255,0.3)``) becomes the grey with the same
    contrast against the dark page as it had against white, alpha kept: black turns
    white, white turns dark, a dimmed grey stays as dim. Any other colour is kept if it
    has at least :data:`GRAPHICS_CONTRAST` (``text``: :data:`TEXT_CONTRAST`) against
    the dark page, else mixed with white until it has; if translucent, its opacity is
    raised where needed to stand out from the dark page as much as it did from white.
    A value this module cannot read comes back unchanged.
    """
    parsed = parse_color(color)
    if parsed is None:
        return color
    r, g, b, alpha = parsed
    if max(r, g, b) - min(r, g, b) <= _GREY_SPREAD:
        contrast = contrast_ratio(f"rgb({r},{g},{b})", LIGHT_BACKGROUND)
        v = _grey_of_luminance(contrast * (relative_luminance(DARK_BACKGROUND) + 0.05) - 0.05)
        return _formatted(v, v, v, alpha, color)
    minimum = TEXT_CONTRAST if text else GRAPHICS_CONTRAST
    for step in range(21):
        t = step / 20
        mixed = tuple(round(c + (255 - c) * t) for c in (r, g, b))
        if contrast_ratio("rgb({},{},{})".format(*mixed), DARK_BACKGROUND) >= minimum:
            break
    dark_alpha = alpha if alpha == 1.0 else _dark_opacity((r, g, b), mixed, alpha)
    if step == 0 and dark_alpha == alpha:
        return color
    return _formatted(*mixed, dark_alpha, color)


def _rgb(color: str) -> tuple[int, int, int]:
    r, g, b, _ = parse_color(color)  # type: ignore[misc]  (only called on colours of this module)
    return r, g, b


def _blend_contrast(rgb: tuple[int, int, int], alpha: float, page: str) -> float:
    """Contrast with ``page`` of ``rgb`` drawn at opacity ``alpha`` over it."""
    under = _rgb(page)
    blended = (round(c * alpha + p * (1 - alpha)) for c, p in zip(rgb, under))
    return contrast_ratio("rgb({},{},{})".format(*blended), page)


def _dark_opacity(light_rgb: tuple[int, int, int], dark_rgb: tuple[int, int, int], alpha: float) -> float:
    """The opacity at which ``dark_rgb`` stands out from the dark page as ``light_rgb`` at ``alpha`` did from white.

    A translucent blue is a pale blue on white but nearly black on the dark page: a
    band, a paler bar or a raw loss line would vanish. Never below ``alpha``.
    """
    target = _blend_contrast(light_rgb, alpha, LIGHT_BACKGROUND)
    for candidate in [alpha] + [k / 20 for k in range(21) if k / 20 > alpha]:
        if _blend_contrast(dark_rgb, candidate, DARK_BACKGROUND) >= target:
            return candidate
    return 1.0


def dark_opacity(color: str, opacity: float) -> float:
    """A trace's ``opacity`` on the dark page, for a trace drawn in ``color``: raised so it stands out as much as on white."""
    parsed = parse_color(color)
    if parsed is None or opacity >= 1 or max(parsed[:3]) - min(parsed[:3]) <= _GREY_SPREAD:
        return opacity
    return _dark_opacity(parsed[:3], _rgb(dark_color(_formatted(*parsed[:3], 1.0, "#"))), opacity)


def dark_spans(text: str) -> str:
    """``text`` with the colour of each ``<span style="color:...">`` made a dark-page text colour (:func:`dark_color`)."""
    if "color:" not in text:
        return text
    return _SPAN_COLOR.sub(lambda m: m.group(1) + dark_color(m.group(2).strip(), text=True), text)


# --------------------------------------------------------------------------- walking a figure


def _dark_value(value: Any, text: bool) -> Any:
    """A colour setting's dark value (one colour or a list of them), or None when it does not change."""
    if isinstance(value, str):
        new = dark_color(value, text)
        return new if new != value else None
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        new = [dark_color(v, text) for v in value]
        return new if new != list(value) else None
    return None  # numbers for a colour scale, or nothing


def _span_value(value: Any) -> Any:
    """A text or list of texts with its span colours made dark, or None when it does not change."""
    if isinstance(value, str):
        new = dark_spans(value)
        return new if new != value else None
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        new = [dark_spans(v) for v in value]
        return new if new != list(value) else None
    return None


def dark_settings(node: Mapping[str, Any], text: bool = False) -> dict[str, Any]:
    """The colour settings of a figure part (plain JSON, e.g. ``trace.to_plotly_json()``) that change on the dark page.

    A nested dict of only what changes: ``*color`` keys (``color``, ``fillcolor``,
    ``bgcolor``, ...) through :func:`dark_color` (as text under a ``*font`` key), and
    ``text``/``ticktext`` through :func:`dark_spans`. Items of a list of parts (the
    layout's annotations and shapes) are keyed by their index.
    """
    changes: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SKIPPED:
            continue
        as_text = text or key.endswith("font")
        if isinstance(value, Mapping):
            new = dark_settings(value, as_text) or None
        elif isinstance(value, list | tuple) and value and all(isinstance(v, Mapping) for v in value):
            new = {i: sub for i, item in enumerate(value) if (sub := dark_settings(item, as_text))} or None
        elif key.endswith("color"):
            new = _dark_value(value, as_text)
        elif key in ("text", "ticktext"):
            new = _span_value(value)
        else:
            continue
        if new is not None:
            changes[key] = new
    return changes


def _apply(target: Any, changes: Mapping[str, Any]) -> None:
    """Write :func:`dark_settings`' ``changes`` into a plotly object (layout, trace, annotation...)."""
    for key, value in changes.items():
        if isinstance(value, Mapping) and all(isinstance(k, int) for k in value):
            for index, sub in value.items():
                _apply(target[key][index], sub)
        elif isinstance(value, Mapping):
            _apply(target[key], value)
        else:
            target[key] = value


@functools.cache
def _dark_template() -> go.layout.Template:
    """The house template (:data:`~seqattn.figures.style.TEMPLATE`) with the dark chrome, built and validated once."""
    template = go.layout.Template(pio.templates[TEMPLATE])
    template.layout.update(_DARK_CHROME)
    for bar in template.data.bar or ():
        # plotly_white edges bars in the page's colour (white): here, the dark page's.
        bar.marker.line.color = DARK_BACKGROUND
    return template


def _set_unvalidated(target: Any, key: str, value: Any) -> None:
    """``target[key] = value`` without plotly validating ``value`` again, as plotly sets its default template.

    Validating a whole template takes about 20 ms, on a page that redraws on every keystroke;
    this one was validated when it was built. Should plotly drop the switch, the
    assignment only gets slower.
    """
    validate = getattr(target, "_validate", True)
    target._validate = False
    try:
        target[key] = value
    finally:
        target._validate = validate


@functools.cache
def _difference_scale() -> tuple:
    """:data:`~seqattn.figures.style.DIFFERENCE_COLORSCALE` as plotly stores it on a trace."""
    return tuple(tuple(stop) for stop in go.Heatmap(colorscale=DIFFERENCE_COLORSCALE).colorscale)


def _is_themed(fig: go.Figure) -> bool:
    meta = fig.layout.meta
    return isinstance(meta, dict) and meta.get(_THEME_FLAG) == "dark"


def apply_theme(fig: go.Figure, dark: bool) -> go.Figure:
    """Rewrite a built figure for the page's theme: the dark one, or the light one it was drawn for.

    With ``dark`` the chrome turns dark (light text, faint grid lines, transparent
    backgrounds), every colour a builder set goes through :func:`dark_color` (data
    colours with enough contrast, which every palette colour has, are kept) and the
    difference scale becomes :data:`DARK_DIFFERENCE_COLORSCALE`; see the module's notes.
    Applying it twice has no further effect (a flag is kept in ``layout.meta``). With
    ``dark`` False the figure is returned unchanged.

    Args:
        fig: any figure from this package (others work too).
        dark: whether the page is dark (in Streamlit: ``st.context.theme.type == "dark"``).

    Returns:
        ``fig`` itself, modified in place, for chaining.
    """
    if not dark or _is_themed(fig):
        return fig
    _set_unvalidated(fig.layout, "template", _dark_template())
    layout = fig.layout.to_plotly_json()
    _apply(fig.layout, dark_settings(layout))
    for trace in fig.data:
        spec = trace.to_plotly_json()
        _apply(trace, dark_settings(spec))
        main = (spec.get("line") or {}).get("color") or (spec.get("marker") or {}).get("color")
        if isinstance(spec.get("opacity"), float | int) and isinstance(main, str):
            trace.opacity = dark_opacity(main, spec["opacity"])
        if "colorscale" in spec and tuple(map(tuple, spec["colorscale"] or ())) == _difference_scale():
            trace.colorscale = DARK_DIFFERENCE_COLORSCALE
    meta = fig.layout.meta
    if meta is None or isinstance(meta, dict):  # another figure's own meta (a list, a string) is left alone
        fig.layout.meta = {**(meta or {}), _THEME_FLAG: "dark"}
    return fig
