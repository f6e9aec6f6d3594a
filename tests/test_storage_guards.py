"""Storage under a full disk and odd files (issue 24, items 9 and 10).

A full disk is simulated: ``shutil.disk_usage`` reports little free space for the
up-front check, and patched writes raise ``ENOSPC`` for failures mid-run. Odd
files are real: a FIFO (``os.mkfifo``), a socket, a device (a link to
``/dev/null``) where a run file should be. A reader that opened a FIFO would
block until someone writes into it, so every read that could hang runs under a
guard (a thread with a join timeout, or a subprocess with a timeout), and the
FIFOs are unblocked at teardown.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace

import pytest

import seqattn.runs.creating
import seqattn.runs.files
from seqattn.jobs import control as jobs
from seqattn.jobs import tasks, worker
from seqattn.problem.config import ProblemConfig
from seqattn.runs import (
    RunError,
    create_run,
    evals_checked,
    get_run,
    list_runs,
    progress_checked,
    progress_reader,
    read_status,
    result_checked,
    run_dir,
    save_models_atomic,
    update_status,
)
from seqattn.runs.layout import model_path
from seqattn.runs.space import NotEnoughSpace
from seqattn.sweeps.records import cells_checked
from seqattn.training.budget import parameter_count
from seqattn.training.config import TrainConfig
from seqattn.model.config import ModelConfig
from seqattn.training.run_size import estimate_run_bytes
from tests.test_app import app, no_exception
from tests.test_damaged_runs import PROBLEM, fake_done_run, report, run_cli

PROJECT = Path(__file__).resolve().parent.parent
GUARD_SECONDS = 20
Usage = namedtuple("Usage", "total used free")


def no_space(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def little_free_space(monkeypatch, free: int = 1024) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10 * 2**30, 10 * 2**30 - free, free))


# --- 9. a full disk: refused up front --------------------------------------------------------------


def test_a_run_that_does_not_fit_the_free_space_is_refused_before_its_folder_is_made(runs, monkeypatch):
    little_free_space(monkeypatch)
    launched = []
    with pytest.raises(NotEnoughSpace) as refusal:
        jobs.start(PROBLEM, {"protocol": "batched", "updates": 20}, model={"units": 8}, root=runs,
                   launcher=launched.append)
    message = str(refusal.value)
    assert f"not enough free space on the device holding {runs}: 1.0 KiB free, this run needs about" in message
    assert "MiB" in message and "SEQATTN_RUNS_DIR" in message
    assert launched == [] and [p for p in runs.iterdir() if not p.name.startswith(".")] == []


def test_a_sweep_is_refused_up_front_too_and_a_run_that_fits_starts(runs, monkeypatch):
    from seqattn.sweeps.grid import SweepConfig

    little_free_space(monkeypatch)
    with pytest.raises(NotEnoughSpace):
        jobs.start_sweep(PROBLEM, TrainConfig(protocol="batched", updates=20), SweepConfig(axis="n_in", values=(3, 4)),
                         root=runs, launcher=lambda directory: 0)
    assert list_runs(runs) == []
    little_free_space(monkeypatch, free=2**40)
    assert jobs.start(PROBLEM, {"protocol": "batched", "updates": 20}, model={"units": 8}, root=runs,
                      launcher=lambda directory: os.getpid())


def test_the_estimate_covers_two_sets_of_saved_models_with_optimizer_state():
    problem, train, model = ProblemConfig(), TrainConfig(protocol="batched"), ModelConfig()
    # Measured: both default models saved with Adam's state take 8.2 MB, 12.1 bytes per parameter.
    measured = 12.2 * parameter_count(problem, model)
    estimate = estimate_run_bytes(problem, train, model)
    assert 2 * measured < estimate < 10 * measured
    assert estimate_run_bytes(problem, train, ModelConfig(units=300)) > estimate


@pytest.mark.parametrize("command", [
    ["train", "--protocol", "batched", "--updates", "20", "--units", "8"],
    ["sweep", "--n-in", "3,4", "--updates", "20", "--units", "8"],
])
def test_cli_refuses_a_run_that_does_not_fit_in_one_line(runs, monkeypatch, capsys, command):
    from seqattn.cli.commands import main

    little_free_space(monkeypatch)
    flag = "--out" if command[0] == "train" else "--runs-dir"
    code = main([*command, flag, str(runs), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "not enough free space on the device holding" in err.strip().splitlines()[-1], err
    assert [p for p in runs.iterdir() if not p.name.startswith(".")] == []


def test_create_run_leaves_no_folder_when_its_first_files_cannot_be_written(runs, monkeypatch):
    monkeypatch.setattr(seqattn.runs.creating, "write_json", no_space)
    with pytest.raises(NotEnoughSpace, match="no space left on the device holding"):
        create_run(PROBLEM, {}, root=runs)
    monkeypatch.setattr(seqattn.runs.creating, "write_json",
                        lambda *args: (_ for _ in ()).throw(OSError(errno.EIO, "Input/output error")))
    with pytest.raises(OSError, match="Input/output"):
        create_run(PROBLEM, {}, root=runs)
    assert list(p for p in runs.iterdir() if not p.name.startswith(".")) == []
    assert list_runs(runs) == []


def test_the_train_page_shows_the_refusal_not_a_generic_error(runs, monkeypatch):
    at = app("pages/1_Train.py")
    little_free_space(monkeypatch)
    at.button(key="train_start").click().run()
    no_exception(at)
    shown = " ".join(e.value.replace("\\", "") for e in at.error)
    assert "Could not start the training: not enough free space on the device holding" in shown, shown
    assert "Something went wrong" not in shown
    assert list_runs(runs) == []


def test_status_is_still_written_when_the_disk_is_full(tmp_path, monkeypatch):
    update_status(tmp_path, state="running", update=3)
    # A new temporary file needs a free block; status.json is rewritten in the block it holds.
    monkeypatch.setattr(seqattn.runs.files, "write_json", no_space)
    update_status(tmp_path, state="failed", error="no space left on the device holding /x")
    status = read_status(tmp_path)
    assert status["state"] == "failed" and status["update"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [".status.lock", "status.json"], "no temporary file left"


# --- 9. a full disk: mid-run -----------------------------------------------------------------------


class FakeModel:
    """Saves a small Keras-like archive naming the evaluation it is from; ``full`` makes its save fail half-way."""

    def __init__(self, state: dict) -> None:
        self.state = state
        self.fails = False

    def save(self, path) -> None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", json.dumps({"update": self.state["update"]}))
        if self.fails and self.state["full"]:
            with open(path, "ab") as fh:
                fh.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")


def saved_update(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))["update"]


def test_save_models_atomic_keeps_the_previous_set_whole_when_a_save_fails(tmp_path):
    state = {"update": 5, "full": False}
    models = {"baseline": FakeModel(state), "attention": FakeModel(state)}
    save_models_atomic(models, tmp_path)
    state.update(update=8, full=True)
    models["attention"].fails = True
    with pytest.raises(OSError):
        save_models_atomic(models, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["attention.keras", "baseline.keras"], "no temporary file"
    assert saved_update(tmp_path / "baseline.keras") == saved_update(tmp_path / "attention.keras") == 5


def test_a_full_disk_mid_run_ends_it_failed_with_the_models_of_the_last_good_evaluation(runs, monkeypatch):
    state = {"update": 0, "full": False}
    models = {"baseline": FakeModel(state), "attention": FakeModel(state)}
    models["attention"].fails = True

    def train(problem, config, *, on_progress, **_):
        for update in (5, 8):  # two evaluations: the second one's checkpoint meets the full disk
            state["update"] = update
            state["full"] = update == 8
            on_progress(report(update, evaluated=True))
        raise AssertionError("the full disk should have ended the training")

    real_write_json = seqattn.runs.files.write_json

    def write_json(path, data):
        if state["full"]:  # every new file fails once the disk is full, status.json included
            no_space()
        real_write_json(path, data)

    monkeypatch.setattr(tasks, "train", train)
    monkeypatch.setattr(tasks, "setup_for", lambda ctx: SimpleNamespace(models=models, ahead=False))
    monkeypatch.setattr(tasks, "fit_threads_to_process", lambda: None)
    monkeypatch.setattr(tasks, "CHECKPOINT_SECONDS", 0.0)
    monkeypatch.setattr(worker, "lower_priority_to", lambda level: None)
    monkeypatch.setattr(seqattn.runs.files, "write_json", write_json)
    run_id = create_run(PROBLEM, {"protocol": "batched", "updates": 10}, model={"units": 8}, root=runs)
    directory = run_dir(run_id, runs)

    worker.Worker(directory).run()

    status = read_status(directory)
    assert status["state"] == "failed"
    assert status["error"].startswith(f"No space left on the device holding {runs}; free some space"), status
    assert "Errno" not in status["error"] and "Traceback" not in status["error"]
    summary = get_run(run_id, runs)
    assert summary.checkpoint == 5 and summary.has_models and "models as at update 5" in summary.label()
    assert saved_update(model_path(directory, "baseline")) == saved_update(model_path(directory, "attention")) == 5
    assert not [p.name for p in directory.iterdir() if p.name.endswith(".keras") and p.name.startswith(".")]


def test_cli_runs_into_a_full_output_says_so_in_one_line(runs):
    fake_done_run(runs)
    env = dict(os.environ, PYTHONPATH=str(PROJECT), SEQATTN_RUNS_DIR=str(runs))
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "seqattn", "runs"], stdout=full, stderr=subprocess.PIPE,
                                text=True, env=env, cwd=PROJECT, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "cannot write the output (No space left on device)" in result.stderr.strip().splitlines()[-1]


# --- 10. FIFOs, sockets and devices in place of run files ---------------------------------------------


@pytest.fixture()
def fifos():
    """Makes FIFOs; at teardown, a reader still blocked on one gets end-of-file (so no thread stays stuck)."""
    made: list[Path] = []

    def make(path: Path) -> Path:
        if path.exists() or path.is_symlink():
            path.unlink()
        os.mkfifo(path)
        made.append(path)
        return path

    yield make
    for path in made:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # succeeds only if a reader is waiting
        except OSError:
            continue
        os.close(fd)


def guarded(read):
    """``read()``'s value, failing (not hanging) if it blocks for ``GUARD_SECONDS``."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = read()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(GUARD_SECONDS)
    assert not thread.is_alive(), f"the read blocked for {GUARD_SECONDS} s (it opened a FIFO)"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.mark.parametrize("name", ["run.json", "status.json", "progress.csv", "result.json"])
def test_a_fifo_in_place_of_a_run_file_breaks_only_its_run_in_the_listing(runs, fifos, name):
    healthy = fake_done_run(runs)
    damaged = fake_done_run(runs)
    fifos(run_dir(damaged, runs) / name)
    listing = {s.id: s for s in guarded(lambda: list_runs(runs))}
    assert listing[healthy].usable
    assert listing[damaged].broken == f"{name} cannot be read (a named pipe (FIFO) is where the file should be)"


def test_a_fifo_in_place_of_progress_or_evals_is_reported_by_the_page_readers(runs, fifos):
    run_id = fake_done_run(runs)
    fifos(run_dir(run_id, runs) / "progress.csv")
    fifos(run_dir(run_id, runs) / "evals.jsonl")
    history = guarded(lambda: progress_checked(progress_reader(run_id, runs)))
    assert history.value.empty and "progress.csv cannot be read (a named pipe (FIFO)" in history.problem
    evals = guarded(lambda: evals_checked(run_id, runs))
    assert evals.value == [] and "evals.jsonl cannot be read (a named pipe (FIFO)" in evals.problem


def test_a_fifo_in_place_of_a_model_or_result_is_reported(runs, fifos):
    run_id = fake_done_run(runs)
    fifos(model_path(run_dir(run_id, runs), "attention"))
    assert "attention.keras cannot be read (a named pipe (FIFO)" in guarded(lambda: get_run(run_id, runs)).broken
    other = fake_done_run(runs)
    fifos(run_dir(other, runs) / "result.json")
    found = guarded(lambda: result_checked(other, runs))
    assert found.value == {} and "result.json cannot be read (a named pipe (FIFO)" in found.problem


@pytest.mark.parametrize("name", ["cells.jsonl", "results.csv"])
def test_a_fifo_in_place_of_a_cell_log_is_reported(runs, fifos, name):
    run_id = create_run(PROBLEM, {}, kind="compare", extra={"repeats": 2}, root=runs)
    fifos(run_dir(run_id, runs) / name)
    found = guarded(lambda: cells_checked(run_id, runs))
    assert found.value.empty and f"{name} cannot be read (a named pipe (FIFO)" in found.problem


def test_a_socket_or_a_device_in_place_of_a_run_file_is_named(runs, monkeypatch):
    with_socket = fake_done_run(runs)
    monkeypatch.chdir(run_dir(with_socket, runs))  # a relative name: socket paths are limited to 108 bytes
    Path("status.json").unlink()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind("status.json")
    try:
        with_device = fake_done_run(runs)
        result = run_dir(with_device, runs) / "result.json"
        result.unlink()
        result.symlink_to("/dev/null")  # a device reads as empty (or, like /dev/zero, never ends)
        listing = {s.id: s for s in guarded(lambda: list_runs(runs))}
    finally:
        listener.close()
    assert listing[with_socket].broken == "status.json cannot be read (a socket is where the file should be)"
    assert listing[with_device].broken == "result.json cannot be read (a device is where the file should be)"


def test_a_fifo_in_place_of_status_json_does_not_block_the_job_writing_it(tmp_path, fifos):
    fifos(tmp_path / "status.json")
    guarded(lambda: update_status(tmp_path, state="running"))
    assert read_status(tmp_path)["state"] == "running"  # the FIFO was replaced by a real status.json


def test_cli_runs_lists_a_run_with_a_fifo_as_broken_without_hanging(runs, fifos):
    healthy = fake_done_run(runs)
    damaged = fake_done_run(runs)
    fifos(run_dir(damaged, runs) / "progress.csv")
    result = run_cli("runs", runs=runs)  # a subprocess with a timeout: a hang fails the test
    assert result.returncode == 0 and "Traceback" not in result.stderr
    lines = {line.split(" · ")[0]: line for line in result.stdout.splitlines()}
    assert "broken" not in lines[healthy]
    assert "broken: progress.csv cannot be read (a named pipe (FIFO) is where the file should be)" in lines[damaged]


def test_home_shows_the_latest_healthy_run_beside_a_fifo(runs, fifos):
    latest = fake_done_run(runs)
    damaged = fake_done_run(runs)
    fifos(run_dir(damaged, runs) / "progress.csv")
    at = guarded(lambda: app("dashboard.py"))
    no_exception(at)
    captions = " ".join(c.value for c in at.caption)
    assert latest in captions and damaged not in captions


def test_run_error_names_the_file_for_scripts(runs, fifos):
    run_id = fake_done_run(runs)
    fifos(run_dir(run_id, runs) / "evals.jsonl")
    from seqattn.runs import evals_of

    with pytest.raises(RunError, match=r"evals.jsonl cannot be read \(a named pipe \(FIFO\)"):
        guarded(lambda: evals_of(run_id, runs))
