"""Page frame: config, sidebar (presentation mode), the projector's clean view, figures, tolerant reads and an
error boundary.

The entry point (``dashboard.py``) draws the frame once per run with :func:`page_setup`, then runs the
page inside :func:`guarded`; a page asks :func:`presenting` whether to draw large. Two conventions of
container keys let a page mark what the frame treats specially: ``settings_*`` (:data:`SETTINGS_PREFIX`),
hidden in the clean view, and ``fit_*`` (:data:`FIT_PREFIX`), whose figure is kept within the screen's height.
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
# ?hide=sidebar: the projector's clean view (no sidebar, no settings; a small exit control), as
# TensorFlow Playground's address hides its parts.
HIDE_PARAM, HIDE_SIDEBAR = "hide", "sidebar"
EXIT_KEY = "exit_clean_view"
_PRESENT_AGAIN = "_present_after_switch"  # see keep_presentation
SETTINGS_PREFIX = "settings_"  # container keys of a page's settings: hidden in the clean view
FIT_PREFIX = "fit_"  # container keys of figures kept within the screen's height
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

# The clean view: Streamlit's sidebar (still drawn, so its buttons' keys, PageDown among them, keep working),
# its header and the pages' settings are hidden; the exit control sits in the top right corner.
_CLEAN_VIEW_CSS = f"""
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[class*="st-key-{SETTINGS_PREFIX}"] {{ display: none !important; }}
.st-key-{EXIT_KEY} {{ position: fixed; top: 0.4rem; right: 0.8rem; z-index: 1000; width: auto !important; }}
.st-key-{EXIT_KEY} button {{ opacity: 0.45; }}
.st-key-{EXIT_KEY} button:hover {{ opacity: 1; }}
</style>
"""

# Figures in containers keyed fit_* keep within the window's height: each is drawn (and, twice a second, redrawn
# when its tab opens or the window resizes) at most as tall as the room from its top to the window's bottom,
# never below FIT_MIN pixels; the chart's frame follows (Streamlit sizes it, and contains its size, from the
# figure's own height).
# Installed once per browser tab; Plotly arrives with the first chart.
FIT_SCRIPT = """
<style>
[class*="st-key-FIT_PREFIX"] [data-testid="stElementContainer"]:has([data-testid="stPlotlyChart"]),
[class*="st-key-FIT_PREFIX"] [data-testid="stFullScreenFrame"],
[class*="st-key-FIT_PREFIX"] [data-testid="stPlotlyChart"] {
  height: auto !important; flex: 0 0 auto !important; contain: none !important;
  contain-intrinsic-size: none !important; }
</style>
<script>
(() => {
  if (window.__seqattnFit) return;
  window.__seqattnFit = true;
  const FIT_MIN = 260, MARGIN = 12, BOX = '[class*="st-key-FIT_PREFIX"]';
  const inBox = (gd) => gd && gd.closest && gd.closest(BOX);
  function height(gd, natural) {
    const box = gd.getBoundingClientRect();
    if (!box.width) return natural;  // in a closed tab: measured when it opens
    const room = Math.floor(window.innerHeight - (box.top + window.scrollY) - MARGIN);
    return Math.min(natural, Math.max(FIT_MIN, room));
  }
  function patch(Plotly) {
    if (!Plotly || typeof Plotly.react !== "function") return false;
    if (Plotly.__seqattnFit) return true;
    const react = Plotly.react;
    Plotly.react = function (gd, data, layout, config) {
      const element = typeof gd === "string" ? document.getElementById(gd) : gd;
      const figure = data && !Array.isArray(data) && typeof data === "object" && "layout" in data;
      const given = figure ? data.layout : layout;
      if (inBox(element) && given && given.height) {
        element.__seqattnNatural = given.height;
        const fitted = {...given, height: height(element, given.height)};
        if (figure) data = {...data, layout: fitted}; else layout = fitted;
      }
      return react.call(this, gd, data, layout, config);
    };
    Plotly.__seqattnFit = true;
    return true;
  }
  setInterval(() => {
    if (!patch(window.Plotly)) return;
    document.querySelectorAll(BOX + " .js-plotly-plot").forEach((gd) => {
      const natural = gd.__seqattnNatural || (gd.layout && gd.layout.height);
      const now = gd._fullLayout && gd._fullLayout.height;
      if (!natural || !now) return;
      gd.__seqattnNatural = natural;
      const wanted = height(gd, natural);
      if (Math.abs(now - wanted) > 2) window.Plotly.relayout(gd, {height: wanted});
    });
  }, 500);
})();
</script>
""".replace("FIT_PREFIX", FIT_PREFIX)

# A chart in a closed tab (Explore's Step, Two sequences and What if) is drawn when its tab opens, not with the
# page. Plotly drew each at no size on every run, in the same task as the open tab's chart: a fresh page's
# heatmap showed only after the three others (about 0.25 s), and each keystroke drew them again. Streamlit draws
# a chart again when its tab opens anyway (its width changes). The patch goes on Plotly the moment its script
# defines it, before Streamlit draws any chart; installed once per browser tab.
DRAW_WHEN_SHOWN_SCRIPT = """
<script>
(() => {
  if (window.__seqattnShown) return;
  window.__seqattnShown = true;
  const waiting = new Map();  // a hidden chart's element -> its draws, in order
  const shown = (element) => element.getClientRects().length > 0;  // none under a display: none tab panel
  const observer = new ResizeObserver(() => {
    for (const [element, draws] of waiting) {
      if (element.isConnected && !shown(element)) continue;
      waiting.delete(element);
      observer.unobserve(element);
      if (element.isConnected) draws.forEach((draw) => draw());  // a removed chart is never drawn
    }
  });
  function patch(Plotly) {
    if (!Plotly || typeof Plotly.react !== "function" || Plotly.__seqattnShown) return;
    const react = Plotly.react;
    Plotly.react = function (gd, ...rest) {
      const element = typeof gd === "string" ? document.getElementById(gd) : gd;
      if (!element || !element.isConnected || shown(element)) return react.call(this, gd, ...rest);
      for (const old of waiting.keys()) {  // charts removed while hidden: forget them
        if (!old.isConnected) { waiting.delete(old); observer.unobserve(old); }
      }
      return new Promise((resolve, reject) => {
        const draw = () => { try { Promise.resolve(react.call(Plotly, gd, ...rest)).then(resolve, reject); }
                             catch (error) { reject(error); } };
        if (waiting.has(element)) waiting.get(element).push(draw);
        else { waiting.set(element, [draw]); observer.observe(element); }
      });
    };
    Plotly.__seqattnShown = true;
  }
  if (window.Plotly) { patch(window.Plotly); return; }
  let plotly;  // Plotly's script ends with window.Plotly = Plotly: patched there, before any chart is drawn
  Object.defineProperty(window, "Plotly", {configurable: true, enumerable: true,
                                           get: () => plotly, set: (value) => { plotly = value; patch(value); }});
})();
</script>
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

    if st.session_state.pop(_PRESENT_AGAIN, False):
        st.session_state[PRESENTATION_KEY] = True  # set again: the toggle writes it back into the address
    large = st.sidebar.toggle("Presentation mode", key=PRESENTATION_KEY, bind="query-params", persist_state="session",
                              help="Bigger fonts and figures, for a projector (key: p).")
    presenter_keys(title, flip)
    with st.sidebar:
        keep_zoom()  # every page: a chart redrawn by a refresh keeps the user's zoom
        st.html(FIT_SCRIPT + DRAW_WHEN_SHOWN_SCRIPT, unsafe_allow_javascript=True)
    if large:
        st.html(_LARGE_CSS)
    if clean_view():
        exit_control()
    warn_of_bad_settings()
    return bool(large)


def keep_presentation() -> None:
    """Call before ``st.switch_page``: the next page keeps ``?present=true`` in its address.

    The parameter is bound to the toggle, so a switch may not pass it, and drops it: the mode stays on (the
    toggle's value lives in the session) but a reload would lose it. Set again before the toggle is drawn,
    the toggle puts it back. (Not on a switch made by the very first runs of a session opened with
    ``?present=true``: Streamlit then still reads the toggle from that first address, and writes nothing.)
    """
    if st.session_state.get(PRESENTATION_KEY):
        st.session_state[_PRESENT_AGAIN] = True


def clean_view() -> bool:
    """True in the projector's clean view (``?hide=sidebar``): no sidebar, no settings, only the figures."""
    return st.query_params.get(HIDE_PARAM) == HIDE_SIDEBAR


def exit_control() -> None:
    """Hide the sidebar and the pages' settings; a small button in the top right corner brings them back.

    The button drops ``hide`` from the address (the rest of it, ``present`` included, stays).
    """

    def leave() -> None:
        st.query_params.pop(HIDE_PARAM, None)

    st.html(_CLEAN_VIEW_CSS)
    st.button("Exit clean view", key=EXIT_KEY, icon=":material/close_fullscreen:", type="tertiary", on_click=leave,
              help="Show the sidebar and the settings again (drops hide=sidebar from the address).")


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
    from seqattn.figures import apply_presentation, apply_theme  # Plotly's classes: not before a page's first lines

    config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": image_format, "filename": key or "seqattn", "scale": 2},
    }
    select = {"on_select": on_select, "selection_mode": "points"} if on_select else {}
    # The viewer's theme (None under AppTest: light); Streamlit's own theming still fills in fonts and backgrounds.
    dark = st.context.theme.type == "dark"
    st.plotly_chart(apply_theme(apply_presentation(fig, presenting()), dark=dark), width="stretch", config=config,
                    key=key, **select)


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
