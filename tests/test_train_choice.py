"""'Train another' while a run trains: the form says so and offers "Cancel it and train" or "Queue after it"."""

from __future__ import annotations

from seqattn.jobs import control as jobs
from seqattn.runs import read_meta, run_dir

from test_app import TINY_TRAIN_FORM, app, fill_and_start, has, no_exception, set_number, start_from
from test_damaged_runs import warnings


def _train_another(at):
    at.button(key="new_run").click().run()
    no_exception(at)
    return at


def test_nothing_running_means_one_start_button(runs, fake_backend):
    at = app("pages/1_Train.py")
    no_exception(at)
    assert has(at.button, "train_start")
    assert not has(at.button, "train_start_queue") and not has(at.button, "train_start_cancel_first")
    assert "is running" not in warnings(at)


def test_queue_after_it_starts_the_new_run_and_leaves_the_running_one(runs, fake_backend):
    fake_backend.hold()  # the first run stays running until released
    at = app("pages/1_Train.py")
    first = fill_and_start(at, TINY_TRAIN_FORM, "train_start")
    _train_another(at)
    assert not has(at.button, "train_start"), "no silent queue: the plain start button is replaced by the choice"
    note = warnings(at)
    assert note.startswith(f"A training is running (`{first}`") and "cancel first, or queue after" in note, note
    assert at.button(key="train_start_queue").label == "Queue after it"
    assert at.button(key="train_start_cancel_first").label == "Cancel it and train"
    set_number(at, "train_n_in", 6)
    at.run()
    second = start_from(at, "train_start_queue")
    assert second != first
    assert jobs.status(first, runs).state == "running"  # left alone
    assert read_meta(run_dir(second, runs))["problem"]["n_in"] == 6  # the form's settings
    assert [d.name for d in fake_backend.launched] == [first, second]


def test_cancel_it_and_train_ends_the_running_ones_before_starting(runs, fake_backend):
    fake_backend.hold()
    at = app("pages/1_Train.py")
    first = fill_and_start(at, TINY_TRAIN_FORM, "train_start")
    _train_another(at)
    second = start_from(at, "train_start_queue")
    _train_another(at)
    note = warnings(at)
    assert first in note and second in note, note
    assert at.button(key="train_start_cancel_first").label == "Cancel them and train"
    third = start_from(at, "train_start_cancel_first")
    assert third not in (first, second)
    # Both ended before the new one was launched (a real cancelled run keeps its history and models: test_app).
    assert [jobs.status(r, runs).state for r in (first, second)] == ["cancelled", "cancelled"]
    assert [d.name for d in fake_backend.launched] == [first, second, third]
    assert jobs.active_jobs(runs)[0].run_id == third
    fake_backend.release()


def test_active_jobs_lists_running_before_queued_and_skips_ended_ones(runs, fake_backend):
    from test_damaged_runs import fake_done_run, fake_running_run

    from seqattn.runs import update_status

    done = fake_done_run(runs)
    running = fake_running_run(runs)
    queued = fake_running_run(runs)
    update_status(run_dir(queued, runs), state="queued")
    assert [j.run_id for j in jobs.active_jobs(runs)] == [running, queued]
    assert done not in [j.run_id for j in jobs.active_jobs(runs)]
    assert jobs.wait_until_ended([done], runs, timeout=0.1)
    assert not jobs.wait_until_ended([running], runs, timeout=0.3)


def test_while_a_run_trains_bad_settings_disable_both_choices_and_keep_the_run(runs, fake_backend):
    fake_backend.hold()
    at = app("pages/1_Train.py")
    first = fill_and_start(at, TINY_TRAIN_FORM, "train_start")
    _train_another(at)
    set_number(at, "train_n_out", 9)  # longer than the input: no such problem
    at.run()
    no_exception(at)
    assert any("Cannot train with these settings" in e.value for e in at.error), [e.value for e in at.error]
    assert at.button(key="train_start_cancel_first").disabled and at.button(key="train_start_queue").disabled
    assert jobs.status(first, runs).state == "running" and [d.name for d in fake_backend.launched] == [first]
    fake_backend.release()
