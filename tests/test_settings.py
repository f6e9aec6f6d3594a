"""The SEQATTN_* settings: a bad value is refused by name with its range where it is read, never replaced silently.

Every read site (slots, queue, budget, Dask cluster, warm process, warm-up) raises the same one-line
message; the command line exits 2 with it, a job's process ends ``failed`` with it, and the dashboard
warns of it on every page and keeps working.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqattn import settings
from seqattn.jobs import control, slots
from seqattn.jobs.worker import Worker
from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.runs import create_run, list_runs, read_status, run_dir
from seqattn.settings import SETTINGS, SettingError
from seqattn.speed import warm_pool
from seqattn.sweeps import cluster
from seqattn.training import budget
from seqattn.training.config import TrainConfig
from seqattn.training.cost import MAX_CELL_SECONDS
from ui import warmup

PROJECT = Path(__file__).resolve().parent.parent
SMALL_PROBLEM = ProblemConfig(cardinality=8, n_in=4, n_out=2)
SMALL_TRAIN = TrainConfig(protocol="batched", updates=20, batch_size=8)
SMALL_MODEL = ModelConfig(units=8)


def nice_read_by_a_dask_worker() -> object:
    """What a Dask worker's first cell does with SEQATTN_WORKER_NICE (nothing is trained or reniced here)."""
    seen: list[int] = []
    with pytest.MonkeyPatch.context() as p:
        p.setattr(cluster, "_prepared", False)
        p.setattr(cluster, "lower_priority_to", seen.append)
        p.setattr(cluster, "fit_threads_to_process", lambda threads: None)
        p.setattr(cluster, "train_cell", lambda spec, stop, setups=None: "trained")
        cluster.train_cell_on_worker(None)
    return seen[0] if seen else None


# Each setting's read site, as the code that uses the value calls it.
READ_SITES = {
    "SEQATTN_MAX_JOBS": slots.max_jobs,
    "SEQATTN_STALL_SECONDS": slots.stall_seconds,
    "SEQATTN_MAX_QUEUED": control.max_queued,
    "SEQATTN_MEMORY_BUDGET_GB": budget.memory_budget_bytes,
    "SEQATTN_TIME_BUDGET_S": budget.time_budget_seconds,
    "SEQATTN_DASK_WORKERS": cluster.local_workers,
    "SEQATTN_WORKER_NICE": nice_read_by_a_dask_worker,
    "SEQATTN_WARM_WORKER": warm_pool.enabled,
    "SEQATTN_WARMUP": warmup.in_server,
}
RANGES = {
    "SEQATTN_MAX_JOBS": "a whole number from 1 to 64 (default 1)",
    "SEQATTN_STALL_SECONDS": "a number from 10 to 86400 (default 30)",
    "SEQATTN_MAX_QUEUED": "a whole number from 1 to 1000 (default 5)",
    "SEQATTN_MEMORY_BUDGET_GB": "a number from 0.25 to 4096 (default half the machine's memory)",
    "SEQATTN_TIME_BUDGET_S": "a number from 1 to 2592000 (default 1800 (30 min))",
    "SEQATTN_DASK_WORKERS": "a whole number from 1 to 256 (default the machine's cores)",
    "SEQATTN_WORKER_NICE": "a whole number from 0 to 19 (default unset: unchanged)",
    "SEQATTN_WARM_WORKER": "on or off: 1/0, on/off, yes/no or true/false (default on)",
    "SEQATTN_WARMUP": "on or off: 1/0, on/off, yes/no or true/false (default on)",
}
NUMBERS = [name for name, s in SETTINGS.items() if s.kind in ("int", "float")]
# Zero is harmful for each of these (every job stalled, nothing may train or wait, every job refused).
ZERO_IS_BAD = ["SEQATTN_MAX_JOBS", "SEQATTN_STALL_SECONDS", "SEQATTN_MAX_QUEUED", "SEQATTN_MEMORY_BUDGET_GB",
               "SEQATTN_TIME_BUDGET_S", "SEQATTN_DASK_WORKERS"]
BAD = ([(name, value) for name in NUMBERS for value in ("abc", "-1", "nan", "inf", "1e30", "9" * 40)]
       + [(name, "0") for name in ZERO_IS_BAD]
       + [("SEQATTN_STALL_SECONDS", "2"), ("SEQATTN_MAX_JOBS", "1.5"), ("SEQATTN_WORKER_NICE", "20"),
          ("SEQATTN_MEMORY_BUDGET_GB", "0.1")]
       + [(name, value) for name in ("SEQATTN_WARM_WORKER", "SEQATTN_WARMUP") for value in ("maybe", "2", "-1")])
GOOD = [
    ("SEQATTN_MAX_JOBS", "2", 2),
    ("SEQATTN_STALL_SECONDS", "10", 10.0),
    ("SEQATTN_STALL_SECONDS", " 86400 ", 86400.0),
    ("SEQATTN_MAX_QUEUED", "1", 1),
    ("SEQATTN_MEMORY_BUDGET_GB", "1.5", 1.5 * budget.GIB),
    ("SEQATTN_TIME_BUDGET_S", "60", 60.0),
    ("SEQATTN_DASK_WORKERS", "3", 3),
    ("SEQATTN_WORKER_NICE", "0", 0),
    ("SEQATTN_WORKER_NICE", "19", 19),
    ("SEQATTN_WARM_WORKER", "off", False),
    ("SEQATTN_WARM_WORKER", "ON", True),
    ("SEQATTN_WARMUP", "0", False),  # off: not a server, whatever the runtime
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def one_line_naming(message: str, name: str, value: str) -> None:
    shown = value if value.isprintable() and len(value) <= settings.SHOWN_CHARS else repr(value[:40])
    assert message.startswith(f"{name}={shown} is not accepted: {SETTINGS[name].meaning}, "), message
    assert RANGES[name] in message and message.endswith("Unset it or fix it."), message
    assert "\n" not in message


@pytest.mark.parametrize(("name", "value"), BAD)
def test_a_bad_value_is_refused_where_it_is_read_with_its_name_and_range(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingError) as info:
        READ_SITES[name]()
    one_line_naming(str(info.value), name, value)
    assert settings.problems() == [str(info.value)]


@pytest.mark.parametrize(("name", "value", "expected"), GOOD)
def test_a_good_value_is_used(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    assert READ_SITES[name]() == expected
    assert settings.problems() == []


def test_unset_or_blank_settings_read_as_their_defaults(monkeypatch):
    import psutil

    for blank in (None, "", "  "):
        for name in READ_SITES:
            if blank is not None:
                monkeypatch.setenv(name, blank)
        assert slots.max_jobs() == 1 and slots.stall_seconds() == 30.0 and control.max_queued() == 5
        assert budget.memory_budget_bytes() == pytest.approx(psutil.virtual_memory().total / 2)
        assert budget.time_budget_seconds() == MAX_CELL_SECONDS
        assert cluster.local_workers() == max(1, os.cpu_count() or 1)
        assert nice_read_by_a_dask_worker() is None and warm_pool.enabled() is True
        settings.check_all()


def test_the_declared_defaults_and_bounds_match_the_code():
    assert SETTINGS["SEQATTN_TIME_BUDGET_S"].default_text.startswith(f"{MAX_CELL_SECONDS:.0f} ")
    # Silence shorter than a few heartbeats is a busy machine, not a frozen job.
    assert SETTINGS["SEQATTN_STALL_SECONDS"].low >= 5 * slots.HEARTBEAT_SECONDS
    assert SETTINGS["SEQATTN_MEMORY_BUDGET_GB"].low > 0


def test_every_bad_setting_is_named_in_one_line_and_defaults_stand_in_only_where_asked(monkeypatch):
    monkeypatch.setenv("SEQATTN_STALL_SECONDS", "0")
    monkeypatch.setenv("SEQATTN_MAX_QUEUED", "-1")
    with pytest.raises(SettingError) as info:
        settings.check_all()
    message = str(info.value)
    assert "\n" not in message and message.startswith("SEQATTN_MAX_QUEUED=-1 is not accepted")
    assert "SEQATTN_STALL_SECONDS=0 is not accepted" in message
    with settings.bad_values_fall_back():  # the dashboard, after its warning
        assert slots.stall_seconds() == 30.0 and control.max_queued() == 5
        with pytest.raises(SettingError):
            settings.check_all()  # starting a job stays refused
    with pytest.raises(SettingError):
        slots.stall_seconds()


def test_the_runs_folder_setting_is_a_path(monkeypatch, tmp_path):
    from seqattn.runs import runs_root

    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(tmp_path / "my runs"))
    assert runs_root() == tmp_path / "my runs"
    monkeypatch.setenv("SEQATTN_RUNS_DIR", "")
    assert runs_root() == Path("runs")


def test_a_job_is_not_started_while_a_setting_is_bad(clean_env, monkeypatch):
    monkeypatch.setenv("SEQATTN_STALL_SECONDS", "0")  # the issue's: healthy jobs called stalled after 2 s
    launched = []
    with pytest.raises(SettingError, match=r"^SEQATTN_STALL_SECONDS=0 is not accepted: .* from 10 to 86400"):
        control.start(SMALL_PROBLEM, SMALL_TRAIN, model=SMALL_MODEL, launcher=launched.append)
    assert launched == [] and list_runs(clean_env) == []


@pytest.mark.parametrize(("name", "value"), [("SEQATTN_STALL_SECONDS", "0"), ("SEQATTN_MEMORY_BUDGET_GB", "nan")])
def test_a_worker_process_with_a_bad_setting_ends_failed_with_the_message(clean_env, name, value):
    run_id = create_run(SMALL_PROBLEM, SMALL_TRAIN.to_dict(), model=SMALL_MODEL.to_dict())
    directory = run_dir(run_id)
    env = {**control.worker_env(), name: value}
    done = subprocess.run([sys.executable, "-m", "seqattn.jobs.worker", str(directory)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    status = read_status(directory)
    assert status["state"] == "failed"
    one_line_naming(status["error"], name, value)
    assert "Traceback" not in done.stderr and status["error"] in done.stderr


def test_the_worker_checks_before_anything_else_in_process(clean_env, monkeypatch):
    run_id = create_run(SMALL_PROBLEM, SMALL_TRAIN.to_dict(), model=SMALL_MODEL.to_dict())
    monkeypatch.setenv("SEQATTN_MAX_JOBS", "0")
    with pytest.raises(SettingError):
        Worker(run_dir(run_id)).run()
    status = read_status(run_dir(run_id))
    assert status["state"] == "failed" and status["error"].startswith("SEQATTN_MAX_JOBS=0 is not accepted")


def test_the_command_line_exits_2_with_one_line(clean_env):
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "SEQATTN_MAX_QUEUED": "-1", "SEQATTN_RUNS_DIR": str(clean_env)}
    done = subprocess.run([sys.executable, "-m", "seqattn", "runs"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("python -m seqattn runs: error: SEQATTN_MAX_QUEUED=-1 is not accepted: ")
    assert RANGES["SEQATTN_MAX_QUEUED"] in lines[0] and done.stdout == ""


def test_the_docs_table_lists_every_setting():
    table = (PROJECT / "docs" / "architecture.md").read_text()
    for name, setting in SETTINGS.items():
        row = next((line for line in table.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, name
        if setting.kind in ("int", "float"):
            assert f"{settings.number_text(setting.low)} to {settings.number_text(setting.high)}" in row, row


# The dashboard: AppTest runs the pages in this process.

def warnings_of(at) -> list[str]:
    return [w.value.replace("\\", "") for w in at.warning]


@pytest.mark.parametrize("path", ["dashboard.py", "pages/1_Train.py", "pages/2_Explore.py", "pages/3_Compare.py",
                                  "pages/4_Sweep.py"])
def test_every_page_warns_of_a_bad_setting_and_keeps_working(clean_env, monkeypatch, path):
    from test_app import app, no_exception

    monkeypatch.setenv("SEQATTN_STALL_SECONDS", "0")
    monkeypatch.setenv("SEQATTN_MEMORY_BUDGET_GB", "abc")
    at = app(path)
    no_exception(at)
    shown = warnings_of(at)
    for name, value in (("SEQATTN_STALL_SECONDS", "0"), ("SEQATTN_MEMORY_BUDGET_GB", "abc")):
        assert any(w.startswith(f"{name}={value} is not accepted") and RANGES[name] in w for w in shown), shown
    assert not at.error, [e.value for e in at.error]
    assert at.title, "the page is drawn"


def test_the_train_page_refuses_to_start_with_the_settings_message(clean_env, monkeypatch, fake_backend):
    from test_app import app, no_exception

    monkeypatch.setenv("SEQATTN_DASK_WORKERS", "0")
    at = app("pages/1_Train.py")
    no_exception(at)
    at.button(key="train_start").click().run()
    no_exception(at)
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any(e.startswith("Could not start the training: SEQATTN_DASK_WORKERS=0 is not accepted") for e in errors)
    assert fake_backend.launched == [] and list_runs(clean_env) == []
    assert "run" not in at.query_params


def test_the_status_of_runs_reads_in_the_dashboard_with_a_bad_stall_setting(clean_env, monkeypatch):
    from test_app import app, no_exception

    run_id = create_run(SMALL_PROBLEM, SMALL_TRAIN.to_dict(), model=SMALL_MODEL.to_dict())
    (run_dir(run_id) / "status.json").write_text(json.dumps({"state": "running", "heartbeat": 1.0, "pid": 1}))
    monkeypatch.setenv("SEQATTN_STALL_SECONDS", "nan")
    at = app("pages/1_Train.py", run=run_id)
    no_exception(at)
    assert not any("Something went wrong" in e.value for e in at.error), [e.value for e in at.error]
    assert any(w.startswith("SEQATTN_STALL_SECONDS=nan is not accepted") for w in warnings_of(at))
