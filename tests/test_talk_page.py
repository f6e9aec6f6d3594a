"""The talk control (ui.talk_control) and the projector's clean view, driven by AppTest.

A talk here is a small TOML file in a temporary folder (``SEQATTN_TALKS_DIR``) whose scenes name a copy of
the session's tiny run, called ``tiny``. Widgets are found by key (keys are the pages' interface).
"""

from __future__ import annotations

import json
import shutil

import pytest

from test_app import app, has, no_exception

TALK = """
title = "A small talk"

[[scene]]
title = "Home first"
note = "Where the latest run is."
page = "home"

[[scene]]
title = "The answer"
note = "Both answers and where attention looks."
page = "explore"
run = "tiny"
sequence = "3, 1, 4, 1, 5"
overlay = true
view = "answer"

[[scene]]
title = "A missing run"
note = "Its run was never trained."
page = "explore"
run = "nowhere"
sequence = "3, 1, 4, 1, 5"

[[scene]]
title = "One step"
note = "Step 3, a second sequence, a forced position."
page = "explore"
run = "tiny"
sequence = "2, 2, 4, 1, 5"
second = "2, 3, 4, 1, 5"
step = 3
force = 2
view = "step"
"""


TWO_RUNS = """
title = "Two runs"

[[scene]]
title = "The latest"
page = "explore"
run = "tiny"

[[scene]]
title = "The other"
page = "explore"
run = "other"
sequence = "1, 2, 3, 4, 5"
"""


@pytest.fixture()
def talk(saved_run, tmp_path, monkeypatch):
    """The talk ``small`` (4 scenes) and a runs folder whose one run is named ``tiny``; returns the run's id."""
    source, run_id = saved_run
    root = tmp_path / "runs"
    shutil.copytree(source / run_id, root / run_id)
    meta = json.loads((root / run_id / "run.json").read_text())
    (root / run_id / "run.json").write_text(json.dumps({**meta, "name": "tiny"}))
    other = "20000101-000000-abcdef"  # a second run, older, called ``other``
    shutil.copytree(root / run_id, root / other)
    (root / other / "run.json").write_text(json.dumps({**meta, "id": other, "name": "other"}))
    talks = tmp_path / "talks"
    talks.mkdir()
    (talks / "small.toml").write_text(TALK)
    (talks / "runs.toml").write_text(TWO_RUNS)
    (talks / "broken.toml").write_text('title = "Broken"\n\n[[scene]]\ntitle = 3\n')
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    monkeypatch.setenv("SEQATTN_TALKS_DIR", str(talks))
    return run_id


def param(at, key: str):
    value = at.query_params.get(key)
    return value[0] if isinstance(value, list) else value


def counter(at) -> str:
    return next(c.value for c in at.sidebar.caption if c.value.startswith("scene "))


def test_a_deep_link_opens_the_scene_its_page_and_state(talk):
    at = app("dashboard.py", talk="small", scene="2")
    no_exception(at)
    assert [t.value for t in at.title] == ["Explore"], "scene 2 is on Explore"
    assert counter(at) == "scene 2 of 4"
    assert any(m.value == "**The answer**" for m in at.sidebar.markdown)
    assert param(at, "run") == talk and param(at, "talk") == "small" and param(at, "scene") == "2"
    assert at.text_input(key="_seq_widget").value == "3, 1, 4, 1, 5"
    assert at.toggle(key="show_expected").value is True
    assert at.session_state["explore_view"] == "Answer"
    assert not at.warning, [w.value for w in at.warning]


def test_page_down_moves_on_a_bad_scene_warns_and_the_next_still_opens(talk):
    at = app("dashboard.py", talk="small", scene="2")
    forward = at.button(key="talk_forward")
    assert forward.proto.shortcut.lower() == "pagedown" and at.button(key="talk_back").proto.shortcut.lower() == "pageup"
    forward.click().run()
    no_exception(at)
    assert counter(at) == "scene 3 of 4" and param(at, "scene") == "3"
    warnings = [w.value.replace("\\", "") for w in at.warning]
    assert len(warnings) == 1 and warnings[0].startswith("Scene 3 (A missing run) cannot open as written")
    assert "`nowhere`" in warnings[0], warnings
    assert [t.value for t in at.title] == ["Explore"], "the page opens with what could be set"
    at.button(key="talk_forward").click().run()
    no_exception(at)
    assert counter(at) == "scene 4 of 4" and not at.warning
    # A new scene on the same page replaces the page's state with the scene's.
    assert at.text_input(key="_seq_widget").value == "2, 2, 4, 1, 5"
    assert at.text_input(key="_second_widget").value == "2, 3, 4, 1, 5"
    assert at.select_slider(key="step").value == 3
    assert at.selectbox(key="_force_position").value == 1  # force = 2, 1-based
    assert at.toggle(key="show_expected").value is False, "this scene leaves the overlay out"
    assert at.session_state["explore_view"] == "Step"
    assert at.button(key="talk_forward").disabled, "the last scene"
    at.button(key="talk_back").click().run()
    assert counter(at) == "scene 3 of 4"
    assert at.text_input(key="_second_widget").value == "", "scene 3 has no second sequence"


def test_choosing_a_talk_opens_its_first_scene_and_arrows_move_where_no_stepper_takes_them(talk):
    at = app("pages/3_Compare.py")
    no_exception(at)
    box = at.sidebar.selectbox(key="talk")
    assert box.value == "none" and box.options == ["none", "broken", "runs", "small"]
    box.set_value("small").run()
    no_exception(at)
    assert counter(at) == "scene 1 of 4" and param(at, "talk") == "small"
    assert at.title[0].value != "Compare", "scene 1 is Home"
    right = at.button(key="talk_right")
    assert right.proto.shortcut.lower() == "right" and at.button(key="talk_left").proto.shortcut.lower() == "left"
    right.click().run()
    no_exception(at)
    assert counter(at) == "scene 2 of 4" and [t.value for t in at.title] == ["Explore"]
    assert not has(at.button, "talk_right"), "Explore's stepper keeps ← / →"
    at.sidebar.selectbox(key="talk").set_value("none").run()
    no_exception(at)
    assert param(at, "talk") is None and param(at, "scene") is None
    assert not any(c.value.startswith("scene ") for c in at.sidebar.caption)


def test_a_scene_on_another_run_moves_the_run_box(talk):
    at = app("dashboard.py", talk="runs", scene="1")
    no_exception(at)
    assert at.selectbox(key="_run_select").value == talk
    at.button(key="talk_forward").click().run()
    no_exception(at)
    assert at.selectbox(key="_run_select").value == "20000101-000000-abcdef" and param(at, "run") == "20000101-000000-abcdef"
    assert at.text_input(key="_seq_widget").value == "1, 2, 3, 4, 5"
    at.button(key="talk_back").click().run()
    assert at.selectbox(key="_run_select").value == talk


def test_a_malformed_talk_is_one_line_and_the_page_works(talk):
    at = app("pages/2_Explore.py", run=talk)
    at.sidebar.selectbox(key="talk").set_value("broken").run()
    no_exception(at)
    errors = [e.value.replace("\\", "") for e in at.error]
    assert len(errors) == 1 and "broken.toml, line 4: title of scene 1 must be text" in errors[0], errors
    assert "\n" not in errors[0]
    assert not has(at.button, "talk_forward")
    assert at.dataframe, "the page below is drawn as without a talk"


def test_an_unknown_talk_or_scene_in_the_address_is_named(talk):
    at = app("dashboard.py", talk="nosuch", scene="2")
    no_exception(at)
    assert any("no talk called nosuch" in w.value for w in at.sidebar.warning), [w.value for w in at.warning]
    assert at.sidebar.selectbox(key="talk").value == "none"
    at = app("dashboard.py", talk="small", scene="9")
    no_exception(at)
    assert counter(at) == "scene 4 of 4"
    assert any("asks for scene 9, and the talk has 4" in w.value for w in at.warning), [w.value for w in at.warning]


def test_the_clean_view_hides_the_sidebar_and_settings_and_has_an_exit(talk):
    at = app("pages/2_Explore.py", run=talk, present="true", hide="sidebar")
    no_exception(at)
    exit_button = at.button(key="exit_clean_view")
    css = " ".join(h.proto.body for h in at.get("html"))
    assert '[data-testid="stSidebar"]' in css and "st-key-settings_" in css and "display: none" in css
    assert has(at.selectbox, "_run_select"), "settings are hidden by CSS, still there"
    exit_button.click().run()
    no_exception(at)
    assert param(at, "hide") is None and param(at, "present") == "true"
    assert not has(at.button, "exit_clean_view")


def test_the_keys_list_names_a_talks_keys():
    from ui.keys import keys_markdown

    for page in ("Home", "Explore", "Train", "Compare", "Sweep"):
        assert "`PageDown / PageUp`" in keys_markdown(page)
    assert "`→ / ←`" in keys_markdown("Home") and "`→ / ←`" not in keys_markdown("Explore")
