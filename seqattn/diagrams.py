"""Static diagrams as SVG text: the echo task's example pair on the home page.

A diagram that never changes under the mouse needs no Plotly: as SVG it is part
of the page the moment the server sends it, while a Plotly chart waits for the
browser to load and start Plotly's large script on a fresh page. Builders take data and return an ``<svg>`` string that scales to
its container's width; they import nothing heavy.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from seqattn.palette import BASE_FONT_SIZE, ECHO_COLOR, PAD_COLOR

# Geometry in SVG user units (the drawing scales as a whole).
_CELL_W, _CELL_H, _GAP = 64, 56, 12
_LABEL_W, _TOP = 96, 28
_ROW_GAP = 40
_FONT = "'Source Sans 3', 'Source Sans Pro', sans-serif"


def _box(x: float, y: float, token: int, echoed: bool, padding: bool, kind: str, position: int) -> str:
    fill = ECHO_COLOR if echoed else ("#FAFAFA" if padding else "#EEEEEE")
    stroke = PAD_COLOR if padding else "#666666"
    dash = ' stroke-dasharray="4 3"' if padding else ""
    text_color = PAD_COLOR if padding else "#111111"
    return (
        f'<g class="{kind} {position}"><title>{kind} position {position}: token {token}</title>'
        f'<rect x="{x}" y="{y}" width="{_CELL_W}" height="{_CELL_H}" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="1.5"{dash}/>'
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
        ``<line class="echo">`` arrow per echoed position; a short text when
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
        '<defs><marker id="echo-arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="5" markerHeight="5" '
        'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#333333"/></marker></defs>',
    ]
    for t in range(width):
        parts.append(f'<text x="{left(t) + _CELL_W / 2}" y="{_TOP - 10}" font-size="{BASE_FONT_SIZE - 2}" '
                     f'fill="{PAD_COLOR}" text-anchor="middle">{t + 1}</text>')
    for kind, tokens, y in (("input", inputs, input_y), ("target", targets, target_y)):
        parts.append(f'<text x="{_LABEL_W - 14}" y="{y + _CELL_H / 2}" font-size="{BASE_FONT_SIZE + 2}" '
                     f'font-weight="bold" fill="#555555" text-anchor="end" dominant-baseline="central">{kind}</text>')
        for t, token in enumerate(tokens):
            echoed = t < n_out
            parts.append(_box(left(t), y, token, echoed, kind == "target" and not echoed, kind, t + 1))
    for t in range(min(n_out, len(inputs), len(targets))):
        x = left(t) + _CELL_W / 2
        parts.append(f'<line class="echo" x1="{x}" y1="{input_y + _CELL_H + 4}" x2="{x}" y2="{target_y - 4}" '
                     'stroke="#333333" stroke-width="2.5" marker-end="url(#echo-arrow)"/>')
    parts.append("</svg>")
    return "".join(parts)
