"""Static diagrams as SVG text: the echo task's example pair on the home page.

A diagram that never changes under the mouse needs no Plotly: as SVG it is part
of the page the moment the server sends it, while a Plotly chart waits for the
browser to load and start Plotly's large script on a fresh page. Builders take data and return an ``<svg>`` string that scales to
its container's width; they import nothing heavy.

They are readable on both themes without knowing which is on: text, outlines and arrows
are drawn in ``currentColor``, the page's text colour, and the plain boxes are a faint
tint of it (light grey on the light page, dark grey on the dark one), so the drawing
follows the page, also when a viewer switches theme. Only the echoed boxes have a colour
of their own (:data:`~seqattn.palette.ECHO_COLOR`), with dark text that reads on it; the
greys of padding read on both pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from seqattn.palette import BASE_FONT_SIZE, ECHO_COLOR, LIGHT_TEXT, PAD_COLOR

# Geometry in SVG user units (the drawing scales as a whole).
_CELL_W, _CELL_H, _GAP = 64, 56, 12
_LABEL_W, _TOP = 96, 28
_ROW_GAP = 40
_FONT = "'Source Sans 3', 'Source Sans Pro', sans-serif"
# A box is the page's text colour at this opacity: #EEEEEE-like on white, a dark grey on the dark page.
_BOX_TINT, _PAD_TINT = 0.07, 0.025


def _box(x: float, y: float, token: int, echoed: bool, padding: bool, kind: str, position: int) -> str:
    """One token as a ``<g>``: its box at (x, y), its tooltip and its text; echoed, padding or plain."""
    if echoed:  # a colour of its own: the text on it is dark on both pages
        fill, text_color = f'fill="{ECHO_COLOR}"', LIGHT_TEXT
    else:
        fill = f'fill="currentColor" fill-opacity="{_PAD_TINT if padding else _BOX_TINT}"'
        text_color = PAD_COLOR if padding else "currentColor"
    stroke = f'stroke="{PAD_COLOR}" stroke-dasharray="4 3"' if padding else 'stroke="currentColor" stroke-opacity="0.64"'
    return (
        f'<g class="{kind} {position}"><title>{kind} position {position}: token {token}</title>'
        f'<rect x="{x}" y="{y}" width="{_CELL_W}" height="{_CELL_H}" {fill} {stroke} stroke-width="1.5"/>'
        f'<text x="{x + _CELL_W / 2}" y="{y + _CELL_H / 2}" font-size="{BASE_FONT_SIZE + 6}" fill="{text_color}" '
        f'text-anchor="middle" dominant-baseline="central">{token}</text></g>'
    )


def example_pair_svg(input_tokens: Sequence[int], target_tokens: Sequence[int], n_out: int) -> str:
    """One echo pair drawn as two rows of boxes: the input, and the target below it.

    The first ``n_out`` positions are highlighted in both rows and joined by an
    arrow (input position t -> target position t); the target's padding zeros
    are dashed and greyed; positions are numbered from 1 above the input.

    Args:
        input_tokens: the n_in input ints.
        target_tokens: the target ints (the first n_out inputs, then zeros).
        n_out: how many leading inputs the target echoes.

    Returns:
        An ``<svg role="img">`` string with a ``viewBox`` (it scales to its
        container), a ``<title>`` describing the pair, one ``<g class="input t">``
        or ``<g class="target t">`` group (box, token, tooltip) per token and one
        ``<line class="echo">`` arrow (and its ``<path class="echo-head">``) per echoed position; a short text when
        both sequences are empty.
    """
    inputs = [int(t) for t in input_tokens]
    targets = [int(t) for t in target_tokens]
    width = max(len(inputs), len(targets))
    description = escape(f"Echo task example: input {inputs}, target {targets} (the first {n_out} echoed).")
    if width == 0:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 300 40" '
                f'font-family="{_FONT}"><title>{description}</title>'
                f'<text x="150" y="20" text-anchor="middle" fill="{PAD_COLOR}">No example</text></svg>')
    input_y, target_y = _TOP, _TOP + _CELL_H + _ROW_GAP
    total_w = _LABEL_W + width * (_CELL_W + _GAP)
    total_h = target_y + _CELL_H + 4

    def left(t: int) -> float:
        return _LABEL_W + t * (_CELL_W + _GAP)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {total_w} {total_h}" '
        f'width="100%" style="max-width: {total_w * 1.1:.0f}px; height: auto" font-family="{_FONT}">',
        f"<title>{description}</title>",
    ]
    for t in range(width):
        parts.append(f'<text x="{left(t) + _CELL_W / 2}" y="{_TOP - 10}" font-size="{BASE_FONT_SIZE - 2}" '
                     f'fill="{PAD_COLOR}" text-anchor="middle">{t + 1}</text>')
    for kind, tokens, y in (("input", inputs, input_y), ("target", targets, target_y)):
        parts.append(f'<text x="{_LABEL_W - 14}" y="{y + _CELL_H / 2}" font-size="{BASE_FONT_SIZE + 2}" '
                     f'font-weight="bold" fill="currentColor" fill-opacity="0.71" text-anchor="end" '
                     f'dominant-baseline="central">{kind}</text>')
        for t, token in enumerate(tokens):
            echoed = t < n_out
            parts.append(_box(left(t), y, token, echoed, kind == "target" and not echoed, kind, t + 1))
    for t in range(min(n_out, len(inputs), len(targets))):
        # The head is a path of its own, not a <marker>: a marker would take its colour from
        # wherever its id is first defined on the page, not from this drawing's text colour.
        x, tip = left(t) + _CELL_W / 2, target_y - 3
        parts.append(f'<line class="echo" x1="{x}" y1="{input_y + _CELL_H + 4}" x2="{x}" y2="{tip - 8}" '
                     'stroke="currentColor" stroke-opacity="0.86" stroke-width="2.5"/>'
                     f'<path class="echo-head" d="M{x - 6.25},{tip - 12.5} L{x + 6.25},{tip - 12.5} L{x},{tip} z" '
                     'fill="currentColor" fill-opacity="0.86"/>')
    parts.append("</svg>")
    return "".join(parts)
