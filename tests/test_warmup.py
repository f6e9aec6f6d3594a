"""The server's warm-ups: Explore's, a thread of ui/warmup.py (started once, never raising, leaving Explore's
models loaded), and the warm training process, which only the entry point (dashboard.py) starts."""

from __future__ import annotations

import ast
import logging
import threading
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import seqattn.runs
from seqattn.model.inference import ArrayPredictor
from test_damaged_runs import fake_done_run
from ui import backend, loaders, warmup

JOIN_TIMEOUT = 180  # s: TensorFlow's import and a model load on a busy 2-core machine
PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def fresh(monkeypatch):
    """A process that has not warmed up yet; no preloaded or cached predictors before or after."""
    monkeypatch.setattr(warmup, "_thread", None)
    monkeypatch.setattr(warmup, "report", warmup.WarmupReport())
    loaders.predictors_for.clear()
    loaders._preloaded.clear()
    yield
    loaders.predictors_for.clear()
    loaders._preloaded.clear()


@pytest.fixture()
def thread_errors(monkeypatch):
    """Exceptions that escape any thread (there must be none)."""
    errors: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    return errors


def run_warmup(root) -> warmup.WarmupReport:
    thread = warmup.start(str(root), delay=0, server_only=False)
    assert thread is not None
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive(), "the warm-up did not finish"
    return warmup.report


def test_two_calls_start_one_thread(fresh, monkeypatch, tmp_path):
    calls = []
    release = threading.Event()

    def fake_warm(root, report):
        calls.append(root)
        release.wait(10)
        return report

    monkeypatch.setattr(warmup, "warm", fake_warm)
    first = warmup.start(str(tmp_path), delay=0, server_only=False)
    second = warmup.start(str(tmp_path), delay=0, server_only=False)
    release.set()
    first.join(10)
    assert first is second and first.name == "seqattn-warmup" and first.daemon
    assert warmup.start(str(tmp_path), delay=0, server_only=False) is first, "not restarted once finished"
    assert calls == [str(tmp_path)]


def test_nothing_starts_outside_a_real_server(fresh, monkeypatch):
    # Pytest has no Streamlit server (AppTest's is a mock): the home page's call starts nothing there.
    assert warmup.start() is None and warmup._thread is None
    monkeypatch.setenv(warmup.WARMUP_ENV, "0")
    assert not warmup.in_server()


def test_a_runs_root_with_no_runs(fresh, thread_errors, tmp_path):
    report = run_warmup(tmp_path / "runs")  # does not even exist
    assert report.error is None and report.run_id is None
    assert "imports" in report.seconds and report.done.is_set()
    assert "live view" in report.seconds, "the Train page's live view is readied without any run"
    assert not thread_errors and not loaders._preloaded


def test_a_damaged_newest_run_is_a_log_line(fresh, thread_errors, tmp_path, caplog):
    root = tmp_path / "runs"
    fake_done_run(root)  # usable on paper, but its model archives hold no models
    with caplog.at_level(logging.WARNING, logger="seqattn.ui.warmup"):
        report = run_warmup(root)
    assert report.error, "the failure is recorded"
    assert not thread_errors, "nothing escapes the thread"
    assert any("warm-up gave up" in r.getMessage() for r in caplog.records), caplog.text
    assert not loaders._preloaded, "a failed load is not kept for the page"


def test_the_newest_run_is_loaded_for_explore(fresh, thread_errors, saved_run, monkeypatch):
    root, run_id = saved_run
    report = run_warmup(root)
    assert report.error is None, report.error
    assert report.run_id == run_id
    assert {"imports", "load", "trace", "total"} <= set(report.seconds)

    loads = []
    real = seqattn.runs.load_predictors
    monkeypatch.setattr(seqattn.runs, "load_predictors", lambda *a, **k: loads.append(a) or real(*a, **k))
    predictors = loaders.predictors_for(run_id, str(root))  # what the Explore page calls
    assert loads == [], "the page loads nothing: the warm-up's predictors are taken"
    assert set(predictors) == {"baseline", "attention"}
    assert isinstance(predictors["attention"], ArrayPredictor), "NumPy answers: no TensorFlow in the server"
    assert loaders.predictors_for(run_id, str(root)) is predictors, "then cached for every session"
    assert loads == [] and not thread_errors


def test_a_page_loads_by_itself_without_a_warm_up(fresh, saved_run, monkeypatch):
    root, run_id = saved_run
    loads = []
    real = seqattn.runs.load_predictors
    monkeypatch.setattr(seqattn.runs, "load_predictors", lambda *a, **k: loads.append(a) or real(*a, **k))
    assert set(loaders.predictors_for(run_id, str(root))) == {"baseline", "attention"}
    assert len(loads) == 1


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (at its top or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_no_page_or_ui_module_touches_the_speed_machinery():
    files = sorted((PROJECT / "ui").glob("*.py")) + sorted((PROJECT / "pages").glob("*.py"))
    assert len(files) > 5
    for path in files:
        assert not any(m == "seqattn.speed" or m.startswith("seqattn.speed.") for m in imported_modules(path)), path


class FakePool:
    def __init__(self) -> None:
        self.wanted: list[tuple] = []  # what the Train form showed, each time it was drawn

    def launch(self, directory) -> int:
        return 0

    def want(self, problem, train, model) -> None:
        self.wanted.append((problem, train, model))


@pytest.fixture()
def pools(monkeypatch):
    """The warm training process the entry point starts, recorded (root) instead of started."""
    from seqattn.speed import warm_pool

    started: list[str] = []
    pool = FakePool()
    monkeypatch.setattr(warm_pool, "start", lambda root=None, job=None: started.append(root) or pool)
    monkeypatch.setattr(warmup, "start", lambda *args, **kwargs: None)  # no Explore warm-up thread here
    st.cache_resource.clear()
    yield started, pool
    st.cache_resource.clear()
    backend.use_launcher(None)
    backend.use_preparer(None)


def test_the_entry_point_starts_the_warm_training_process_once_per_server(pools, monkeypatch, tmp_path):
    started, pool = pools
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(warmup, "in_server", lambda: True)  # as in a real `streamlit run`
    for page in ("pages/home.py", "pages/1_Train.py", "pages/2_Explore.py"):  # two sessions, three pages
        for _ in range(2):
            at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=120)
            at.switch_page(page).run()
            assert not at.exception, [e.value for e in at.exception]
    assert started == [str(tmp_path / "runs")], "once per server"
    assert backend.launcher() == pool.launch, "every job starts in the warm process"
    # The Train form told the pool the job it shows (from the visit after the pool was started): the defaults.
    from seqattn.problem.config import ProblemConfig
    from seqattn.training.config import TrainConfig

    assert pool.wanted and {w[0] for w in pool.wanted} == {ProblemConfig()}
    assert {w[1] for w in pool.wanted} == {TrainConfig(protocol="batched")}


def test_a_first_visit_to_explore_starts_no_warm_training_process(pools, monkeypatch, saved_run):
    """Explore on a fresh server draws its heatmap without a TensorFlow import beside it; Home or Train start it."""
    started, _ = pools
    root, run_id = saved_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    monkeypatch.setattr(warmup, "in_server", lambda: True)
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=120)
    at.query_params["run"] = run_id
    at.switch_page("pages/2_Explore.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("plotly_chart"), "the heatmap was drawn"
    assert started == [] and backend.launcher() is None
    at.switch_page("pages/home.py").run()
    assert not at.exception and started == [str(root)]


def test_no_warm_training_process_outside_a_real_server(pools, tmp_path, monkeypatch):
    started, _ = pools
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=120).run()
    assert not at.exception
    assert started == [] and backend.launcher() is None
