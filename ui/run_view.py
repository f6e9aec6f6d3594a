"""The view of a run named in the address (``?run=<id>``), shared by Train, Compare and Sweep.

:func:`run_page` does the flow every such page has: no run named, or one that
cannot be shown (not a run id, gone, damaged, another page's kind), and the page's
form is drawn after one plain sentence saying why; a job still running is
followed by a fragment that refreshes once a second (with Cancel); a job that
has ended is shown finished; and a button brings the form back. :func:`start_job`
starts a job from a form and puts its id in the address.

Runs are read through :mod:`seqattn.runs`' tolerant readers, looked up at call
time (``runs.run_checked``), so a damaged or vanished run is a sentence, never a
traceback, here or in the live fragment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

import seqattn.runs as runs
from seqattn.jobs import control as jobs
from seqattn.runs import RunError, RunSummary, validate_run_id
from seqattn.settings import check_all
from ui.shell import guarded
from ui.text import code, plain

LIVE_SECONDS = 1.0  # the live view's refresh (faster ticks take the CPU the training needs on 2 cores)
RUN_ID_FORM = "20261123-195700-a1b2c3"


@dataclass(frozen=True)
class RunPage:
    """What a page calls its runs, and what it draws of one.

    ``kind`` is the run kind the page shows; ``noun`` names one in messages
    ("training", "comparison", "sweep"); ``form`` draws the page's start form;
    ``live`` draws a running job (called once a second with a fresh summary and
    status); ``finished`` draws an ended one; ``new_label`` is the button that
    brings the form back; ``stopping`` is the note shown when Cancel is clicked.
    """

    kind: str
    noun: str
    form: Callable[[], None]
    live: Callable[[RunSummary, jobs.JobStatus], None]
    finished: Callable[[RunSummary, jobs.JobStatus], None]
    new_label: str
    stopping: str = "Stopping…"


def run_page(page: RunPage, root: str) -> None:
    """The page's body: the run named in the address, live or finished, else the form."""
    summary = named_run(page, root)
    if summary is None:
        page.form()
        return
    st.caption(f"{page.noun.capitalize()} `{summary.id}` · share this page's address to follow it from another tab.")
    status = jobs.JobStatus.from_summary(summary, root)
    if status.active:
        follow(page, summary.id, root)
    else:
        page.finished(summary, status)
    if st.button(page.new_label, key="new_run"):
        del st.query_params["run"]
        st.rerun()


def named_run(page: RunPage, root: str) -> RunSummary | None:
    """The run of ``page.kind`` named in the address; None if none is named, or after saying why it cannot be shown."""
    raw = st.query_params.get("run")
    if raw is None:
        return None
    instead = f"Showing the {page.noun} form instead."
    try:
        run_id = validate_run_id(raw)
    except ValueError:
        st.error(f"The address names {code(raw)}, which is not a run id (expected the form {RUN_ID_FORM}). {instead}")
        return None
    found = runs.run_checked(run_id, root)
    summary = found.value
    if summary is None:
        st.error(f"{plain(found.problem)}. {instead}")
        return None
    if summary.broken or summary.kind != page.kind:
        reason = plain(summary.broken) if summary.broken else f"it is a {plain(summary.kind)} run, not a {page.noun}"
        st.error(f"Run {code(run_id)} cannot be shown here: {reason}. {instead}")
        return None
    return summary


def follow(page: RunPage, run_id: str, root: str) -> None:
    """A running job: Cancel, and a fragment that redraws ``page.live`` once a second until the job ends."""
    if st.button("Cancel", key="cancel_run", icon=":material/stop:"):
        try:
            jobs.cancel(run_id, root)
            st.toast(page.stopping)
        except (RunError, ValueError) as exc:
            st.error(f"Could not cancel: {plain(exc)}")

    @st.fragment(run_every=LIVE_SECONDS)
    @guarded  # a fragment's reruns do not pass through the page's guard
    def tick() -> None:
        # Every read is tolerant: a vanished or damaged run is a sentence here, and the polling goes on.
        found = runs.run_checked(run_id, root)
        summary = found.value
        if summary is None:
            st.error(f"{plain(found.problem)}. Nothing more can be shown of it; the other runs are unaffected.")
            return
        if summary.broken:
            st.error(f"Run {code(run_id)} cannot be followed: {plain(summary.broken)}. The other runs are unaffected.")
            return
        status = jobs.JobStatus.from_summary(summary, root)
        if not status.active:
            st.rerun()  # full rerun: the finished view
        page.live(summary, status)

    tick()


def start_job(start: Callable[[], str], what: str) -> None:
    """Start a job with ``start`` (returns its run id) and follow it; if it cannot start, say why."""
    try:
        # Strict even where pages read bad settings as defaults: a job's process would refuse them,
        # and a sweep's local cluster would fail to start over them before the job is queued.
        check_all()
        run_id = start()
    except (ValueError, RunError, OSError, TimeoutError) as exc:  # over budget, queue full, no cluster, ...
        st.error(f"Could not start the {what}: {plain(exc)}")
        return
    st.query_params["run"] = run_id
    st.rerun()
