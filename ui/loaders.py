"""Cached access to runs for the pages: models load once per run, not per rerun.

The server's warm-up thread (:mod:`ui.warmup`) may load a run's predictors
before any page asks for them: :func:`preload_predictors` runs outside any
script, and :func:`predictors_for` takes its result (or waits for a load still
in flight) instead of loading the same models a second time.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import streamlit as st

from seqattn.runs import ProgressTail, progress_reader

PRELOAD_WAIT = 120.0  # s: a page waits at most this long for the warm-up's load of the same run

_preload_lock = threading.Lock()
_preloaded: dict[tuple[str, str], Future] = {}


def load_predictors(run_id: str, root: str) -> dict[str, Any]:
    """A finished run's predictors (NumPy, no TensorFlow: :func:`seqattn.runs.load_predictors`), uncached."""
    from seqattn.runs import load_predictors

    return load_predictors(run_id, root)


def preload_predictors(run_id: str, root: str) -> dict[str, Any]:
    """Load a run's predictors ahead of the pages (from any thread, no script context needed).

    The next :func:`predictors_for` call for the same run and root takes them
    (waiting if this load is still running). Loading twice is avoided; errors
    are raised here, and a page that asks later loads again by itself.
    """
    key = (run_id, root)
    with _preload_lock:
        future = _preloaded.get(key)
        if future is None:
            future = _preloaded[key] = Future()
            owner = True
        else:
            owner = False
    if owner:
        try:
            future.set_result(load_predictors(run_id, root))
        except BaseException as exc:
            future.set_exception(exc)
            with _preload_lock:
                _preloaded.pop(key, None)  # a page loads it again (and shows its own error)
            raise
    return future.result()


def _take_preloaded(run_id: str, root: str) -> dict[str, Any] | None:
    with _preload_lock:
        future = _preloaded.pop((run_id, root), None)
    if future is None:
        return None
    try:
        return future.result(timeout=PRELOAD_WAIT)
    except Exception:  # noqa: BLE001  (the warm-up logged it; load here and show the page's own error)
        return None


@st.cache_resource(max_entries=4, show_spinner="Loading the run's models…")
def predictors_for(run_id: str, root: str) -> dict[str, Any]:
    """Predictors of a finished run, by model name (shared by all sessions)."""
    preloaded = _take_preloaded(run_id, root)
    return preloaded if preloaded is not None else load_predictors(run_id, root)


def progress_tail(run_id: str, root: str) -> ProgressTail:
    """This session's incremental reader of a run's progress.csv."""
    tails = st.session_state.setdefault("_progress_tails", {})
    key = (run_id, root)
    if key not in tails:
        tails[key] = progress_reader(run_id, root)
    return tails[key]
