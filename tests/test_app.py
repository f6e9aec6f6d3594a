"""The dashboard's pages, driven by Streamlit's AppTest (no browser).

Widgets are found by key (labels may be reworded; keys are the pages' interface). A page that starts a
job starts it through the jobs seam, where the ``fake_backend`` fixture plays it without training.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import wait_done
from seqattn.jobs import control as jobs
from seqattn.runs import list_runs

PROJECT = Path(__file__).resolve().parent.parent
TIMEOUT = 120  # TensorFlow is slow to import
PAGES = ["dashboard.py", "pages/home.py", "pages/1_Train.py", "pages/2_Explore.py", "pages/3_Compare.py",
         "pages/4_Sweep.py"]


def app(path: str, **params: str) -> AppTest:
    """Open a page of the multipage app (entrypoint dashboard.py), as a deep link would."""
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=TIMEOUT)
    if path != "dashboard.py":
        at.switch_page(path)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def has(elements, key: str) -> bool:
    """Whether a widget with ``key`` is on the page (``at.button(key=...)`` raises when it is not)."""
    return any(e.key == key for e in elements)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(str(m.value) for m in list(at.markdown) + list(at.error) + list(at.warning) + list(at.info))
    assert "Traceback" not in text


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_no_runs(runs, path):
    at = app(path)
    no_exception(at)
    assert at.title, "page has a title"
    if path.endswith("Explore.py"):
        assert any("No finished runs" in i.value for i in at.info)
    if path in ("dashboard.py", "pages/home.py"):
        assert any("No runs yet" in i.value for i in at.info)
        # The echo task's example is an SVG diagram, not a Plotly chart (it is drawn with the page).
        assert any('role="img"' in m.value and "Echo task example" in m.value for m in at.markdown)
        assert not at.get("plotly_chart")


def test_the_home_page_shows_the_latest_runs_accuracy_at_each_step(runs):
    import json

    from test_damaged_runs import fake_done_run

    fake_done_run(runs)  # result.json: each model 50 % at both output steps
    at = app("dashboard.py")
    no_exception(at)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 1
    bars = {trace["name"]: trace for trace in charts[0]["data"]}
    assert len(bars) == 2 and all(trace["type"] == "bar" for trace in bars.values())
    assert any("accuracy at each output step" in m.value for m in at.markdown)


def set_number(at: AppTest, key: str, value) -> None:
    """Type a number into a form's number field found by its key (keys, unlike labels, are the page's stable
    interface); the fields are text inputs the page parses itself (ui.numbers)."""
    at.text_input(key=key).set_value(str(value))


def start_from(at: AppTest, button: str) -> str:
    """Click the start button keyed ``button`` and return the run id the page put in the URL."""
    at.button(key=button).click().run()
    no_exception(at)
    run_id = at.query_params["run"]
    return run_id[0] if isinstance(run_id, list) else run_id


def fill_and_start(at: AppTest, numbers: dict[str, int], button: str) -> str:
    """Set the form's number inputs and click ``button`` (by key); returns the new run's id."""
    for key, value in numbers.items():
        set_number(at, key, value)
    at.run()
    return start_from(at, button)


TINY_TRAIN_FORM = {"train_cardinality": 10, "train_units": 8, "train_updates_batched": 80, "train_batch_batched": 8}


def test_invalid_config_shows_message_and_starts_nothing(runs):
    at = app("pages/1_Train.py")
    set_number(at, "train_n_in", 3)
    set_number(at, "train_n_out", 5)
    at.run()
    no_exception(at)
    assert any("n_out must be from 1 to 3; got 5" in e.value.replace("\\", "") for e in at.error)
    assert at.button(key="train_start").disabled
    assert list_runs(runs) == []


def test_training_from_the_train_page_completes_with_a_loss_chart(runs, fake_backend):
    fake_backend.hold()  # running until released: the live view first
    at = app("pages/1_Train.py")
    run_id = fill_and_start(at, TINY_TRAIN_FORM, "train_start")
    assert [r.id for r in list_runs(runs)] == [run_id]
    assert [d.name for d in fake_backend.launched] == [run_id], "started through the jobs seam"
    meta = json.loads((runs / run_id / "run.json").read_text())
    assert meta["problem"]["cardinality"] == 10 and meta["model"]["units"] == 8, "the form's values reached the job"
    assert has(at.button, "cancel_run") and at.get("progress"), "the live view"
    # Issue 24, item 15: one uirevision per run, and the script that keeps the zoom on the page (ui.zoom).
    live_loss = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "cross-entropy" in c.proto.spec)
    assert live_loss["layout"]["uirevision"] == f"loss:{run_id}:linear", live_loss["layout"].get("uirevision")
    assert any("__seqattnZoom" in h.proto.body for h in at.get("html")), "the zoom keeper is on the page"
    fake_backend.release()
    deadline = time.monotonic() + 60
    while jobs.status(run_id, runs).active:
        assert time.monotonic() < deadline
        at.run()
        no_exception(at)
        time.sleep(0.2)
    at.run()
    no_exception(at)
    assert any("Done" in s.value for s in at.success)
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    loss = next(spec for spec in charts if "cross-entropy" in spec)
    assert '"Baseline (no attention)"' in loss and '"Attention"' in loss
    assert not has(at.button, "train_start")  # a refresh shows this run, not a new form
    assert len(list_runs(runs)) == 1


def test_explore_shows_predictions_and_a_heatmap_matching_the_input(saved_run, monkeypatch):
    root, run_id = saved_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    at = app("pages/2_Explore.py", run=run_id, seq="3,1,4,1,5")
    no_exception(at)
    assert at.text_input(key="_seq_widget").value == "3,1,4,1,5"
    table = at.dataframe[0].value
    assert list(table.index) == ["Input", "Expected", "Baseline (no attention)", "Attention"]
    assert list(table.loc["Input"]) == ["3", "1", "4", "1", "5"]
    assert list(table.loc["Expected"]) == ["3", "1", "0", "0", "0"]
    import json

    heatmap = json.loads(next(c.proto.spec for c in at.get("plotly_chart") if "attention" in c.proto.spec))
    trace = next(t for t in heatmap["data"] if t["type"] == "heatmap")
    z = trace["z"]
    shape = [int(n) for n in z["shape"].split(",")] if isinstance(z, dict) else [len(z), len(z[0])]
    assert shape == [5, 5]
    ticks = heatmap["layout"]["xaxis"]["ticktext"]
    assert len(ticks) == 5 and all(str(token) in tick for token, tick in zip([3, 1, 4, 1, 5], ticks))
    assert len(heatmap["layout"]["yaxis"]["ticktext"]) == 5
    assert at.query_params["seq"] in ("3,1,4,1,5", ["3,1,4,1,5"])


BAD_INPUTS = [
    ("", "empty"),
    ("   ", "empty"),
    ("1 2 three 4 5", "not a whole number"),
    ("1 2 3.5 4 5", "decimal"),
    ("1 2 -3 4 5", "outside 0..9"),
    ("1 2 10 4 5", "outside 0..9"),
    ("1 2 3", "Expected 5 values, got 3"),
    ("1 2 3 4 5 6", "Expected 5 values, got 6"),
    ("[1, 2, 3, 4, 5", "Unbalanced"),
    ("[[1, 2, 3, 4, 5]]", "brackets"),
    ("1" * 100_000, "too long"),
    ("0x1 2 3 4 5", "not a whole number"),
    ("1;;2,,3  4 five", "not a whole number"),
]


def test_bad_inputs_show_errors_and_keep_the_run(saved_run, monkeypatch):
    root, run_id = saved_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    at = app("pages/2_Explore.py", run=run_id, seq="3,1,4,1,5")
    for text, message in BAD_INPUTS:
        at.text_input(key="_seq_widget").set_value(text).run()
        no_exception(at)
        shown = [e.value.replace("\\", "") for e in at.error]  # messages escape Markdown with backslashes
        assert any(message in e for e in shown), (text[:20], shown)
        assert at.selectbox(key="_run_select").value == run_id
        assert at.dataframe, "the last valid answer stays on the page"
    at.text_input(key="_seq_widget").set_value("2 2 2 2 2").run()
    assert not at.error


def test_compare_with_two_repeats_produces_the_table(runs, fake_backend):
    at = app("pages/3_Compare.py")
    set_number(at, "compare_repeats", 2)
    at.radio(key="compare_protocol").set_value("Batched (fast)")
    at.run()
    run_id = fill_and_start(at, {"compare_cardinality": 8, "compare_units": 8, "compare_updates_batched": 40,
                                 "compare_batch_batched": 8}, "compare_start")
    assert [d.name for d in fake_backend.launched] == [run_id], "started through the jobs seam"
    assert json.loads((runs / run_id / "run.json").read_text())["repeats"] == 2
    wait_done(run_id, runs, timeout=60)
    at.run()
    no_exception(at)
    table = at.dataframe[0].value
    assert list(table.index) == ["repeat 1", "repeat 2", "mean ± std"]
    assert set(table.columns) == {"baseline", "attention"}
    assert any(b.label == "Download CSV" for b in at.get("download_button"))


@pytest.mark.parametrize("path, start", [("pages/1_Train.py", "train_start"), ("pages/3_Compare.py", "compare_start")])
def test_a_malformed_run_in_the_url_is_explained_not_raised(runs, path, start):
    at = app(path, run="../../etc")
    no_exception(at)
    assert any("not a run id" in e.value for e in at.error)
    assert has(at.button, start), "the form instead"


# While the (fake) sweep holds the slot, Train offers "Queue after it" in place of its start button.
@pytest.mark.parametrize("path, start, noun", [("pages/1_Train.py", "train_start_queue", "training"),
                                                ("pages/3_Compare.py", "compare_start", "comparison")])
def test_a_run_of_another_page_or_a_missing_one_is_explained_with_the_form(runs, path, start, noun):
    from test_damaged_runs import fake_done_run, fake_running_run

    other = fake_running_run(runs, kind="sweep", sweep={"axis": "n_in", "values": [3, 4], "seeds": 1})
    at = app(path, run=other)
    no_exception(at)
    assert any(f"it is a sweep run, not a {noun}" in e.value for e in at.error), [e.value for e in at.error]
    assert has(at.button, start) and not has(at.button, "cancel_run")
    missing = fake_done_run(runs)
    shutil.rmtree(runs / missing)
    at = app(path, run=missing)
    no_exception(at)
    assert any("no longer in" in e.value for e in at.error), [e.value for e in at.error]
    assert has(at.button, start)


def test_explore_with_an_unknown_run_falls_back_to_the_latest(saved_run, monkeypatch):
    root, run_id = saved_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    at = app("pages/2_Explore.py", run="20000101-000000-abcdef")
    no_exception(at)
    assert any("not a finished run" in w.value for w in at.warning)
    assert at.selectbox(key="_run_select").value == run_id


def test_presentation_mode_enlarges_figures_and_survives_page_changes(runs):
    import json

    from test_damaged_runs import fake_done_run

    fake_done_run(runs)  # the home page's chart is the latest run's accuracy at each output step
    at = app("dashboard.py")
    normal = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["font"]["size"]
    at.sidebar.toggle(key="present").set_value(True).run()
    no_exception(at)
    large = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["font"]["size"]
    assert large > normal
    at.switch_page("pages/1_Train.py").run()
    assert at.sidebar.toggle(key="present").value is True


def test_the_replay_steps_back_and_forward_with_the_arrow_buttons(saved_run, monkeypatch):
    root, run_id = saved_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    at = app("pages/1_Train.py", run=run_id)
    no_exception(at)
    replay = at.select_slider(key="replay")
    updates = [int(u) for u in replay.options]
    assert len(updates) >= 3 and replay.value == updates[-1]
    at.button(key="replay_back").click().run()
    no_exception(at)
    assert at.select_slider(key="replay").value == updates[-2]
    at.button(key="replay_forward").click().run()
    at.button(key="replay_forward").click().run()  # stays on the last evaluation
    assert at.select_slider(key="replay").value == updates[-1]
    assert any("Probe attention at update " + str(updates[-1]) in c.proto.spec for c in at.get("plotly_chart"))


def test_presentation_mode_comes_from_the_address(runs):
    import json

    from test_damaged_runs import fake_done_run

    fake_done_run(runs)
    at = app("dashboard.py", present="true")
    no_exception(at)
    assert at.sidebar.toggle(key="present").value is True
    large = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["font"]["size"]
    plain = app("dashboard.py")
    assert plain.sidebar.toggle(key="present").value is False
    assert large > json.loads(plain.get("plotly_chart")[0].proto.spec)["layout"]["font"]["size"]


def test_the_log_scale_stays_on_from_the_live_view_to_a_finished_run(runs):
    import json as json_module

    from test_damaged_runs import fake_done_run, fake_running_run

    finished, running = fake_done_run(runs), fake_running_run(runs)
    at = app("pages/1_Train.py", run=running)
    no_exception(at)
    assert has(at.button, "cancel_run"), "the live view"
    at.toggle(key="log_loss").set_value(True).run()
    at.query_params["run"] = finished  # as when the run ends and the page shows its summary
    at.run()
    no_exception(at)
    assert not has(at.button, "cancel_run"), "the finished view"
    assert at.toggle(key="log_loss").value is True
    loss = next(json_module.loads(c.proto.spec) for c in at.get("plotly_chart") if "cross-entropy" in c.proto.spec)
    assert loss["layout"]["yaxis"]["type"] == "log"


def test_train_another_comes_back_with_the_settings_just_used(runs, fake_backend):
    at = app("pages/1_Train.py")
    run_id = fill_and_start(at, {**TINY_TRAIN_FORM, "train_cardinality": 12}, "train_start")
    wait_done(run_id, runs, timeout=60)
    at.run()
    assert at.button(key="new_run").label == "Train another"
    at.button(key="new_run").click().run()
    no_exception(at)
    assert at.text_input(key="train_cardinality").value == "12"
    assert at.text_input(key="train_units").value == "8"
    assert at.text_input(key="train_updates_batched").value == "80"
