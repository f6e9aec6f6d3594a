"""Cached access to runs for the pages: models load once per run, not per rerun."""

from __future__ import annotations

from typing import Any

import streamlit as st

from seqattn.runs import ProgressTail, progress_reader


@st.cache_resource(max_entries=4, show_spinner="Loading the run's models…")
def predictors_for(run_id: str, root: str) -> dict[str, Any]:
    """Compiled predictors of a finished run, by model name (shared by all sessions)."""
    from seqattn.models import Predictor
    from seqattn.runs import load_models

    return {name: Predictor(model) for name, model in load_models(run_id, root).items()}


def progress_tail(run_id: str, root: str) -> ProgressTail:
    """This session's incremental reader of a run's progress.csv."""
    tails = st.session_state.setdefault("_progress_tails", {})
    key = (run_id, root)
    if key not in tails:
        tails[key] = progress_reader(run_id, root)
    return tails[key]
