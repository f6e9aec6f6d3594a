"""The dashboard's pages, declared once: the sidebar's navigation (``st.navigation``) and the links between pages.

Each page is a file of ``pages/`` with a title, a Material icon (shipped with
Streamlit's front end, so it renders on any machine, unlike emoji that need a
colour-emoji font) and its address: ``/`` for Home, ``/Train``, ``/Explore``,
``/Compare``, ``/Sweep`` (deep links such as ``/Train?run=<id>`` keep working).
A page is named by its key of :data:`PAGES` (``"explore"``) in links (:func:`link`)
and switches (:func:`go`); a talk's scenes name pages the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

import streamlit as st


@dataclass(frozen=True)
class PageEntry:
    path: str  # relative to dashboard.py
    title: str  # in the sidebar and the browser tab
    icon: str
    url_path: str | None  # None: the default page, at "/"


PAGES: dict[str, PageEntry] = {
    "home": PageEntry("pages/home.py", "Home", ":material/home:", None),
    "train": PageEntry("pages/1_Train.py", "Train", ":material/model_training:", "Train"),
    "explore": PageEntry("pages/2_Explore.py", "Explore", ":material/search:", "Explore"),
    "compare": PageEntry("pages/3_Compare.py", "Compare", ":material/bar_chart:", "Compare"),
    "sweep": PageEntry("pages/4_Sweep.py", "Sweep", ":material/stacked_line_chart:", "Sweep"),
}


def navigation() -> st.Page:
    """Declare the pages (the sidebar lists them, Home first and the default) and return the one to run."""
    return st.navigation([
        st.Page(entry.path, title=entry.title, icon=entry.icon, url_path=entry.url_path, default=entry.url_path is None)
        for entry in PAGES.values()
    ])


def link(page: str, label: str, query_params: dict[str, str] | None = None) -> None:
    """A link to one of the pages (a key of :data:`PAGES`), with optional query parameters."""
    entry = PAGES[page]
    st.page_link(entry.path, label=label, icon=entry.icon, query_params=query_params)


def go(page: str, query_params: dict[str, str] | None = None) -> NoReturn:
    """Switch to one of the pages (a key of :data:`PAGES`) with exactly these query parameters.

    As a click on a :func:`link`: the address gets ``query_params`` and loses the others; this script run ends.
    """
    st.switch_page(PAGES[page].path, query_params=query_params or {})


def require_entry_point() -> None:
    """Run this page inside ``dashboard.py``'s frame: the first statement of every page (after, at most,
    :func:`ui.prefetch.load_now`, which only asks the browser for scripts: drawn in the legacy run too, so a
    fresh server's deep link gets it before the frame's imports).

    A ``pages/`` folder beside the entry point is also Streamlit's legacy way of
    declaring pages: until a session has run ``st.navigation``, a request for
    ``/Train`` (a bookmarked deep link as a fresh server's first visit, or any run
    of a test's AppTest) runs ``pages/1_Train.py`` by itself, outside the frame
    (no presentation mode, no error boundary, the legacy page list). Then this
    leaves the legacy mode for good (as ``st.navigation`` does), runs the entry
    point in this same script run (it declares the pages and runs this one inside
    its frame; clicks of this run are kept) and ends the bare run.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not getattr(PagesManager, "uses_pages_directory", False):
        return
    PagesManager.uses_pages_directory = False
    entry = ctx.pages_manager.main_script_path
    exec(ctx.pages_manager.get_page_script_byte_code(entry), {"__name__": "__main__", "__file__": entry})
    st.stop()
