"""The Task choice of the shared form (issue 23): Train, Compare and Sweep take the task, the form shows its settings.

Driven by Streamlit's AppTest (no browser); widgets are found by key. Tasks and their demo defaults are
read from the registry, never written here, so the tests hold while the defaults are being measured.
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from seqattn.problem.config import ProblemConfig
from seqattn.problem.registry import DEFAULT_TASK, TASKS, task_named
from seqattn.runs import list_runs, run_dir
from seqattn.sweeps import cluster
from seqattn.sweeps.grid import SweepConfig, axis_range, cell_settings, grid_cells, task_axes
from seqattn.model.config import ModelConfig
from seqattn.training.config import TrainConfig
from test_app import app, no_exception, set_number
from ui.forms import task_default

# Tasks picked by what they are, not by name: one with a length but no echo length, one with no settings.
LENGTH_ONLY = next(t for t in TASKS.values() if t.has_length and "n_out" not in t.settings)
FIXED = next(t for t in TASKS.values() if not t.settings)
ECHO_KEYS = ("cardinality", "n_in", "n_out")


@pytest.fixture()
def runs(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    monkeypatch.setenv("SEQATTN_DASK_WORKERS", "1")
    monkeypatch.delenv("SEQATTN_MEMORY_BUDGET_GB", raising=False)
    monkeypatch.delenv("SEQATTN_TIME_BUDGET_S", raising=False)
    monkeypatch.delenv("SEQATTN_DASK_SCHEDULER", raising=False)
    yield root
    cluster.close_local_cluster()


def key(prefix: str, task, name: str, protocol: str | None = None) -> str:
    """The widget key of setting ``name`` under ``task`` (the form's own rule, so a new demo default moves it);
    the recipe's numbers also carry their ``protocol``."""
    part = {"pad_target": "pad", "batch_size": "batch", "learning_rate": "lr"}.get(name)
    return f"{prefix}_{task_default(task, name, None, part)[0]}" + (f"_{protocol}" if protocol else "")


def batched(at: AppTest, prefix: str, task) -> None:
    """Choose the batched protocol (whatever protocol the task's demo defaults name)."""
    at.radio(key=key(prefix, task, "protocol")).set_value("Batched (fast)").run()


def keys(at: AppTest) -> set[str]:
    return {w.key for w in list(at.text_input) + list(at.toggle)}


def choose(at: AppTest, prefix: str, task) -> None:
    at.selectbox(key=f"{prefix}_task").set_value(task.name).run()
    no_exception(at)


def test_the_task_box_lists_every_registered_task_the_default_first(runs):
    at = app("pages/1_Train.py")
    no_exception(at)
    box = at.selectbox(key="train_task")
    assert box.options == [t.label for t in TASKS.values()]
    assert box.options[:4] == ["Echo", "Reverse", "Sort", "Dates"]
    assert box.value == DEFAULT_TASK
    assert all(t.summary in box.help for t in TASKS.values()), "its help says what each task is"
    # The default task keeps the keys the form always had (tests, bookmarks and the e2e test use them).
    assert {"train_cardinality", "train_n_in", "train_n_out", "train_pad"} <= keys(at)


def test_a_task_with_a_length_shows_its_own_settings_with_its_defaults(runs):
    at = app("pages/1_Train.py")
    choose(at, "train", LENGTH_ONLY)
    shown = keys(at)
    assert "train_n_out" not in shown and "train_pad" not in shown, "its echo length and padding are fixed"
    for name in LENGTH_ONLY.settings:
        widget = at.text_input(key=key("train", LENGTH_ONLY, name))
        expected = LENGTH_ONLY.defaults.get(name, getattr(ProblemConfig(), name))
        assert widget.value == str(expected), name
    assert not at.error and not at.button(key="train_start").disabled
    # What was typed for the task stays when another task is chosen and then this one again.
    at.text_input(key=key("train", LENGTH_ONLY, "cardinality")).set_value("7").run()
    set_number(at, key("train", LENGTH_ONLY, "n_in"), 6)
    choose(at, "train", task_named(DEFAULT_TASK))
    assert at.text_input(key="train_cardinality").value == "50", "the default task's own value"
    choose(at, "train", LENGTH_ONLY)
    assert at.text_input(key=key("train", LENGTH_ONLY, "cardinality")).value == "7"


def test_a_task_with_fixed_sizes_hides_them_and_says_what_it_is(runs):
    at = app("pages/1_Train.py")
    choose(at, "train", FIXED)
    assert not {f"train_{name}" for name in ECHO_KEYS} & keys(at) and "train_pad" not in keys(at)
    assert not any(k.startswith(f"train_{FIXED.name}_") and k.split("_", 2)[2] in ECHO_KEYS for k in keys(at))
    shape = ProblemConfig(task=FIXED.name)
    said = [c.value for c in at.caption if FIXED.summary in c.value]
    assert len(said) == 1 and "sizes are fixed" in said[0], [c.value for c in at.caption]
    assert f"inputs of {shape.n_in} steps" in said[0] and f"outputs of {shape.target_len} steps" in said[0]
    # The estimate and the chance line work for it too: chance is ln of its output vocabulary.
    captions = " ".join(c.value for c in at.caption)
    assert "Estimated: ~" in captions and f"chance: ln {shape.output_size}," in captions
    assert not at.error and not at.button(key="train_start").disabled


def form_probe() -> None:
    import json

    import streamlit as st

    from ui.forms import config_form

    result = config_form("probe")
    st.text(json.dumps({"problem": result.problem.to_dict() if result.problem else None, "error": result.error}))


def test_the_form_result_holds_the_chosen_task(runs):
    at = AppTest.from_function(form_probe, default_timeout=120).run()
    for task in TASKS.values():
        at.selectbox(key="probe_task").set_value(task.name).run()
        no_exception(at)
        result = json.loads(at.text[0].value)
        assert result["error"] is None, result
        problem = ProblemConfig.from_dict(result["problem"])
        assert problem.task == task.name
        for name in task.settings:
            assert getattr(problem, name) == task.defaults.get(name, getattr(ProblemConfig(), name)), (task.name, name)


def test_training_a_chosen_task_records_it_in_the_run(runs, fake_backend):
    at = app("pages/1_Train.py")
    choose(at, "train", LENGTH_ONLY)
    batched(at, "train", LENGTH_ONLY)
    for name, value in [("cardinality", 6), ("n_in", 4), ("units", 8)]:
        set_number(at, key("train", LENGTH_ONLY, name), value)
    set_number(at, key("train", LENGTH_ONLY, "updates", "batched"), 40)
    at.run()
    at.button(key="train_start").click().run()
    no_exception(at)
    [run] = list_runs(runs)
    meta = json.loads((run_dir(run.id, runs) / "run.json").read_text())
    assert meta["problem"]["task"] == LENGTH_ONLY.name
    assert meta["problem"]["cardinality"] == 6 and meta["problem"]["n_in"] == 4
    assert [d.name for d in fake_backend.launched] == [run.id], "started through the jobs seam"


def test_the_sweep_offers_only_the_axes_a_task_reads(runs):
    at = app("pages/4_Sweep.py")
    assert at.selectbox(key="sweep_axis").options == ["Input length", "Echo length", "Cardinality", "Units"]
    choose(at, "sweep", FIXED)
    axis = at.selectbox(key="sweep_axis")
    assert "Input length" not in axis.options and axis.options == [n.capitalize() for n in task_axes(FIXED).values()]
    assert not any(w.key == "sweep_rule" for w in at.radio)
    assert not at.error and not at.button(key="sweep_start").disabled, [e.value for e in at.error]
    choose(at, "sweep", LENGTH_ONLY)
    axis = at.selectbox(key="sweep_axis")
    assert "Input length" in axis.options and "Echo length" not in axis.options
    axis.set_value("n_in").run()
    assert not any(w.key == "sweep_rule" for w in at.radio), "no echo length to halve"


def test_a_sweep_of_a_chosen_task_records_it(runs, monkeypatch):
    from ui import backend

    launched: list[str] = []
    backend.use_launcher(lambda directory: launched.append(directory.name) or __import__("os").getpid())
    try:
        at = app("pages/4_Sweep.py")
        choose(at, "sweep", LENGTH_ONLY)
        at.selectbox(key="sweep_axis").set_value("n_in").run()
        at.text_input(key="sweep_values").set_value("3, 4").run()
        batched(at, "sweep", LENGTH_ONLY)
        for name, value in [("cardinality", 6), ("units", 8)]:
            set_number(at, key("sweep", LENGTH_ONLY, name), value)
        set_number(at, key("sweep", LENGTH_ONLY, "updates", "batched"), 40)
        set_number(at, key("sweep", LENGTH_ONLY, "batch_size", "batched"), 8)
        set_number(at, "sweep_seeds", 1)
        at.run()
        assert not at.error, [e.value for e in at.error]
        at.button(key="sweep_start").click().run()
        no_exception(at)
    finally:
        backend.use_launcher(None)
    [run_id] = launched
    meta = json.loads((run_dir(run_id, runs) / "run.json").read_text())
    assert meta["problem"]["task"] == LENGTH_ONLY.name and meta["sweep"]["axis"] == "n_in"
    assert meta["sweep"]["values"] == [3, 4]


def test_the_grid_refuses_a_setting_the_task_does_not_read():
    problem = ProblemConfig(task=FIXED.name)
    train = TrainConfig(protocol="batched", updates=40, batch_size=8)
    with pytest.raises(ValueError, match=f"the {FIXED.label} task does not read the input length .*sweep over units"):
        grid_cells(problem, train, SweepConfig(axis="n_in", values=(5, 10), seeds=1))
    with pytest.raises(ValueError, match="does not read the input length"):
        axis_range("n_in", FIXED)
    with pytest.raises(ValueError, match="does not read the cardinality"):
        cell_settings(problem, ModelConfig(), SweepConfig(axis="cardinality", values=(5,), seeds=1), 5)
    with pytest.raises(ValueError, match=f"the {LENGTH_ONLY.label} task does not read the echo length"):
        grid_cells(ProblemConfig(task=LENGTH_ONLY.name), train, SweepConfig(axis="n_out", values=(2,), seeds=1))
    assert axis_range("n_in", LENGTH_ONLY) == axis_range("n_in")
    assert len(grid_cells(problem, train, SweepConfig(axis="units", values=(4, 8), seeds=1))) == 2, "units: any task"
    assert task_axes(FIXED) == {"units": "units"}


def sweep_summary(problem: ProblemConfig, sweep: SweepConfig):
    from seqattn.runs import RunSummary

    train = {"protocol": "batched", "batch_size": 32, "eval_every": 50, "seed": 0, "updates": 2000, "until": 95}
    return RunSummary(id="x", created=0.0, state="done", kind="sweep", problem=problem.to_dict(), train=train,
                      extra={"sweep": sweep.to_dict()})


def test_the_sweep_report_reads_each_task():
    from seqattn.sweeps import report

    lengths = SweepConfig(axis="n_in", values=(4, 6), seeds=1)
    echo = ProblemConfig(cardinality=10, n_in=6, n_out=2)
    assert report.chance_of(sweep_summary(echo, lengths)) == pytest.approx(0.1 ** 2), "echo's chance: (1/K)^n_out"
    assert report.caption_of(sweep_summary(echo, lengths)).endswith(f"{echo.task_spec.label} task, K = 10, echo length 2")
    reverse = ProblemConfig(cardinality=10, n_in=6, task=LENGTH_ONLY.name)
    assert report.chance_of(sweep_summary(reverse, lengths)) is None, "its chance moves with the length"
    units = SweepConfig(axis="units", values=(8, 16), seeds=1)
    assert report.chance_of(sweep_summary(reverse, units)) == pytest.approx(LENGTH_ONLY.chance(reverse))
    caption = report.caption_of(sweep_summary(reverse, lengths))
    assert caption.endswith(f"{LENGTH_ONLY.label} task, K = 10") and "echo length" not in caption, caption
    assert "input length 6" in report.caption_of(sweep_summary(reverse, units))
    fixed = ProblemConfig(task=FIXED.name)
    assert report.caption_of(sweep_summary(fixed, units)).endswith(FIXED.describe(fixed))
    assert report.chance_of(sweep_summary(fixed, units)) == pytest.approx(FIXED.chance(fixed))
    assert report.chance_of(sweep_summary(fixed, lengths)) is None, "an axis the task does not read: no line"
    assert report.task_of({"task": "no such task"}).name == DEFAULT_TASK and report.task_of({}).name == DEFAULT_TASK


def test_the_tutorial_reference_is_for_the_default_task_at_its_settings_only():
    from seqattn.sweeps.compare import TUTORIAL_PROBLEM, is_tutorial_setup

    recipe = TrainConfig(protocol="tutorial")
    assert is_tutorial_setup(TUTORIAL_PROBLEM, recipe, ModelConfig())
    for task in TASKS.values():
        same_sizes = ProblemConfig(cardinality=50, n_in=5, n_out=2, pad_target=True, task=task.name)
        assert is_tutorial_setup(same_sizes, recipe, ModelConfig()) == (task.name == DEFAULT_TASK), task.name


def test_a_finished_run_of_a_task_draws_chance_from_its_output_vocabulary(runs, fake_backend):
    import math

    from conftest import wait_done

    at = app("pages/1_Train.py")
    choose(at, "train", FIXED)
    batched(at, "train", FIXED)
    set_number(at, key("train", FIXED, "units"), 8)
    set_number(at, key("train", FIXED, "updates", "batched"), 40)
    at.run()
    at.button(key="train_start").click().run()
    [run] = list_runs(runs)
    wait_done(run.id, runs, timeout=60)
    at.run()
    no_exception(at)
    loss = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "cross-entropy" in c.proto.spec)
    chance = next(s for s in loss["layout"]["shapes"] if s.get("name") == "chance")
    output_size = ProblemConfig(task=FIXED.name).output_size
    assert output_size != ProblemConfig(task=FIXED.name).input_size, "the test tells the two vocabularies apart"
    assert chance["y0"] == pytest.approx(math.log(output_size))


def test_a_tasks_model_and_recipe_defaults_fill_its_own_widgets(runs, monkeypatch):
    # As when the demo defaults measured for a task name its model and recipe (none does yet, in every task).
    demo = {**LENGTH_ONLY.defaults, "units": 32, "encoder": "bidirectional", "protocol": "batched", "updates": 700,
            "batch_size": 16, "learning_rate": 0.01}
    monkeypatch.setattr(LENGTH_ONLY, "defaults", demo)
    at = app("pages/3_Compare.py")  # its own default protocol is the tutorial's
    no_exception(at)
    assert at.radio(key="compare_protocol").value.startswith("Tutorial")
    choose(at, "compare", LENGTH_ONLY)
    name = LENGTH_ONLY.name
    assert at.radio(key=f"compare_{name}_protocol").value == "Batched (fast)", "the task's protocol"
    assert at.text_input(key=f"compare_{name}_units").value == "32"
    assert at.selectbox(key=f"compare_{name}_encoder").value == "bidirectional"
    assert at.text_input(key=f"compare_{name}_updates_batched").value == "700"
    assert at.text_input(key=f"compare_{name}_batch_batched").value == "16"
    assert at.text_input(key=f"compare_{name}_lr_batched").value == "0.01"
    assert at.text_input(key="compare_seed").value == "0", "a setting the task leaves alone keeps its one widget"
    # The task's numbers are for its protocol: the other one keeps its own defaults.
    at.radio(key=f"compare_{name}_protocol").set_value("Tutorial (one pair per update)").run()
    no_exception(at)
    assert at.text_input(key=f"compare_{name}_updates_tutorial").value == "5000"
    assert not at.error, [e.value for e in at.error]
    choose(at, "compare", task_named(DEFAULT_TASK))
    assert at.text_input(key="compare_units").value == "150", "the default task's widgets are untouched"
    assert at.radio(key="compare_protocol").value.startswith("Tutorial")
