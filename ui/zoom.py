"""Keep the user's zoom on a chart the page redraws (the Train page's live loss chart, once a second).

Plotly keeps zoom across updates of one chart whose ``layout.uirevision`` stays the same, but
Streamlit gives a chart a new element id whenever its figure changes, so each refresh mounts a new
Plotly chart and the zoom was lost within a second. This script, installed once per browser tab,
remembers the axis ranges the user sets on a chart with a ``uirevision`` (by that value) and hands
them to Plotly when the next chart of the same ``uirevision`` is drawn; "Autoscale" or a
double-click forgets them. Figures without a ``uirevision`` are left alone.
"""

from __future__ import annotations

import streamlit as st

KEEP_ZOOM_SCRIPT = """
<script>
(() => {
  if (window.__seqattnZoom) return;
  const saved = window.__seqattnZoom = {};  // uirevision -> {xaxis: [from, to], yaxis: [...], ...}
  const AXIS = /^([xy]axis\\d*)\\.(range|autorange)(\\[([01])\\])?$/;
  const revisionOf = (layout) => (layout && typeof layout.uirevision === "string" && layout.uirevision) || null;

  function remember(gd) {
    if (!gd || gd.__seqattnZoomWatched || typeof gd.on !== "function") return;
    gd.__seqattnZoomWatched = true;
    gd.on("plotly_relayout", (event) => {
      const revision = revisionOf(gd.layout);
      if (!revision) return;
      const ranges = saved[revision] = saved[revision] || {};
      for (const [key, value] of Object.entries(event || {})) {
        const match = AXIS.exec(key);
        if (!match) continue;
        const axis = match[1];
        if (match[2] === "autorange") {
          if (value) delete ranges[axis];
        } else if (match[4] !== undefined) {
          const full = (gd._fullLayout || {})[axis];
          const range = ranges[axis] = ranges[axis] || (full && full.range ? Array.from(full.range) : [value, value]);
          range[Number(match[4])] = value;
        } else if (Array.isArray(value)) {
          ranges[axis] = Array.from(value);
        }
      }
    });
  }

  // The layout to draw: the given one with the remembered ranges of its uirevision, if any.
  function restore(layout) {
    const ranges = saved[revisionOf(layout)];
    if (!ranges || !Object.keys(ranges).length) return layout;
    const copy = {...layout};
    for (const [axis, range] of Object.entries(ranges)) {
      copy[axis] = {...(layout[axis] || {}), range: Array.from(range), autorange: false};
    }
    return copy;
  }

  function patch(Plotly) {
    if (!Plotly || typeof Plotly.react !== "function") return false;
    if (Plotly.__seqattnZoom) return true;
    const react = Plotly.react;
    Plotly.react = function (gd, data, layout, config) {
      if (data && !Array.isArray(data) && typeof data === "object" && "layout" in data) {
        data = {...data, layout: restore(data.layout)};
      } else {
        layout = restore(layout);
      }
      const drawn = react.call(this, gd, data, layout, config);
      const element = typeof gd === "string" ? document.getElementById(gd) : gd;
      Promise.resolve(drawn).then(() => remember(element), () => {});
      return drawn;
    };
    Plotly.__seqattnZoom = true;
    document.querySelectorAll(".js-plotly-plot").forEach(remember);
    return true;
  }

  // Plotly's script arrives with the first chart on the page: wait for it.
  if (!patch(window.Plotly)) {
    const timer = setInterval(() => { if (patch(window.Plotly)) clearInterval(timer); }, 50);
  }
})();
</script>
"""


def keep_zoom() -> None:
    """Install the zoom keeper in this browser tab (a hidden element; the script runs once per tab)."""
    st.html(KEEP_ZOOM_SCRIPT, unsafe_allow_javascript=True)
