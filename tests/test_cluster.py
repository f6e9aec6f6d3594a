"""A cluster a sweep cannot use is refused up front, in one line, on the command line and on the page.

Three ways to get it wrong, each as a user would: an address where nothing listens, a listener
that is not a Dask scheduler (it never answers), and a scheduler started from a virtual
environment without seqattn (the README's recipe run from the wrong venv).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import venv
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seqattn.jobs import control as jobs
from seqattn.runs import run_dir
from seqattn.sweeps import cluster
from seqattn.sweeps.grid import SweepConfig
from seqattn.sweeps.records import read_cells
from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.training.config import TrainConfig
from test_jobs import wait_for

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--n-in", "3,4", "--seeds", "1", "--units", "8", "--cardinality", "6", "--updates", "40", "--batch-size", "8"]
HANG_GUARD = 120  # s: a hung command fails the test instead of the suite


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", cluster.SCHEDULER_ENV)} | {
        "TF_CPP_MIN_LOG_LEVEL": "2"}


def sweep_cli(tmp_path: Path, address: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seqattn", "sweep", *TINY, "--scheduler", address,
                           "--runs-dir", str(tmp_path / "runs"), "--csv", str(tmp_path / "sweep.csv")],
                          capture_output=True, text=True, env=clean_env(), cwd=tmp_path, timeout=HANG_GUARD)


def assert_one_line_failure(result: subprocess.CompletedProcess, tmp_path: Path, message: str) -> str:
    """Exit 1, no traceback, the message on the last line of stderr, no results written."""
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert message in last, result.stderr[-2000:]
    assert not (tmp_path / "sweep.csv").exists(), "no CSV of failed rows"
    (run,) = (tmp_path / "runs").glob("2*")
    assert read_cells(run) == [], "no cell counted as a result"
    return last


def test_an_address_where_nothing_listens_gets_one_line_and_exit_1(tmp_path):
    last = assert_one_line_failure(sweep_cli(tmp_path, "tcp://127.0.0.1:1"), tmp_path,
                                   "No Dask scheduler answered at tcp://127.0.0.1:1 within 10 s")
    assert "dask scheduler" in last


@pytest.fixture()
def silent_listener():
    """A TCP port that accepts connections and never says a word (not a Dask scheduler)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for connection in held:
        connection.close()


def test_a_listener_that_is_not_a_dask_scheduler_gets_one_line_and_exit_1(tmp_path, silent_listener):
    assert_one_line_failure(sweep_cli(tmp_path, silent_listener), tmp_path,
                            f"No Dask scheduler answered at {silent_listener} within 10 s")


@pytest.fixture(scope="module")
def scheduler_without_seqattn(tmp_path_factory):
    """A `dask scheduler` from a venv that has Dask but not seqattn, and a worker from the project's venv."""
    base = tmp_path_factory.mktemp("no-seqattn")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    # Dask and its dependencies from the project's venv, but not its .pth files: seqattn's
    # editable install is one of them, so this venv cannot import seqattn.
    (site,) = (env_dir / "lib").glob("python3*/site-packages")
    ours = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "distributed").is_dir())
    (site / "dask_only.pth").write_text(ours + "\n")
    python = env_dir / "bin" / "python"
    check = subprocess.run([python, "-c", "import distributed, seqattn"], capture_output=True, text=True, cwd=base)
    assert "No module named 'seqattn'" in check.stderr, check.stderr
    scheduler_file = base / "scheduler.json"
    processes = []
    try:
        with open(base / "scheduler.log", "wb") as log:
            processes.append(subprocess.Popen([python, "-m", "distributed.cli.dask_scheduler", "--port", "0",
                                               "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                              env=clean_env(), cwd=base, stdout=log, stderr=subprocess.STDOUT))
        wait_for(lambda: scheduler_file.exists() and scheduler_file.stat().st_size > 0, timeout=60)
        with open(base / "worker.log", "wb") as log:
            processes.append(subprocess.Popen([Path(sys.executable).parent / "dask", "worker", "--scheduler-file",
                                               str(scheduler_file), "--nthreads", "1", "--no-dashboard"],
                                              env=clean_env(), cwd=base, stdout=log, stderr=subprocess.STDOUT))
        import json

        address = json.loads(scheduler_file.read_text())["address"]
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


MESSAGE = "cannot import seqattn"


def start_tiny_sweep(runs: Path, scheduler: str) -> str:
    """A two-cell sweep job sent to ``scheduler`` (the worker process is real, the cells tiny)."""
    return jobs.start_sweep(ProblemConfig(cardinality=6, n_in=4, n_out=2),
                            TrainConfig(protocol="batched", updates=40, batch_size=8, until=95, jit_compile=False),
                            SweepConfig(axis="n_in", values=(3, 4), seeds=1), model=ModelConfig(units=8),
                            scheduler=scheduler, root=runs)


def test_a_scheduler_without_seqattn_stops_the_cli_at_once_with_one_line(tmp_path, scheduler_without_seqattn):
    last = assert_one_line_failure(sweep_cli(tmp_path, scheduler_without_seqattn), tmp_path,
                                   f"The Dask scheduler at {scheduler_without_seqattn} {MESSAGE}")
    assert "Nothing was trained" in last and ".venv/bin/dask" in last


def test_the_sweep_page_shows_the_same_message(tmp_path, scheduler_without_seqattn, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(runs))
    run_id = start_tiny_sweep(runs, scheduler_without_seqattn)
    wait_for(lambda: not jobs.status(run_id, runs).active, timeout=HANG_GUARD)
    status = jobs.status(run_id, runs)
    assert status.state == "failed" and MESSAGE in (status.error or ""), status
    assert read_cells(run_dir(run_id, runs)) == []
    at = AppTest.from_file(str(ROOT / "pages" / "4_Sweep.py"), default_timeout=60)
    at.query_params["run"] = run_id
    at.run()
    assert not at.exception, at.exception
    shown = " ".join(w.value.replace("\\", "") for w in at.warning)  # Markdown's escapes removed
    assert f"The Dask scheduler at {scheduler_without_seqattn} {MESSAGE}" in shown, shown
    assert "Training failed" not in shown and "Traceback" not in shown and "trained.." not in shown
    assert "cells that finished" not in shown, "no cell finished: nothing said to be kept"


def test_a_sweep_whose_cluster_does_not_answer_never_holds_the_training_slot(tmp_path, silent_listener, monkeypatch):
    from seqattn.jobs.slots import slot_holder
    from seqattn.runs import read_status

    runs = tmp_path / "runs"
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(runs))
    run_id = start_tiny_sweep(runs, silent_listener)
    directory = run_dir(run_id, runs)
    holders: set[str | None] = set()

    def ended() -> bool:
        holders.add(slot_holder(runs / ".slots", 0))  # sampled while the sweep tries to connect
        return not jobs.status(run_id, runs).active

    wait_for(ended, timeout=HANG_GUARD)
    status = read_status(directory)
    assert status["state"] == "failed" and "No Dask scheduler answered" in status["error"], status
    assert "started" not in status, "it never ran: the connection was tried before the slot"
    assert str(directory) not in holders and str(directory.resolve()) not in holders, holders
