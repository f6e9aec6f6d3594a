"""The colours and base font size shared by Plotly figures and static diagrams (imports nothing).

:mod:`seqattn.figures` (Plotly) and :mod:`seqattn.diagrams` (SVG) both draw with
them; this module stays free of Plotly so the home page's diagram needs none.

Figures are drawn for the light page; :func:`seqattn.figures.apply_theme` rewrites a
built figure for the dark one, whose colours are the ``DARK_*`` below. The page colours
of both themes are those of ``.streamlit/config.toml`` (``[theme.light]``, ``[theme.dark]``;
a test holds the two in step).
"""

BASE_FONT_SIZE = 16
CHANCE_COLOR = "#7F7F7F"
PAD_COLOR = "#9A9A9A"
# Okabe-Ito reddish purple stands out on both the dark-blue and the yellow end of Cividis.
EXPECTED_COLOR = "#CC79A7"
# Okabe-Ito vermillion: the palette's "something is wrong" colour.
WRONG_COLOR = "#D55E00"
ECHO_COLOR = "#56B4E9"
# A chosen row or cell (clicked step, forced step, largest moves) is framed by a
# white line on a black halo: it stays visible on every colour of Cividis and
# of the diverging scale, from dark blue through white to yellow or dark red.
HIGHLIGHT_COLOR = "#FFFFFF"
HALO_COLOR = "#000000"

# The pages of the two themes.
LIGHT_BACKGROUND = "#FFFFFF"
LIGHT_TEXT = "#111111"
DARK_BACKGROUND = "#0E1117"
DARK_TEXT = "#FAFAFA"
# Grid and zero lines on the dark page: as faint against it as plotly_white's (#EBF0F8) are on white.
DARK_GRID = "#2A2E38"
DARK_ZERO_LINE = "#3C414D"
