"""The colours and base font size shared by Plotly figures and static diagrams (imports nothing).

:mod:`seqattn.figures` (Plotly) and :mod:`seqattn.diagrams` (SVG) both draw with
them; this module stays free of Plotly so the home page's diagram needs none.
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
