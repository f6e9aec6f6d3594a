"""Talks: reading a talk's file (errors name the line), why a scene would not open, a scene's address and
back, and preparing the runs a talk names (quick, real training, only what is missing)."""

from __future__ import annotations

import dataclasses
import json
import time
import zipfile
from pathlib import Path

import pytest

from seqattn.problem.config import ProblemConfig
from seqattn.runs import RunWriter, create_run, find_named_run, list_runs, model_path, run_dir, update_status
from seqattn.talks import (
    PAGES,
    VIEWS,
    SceneState,
    TalkError,
    check_talk,
    list_talks,
    load_talk,
    open_scene,
    prepare_talk,
    recipe_configs,
    scene_problem,
    scene_query,
    state_from_query,
    talk_runs,
)
from seqattn.talks.prepare import is_there
from seqattn.training.progress import Progress

SHIPPED = "attention-in-a-few-scenes"
ECHO = ProblemConfig(cardinality=10, n_in=5, n_out=2)
NAMES = ("baseline", "attention")

GOOD = '''\
title = "A small talk"

[[run]]
name = "tiny-echo"
problem = { task = "echo", cardinality = 10, n_in = 5, n_out = 2 }
model = { units = 16 }
train = { updates = 40 }

[[scene]]
title = "The race"
note = "Both models on the same data."
page = "train"
run = "tiny-echo"

[[scene]]
title = "The diagonal"
note = "  Each output looks where its answer is.  "
run = "tiny-echo"
sequence = "1, 2, 3, 4, 5"
second = [1, 2, 3, 4, 6]
step = 2
force = 3
overlay = true
view = "whatif"
'''


def write(folder: Path, text: str, name: str = "talk") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def done_run(root: Path, name: str | None, problem: ProblemConfig = ECHO, **extra) -> str:
    """A finished training on disk with a name, without TensorFlow (the files a listing checks)."""
    run_id = create_run(problem, {}, model={"units": 8}, root=root, name=name, extra=extra or None)
    directory = run_dir(run_id, root)
    writer = RunWriter(directory, status_interval=0)
    per_position = [0.5] * problem.target_len
    for update, final in ((5, False), (10, True)):
        writer.on_progress(Progress(update=update, total=10, samples=update, elapsed=0.1 * update,
                                    loss={n: 1.0 for n in NAMES}, smoothed={n: 1.0 for n in NAMES},
                                    accuracy={n: 0.5 for n in NAMES}, per_position={n: per_position for n in NAMES},
                                    alignment=0.5, final=final))
    writer.close()
    for model in NAMES:
        with zipfile.ZipFile(model_path(directory, model), "w") as archive:
            archive.writestr("config.json", "{}")
    accuracy = {n: {"exact_match": 0.5, "per_position": per_position} for n in NAMES}
    (directory / "result.json").write_text(json.dumps({"accuracy": accuracy, "updates_done": 10, "elapsed": 1.0}))
    update_status(directory, state="done", update=10, total=10, elapsed=1.0)
    time.sleep(0.01)  # distinct creation times: "newest" is well defined
    return run_id


# ----------------------------------------------------------------------------- the shipped talk


def test_the_shipped_talk_parses_and_every_scene_opens_once_its_runs_exist(tmp_path, monkeypatch):
    monkeypatch.delenv("SEQATTN_TALKS_DIR", raising=False)
    assert SHIPPED in list_talks()
    talk = load_talk(SHIPPED)
    assert talk.title == "Attention in a few scenes" and len(talk.scenes) >= 8
    assert {s.state.page for s in talk.scenes} >= {"train", "explore", "sweep"}
    assert {s.state.view for s in talk.scenes} >= set(VIEWS)
    assert all(s.note for s in talk.scenes), "every scene has a note for the audience"
    # Every run a scene names has a recipe, and the recipes cover the tasks and both encoders.
    assert set(talk_runs(talk)) == {r.name for r in talk.runs}
    configs = {r.name: recipe_configs(r) for r in talk.runs}
    assert {p.task for p, _, _ in configs.values()} == {"echo", "reverse", "dates"}
    assert {m.encoder for _, _, m in configs.values()} == {"unidirectional", "bidirectional"}
    assert all(t.protocol == "batched" for _, t, _ in configs.values())
    root = tmp_path / "runs"
    # Before prepare: each scene with a run says to prepare, and nothing else is wrong with it.
    before = check_talk(talk, root)
    assert before and all(p.startswith("there is no run named") and "`python -m seqattn talk prepare " in p
                          and p.endswith(f"talks/{SHIPPED}.toml`.") for _, p in before), before
    # With runs of those names (and the recipes' problems), every scene opens: sequences, steps, forced positions fit.
    for name, (problem, _, _) in configs.items():
        done_run(root, name, problem)
    assert check_talk(talk, root) == []


def test_the_talk_pages_are_the_dashboards():
    from ui.navigation import PAGES as DASHBOARD_PAGES

    assert PAGES == tuple(DASHBOARD_PAGES)


# ----------------------------------------------------------------------------- reading a file


def test_a_good_file_loads_scenes_runs_and_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQATTN_TALKS_DIR", str(tmp_path / "talks"))
    path = write(tmp_path / "talks", GOOD, "small")
    write(tmp_path / "talks", GOOD, "another")
    (tmp_path / "talks" / "notes.txt").write_text("not a talk")
    assert list_talks() == ["another", "small"]
    talk = load_talk("small")
    assert load_talk(path) == talk == load_talk(str(path))
    assert talk.name == "small" and talk.title == "A small talk" and talk.path == path
    race, diagonal = talk.scenes
    assert (race.line, diagonal.line) == (9, 15)
    assert race.state == SceneState(page="train", run="tiny-echo")
    assert diagonal.note == "Each output looks where its answer is."
    assert diagonal.state == SceneState(page="explore", run="tiny-echo", sequence="1, 2, 3, 4, 5",
                                        second="1, 2, 3, 4, 6", step=2, force=3, overlay=True, view="whatif")
    (recipe,) = talk.runs
    assert (recipe.name, recipe.problem["n_in"], recipe.model, recipe.train, recipe.line) == (
        "tiny-echo", 5, {"units": 16}, {"updates": 40}, 3)
    problem, train, model = recipe_configs(recipe)
    assert (problem, model.units, train.protocol, train.updates) == (ECHO, 16, "batched", 40)


def test_a_recipe_takes_the_tasks_demo_defaults_and_quick_makes_it_tiny(tmp_path):
    talk = load_talk(write(tmp_path, GOOD.replace('problem = { task = "echo", cardinality = 10, n_in = 5, n_out = 2 }\n'
                                                  'model = { units = 16 }\ntrain = { updates = 40 }\n',
                                                  'problem = { task = "dates" }\n')))
    problem, train, model = recipe_configs(talk.runs[0])
    assert (problem.task, model.units, train.protocol, train.updates, train.batch_size) == ("dates", 64, "batched", 1500, 64)
    problem_q, train_q, model_q = recipe_configs(talk.runs[0], quick=True)
    assert problem_q == problem and model_q.units == 8 and not train_q.jit_compile
    assert (train_q.protocol, train_q.updates, train_q.batch_size) == ("batched", 30, 16)


def test_a_missing_talk_names_the_talks_there(tmp_path):
    write(tmp_path, GOOD, "small")
    with pytest.raises(TalkError) as caught:
        load_talk("nosuch", folder=tmp_path)
    assert caught.value.line is None and "talks there: small" in str(caught.value)


HEAD = 'title = "T"\n'
SCENE = '[[scene]]\ntitle = "S"\n'


@pytest.mark.parametrize("text, line, message", [
    (HEAD + SCENE + 'note = "unfinished\n', 4, "not valid TOML"),
    (HEAD + SCENE + "page = explore\n", 4, "not valid TOML"),
    (HEAD + SCENE + 'page = "explore"\nsequnce = "1 2"\n', 5, "unknown key 'sequnce' in scene 1 (did you mean 'sequence'?)"),
    (HEAD + SCENE + SCENE + 'step = "2"\n', 6, "step of scene 2 must be a whole number"),
    (HEAD + SCENE + "overlay = 1\n", 4, "overlay of scene 1 must be true or false"),
    (HEAD + SCENE + "step = true\n", 4, "step of scene 1 must be a whole number"),
    (HEAD + SCENE + "sequence = 12\n", 4, "sequence of scene 1 must be text"),
    (SCENE, 1, "the talk has no title"),
    ("title = 3\n" + SCENE, 1, "the talk's title must be text"),
    (HEAD + 'scene = ["a"]\n', 2, "scene 1 is not a table"),
    (HEAD + "[scene]\ntitle = \"S\"\n", 2, "write [[scene]]"),
    (HEAD + SCENE + '[[scene]]\nnote = "no title"\n', 4, "scene 2 has no title"),
    (HEAD + 'author = "me"\n' + SCENE, 2, "unknown key 'author' at the top of the talk"),
    (HEAD + "[[run]]\nproblem = {}\n" + SCENE, 2, "run 1 has no name"),
    (HEAD + '[[run]]\nname = "a b"\n' + SCENE, 3, "a run name is 1 to 40 letters"),
    (HEAD + '[[run]]\nname = "x"\n[[run]]\nname = "x"\n' + SCENE, 4, "a second [[run]] named 'x'"),
    (HEAD + '[[run]]\nname = "x"\nproblem = "echo"\n' + SCENE, 4, "problem of run 1 must be a table"),
    (HEAD, 1, "the talk has no scenes"),
])
def test_a_malformed_file_is_one_talk_error_naming_the_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(TalkError) as caught:
        load_talk(path)
    error = caught.value
    assert error.line == line and str(error).startswith(f"{path}, line {line}: "), str(error)
    assert message in str(error) and "\n" not in str(error)


# ----------------------------------------------------------------------------- scenes that would not open

BAD_SCENES = '''\
title = "Some bad scenes"

[[run]]
name = "later"
problem = { task = "echo", cardinality = 10, n_in = 5, n_out = 2 }

[[scene]]
title = "Fine"
run = "ready"
sequence = "1 2 3 4 5"
step = 5
force = 1

[[scene]]
title = "Nobody"
run = "nobody"

[[scene]]
title = "Too short"
run = "ready"
sequence = "1 2 3"

[[scene]]
title = "No such page"
page = "slides"

[[scene]]
title = "Not trained yet"
run = "later"
sequence = "1 2 3 4 5"

[[scene]]
title = "Out of range"
run = "ready"
step = 6
force = 0
view = "sideways"

[[scene]]
title = "Padding"
run = "a-date"
sequence = "9 may 2018"
force = 20

[[scene]]
title = "No such sweep"
page = "sweep"
run = "big-sweep"
'''


def test_bad_scenes_are_reported_one_by_one_and_the_others_open(tmp_path):
    root = tmp_path / "runs"
    ready = done_run(root, "ready")
    done_run(root, "a-date", ProblemConfig(task="dates"))
    talk = load_talk(write(tmp_path, BAD_SCENES))
    problems = dict(check_talk(talk, root))
    assert 1 not in problems and set(problems) == {2, 3, 4, 5, 6, 7, 8}
    assert problems[2].startswith(f"there is no run named `nobody` in {root}, and the talk has no [[run]] recipe")
    assert "Type 5 whole numbers from 0 to 9" in problems[3] and "'1 2 3'" in problems[3]
    assert problems[4].startswith("page 'slides' is not a page of the dashboard: use one of home, train")
    assert problems[5] == f"there is no run named `later` in {root}: run `python -m seqattn talk prepare {talk.path}`."
    assert "step = 6 is out of range: it counts from 1 to 5" in problems[6]
    assert "force = 0 is out of range" in problems[6] and "view 'sideways' is not one of Explore's tabs" in problems[6]
    assert "force = 20 is padding" in problems[7] and "positions 1 to 10" in problems[7]
    assert problems[8].startswith("there is no sweep run named `big-sweep`")
    assert scene_problem(talk.scenes[0], talk, root) is None
    opened = open_scene(talk, 0, root)
    assert (opened.page, opened.problem) == ("explore", None)
    assert opened.query == {"talk": "talk", "scene": "1", "run": ready, "seq": "1 2 3 4 5", "step": "5", "force": "1"}
    # A bad scene still opens what it can: an unknown page opens Home, a missing run is left out.
    assert open_scene(talk, 3, root).page == "home" and open_scene(talk, 3, root).problem == problems[4]
    assert "run" not in open_scene(talk, 1, root).query
    with pytest.raises(IndexError):
        open_scene(talk, len(talk.scenes), root)


def test_a_scene_shows_the_newest_usable_run_of_its_name(tmp_path):
    root = tmp_path / "runs"
    done_run(root, "ready")
    newer = done_run(root, "ready")
    done_run(root, "other")
    talk = load_talk(write(tmp_path, BAD_SCENES))
    assert open_scene(talk, 0, root).query["run"] == newer


# ----------------------------------------------------------------------------- addresses


FULL = SceneState(page="explore", run="tiny-echo", sequence="12, 20, 36, 40, 12", second="7, 20, 36, 40, 12",
                  step=2, force=3, overlay=True, view="whatif")


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(SceneState)] + ["all"])
def test_scene_to_query_to_state_round_trips_every_field(field):
    state = FULL if field == "all" else SceneState(page=FULL.page, **(
        {} if field == "page" else {field: getattr(FULL, field)}))
    query = scene_query(state, "20260101-000000-abcdef" if state.run else None)
    assert all(isinstance(v, str) for v in query.values())
    assert state_from_query(state.page, {**query, "talk": "t", "scene": "2", "present": "true"}, state.run) == state


def test_scene_query_holds_only_what_is_set_and_reading_one_forgives_bad_numbers():
    assert scene_query(SceneState(page="train", run="x"), "20260101-000000-abcdef") == {"run": "20260101-000000-abcdef"}
    assert scene_query(SceneState(), None) == {}
    assert scene_query(FULL, "id") == {"run": "id", "seq": FULL.sequence, "second": FULL.second, "step": "2",
                                       "force": "3", "overlay": "true", "view": "whatif"}
    state = state_from_query("explore", {"step": "two", "force": "", "overlay": "false"}, None)
    assert state == SceneState(page="explore")


# ----------------------------------------------------------------------------- prepare

TINY = '''\
title = "Two runs"

[[run]]
name = "ready"
problem = { task = "echo", cardinality = 10, n_in = 5, n_out = 2 }

[[run]]
name = "fresh"
problem = { task = "reverse", cardinality = 6, n_in = 4 }

[[scene]]
title = "Ready"
run = "ready"

[[scene]]
title = "Fresh"
run = "fresh"
sequence = "1 2 3 4"
'''


def test_prepare_trains_only_what_is_missing_and_then_nothing(tmp_path):
    root = tmp_path / "runs"
    done_run(root, "ready")
    talk = load_talk(write(tmp_path, TINY))
    announced: list[str] = []
    assert prepare_talk(talk, root, quick=True, on_run=announced.append) == ["fresh"] == announced
    fresh = find_named_run("fresh", root)
    assert fresh is not None and fresh.state == "done" and fresh.usable and fresh.name == "fresh"
    assert fresh.problem["task"] == "reverse" and fresh.model["units"] == 8 and fresh.train["updates"] == 30
    assert check_talk(talk, root) == []
    assert prepare_talk(talk, root, quick=True) == []
    assert len(list_runs(root)) == 2
    # A rehearsal's tiny run is not what a real prepare leaves in place.
    assert is_there("fresh", root, quick=True) and not is_there("fresh", root, quick=False)
    assert is_there("ready", root, quick=False)


def test_prepare_refuses_a_bad_recipe_before_anything_trains(tmp_path):
    root = tmp_path / "runs"
    talk = load_talk(write(tmp_path, TINY.replace("n_in = 4", "n_in = 500")))
    with pytest.raises(TalkError) as caught:
        prepare_talk(talk, root, quick=True)
    assert caught.value.line == 7 and "run 'fresh' cannot be trained: n_in must be from 1 to 100" in str(caught.value)
    assert list_runs(root) == []
    problems = dict(check_talk(talk, root))
    assert "its [[run]] recipe (line 7) cannot be trained: n_in must be from 1 to 100" in problems[2]
