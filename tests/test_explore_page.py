"""The Explore page's deeper controls, driven by AppTest: output step, second sequence, what-if, keys.

Widgets are found by key (labels may be reworded; keys are the page's interface).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from test_app import app, no_exception

SEQ = "3,1,4,1,5"


@pytest.fixture()
def explore(saved_run, monkeypatch):
    root, run_id = saved_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    at = app("pages/2_Explore.py", run=run_id, seq=SEQ)
    no_exception(at)
    return at


def chart(at, key: str) -> dict:
    """The Plotly figure drawn under ``key`` (its JSON spec)."""
    found = [c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id]
    assert found, f"no chart {key}"
    return json.loads(found[0].proto.spec)


def array(z) -> np.ndarray:
    """A heatmap's z as an array (Plotly may ship it as a typed-array dict)."""
    if isinstance(z, dict):
        import base64

        data = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
        return data.reshape([int(n) for n in z["shape"].split(",")]) if "shape" in z else data
    return np.asarray(z, dtype=float)


def highlighted_row(fig: dict) -> int:
    names = [s.get("name", "") for s in fig["layout"].get("shapes", [])]
    rows = [int(n.split()[1]) for n in names if n.startswith("step ") and "inner" not in n]
    assert len(rows) == 1, names
    return rows[0]


def tab_contents(at) -> dict[str, list]:
    """Each tab's elements (AppTest holds every tab's content, open or not), by label."""
    return {tab.label: list(tab) for tab in at.tabs}


def open_tab(at) -> int:
    """The index of the tab the page opens (the tabs' container says which)."""
    from streamlit.proto.Block_pb2 import Block

    containers = [b for b in at if isinstance(getattr(b, "proto", None), Block) and b.proto.HasField("tab_container")]
    assert len(containers) == 1
    return containers[0].proto.tab_container.default_tab_index


def test_explore_has_four_tabs_under_the_input_and_both_answers(explore):
    at = explore
    assert [t.label for t in at.tabs] == ["Answer", "Step", "Two sequences", "What if"]
    assert open_tab(at) == 0 and at.session_state["explore_view"] == "Answer"
    keys = {tab: {getattr(e, "key", None) for e in elements} for tab, elements in tab_contents(at).items()}
    assert {"show_expected", "image_format", "download_bundle"} <= keys["Answer"]
    assert "step" in keys["Step"] and "step_forward" in keys["Step"]
    assert "_second_widget" in keys["Two sequences"]
    assert {"_force_position", "_force_weight"} <= keys["What if"]
    charts = {tab: [c.proto.id for c in elements if getattr(c, "type", "") == "plotly_chart"]
              for tab, elements in tab_contents(at).items()}
    assert any("attention_heatmap" in c for c in charts["Answer"])
    assert any("step_bars" in c for c in charts["Step"]) and any("top_tokens" in c for c in charts["Step"])
    assert any("forced_attention" in c for c in charts["What if"])
    assert {m.label for m in at.metric[:2]} == {"Baseline (no attention)", "Attention"}, "the answers, above the tabs"
    assert not any(m.label in ("Baseline (no attention)", "Attention") for tab in at.tabs for m in tab.metric)


@pytest.mark.parametrize("view, index", [("step", 1), ("two", 2), ("whatif", 3), ("answer", 0), ("bogus", 0)])
def test_the_address_opens_a_tab(saved_run, monkeypatch, view, index):
    root, run_id = saved_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    at = app("pages/2_Explore.py", run=run_id, seq=SEQ, view=view)
    no_exception(at)
    assert open_tab(at) == index


def test_the_address_sets_step_force_overlay_and_second(saved_run, monkeypatch):
    root, run_id = saved_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    at = app("pages/2_Explore.py", run=run_id, seq=SEQ, step="3", force="4", overlay="true", second="3,7,4,1,5")
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.select_slider(key="step").value == 3 and highlighted_row(chart(at, "attention_heatmap")) == 3
    assert at.selectbox(key="_force_position").value == 3  # 1-based in the address
    assert at.toggle(key="show_expected").value is True
    assert any(t.get("name") == "expected" for t in chart(at, "attention_heatmap")["data"])
    assert at.text_input(key="_second_widget").value == "3,7,4,1,5" and chart(at, "difference_map")
    # Initial state only: what people change afterwards stays.
    at.select_slider(key="step").set_value(5).run()
    assert at.select_slider(key="step").value == 5 and at.toggle(key="show_expected").value is True


@pytest.mark.parametrize("step, force", [("0", "x"), ("99", "99"), ("two", "-1")])
def test_unusable_step_and_force_in_the_address_are_ignored(saved_run, monkeypatch, step, force):
    root, run_id = saved_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    at = app("pages/2_Explore.py", run=run_id, seq=SEQ, step=step, force=force, overlay="nope")
    no_exception(at)
    assert at.select_slider(key="step").value == 1 and at.selectbox(key="_force_position").value == 0
    assert at.toggle(key="show_expected").value is False


def test_output_step_moves_with_the_slider_and_the_arrow_buttons(explore):
    at = explore
    step = at.select_slider(key="step")
    assert step.label == "Output step" and [int(o) for o in step.options] == [1, 2, 3, 4, 5] and step.value == 1
    assert highlighted_row(chart(at, "attention_heatmap")) == 1
    at.button(key="step_forward").click().run()
    no_exception(at)
    assert at.select_slider(key="step").value == 2
    assert highlighted_row(chart(at, "attention_heatmap")) == 2
    at.select_slider(key="step").set_value(5).run()
    at.button(key="step_forward").click().run()  # stays on the last step
    assert at.select_slider(key="step").value == 5
    at.button(key="step_back").click().run()
    assert at.select_slider(key="step").value == 4


def test_step_bars_show_that_rows_attention_and_the_top_tokens(explore):
    at = explore
    at.select_slider(key="step").set_value(2).run()
    heatmap = chart(at, "attention_heatmap")
    z = array(next(t for t in heatmap["data"] if t["type"] == "heatmap")["z"])
    bars = chart(at, "step_bars")["data"][0]
    assert np.allclose(array(bars["y"]), z[1], atol=1e-6)
    tops = [t for t in chart(at, "top_tokens")["data"] if t["type"] == "bar"]
    assert {t["name"] for t in tops} == {"Baseline (no attention)", "Attention"}
    assert all(len(array(t["y"])) == 5 for t in tops)


def test_second_sequence_bad_input_keeps_the_first_answer(explore):
    at = explore
    at.text_input(key="_second_widget").set_value("3,1,x,1,5").run()
    no_exception(at)
    shown = [e.value.replace("\\", "") for e in at.error]  # messages escape Markdown with backslashes
    assert any(e.startswith("Second sequence:") and "not a whole number" in e for e in shown), shown
    assert list(at.dataframe[0].value.loc["Input"]) == ["3", "1", "4", "1", "5"]
    assert at.text_input(key="_seq_widget").value == SEQ


def test_second_sequence_draws_the_difference_of_both_heatmaps(explore):
    at = explore
    at.text_input(key="_second_widget").set_value("3,7,4,1,5").run()
    no_exception(at)
    assert not at.error
    fig = chart(at, "difference_map")
    z = {t["name"]: array(t["z"]) for t in fig["data"] if t["type"] == "heatmap"}
    assert np.allclose(z["difference"], z["second"] - z["first"], atol=1e-6)
    assert fig["data"][[t.get("name") for t in fig["data"]].index("difference")]["zmid"] == 0
    assert any(m.label == "Attention" for m in at.metric[2:]), "the second sequence's answers are shown"


def test_forcing_the_attention_shows_both_and_follows_the_position(explore):
    at = explore
    assert any(m.label == "Forced attention: the model says" for m in at.metric)
    position = at.selectbox(key="_force_position")
    assert position.value == 0  # step 1 starts on its own position
    position.set_value(3).run()
    no_exception(at)
    fig = chart(at, "forced_attention")
    forced = array(next(t for t in fig["data"] if t.get("name") == "forced")["z"])
    assert forced[0, 3] == pytest.approx(1.0, abs=1e-6) and forced[0].sum() == pytest.approx(1.0, abs=1e-5)
    at.slider(key="_force_weight").set_value(0.5).run()
    forced = array(next(t for t in chart(at, "forced_attention")["data"] if t.get("name") == "forced")["z"])
    assert forced[0, 3] == pytest.approx(0.5, abs=1e-6)


def test_keys_button_lists_the_keys_and_p_flips_presentation_mode(explore):
    at = explore
    assert at.sidebar.toggle(key="present").value is False
    at.button(key="presentation_key").click().run()
    no_exception(at)
    assert at.sidebar.toggle(key="present").value is True
    at.button(key="presentation_key").click().run()
    assert at.sidebar.toggle(key="present").value is False
    from ui.keys import keys_markdown

    table = keys_markdown("Explore")
    for key in ("`n`", "`p`", "`?`", "`← / →`"):
        assert key in table


@pytest.fixture(scope="module")
def one_position_run(tmp_path_factory):
    """A finished run whose inputs have a single position (n_in 1, echo 1): tiny, trained once for the module."""
    from conftest import wait_done

    from seqattn.jobs import control as jobs
    from seqattn.model.config import ModelConfig
    from seqattn.problem.config import ProblemConfig
    from seqattn.training.config import TrainConfig

    root = tmp_path_factory.mktemp("one_position") / "runs"
    config = TrainConfig(protocol="batched", updates=50, batch_size=8, eval_every=25, eval_size=50, seed=0,
                         jit_compile=False)
    run_id = jobs.start(ProblemConfig(cardinality=10, n_in=1, n_out=1), config, model=ModelConfig(units=8), root=root)
    wait_done(run_id, root)
    assert jobs.status(run_id, root).state == "done"
    return root, run_id


def test_what_if_with_a_single_input_position_says_there_is_nowhere_else_to_look(one_position_run, monkeypatch):
    # Issue 24, item 12: the weight slider at 0, 0.05 or 0.95 raised "weight must be 1" on the page.
    root, run_id = one_position_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    at = app("pages/2_Explore.py", run=run_id, seq="3")
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert any("single input position" in i.value and "input length of 2 or more" in i.value for i in at.info)
    assert not any(s.key == "_force_weight" for s in at.slider), "no weight to pick"
    assert not any(s.key == "_force_position" for s in at.selectbox), "no position to pick"
    assert list(at.dataframe[0].value.loc["Input"]) == ["3"], "the answers are still shown"


# --------------------------------------------------------------------------- other tasks (issue 23)


@pytest.fixture(scope="module")
def dates_run(tmp_path_factory):
    """A finished Dates run (tiny, barely trained: the page must work whatever it answers), trained once."""
    from conftest import wait_done

    from seqattn.jobs import control as jobs
    from seqattn.model.config import ModelConfig
    from seqattn.problem.config import ProblemConfig
    from seqattn.training.config import TrainConfig

    root = tmp_path_factory.mktemp("dates") / "runs"
    config = TrainConfig(protocol="batched", updates=40, batch_size=8, eval_every=20, eval_size=50, seed=0,
                         jit_compile=False)
    run_id = jobs.start(ProblemConfig(task="dates"), config, model=ModelConfig(units=8), root=root)
    wait_done(run_id, root)
    assert jobs.status(run_id, root).state == "done"
    return root, run_id


@pytest.fixture()
def dates(dates_run, monkeypatch):
    root, run_id = dates_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    at = app("pages/2_Explore.py", run=run_id)
    no_exception(at)
    return at


def dates_problem():
    from seqattn.problem.config import ProblemConfig

    return ProblemConfig(task="dates")


ACCEPTED = "Type a date from 1950 to 2049"
DATE_ANSWER = r"[0-9-]{10}"  # ten characters of the output vocabulary, joined without spaces


def test_a_dates_run_takes_a_date_and_shows_characters(dates):
    at = dates
    box = at.text_input(key="_seq_widget")
    assert box.label == "Input date" and box.value == "wednesday 9 may 2018" and ACCEPTED in box.help
    assert at.text_input(key="_second_widget").label == "Second date"
    box.set_value("Wednesday, May 9, 2018").run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert list(table.loc["Input"])[:4] == ["w", "e", "d", "n"] and table.loc["Input", "step 29"] == "·"
    assert list(table.loc["Expected"])[:10] == list("2018-05-09")
    import re

    answers = {m.label: m.value for m in at.metric}
    assert set(answers) >= {"Baseline (no attention)", "Attention"}
    assert all(re.fullmatch(DATE_ANSWER, answers[name]) for name in ("Baseline (no attention)", "Attention")), answers
    heatmap = chart(at, "attention_heatmap")
    ticks = heatmap["layout"]["xaxis"]["ticktext"]
    assert len(ticks) == 29 and {"w", "m", "2", "␣"} <= set(ticks)
    padding = [s for s in heatmap["layout"]["shapes"] if s.get("name") == "padding (input)"]
    assert len(padding) == 1 and padding[0]["x0"] == len("wednesday, may 9, 2018") + 0.5
    assert "texttemplate" not in next(t for t in heatmap["data"] if t["type"] == "heatmap")  # 29 columns: no values
    assert at.query_params["seq"] in ("wednesday, may 9, 2018", ["wednesday, may 9, 2018"])  # commas survive
    at.toggle(key="show_expected").set_value(True).run()
    expected = next(t for t in chart(at, "attention_heatmap")["data"] if t.get("name") == "expected")
    xs = np.array([x for x in expected["x"] if x is not None], dtype=float).reshape(-1, 5)[:, :4].mean(1)
    # The month ("may", 12..14), the day ("9", 16) and the year (19..22): never the weekday, comma or padding.
    assert set(np.round(xs).astype(int)) == {12, 13, 14, 16, 19, 20, 21, 22}
    tops = [t for t in chart(at, "top_tokens")["data"] if t["type"] == "bar"]
    assert all(set(t["x"]) <= set("0123456789-") for t in tops)


@pytest.mark.parametrize("text, message", [
    ("9 may 2018 #", "Character 12 ('#') is not used in any date"),
    ("wednesday 19 september 2018 xx", "a date has at most 29"),
    ("9 may 2018 é", "is not used in any date"),
    ("30 february 2018", "is not a real day"),
    ("tomorrow", "not written in any of the accepted date formats"),
])
def test_a_bad_date_says_what_is_wrong_and_keeps_the_last_valid_answer(dates, text, message):
    at = dates
    at.text_input(key="_seq_widget").set_value(text).run()
    no_exception(at)
    shown = [e.value.replace("\\", "") for e in at.error]  # messages escape Markdown with backslashes
    assert any(message in e and ACCEPTED in e for e in shown), shown
    assert list(at.dataframe[0].value.loc["Expected"])[:10] == list("2018-05-09"), "the last valid answer stays"
    assert any("last valid date" in c.value.replace("\\", "") for c in at.caption)


def test_random_gives_a_date_the_task_reads(dates):
    at = dates
    problem = dates_problem()
    for _ in range(3):
        at.button(key="random_sequence").click().run()
        no_exception(at)
        assert not at.error, [e.value for e in at.error]
        text = at.text_input(key="_seq_widget").value
        problem.task_spec.parse(text, problem)  # raises if it is not a date
        assert list(at.dataframe[0].value.loc["Input"])[0] == text[0].replace(" ", "␣")


def test_the_what_if_offers_only_real_characters_and_answers_a_date(dates):
    at = dates
    position = at.selectbox(key="_force_position")
    assert len(position.options) == len("wednesday 9 may 2018")  # no padded position
    assert position.options[0] == "1 (token w)" and position.options[9] == "10 (token ␣)"
    position.set_value(16).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    import re

    forced = next(m for m in at.metric if m.label == "Forced attention: the model says")
    assert re.fullmatch(DATE_ANSWER, forced.value), forced.value
    fig = chart(at, "forced_attention")
    z = array(next(t for t in fig["data"] if t.get("name") == "forced")["z"])
    assert z[0, 16] == pytest.approx(1.0, abs=1e-6) and np.all(z[:, len("wednesday 9 may 2018"):] == 0)


def test_a_second_date_draws_the_difference_map(dates):
    at = dates
    at.text_input(key="_second_widget").set_value("thursday 10 may 2018").run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert {m.label for m in at.metric[2:4]} == {"Baseline (no attention)", "Attention"}, "the second date's answers"
    fig = chart(at, "difference_map")
    z = {t["name"]: array(t["z"]) for t in fig["data"] if t["type"] == "heatmap"}
    assert z["difference"].shape == (10, 29)
    np.testing.assert_allclose(z["difference"], z["second"] - z["first"], atol=1e-6)
    assert "<b>t</b>" in fig["layout"]["xaxis3"]["ticktext"][0]  # the change's axis: the second's characters
    at.text_input(key="_second_widget").set_value("9 may 2018 #").run()
    no_exception(at)
    assert any(e.value.replace("\\", "").startswith("Second date:") for e in at.error)


def test_the_browser_loads_plotly_first_and_draws_closed_tabs_charts_when_opened(explore):
    """A fresh server's Explore: the sidebar's first element has the browser load Plotly's chart script at once
    (ui.prefetch.load_now), and the page frame's script draws a closed tab's charts when the tab opens."""
    from ui.prefetch import component_scripts

    sidebar = [h.proto.body for h in explore.sidebar.get("html")]
    assert component_scripts(components=("PlotlyChart",))[0] in sidebar[0], sidebar[0][:200]
    assert any("__seqattnShown" in body and "ResizeObserver" in body for body in sidebar)
