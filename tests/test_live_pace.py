"""The live view's pace: every 0.2 s until a new job's first report is drawn, then once a second."""

from __future__ import annotations

import time

import pytest
import streamlit

from seqattn.runs import run_dir, update_status
from seqattn.runs.summary import RunSummary
from test_app import TINY_TRAIN_FORM, app, fill_and_start, no_exception
from ui import run_view


def _summary(update: int, age: float) -> RunSummary:
    return RunSummary(id="20261206-120000-abcdef", created=time.time() - age, state="running", update=update)


@pytest.mark.parametrize(("update", "age", "awaiting"), [
    (0, 0.5, True),  # just started, nothing reported: look often
    (1, 0.5, False),  # the first report is in
    (0, run_view.FIRST_REPORT_FOR + 1, False),  # a long wait (a queued job, a sweep's first cell): the usual pace
])
def test_awaiting_first_report(update, age, awaiting):
    assert run_view.awaiting_first_report(_summary(update, age)) is awaiting


@pytest.fixture
def paces(monkeypatch):
    """The ``run_every`` of each fragment the pages define, in order."""
    seen: list[float | None] = []
    real = streamlit.fragment

    def recording(func=None, *, run_every=None):
        seen.append(run_every)
        return real(func, run_every=run_every) if func is not None else real(run_every=run_every)

    monkeypatch.setattr(streamlit, "fragment", recording)
    return seen


def test_a_new_job_is_followed_fast_until_its_first_report(runs, fake_backend, paces):
    fake_backend.hold()  # launched, nothing reported yet
    at = app("pages/1_Train.py")
    run_id = fill_and_start(at, TINY_TRAIN_FORM, "train_start")
    assert paces[-1] == run_view.FIRST_REPORT_SECONDS
    update_status(run_dir(run_id, runs), update=1)  # its first report
    at.run()
    no_exception(at)
    assert paces[-1] == run_view.LIVE_SECONDS
    fake_backend.release()


def test_the_page_run_that_finds_the_first_report_is_not_cut_short(runs, fake_backend, paces, monkeypatch):
    """The first report may come between the page's look at the job and its live view's first draw: that script
    run still ends normally (a rerun from it would leave the form's stale elements on screen meanwhile)."""
    fake_backend.hold()
    at = app("pages/1_Train.py")
    fill_and_start(at, TINY_TRAIN_FORM, "train_start")
    looks = iter([True])  # awaiting when the page looks, reported by the time the live view draws
    monkeypatch.setattr(run_view, "awaiting_first_report", lambda summary: next(looks, False))
    before = len(paces)
    at.run()
    no_exception(at)
    assert paces[before:] == [run_view.FIRST_REPORT_SECONDS], "one script run, at the first-report pace"
    fake_backend.release()
