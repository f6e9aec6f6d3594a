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

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

import seqattn.runs as runs
from seqattn.jobs import control as jobs
from seqattn.runs import RunError, RunSummary, validate_run_id
from seqattn.settings import check_all
from ui.shell import format_seconds, guarded
from ui.text import code, plain

LIVE_SECONDS = 1.0  # the live view's refresh (faster ticks take the CPU the training needs on 2 cores)
# Until a new job's first report, and for at most FIRST_REPORT_FOR after its start, the live view looks
# this often: a click's first loss point is on screen a tick after it is written, not up to a second later.
FIRST_REPORT_SECONDS = 0.2
FIRST_REPORT_FOR = 15.0
RUN_ID_FORM = "20261123-195700-a1b2c3"
CANCEL_WAIT_SECONDS = 10.0  # a cancelled job stops within one update (about 1 s); a frozen one is left to queue behind


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
        follow(page, summary.id, root, awaiting_first_report(summary))
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


def awaiting_first_report(summary: RunSummary, now: float | None = None) -> bool:
    """Whether ``summary``'s job has reported no update yet and was created less than ``FIRST_REPORT_FOR`` s ago."""
    now = time.time() if now is None else now
    return summary.update == 0 and now - summary.created < FIRST_REPORT_FOR


def follow(page: RunPage, run_id: str, root: str, first_report: bool = False) -> None:
    """A running job: Cancel, and a fragment that redraws ``page.live`` once a second until the job ends.

    With ``first_report`` (:func:`awaiting_first_report`), every ``FIRST_REPORT_SECONDS`` instead, until the
    job's first report is drawn: then a full rerun sets the usual pace (the report is on screen by then).
    """
    if st.button("Cancel", key="cancel_run", icon=":material/stop:"):
        try:
            jobs.cancel(run_id, root)
            st.toast(page.stopping)
        except (RunError, ValueError) as exc:
            st.error(f"Could not cancel: {plain(exc)}")

    inline = True  # the fragment's first run is part of this script run (then its own reruns)

    @st.fragment(run_every=FIRST_REPORT_SECONDS if first_report else LIVE_SECONDS)
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
        if first_report and not inline and not awaiting_first_report(summary):
            # A tick of its own: the report drawn above is already sent; the page now ticks at LIVE_SECONDS.
            # (Not in the script run that drew the page: it would end unfinished, its stale elements left.)
            st.rerun()

    tick()
    inline = False


def start_button(start: Callable[[], str], what: str, label: str, key: str, root: str, *, disabled: bool,
                 help: str) -> None:
    """The form's start button; while another job holds the slot, a choice instead of a silent queue.

    With nothing running: one button ``label`` (key ``key``, shortcut T). While jobs are
    active, a note names them and how long until the slot frees, and two buttons: "Cancel it
    and train" (key ``<key>_cancel_first``) cancels them, waits for them to end (their models
    are kept, as with Cancel) and starts this one at once; "Queue after it" (key
    ``<key>_queue``) starts this one now, to run when the slot frees.
    """
    busy = jobs.active_jobs(root)
    if not busy:
        if st.button(label, type="primary", disabled=disabled, shortcut="T", key=key, help=help):
            start_job(start, what)
        return
    st.warning(busy_note(busy))
    left, right = st.columns(2)
    ids = [job.run_id for job in busy]
    them = "it" if len(busy) == 1 else "them"
    if left.button(f"Cancel {them} and train", type="primary", disabled=disabled, key=f"{key}_cancel_first",
                   icon=":material/skip_next:", help=f"Cancel {', '.join(ids)} (models kept as they are) and start "
                                                     f"this {what} at once."):
        with st.spinner(f"Stopping {', '.join(ids)}…"):
            for run_id in ids:
                with contextlib.suppress(RunError, ValueError):  # ended meanwhile: nothing to cancel
                    jobs.cancel(run_id, root)
            jobs.wait_until_ended(ids, root, timeout=CANCEL_WAIT_SECONDS)  # not ended by then: this one queues
        start_job(start, what)
    if right.button(f"Queue after {them}", disabled=disabled, key=f"{key}_queue", icon=":material/queue:",
                    help=f"Start this {what} when the slot frees (see the estimate above)."):
        start_job(start, what)


def busy_note(busy: list[jobs.JobStatus]) -> str:
    """One sentence on the active jobs and the wait until the slot frees (``busy`` as :func:`jobs.active_jobs` lists)."""
    parts = []
    for job in busy:
        noun = {"train": "training", "compare": "comparison", "sweep": "sweep"}.get(job.kind, "job")
        if job.state == "queued":
            parts.append(f"a {noun} waits for its turn ({code(job.run_id)})")
        elif job.phase != "training":
            parts.append(f"a {noun} is starting ({code(job.run_id)})")
        else:
            done = f"{job.update:,} / {job.total:,} updates" if job.total else f"{job.update:,} updates"
            left = f", about {format_seconds(job.eta)} left" if job.eta is not None else ""
            parts.append(f"a {noun} is running ({code(job.run_id)}: {done}{left})")
    etas = [job.eta for job in busy if job.state == "running" and job.eta is not None]
    if any(job.state == "queued" for job in busy):
        wait = "A new one would wait for them all"
    elif etas and len(busy) > 1:  # with one job, its time left is said above
        wait = f"A new one would start in about {format_seconds(min(etas))}"
    else:
        wait = "A new one would start when it ends"
    sentence = "; ".join(parts)
    return f"{sentence[:1].upper()}{sentence[1:]}. {wait}: cancel first, or queue after."


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
