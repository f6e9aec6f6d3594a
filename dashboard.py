"""seqattn's dashboard: the entry point (``streamlit run dashboard.py``, or ``make run``).

It declares the pages (:mod:`ui.navigation`: Home, Train, Explore, Compare, Sweep and
their addresses), draws what every page shares (page config, the sidebar's
presentation mode and presenter keys, the projector's clean view: :func:`ui.shell.page_setup`;
the talk control: :func:`ui.talk_control.talk_control`) and runs the chosen
page behind an error boundary. Around the page:

- after Home or Train, once per server (a real ``streamlit run``, not a test's mock runtime), the
  warm training process (:mod:`seqattn.speed.warm_pool`), whose launcher then starts every
  job the pages start (:mod:`ui.backend`), so "Train both models" starts at once;
  the Train form tells it the job it shows, which it prepares once the form is still;
- then, after Home or Train too, the background warm-up of the Explore page (:mod:`ui.warmup`)
  and, in the browser, the prefetch of the other pages' scripts (:mod:`ui.prefetch`).

It also turns on XLA's disk cache for the processes the server starts. Nothing here
imports TensorFlow or pandas, so the first page appears at once.
"""

from __future__ import annotations

import functools
import logging
import os

import streamlit as st

from seqattn.runs import runs_root
from seqattn.settings import bad_values_fall_back
from seqattn.speed import xla_cache
from ui.backend import use_launcher, use_preparer
from ui.navigation import PAGES, navigation
from ui.prefetch import start as prefetch_scripts
from ui.shell import guarded, page_setup
from ui.talk_control import talk_control
from ui.warmup import in_server
from ui.warmup import start as start_warmup

WARM_UP_AFTER = (PAGES["home"].title, PAGES["train"].title)


@st.cache_resource(show_spinner=False)
def start_warm_pool(root: str) -> bool:
    """Start the warm training process once per server and start every job with it (False: turned off or failed)."""
    from seqattn.speed import warm_pool  # here, not at the top: the jobs code is not needed to draw a first page

    try:
        pool = warm_pool.start(root)
    except Exception as exc:  # noqa: BLE001  (jobs then start cold, as without the pool)
        logging.getLogger("seqattn.dashboard").warning("warm training process not started: %s: %s",
                                                       exc.__class__.__name__, exc)
        return False
    if pool is None:
        return False
    use_launcher(pool.launch)
    use_preparer(pool.want)  # the job the Train form shows is prepared once the form is still
    return True


# The server is the entry point of every training process it starts (warm, cold, a local Dask
# cluster): they inherit XLA's disk cache and a quiet TensorFlow from its environment.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
xla_cache.enable()
page = navigation()
page_setup(page.title)  # warns of each bad SEQATTN_* setting
guarded(functools.partial(talk_control, page.title))()  # may open another page: a talk's next scene
guarded(page.run)()
with bad_values_fall_back():  # warned above: the server goes on with the defaults
    if page.title in WARM_UP_AFTER:
        if in_server():
            # After the page, whose first elements are then not held back by the jobs code's import and
            # the process's spawn (0.1-0.2 s); and after Home or Train only, where a click to train
            # comes: its TensorFlow import would slow a fresh server's Explore in the browser by
            # 0.3-0.5 s (bench/page_floors.py). A click is instant a few seconds after launch.
            start_warm_pool(str(runs_root()))
        start_warmup()  # Explore's first answer, prepared in a background thread (ui.warmup)
        prefetch_scripts()  # and in the browser: the scripts of the other pages' widgets (ui.prefetch)
