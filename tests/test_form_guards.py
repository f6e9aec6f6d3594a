"""The shared form's guards: values a number input cannot hold, tiny learning rates, the cost budget."""

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


@pytest.mark.parametrize("key, low, high", [("train_cardinality", 2, 1000), ("train_n_in", 1, 100),
                                            ("train_n_out", 1, 100), ("train_units", 1, 1024),
                                            ("train_updates_batched", 1, 1_000_000),
                                            ("train_batch_batched", 1, 4096)])
def test_whole_number_inputs_carry_their_range(runs, key, low, high):
    # With min and max, the browser answers a value the input cannot hold (1e20, or
    # 1e5 for the cardinality) with "Number is outside the allowed range. Please enter
    # a value between 2 and 1000." instead of silently keeping the previous value.
    widget = train_page().number_input(key=key)
    assert (widget.proto.min, widget.proto.max) == (low, high)
    assert widget.proto.has_min and widget.proto.has_max


@pytest.mark.parametrize("value", [100000000000000000000, 1e5])
def test_a_value_out_of_range_never_reaches_the_settings(runs, value):
    at = train_page()
    at.number_input(key="train_cardinality").set_value(value).run()
    assert not at.exception
    assert at.number_input(key="train_cardinality").value == 50
    assert not at.error and not start_button(at).disabled


def test_a_tiny_learning_rate_is_shown_as_itself(runs):
    at = train_page()
    widget = at.number_input(key="train_lr_batched")
    assert widget.proto.format % widget.value == "0.005"
    widget.set_value(1e-9).run()
    widget = at.number_input(key="train_lr_batched")
    assert widget.value == 1e-9
    assert widget.proto.format % widget.value == "1e-09"
    assert not at.error and not start_button(at).disabled


def test_form_shows_the_estimate_and_refuses_a_job_over_budget(runs):
    at = train_page()
    assert any(c.value.startswith("Estimated: ~") and "GiB peak memory" in c.value for c in at.caption)
    for key, value in [("train_cardinality", 1000), ("train_n_in", 100), ("train_n_out", 100),
                       ("train_units", 1024), ("train_batch_batched", 4096)]:
        at.number_input(key=key).set_value(value)
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("GiB of memory; the budget is" in e and "smaller batch size" in e for e in errors), errors
    assert start_button(at).disabled
    assert list_runs(runs) == []
