"""The Sweep page, driven by Streamlit's AppTest (no browser).

Widgets are found by key; jobs are started through the jobs seam (a fake launcher), never trained here.
"""

from __future__ import annotations

import dataclasses

import json
import os
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seqattn.sweeps import cluster
from seqattn.jobs import control as jobs
from seqattn.sweeps.cells import CellResult
from seqattn.problem.config import ProblemConfig
from seqattn.runs import append_cell, cancel_requested, create_run, list_runs, run_dir, update_status
from seqattn.sweeps.grid import MAX_CELLS, SweepConfig
from seqattn.model.config import ModelConfig
from seqattn.training.config import TrainConfig
from test_app import app as open_page, no_exception, set_number

SWEEP = "pages/4_Sweep.py"
TINY_PROBLEM = ProblemConfig(cardinality=6, n_in=4, n_out=2)
TINY_MODEL = ModelConfig(units=8)
TINY_TRAIN = TrainConfig(protocol="batched", updates=40, batch_size=8, eval_size=50, eval_every=20,
                         jit_compile=False)
TINY_SWEEP = SweepConfig(axis="n_in", values=(3, 4), seeds=1)


@pytest.fixture()
def runs(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    monkeypatch.setenv("SEQATTN_DASK_WORKERS", "1")
    monkeypatch.delenv("SEQATTN_DASK_SCHEDULER", raising=False)
    yield root
    cluster.close_local_cluster()


def app(path: str = SWEEP, **params: str) -> AppTest:
    return open_page(path, **params)


def run_button(at: AppTest):
    return at.button(key="sweep_start")


def errors(at: AppTest) -> str:
    """The error messages as shown (Markdown's backslash escapes removed)."""
    return " ".join(e.value.replace("\\", "") for e in at.error)


def values_box(at: AppTest):
    return at.text_input(key="sweep_values")


def has(elements, key: str) -> bool:
    return any(e.key == key for e in elements)


def quiet_launcher(directory) -> int:
    """A launcher that starts nothing: the job stays queued, owned by this (live) process."""
    return os.getpid()


@pytest.fixture()
def quiet_backend():
    """Jobs the page starts go to :func:`quiet_launcher` (through the jobs seam); yields their run ids."""
    from ui import backend

    launched: list[str] = []
    backend.use_launcher(lambda directory: launched.append(directory.name) or quiet_launcher(directory))
    yield launched
    backend.use_launcher(None)


def test_renders_with_no_runs_and_the_default_form_gives_an_estimate(runs):
    at = app()
    no_exception(at)
    assert [t.value for t in at.title] == ["Sweep"]
    assert values_box(at).value == "5, 10, 15, 20"
    assert at.selectbox(key="sweep_axis").value == "n_in"
    assert at.text_input(key="sweep_seeds").value == "3"
    assert at.text_input(key="sweep_until").value == "95", "each model trains to 95 % exact match"
    cap = at.text_input(key="sweep_updates_batched")
    assert cap.value == "2000" and cap.label == "Cap on updates"
    assert not run_button(at).disabled
    estimate = " ".join(i.value for i in at.info)
    assert "12 cells" in estimate and "4 values × 3 seeds" in estimate
    assert "Estimated run time: **at most about" in estimate and "to the cap" in estimate and "1 worker" in estimate
    assert not at.error
    assert not at.get("plotly_chart"), "no sweep yet, so no latest-sweep figure"
    assert cluster._local is None, "rendering the form starts no cluster"


@pytest.mark.parametrize(
    "text, message",
    [
        ("5, x", "'x' is not a whole number"),
        ("", "give at least one input length"),
        ("5, 2.5", "'2.5' is not a whole number"),
        ("5, 10, 5", "5 appears more than once"),
        ("5, 0", "each n_in value must be from 1"),
        ("5, 500", "each n_in value must be from 1 to 100; got 500"),
    ],
)
def test_bad_values_are_explained_and_disable_the_button(runs, text, message):
    at = app()
    values_box(at).set_value(text).run()
    no_exception(at)
    assert message in errors(at), errors(at)
    assert run_button(at).disabled
    assert not at.info, "no estimate for a refused grid"
    assert list_runs(runs) == []


def test_bad_values_message_says_what_is_accepted(runs):
    at = app()
    values_box(at).set_value("5, x").run()
    assert "whole numbers separated by commas, e.g. 5, 10, 15" in errors(at)


def test_a_grid_over_the_cap_is_refused(runs):
    at = app()
    values_box(at).set_value(", ".join(str(v) for v in range(1, 101))).run()
    set_number(at, "sweep_seeds", 3)
    at.run()
    no_exception(at)
    assert "300 cells" in errors(at) and f"at most {MAX_CELLS}" in errors(at)
    assert run_button(at).disabled


def test_the_echo_rule_is_offered_for_input_length_only(runs):
    at = app()
    assert at.radio(key="sweep_rule").label == "Echo length in each cell"
    at.selectbox(key="sweep_axis").set_value("units").run()
    values_box(at).set_value("4, 8").run()
    no_exception(at)
    assert not has(at.radio, "sweep_rule")
    assert "2 values × 3 seeds" in " ".join(i.value for i in at.info)


@pytest.mark.parametrize("raw, message", [
    ("../../etc", "`../../etc`, which is not a run id"),
    # User text is shown only inside a code span (literally), its own backticks defused.
    ("**bold** `x`", "`**bold** 'x'`, which is not a run id"),
    ("20000101-000000-abcdef", "The run folder 20000101-000000-abcdef is no longer in"),
])
def test_a_bad_run_in_the_url_is_explained_and_the_form_shown(runs, raw, message):
    at = app(run=raw)
    no_exception(at)
    assert message in errors(at), errors(at)
    assert not run_button(at).disabled


def test_a_training_run_is_not_shown_as_a_sweep(runs):
    run_id = jobs.start(TINY_PROBLEM, TINY_TRAIN, model=TINY_MODEL, root=runs, launcher=quiet_launcher)
    at = app(run=run_id)
    no_exception(at)
    assert "it is a train run, not a sweep" in errors(at)
    assert has(at.button, "sweep_start")


def test_run_sweep_starts_on_the_configured_scheduler_and_puts_the_run_in_the_url(runs, monkeypatch, quiet_backend):
    # No real job: the launcher starts nothing, the scheduler comes from the environment.
    monkeypatch.setenv("SEQATTN_DASK_SCHEDULER", "tcp://127.0.0.1:8786")
    at = app()
    values_box(at).set_value("3, 4").run()
    for key, value in [("sweep_cardinality", 6), ("sweep_units", 8), ("sweep_updates_batched", 40),
                       ("sweep_batch_batched", 8), ("sweep_seeds", 1)]:
        set_number(at, key, value)
    at.run()
    run_button(at).click().run()
    no_exception(at)
    run_id = at.query_params["run"]
    run_id = run_id[0] if isinstance(run_id, list) else run_id
    assert quiet_backend == [run_id], "started through the jobs seam"
    meta = json.loads((run_dir(run_id, runs) / "run.json").read_text())
    assert meta["kind"] == "sweep" and meta["scheduler"] == "tcp://127.0.0.1:8786"
    assert meta["sweep"] == {"axis": "n_in", "values": [3, 4], "seeds": 1, "n_out_rule": "fixed"}
    assert meta["model"]["units"] == 8 and meta["problem"]["cardinality"] == 6
    assert meta["train"]["jit_compile"] is False  # sweep cells skip XLA's compile (seqattn.sweeps.grid.CELL_XLA)
    assert meta["train"]["until"] == 95 and meta["train"]["updates"] == 40, "to 95 %, at most 40 updates"
    assert cluster._local is None, "a configured scheduler needs no local cluster"
    at.run()  # the worker never started: the page shows the queued sweep
    assert any("Queued" in p.proto.text for p in at.get("progress"))
    at.button(key="cancel_run").click().run()
    no_exception(at)
    assert cancel_requested(run_dir(run_id, runs))
    assert at.button(key="new_run").label == "New sweep"
    at.button(key="new_run").click().run()
    assert "run" not in at.query_params
    assert has(at.button, "sweep_start")


def recorded_sweep(root: Path, state: str, cells: list[CellResult]) -> str:
    """A sweep run as its job leaves it, without training: the cells it recorded and its final state."""
    run_id = create_run(TINY_PROBLEM, TINY_TRAIN.to_dict(), model=TINY_MODEL.to_dict(),
                        kind="sweep", extra={"sweep": TINY_SWEEP.to_dict()},
                        root=root)
    directory = run_dir(run_id, root)
    for cell in cells:
        append_cell(directory, cell)
    update_status(directory, state=state, cells_total=TINY_SWEEP.cell_count, cells_done=len(cells), elapsed=3.0)
    return run_id


def test_a_cancelled_sweep_keeps_its_cells_and_a_failed_cell_says_why(runs):
    done = CellResult(index=0, repeat=0, seed=0, values={"n_in": 3, "n_out": 2}, problem={**TINY_PROBLEM.to_dict(), "n_in": 3},
                      status="done", exact_match={"baseline": 0.25, "attention": 0.75}, alignment=0.6,
                      updates_done=40, seconds=2.5)
    failed = CellResult(index=1, repeat=0, seed=0, values={"n_in": 4, "n_out": 2}, problem=TINY_PROBLEM.to_dict(),
                        status="failed", error="the cell's worker failed (KilledWorker: out of memory)")
    run_id = recorded_sweep(runs, "cancelled", [done, failed])
    at = app(run=run_id)
    no_exception(at)
    assert any("cancelled" in i.value and "2 of 2 cells" in i.value for i in at.info)
    table = at.dataframe[0].value
    assert list(table["input length"]) == [3, 4]
    assert list(table["status"]) == ["done", "failed"]
    assert list(table["Attention"])[0] == 0.75
    assert "KilledWorker: out of memory" in table["error"].iloc[1]
    summary = at.dataframe[1].value
    assert list(summary["input length"]) == [3], "the summary is over finished cells"
    assert summary["Attention mean"].iloc[0] == 0.75
    assert any(b.label == "Download CSV" for b in at.get("download_button"))
    assert not has(at.button, "cancel_run")


@pytest.mark.parametrize("state, error, said", [
    ("interrupted", "The dashboard or command that started this run stopped.",
     "This sweep was interrupted: The dashboard or command that started this run stopped."),
    ("failed", "RuntimeError: boom", "This sweep failed: RuntimeError: boom."),
])
def test_a_sweep_that_ended_early_says_why_in_one_sentence(runs, state, error, said):
    # Issue 24: "stopped.." (the error's full stop, then the page's) on an interrupted sweep.
    run_id = recorded_sweep(runs, state, [])
    update_status(run_dir(run_id, runs), error=error)
    at = app(run=run_id)
    no_exception(at)
    shown = [w.value.replace("\\", "") for w in at.warning]  # Markdown's escapes removed
    assert shown == [said], shown
    assert ".." not in shown[0]


def test_a_sweep_renders_live_then_finished_with_figure_table_and_csv(runs, fake_backend):
    fake_backend.hold()
    until = dataclasses.replace(TINY_TRAIN, until=95)
    run_id = jobs.start_sweep(TINY_PROBLEM, until, TINY_SWEEP, model=TINY_MODEL, root=runs, launcher=fake_backend)
    at = app(run=run_id)
    no_exception(at)
    assert has(at.button, "cancel_run"), "live view while the sweep runs"
    assert at.get("progress"), "a progress bar while the sweep runs"
    fake_backend.release()
    deadline = time.monotonic() + 60
    saw_a_cell_live = False
    while jobs.status(run_id, runs).active:
        assert time.monotonic() < deadline, "sweep did not finish"
        at.run()
        no_exception(at)
        saw_a_cell_live |= bool(at.dataframe) and bool(at.get("progress"))
        time.sleep(0.1)
    at.run()
    no_exception(at)
    status = jobs.status(run_id, runs)
    assert status.state == "done", status
    assert any("Done: 2 of 2 cells" in s.value for s in at.success)
    assert not has(at.button, "cancel_run")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = {t.get("name") for t in spec["data"]}
    assert {"Baseline (no attention)", "Attention"} <= names
    shapes = {s.get("name"): s for s in spec["layout"].get("shapes", [])}
    assert shapes["chance"]["yref"] == "y2" and shapes["cap"]["y0"] == 40, "chance under exact match, the cap above"
    assert spec["layout"]["yaxis"]["type"] == "log", "updates to the threshold on a log axis"
    caption = spec["layout"]["title"]["subtitle"]["text"]
    assert "until 95 % held-out exact match or 40 updates" in caption and "seed 0" in caption, caption
    # The fake baseline needs 40 * n_in / 4 updates: 30 at length 3, 40 (the cap, reached) at 4.
    table = at.dataframe[0].value
    assert list(table["Baseline updates to threshold"]) == ["30", "40"]
    assert list(table["Attention updates to threshold"]) == ["8", "8"]
    assert list(table["input length"]) == [3, 4]
    assert list(table["status"]) == ["done", "done"]
    assert {"seed", "Baseline (no attention)", "Attention", "alignment", "seconds"} <= set(table.columns)
    assert "error" not in table.columns, "no failed cell, no error column"
    assert table["Attention"].between(0, 1).all()
    summary = at.dataframe[1].value
    assert list(summary["input length"]) == [3, 4]
    assert {"Baseline mean", "Attention mean", "seeds"} <= set(summary.columns)
    assert list(summary["Baseline updates to threshold"]) == ["30 (30-30)", "40 (40-40)"]
    assert any(b.label == "Download CSV" for b in at.get("download_button"))
    print(f"live view showed a finished cell before the end: {saw_a_cell_live}")

    # Home lists the sweep; the Sweep form shows it as the latest sweep.
    home = app("dashboard.py")
    no_exception(home)
    assert any(f"`{run_id}`: 2 of 2 cells done · done" in m.value for m in home.markdown)
    assert any("No runs yet" in i.value for i in home.info), "a sweep is not the latest training run"
    form = app()
    no_exception(form)
    assert any(run_id in s.value for s in form.subheader)
    assert form.get("plotly_chart")


def test_the_typed_grid_is_parsed_in_the_core():
    from seqattn.problem.parsing import parse_whole_numbers
    from seqattn.sweeps import report

    assert report.sweep_from_form("units", " 8;16  32 ", 2) == SweepConfig(axis="units", values=(8, 16, 32), seeds=2)
    with pytest.raises(ValueError, match="too long"):
        report.sweep_from_form("n_in", "5, " * 1000, 1)
    with pytest.raises(ValueError, match="seeds"):
        report.sweep_from_form("n_in", "5", 0)
    assert parse_whole_numbers("3 3", "value", distinct=False) == [3, 3]
    half = SweepConfig(axis="n_in", values=(5, 40), seeds=1, n_out_rule="half")
    assert report.swept_settings(half) == {"n_in": 40, "n_out": 20}
    assert report.swept_settings(SweepConfig(axis="units", values=(1024,), seeds=1)) == {"units": 1024}
    with pytest.raises(ValueError, match="each units value must be from 1 to 1024; got 2000"):  # its own range
        SweepConfig(axis="units", values=(2000,), seeds=1)
    assert report.swept_settings(None) == {}
