"""Browser warm-up: while the home page is read, the browser loads the scripts the other pages need.

Streamlit's frontend loads the script of each kind of element the first time one
appears on screen: a first visit to Explore fetched and started dozens of files
after the click (the data grid and its Arrow formatting, Plotly's chart), a large
part of its answer (docs/performance.md). The home page ends with a small
script that imports those modules once the browser is idle; when a page needs
one later, the browser has it already (a module is loaded once per page).

The files are found by name in the installed Streamlit: their names carry a
content hash that changes with each release, so they are looked up, never
written here. A name that is not found is skipped and a failed import is
ignored, so a new Streamlit release can make this do less, never break a page.

A page opened first, on a fresh browser, can ask for one script at once instead
(:func:`load_now`): Explore has the browser load Plotly's chart (4.7 MB, about a
second to fetch and start) while its server run reads the models, so the heatmap
draws as soon as it arrives rather than a second later. Each script is imported
once per browser tab, whichever asked first.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

_EMITTED_KEY = "_prefetched_now"  # the scripts load_now has asked this session's browser for
# The element scripts the other pages use (Train's form and charts, Explore's inputs, table and charts).
COMPONENTS: tuple[str, ...] = (
    "PlotlyChart", "DataFrame", "TextInput", "Selectbox", "Slider", "Radio", "DownloadButton",
    "Checkbox",
)


def static_scripts_dir() -> Path:
    """Where the installed Streamlit keeps its frontend's scripts."""
    import streamlit

    return Path(streamlit.__file__).parent / "static" / "static" / "js"


def component_scripts(directory: Path | None = None, components: tuple[str, ...] = COMPONENTS) -> list[str]:
    """File names of the components' scripts in ``directory`` (default: the installed Streamlit's), in order.

    A component's script is ``<Name>.<hash>.js``; a component without exactly one such file is left out.
    """
    directory = static_scripts_dir() if directory is None else directory
    names = []
    for component in components:
        found = sorted(p.name for p in directory.glob(f"{component}.*.js") if p.name.count(".") == 2)
        if len(found) == 1:
            names.append(found[0])
    return names


def prefetch_html(names: list[str], at_once: bool = False) -> str:
    """A ``<script>`` that imports the named scripts, resolved as the frontend resolves its own
    (next to its main script, ``index.<hash>.js``), one after another once the browser is idle
    (``at_once``: right away). A name this tab has already imported, or is importing, is skipped."""
    return f"""<script>
(() => {{
  const started = window.__seqattnPrefetch = window.__seqattnPrefetch || new Set();
  const main = document.querySelector('script[src*="static/js/index."]');
  if (!main) return;
  const names = {json.dumps(names)}.filter((name) => !started.has(name));
  names.forEach((name) => started.add(name));
  const idle = {"(f) => f()" if at_once else "window.requestIdleCallback || ((f) => setTimeout(f, 200))"};
  const next = () => {{
    const name = names.shift();
    if (!name) return;
    import(new URL("./" + name, main.src).href).catch(() => {{}}).finally(() => idle(next));
  }};
  idle(next);
}})();
</script>"""


@functools.cache
def _installed_scripts(components: tuple[str, ...] = COMPONENTS) -> list[str]:
    # The installed Streamlit does not change under a running server; the Train page reruns often.
    return component_scripts(components=components)


def start() -> None:
    """End the page with the prefetch script (in the sidebar, out of the way); nothing if no script is found."""
    import streamlit as st

    names = _installed_scripts()
    if names:
        with st.sidebar:
            st.html(prefetch_html(names), unsafe_allow_javascript=True)


def load_now(components: tuple[str, ...] = ("PlotlyChart",)) -> None:
    """Have the browser import these components' scripts right away (in the sidebar, out of the way).

    For a page's very first line, before its slow server work: the scripts load while the server works. Once
    per session: the browser keeps the scripts, and a page that calls this before
    :func:`ui.navigation.require_entry_point` runs it twice in a fresh server's first run.
    """
    import streamlit as st

    emitted = st.session_state.setdefault(_EMITTED_KEY, set())
    names = [name for name in _installed_scripts(components) if name not in emitted]
    if names:
        emitted.update(names)
        with st.sidebar:
            st.html(prefetch_html(names, at_once=True), unsafe_allow_javascript=True)
