"""The shared form's guards: values a number field cannot hold, tiny learning rates, the cost budget."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seqattn.runs import list_runs

PROJECT = Path(__file__).resolve().parent.parent
TIMEOUT = 120


def train_page() -> AppTest:
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=TIMEOUT)
    at.switch_page("pages/1_Train.py")
    return at.run()


@pytest.fixture()
def runs(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    monkeypatch.delenv("SEQATTN_MEMORY_BUDGET_GB", raising=False)
    monkeypatch.delenv("SEQATTN_TIME_BUDGET_S", raising=False)
    return root


def start_button(at: AppTest):
    return at.button(key="train_start")


NUMBER_FIELDS = [("train_cardinality", "Cardinality", 2, 1000), ("train_n_in", "Input length", 1, 100),
                 ("train_n_out", "Echo length", 1, 100), ("train_units", "Units", 1, 1024),
                 ("train_updates_batched", "Updates", 1, 1_000_000), ("train_batch_batched", "Batch size", 1, 4096),
                 ("train_seed", "Seed", 0, 2**31 - 1)]


@pytest.mark.parametrize("key, label, low, high", NUMBER_FIELDS)
def test_whole_number_fields_state_their_range(runs, key, label, low, high):
    widget = train_page().text_input(key=key)
    assert widget.label == label
    assert f"({low:,} to {high:,})." in widget.help


# What the browser's number input got wrong (issue 24, item 13): 1e20 kept the previous value, 1e3 became 1.
@pytest.mark.parametrize("key, label, low, high", NUMBER_FIELDS)
@pytest.mark.parametrize("typed", ["100000000000000000000", "1e20", "1e3", "2.5", "abc", ""])
def test_a_value_a_field_cannot_hold_disables_the_start_button(runs, key, label, low, high, typed):
    at = train_page()
    at.text_input(key=key).set_value(typed).run()
    assert not at.exception
    shown = [e.value.replace("\\", "") for e in at.error]
    assert len(shown) == 1 and shown[0].startswith(f"Cannot train with these settings: {label}"), shown
    assert "outside the allowed range" in shown[0] or "is not a whole number" in shown[0] or "is empty" in shown[0]
    assert f"type a whole number from {low:,} to {high:,}." in shown[0]
    assert start_button(at).disabled
    assert list_runs(runs) == []


def test_a_number_in_range_is_taken_as_typed(runs):
    at = train_page()
    at.text_input(key="train_units").set_value(" 1000 ").run()
    at.text_input(key="train_cardinality").set_value("2").run()
    assert not at.error and not start_button(at).disabled
    assert any("Estimated: ~" in c.value for c in at.caption)


def test_a_tiny_learning_rate_is_taken_as_typed_and_a_bad_one_refused(runs):
    at = train_page()
    widget = at.text_input(key="train_lr_batched")
    assert widget.value == "0.005"
    widget.set_value("1e-9").run()
    assert at.text_input(key="train_lr_batched").value == "1e-9"
    assert not at.error and not start_button(at).disabled
    for typed in ("1e20", "nan", "0.5x"):
        at.text_input(key="train_lr_batched").set_value(typed).run()
        assert any("Learning rate" in e.value for e in at.error), typed
        assert start_button(at).disabled


def test_form_shows_the_estimate_and_refuses_a_job_over_budget(runs):
    at = train_page()
    assert any(c.value.startswith("Estimated: ~") and "GiB peak memory" in c.value for c in at.caption)
    for key, value in [("train_cardinality", 1000), ("train_n_in", 100), ("train_n_out", 100),
                       ("train_units", 1024), ("train_batch_batched", 4096)]:
        at.text_input(key=key).set_value(str(value))
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("GiB of memory; the budget is" in e and "smaller batch size" in e for e in errors), errors
    assert start_button(at).disabled
    assert list_runs(runs) == []


@pytest.mark.parametrize("page, key, label, button", [
    ("pages/3_Compare.py", "compare_repeats", "Repeats", "compare_start"),
    ("pages/4_Sweep.py", "sweep_seeds", "Seeds per cell", "sweep_start"),
    ("pages/4_Sweep.py", "sweep_until", "Train until (%)", "sweep_start"),
])
@pytest.mark.parametrize("typed", ["100000000000000000000", "1e3", "0"])
def test_compare_and_sweep_refuse_a_count_they_cannot_hold(runs, page, key, label, button, typed):
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=TIMEOUT)
    at.switch_page(page)
    at.run()
    assert not at.button(key=button).disabled
    at.text_input(key=key).set_value(typed).run()
    assert not at.exception
    shown = " ".join(e.value.replace("\\", "") for e in at.error)
    assert f"{label}" in shown and "type a whole number from 1 to 100." in shown, shown
    assert at.button(key=button).disabled
    assert list_runs(runs) == []
