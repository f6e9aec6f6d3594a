"""Page frame: config, sidebar (presentation mode), figures, tolerant reads and an error boundary.

The entry point (``dashboard.py``) draws the frame once per run with :func:`page_setup`, then runs the
page inside :func:`guarded`; a page asks :func:`presenting` whether to draw large.
"""

from __future__ import annotations

import functools
import logging
from typing import Any
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from seqattn.settings import bad_values_fall_back, problems
from ui.keys import presenter_keys
from ui.text import plain
from ui.zoom import keep_zoom

PRESENTATION_KEY = "present"  # also the query parameter
_LOG = logging.getLogger("seqattn.ui")

# Presentation mode. Metric values are markdown paragraphs too, so their rule must be
# more specific than the paragraph rule; metric labels wrap rather than cut off
# at 1024x768, and so do page links; the sidebar keeps its own size so its labels stay on one line.
_LARGE_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 22px; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li { font-size: 1.25rem; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMetricValue"] div { font-size: 2.6rem !important; line-height: 1.2; }
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
[data-testid="stSidebar"] { font-size: 16px; }
[data-testid="stSidebar"] [data-testid="stMarkdownContainer"] p { font-size: 1rem; white-space: nowrap; }
[data-testid="stMainBlockContainer"] { padding: 2rem 1.5rem 4rem 1.5rem; }
[data-testid="stMetricValue"] * { overflow: visible !important; text-overflow: clip !important; }
[data-testid="stPageLink"] * { white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; }
h1 { font-size: 3.2rem !important; }
</style>
"""


def page_setup(title: str) -> bool:
    """Set the page config, warn of bad settings and draw the sidebar; returns True in presentation mode.

    The mode is bound to the URL (``?present=true``), so a reload or a bookmarked
    address keeps it, and it follows the user from page to page.
    """
    # A Material icon, not an emoji: an emoji makes Streamlit load its emoji catalogue, about 0.05-0.1 s
    # of a fresh server's first page.
    st.set_page_config(page_title=f"seqattn · {title}", page_icon=":material/target:", layout="wide")

    def flip() -> None:  # the `p` key
        st.session_state[PRESENTATION_KEY] = not st.session_state.get(PRESENTATION_KEY, False)

    large = st.sidebar.toggle("Presentation mode", key=PRESENTATION_KEY, bind="query-params", persist_state="session",
                              help="Bigger fonts and figures, for a projector (key: p).")
    presenter_keys(title, flip)
    with st.sidebar:
        keep_zoom()  # every page: a chart redrawn by a refresh keeps the user's zoom
    if large:
        st.html(_LARGE_CSS)
    warn_of_bad_settings()
    return bool(large)


def warn_of_bad_settings() -> None:
    """One warning per ``SEQATTN_*`` variable whose value is not accepted (:mod:`seqattn.settings`).

    The pages then go on with the defaults (:func:`guarded`), and jobs are refused with the same line.
    """
    for message in problems():
        st.warning(f"{plain(message)} Until then the pages use its default and no job starts.",
                   icon=":material/warning:")


def presenting() -> bool:
    """True in presentation mode (the sidebar's toggle, drawn by :func:`page_setup` before the page runs)."""
    return bool(st.session_state.get(PRESENTATION_KEY, False))


def show_figure(fig: Any, key: str | None = None, image_format: str = "png",
                on_select: Callable[[], None] | None = None) -> None:
    """Draw a Plotly figure, enlarged in presentation mode; the toolbar downloads ``image_format``.

    ``on_select`` (with a ``key``) is called when the user clicks a point; the
    selection is then in ``st.session_state[key]``.
    """
    from seqattn.figures import apply_presentation  # Plotly's figure classes: not before a page's first lines

    config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": image_format, "filename": key or "seqattn", "scale": 2},
    }
    select = {"on_select": on_select, "selection_mode": "points"} if on_select else {}
    st.plotly_chart(apply_presentation(fig, presenting()), width="stretch", config=config, key=key, **select)


def guarded(body: Callable[[], None]) -> Callable[[], None]:
    """Run a page body; an unexpected error becomes a calm message, never a traceback.

    Inside, a bad ``SEQATTN_*`` value reads as its default: :func:`page_setup` has warned of it.
    """

    @functools.wraps(body)
    def run() -> None:
        try:
            with bad_values_fall_back():
                body()
        except ScriptControlException:  # st.rerun / st.stop / page switches
            raise
        except Exception as exc:  # the projector must never show a traceback
            _LOG.exception("page failed")
            st.error(
                f"Something went wrong on this page ({exc.__class__.__name__}: {plain(exc, limit=300)}). "
                "Your runs are safe; reload the page or pick another run."
            )

    return run


def show_problem(found: Any) -> Any:
    """The value of a tolerant read (:class:`seqattn.runs.Checked`), after a calm warning if part of it was damaged."""
    if found.problem:
        st.warning(f"{plain(found.problem)}.", icon=":material/warning:")
    return found.value


def format_seconds(seconds: float | None) -> str:
    """``83.2`` -> ``1 min 23 s``; None -> ``–``."""
    if seconds is None:
        return "–"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"
