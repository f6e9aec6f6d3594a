"""Damaged or odd run files never take a page (or the CLI) down, and user text is never rendered as Markdown.

Each case puts one damaged run beside a healthy one. Tests run as root, where
``chmod 000`` does not stop reads: an unreadable file is simulated by a folder
in its place (a real read error), or by a patched read raising PermissionError.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import seqattn.runs
from seqattn.problem.config import ProblemConfig
from seqattn.processes import process_start_time
from seqattn.runs import (
    RunWriter,
    append_cell,
    create_run,
    evals_checked,
    get_run,
    list_runs,
    progress_checked,
    progress_reader,
    run_dir,
    update_status,
)
from seqattn.runs.layout import model_path
from seqattn.training.progress import Progress
from tests.test_app import app, no_exception
from ui.text import code, plain

PROJECT = Path(__file__).resolve().parent.parent
PROBLEM = ProblemConfig(cardinality=6, n_in=4, n_out=2)
NAMES = ("baseline", "attention")
GARBAGE = bytes(range(256)) * 8  # not UTF-8, not JSON, not CSV


def report(update: int, evaluated: bool = False, final: bool = False) -> Progress:
    return Progress(
        update=update, total=10, samples=4 * update, elapsed=0.1 * update,
        loss={n: 1.0 / update for n in NAMES}, smoothed={n: 2.0 / update for n in NAMES},
        accuracy={n: 0.5 for n in NAMES} if evaluated else None,
        per_position={n: [0.5, 0.5, 1.0, 1.0] for n in NAMES} if evaluated else None,
        alignment=0.75 if evaluated else None, final=final,
        attention=[[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1]] if evaluated else None,
        probe=[1, 2, 3, 4] if evaluated else None,
    )


def fake_done_run(root: Path) -> str:
    """A finished training on disk, without TensorFlow: progress, evals, result.json, model archives."""
    run_id = create_run(PROBLEM, {}, model={"units": 8}, root=root)
    directory = run_dir(run_id, root)
    writer = RunWriter(directory, status_interval=0)
    writer.on_progress(report(5, evaluated=True))
    writer.on_progress(report(10, evaluated=True, final=True))
    writer.close()
    for name in NAMES:
        with zipfile.ZipFile(model_path(directory, name), "w") as archive:
            archive.writestr("config.json", "{}")
    accuracy = {n: {"exact_match": 0.5, "per_position": [0.5, 0.5]} for n in NAMES}
    (directory / "result.json").write_text(json.dumps({"accuracy": accuracy, "updates_done": 10, "elapsed": 1.0}))
    update_status(directory, state="done", update=10, total=10, elapsed=1.0)
    time.sleep(0.01)  # distinct creation times: the newest run is well defined
    return run_id


def fake_running_run(root: Path, kind: str = "train", **extra) -> str:
    """A run whose status says running, owned by a live process (this one), with one report and evaluation."""
    run_id = create_run(PROBLEM, {}, model={"units": 8}, kind=kind, extra=extra or None, root=root)
    directory = run_dir(run_id, root)
    if kind == "train":
        writer = RunWriter(directory, status_interval=0)
        writer.on_progress(report(5, evaluated=True))
        writer.close()
    update_status(directory, state="running", pid=os.getpid(), pid_start=process_start_time(os.getpid()),
                  phase="training", update=5, total=10, elapsed=0.5)
    return run_id


def shown(text: str) -> str:
    """Markdown text as the reader sees it (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", text)


def warnings(at: AppTest) -> str:
    return " ".join(shown(w.value) for w in at.warning)


def errors(at: AppTest) -> str:
    return " ".join(shown(e.value) for e in at.error)


def messages(at: AppTest) -> str:
    return " ".join(shown(str(e.value)) for e in list(at.error) + list(at.warning) + list(at.info) + list(at.success))


def rendered(at: AppTest) -> list[str]:
    """The text of every element that renders Markdown."""
    kinds = [at.markdown, at.caption, at.error, at.warning, at.info, at.success, at.subheader]
    return [str(e.value) for elements in kinds for e in elements]


def run_cli(*args: str, runs: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(PROJECT), SEQATTN_RUNS_DIR=str(runs))
    return subprocess.run([sys.executable, "-m", "seqattn", *args], capture_output=True, text=True, env=env,
                          timeout=120, cwd=PROJECT)


# --- the runs package: one tolerant path, true causes -------------------------------------------------


def test_garbage_progress_csv_breaks_only_its_run_in_listings(runs):
    healthy = fake_done_run(runs)
    damaged = fake_done_run(runs)
    (run_dir(damaged, runs) / "progress.csv").write_bytes(GARBAGE)
    listing = {s.id: s for s in list_runs(runs)}
    assert listing[healthy].usable and listing[healthy].broken is None
    assert "progress.csv" in listing[damaged].broken
    # run.json is fine, so the listing still says what the damaged run was.
    assert listing[damaged].problem == PROBLEM.to_dict() and listing[damaged].kind == "train"


def test_a_folder_in_place_of_progress_csv_is_reported_as_unreadable_not_corrupt(runs):
    fake_done_run(runs)
    damaged = fake_done_run(runs)
    path = run_dir(damaged, runs) / "progress.csv"
    path.unlink()
    path.mkdir()
    reason = get_run(damaged, runs).broken
    assert "progress.csv cannot be read" in reason and "corrupt" not in reason
    found = progress_checked(progress_reader(damaged, runs))
    assert found.value.empty and "loss history cannot be shown" in found.problem


def test_permission_denied_on_status_json_is_not_called_corrupt(runs, monkeypatch):
    # Root reads through chmod 000, so the permission error is raised by a patched read.
    run_id = fake_done_run(runs)
    real = seqattn.runs.files.read_regular_bytes

    def read_regular_bytes(path):
        if path.name == "status.json":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(seqattn.runs.files, "read_regular_bytes", read_regular_bytes)
    reason = get_run(run_id, runs).broken
    assert reason == "status.json cannot be read (permission denied)"


def test_a_missing_key_in_result_json_is_blamed_on_result_json_not_run_json(runs):
    run_id = fake_done_run(runs)
    (run_dir(run_id, runs) / "result.json").write_text(json.dumps({"accuracy": {"baseline": {}}, "updates_done": 1}))
    reason = get_run(run_id, runs).broken
    assert "result.json" in reason and "run.json" not in reason


@pytest.mark.parametrize("result", ["[]", '{"accuracy": {}, "updates_done": "many"}'])
def test_an_odd_result_json_breaks_its_run_only(runs, result):
    healthy = fake_done_run(runs)
    damaged = fake_done_run(runs)
    (run_dir(damaged, runs) / "result.json").write_text(result)
    listing = {s.id: s for s in list_runs(runs)}
    assert listing[healthy].usable
    assert "result.json" in listing[damaged].broken and "run.json" not in listing[damaged].broken


def test_a_bad_value_in_status_json_is_blamed_on_status_json(runs):
    run_id = fake_done_run(runs)
    update_status(run_dir(run_id, runs), update="lots")
    reason = get_run(run_id, runs).broken
    assert "status.json" in reason and "run.json" not in reason


def test_a_corrupt_evals_line_is_skipped_and_named(runs):
    run_id = fake_done_run(runs)
    with open(run_dir(run_id, runs) / "evals.jsonl", "ab") as fh:
        fh.write(b"{half a record\n")
    found = evals_checked(run_id, runs)
    assert [e["update"] for e in found.value] == [5, 10]
    assert "evals.jsonl line 3 is corrupt" in found.problem and "other evaluations are shown" in found.problem
    assert get_run(run_id, runs).usable, "the evaluations are not needed to use the models"


# --- the command line -------------------------------------------------------------------------------


def test_cli_runs_lists_every_run_beside_a_garbage_progress_csv_and_a_stray_folder(runs):
    healthy = fake_done_run(runs)
    damaged = fake_done_run(runs)
    (run_dir(damaged, runs) / "progress.csv").write_bytes(GARBAGE)
    (runs / "backup_old").mkdir()
    result = run_cli("runs", runs=runs)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = {line.split(" · ")[0]: line for line in result.stdout.splitlines()}
    assert "done" in lines[healthy] and "broken" not in lines[healthy]
    assert "broken" in lines[damaged] and "progress.csv" in lines[damaged]
    assert "not a seqattn run folder" in lines["backup_old"]


def test_cli_predict_on_a_run_with_a_damaged_status_uses_the_runs_own_problem(runs):
    run_id = fake_done_run(runs)
    (run_dir(run_id, runs) / "status.json").write_bytes(GARBAGE)
    # 4 tokens below 6 fit this run's problem (K=6, n_in=4), not the default one (n_in=5).
    result = run_cli("predict", run_id, "1 2 3 4", runs=runs)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "status.json is unreadable" in result.stderr, result.stderr
    assert "input:    1, 2, 3, 4" in result.stdout


def test_cli_runs_into_a_closed_pipe_exits_quietly(runs):
    for _ in range(3):
        fake_done_run(runs)
    # Long stray folder names make the listing larger than a pipe's buffer, so the
    # CLI is still writing when the reader closes its end after one line.
    for i in range(400):
        (runs / f"stray-{i:03d}-{'x' * 200}").mkdir()
    env = dict(os.environ, PYTHONPATH=str(PROJECT), SEQATTN_RUNS_DIR=str(runs))
    proc = subprocess.Popen([sys.executable, "-m", "seqattn", "runs"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=PROJECT)
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    code_ = proc.wait(timeout=120)
    assert first.strip()
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert code_ in (0, 141)


# --- pages --------------------------------------------------------------------------------------------


def test_home_shows_the_real_latest_run_beside_a_damaged_run_and_a_stray_folder(runs):
    older = fake_done_run(runs)
    latest = fake_done_run(runs)
    damaged = fake_done_run(runs)
    (run_dir(damaged, runs) / "progress.csv").write_bytes(GARBAGE)
    (runs / "backup_old").mkdir()  # newest of all by modification time
    at = app("dashboard.py")
    no_exception(at)
    captions = " ".join(c.value for c in at.caption)
    assert latest in captions and older not in captions and damaged not in captions
    assert "backup_old" not in captions


def test_train_summary_of_a_run_with_garbage_evals_still_shows_its_results(runs):
    fake_done_run(runs)
    run_id = fake_done_run(runs)
    (run_dir(run_id, runs) / "evals.jsonl").write_bytes(GARBAGE)
    at = app("pages/1_Train.py", run=run_id)
    no_exception(at)
    assert any("Done" in s.value for s in at.success)
    assert "evals.jsonl line 1 is corrupt" in warnings(at), messages(at)
    assert any("exact match" in m.label for m in at.metric), "the summary is shown"


def test_train_summary_with_a_folder_in_place_of_evals_says_it_cannot_be_read(runs):
    run_id = fake_done_run(runs)
    path = run_dir(run_id, runs) / "evals.jsonl"
    path.unlink()
    path.mkdir()
    at = app("pages/1_Train.py", run=run_id)
    no_exception(at)
    warning = warnings(at)
    assert "evals.jsonl cannot be read" in warning and "corrupt" not in warning
    assert any("Done" in s.value for s in at.success)


def test_train_page_of_a_run_with_garbage_progress_says_what_is_damaged(runs):
    fake_done_run(runs)
    run_id = fake_done_run(runs)
    (run_dir(run_id, runs) / "progress.csv").write_bytes(GARBAGE)
    at = app("pages/1_Train.py", run=run_id)
    no_exception(at)
    assert "cannot be shown" in errors(at) and "progress.csv" in errors(at), messages(at)


def test_train_live_view_with_a_bad_evals_line_appended_warns_and_keeps_going(runs):
    fake_done_run(runs)
    run_id = fake_running_run(runs)
    with open(run_dir(run_id, runs) / "evals.jsonl", "ab") as fh:
        fh.write(b"\x00garbage\n")
    at = app("pages/1_Train.py", run=run_id)
    no_exception(at)
    assert "evals.jsonl line 2 is corrupt" in warnings(at), messages(at)
    assert any("updates" in p.proto.text for p in at.get("progress")), "the live view is drawn"
    assert any(b.label == "Cancel" for b in at.button)


def test_train_live_view_with_a_corrupt_progress_row_shows_the_good_rows(runs):
    run_id = fake_running_run(runs)
    with open(run_dir(run_id, runs) / "progress.csv", "a") as fh:
        fh.write("not,a,row\n")
    at = app("pages/1_Train.py", run=run_id)
    no_exception(at)
    assert "progress.csv line 4 is corrupt" in warnings(at), messages(at)


def test_explore_offers_the_healthy_run_beside_a_damaged_copy(runs, saved_run):
    src_root, src_id = saved_run
    runs.mkdir(parents=True)
    healthy, damaged = "20200101-000000-aaaaaa", "20200101-000001-bbbbbb"
    shutil.copytree(src_root / src_id, runs / healthy)
    shutil.copytree(src_root / src_id, runs / damaged)
    (runs / damaged / "progress.csv").write_bytes(GARBAGE)
    (runs / "backup_old").mkdir()
    at = app("pages/2_Explore.py")
    no_exception(at)
    picker = next(s for s in at.selectbox if s.label == "Run")
    assert picker.options and all(healthy in o for o in picker.options)


def remove_after_first(monkeypatch, name: str, directory: Path) -> None:
    """Patch ``seqattn.runs.<name>`` so the run folder is deleted right after its first call,
    i.e. between the page's read and its live fragment's."""
    real = getattr(seqattn.runs, name)
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            shutil.rmtree(directory)
        return real(*args, **kwargs)

    monkeypatch.setattr(seqattn.runs, name, wrapper)


def test_compare_live_fragment_says_calmly_when_the_folder_is_deleted(runs, monkeypatch):
    fake_done_run(runs)
    run_id = fake_running_run(runs, kind="compare", repeats=2)
    remove_after_first(monkeypatch, "run_checked", run_dir(run_id, runs))
    at = app("pages/3_Compare.py", run=run_id)
    no_exception(at)
    assert "no longer in" in errors(at), messages(at)
    at.run()  # the next full run: the folder is gone, the form is shown
    no_exception(at)
    assert "no longer in" in errors(at)
    assert any(b.label == "Run comparison" for b in at.button)


def test_compare_with_a_garbage_cell_log_warns_and_keeps_the_page(runs):
    run_id = create_run(PROBLEM, {}, model={"units": 8}, kind="compare", extra={"repeats": 2}, root=runs)
    (run_dir(run_id, runs) / "cells.jsonl").write_bytes(GARBAGE)
    update_status(run_dir(run_id, runs), state="done", cells_total=2, cells_done=2)
    at = app("pages/3_Compare.py", run=run_id)
    no_exception(at)
    assert "cells.jsonl line 1 is corrupt" in warnings(at), messages(at)
    assert any(b.label == "New comparison" for b in at.button)


def test_sweep_live_fragment_says_calmly_when_the_folder_is_deleted(runs, monkeypatch):
    from seqattn.sweeps.grid import SweepConfig

    sweep = SweepConfig(axis="n_in", values=(3, 4), seeds=1)
    run_id = fake_running_run(runs, kind="sweep", sweep=sweep.to_dict())
    remove_after_first(monkeypatch, "run_checked", run_dir(run_id, runs))
    at = app("pages/4_Sweep.py", run=run_id)
    no_exception(at)
    assert "no longer in" in errors(at), messages(at)


def test_sweep_with_a_bad_cell_line_shows_the_other_cells(runs):
    from seqattn.sweeps.cells import CellResult
    from seqattn.sweeps.grid import SweepConfig

    sweep = SweepConfig(axis="n_in", values=(3, 4), seeds=1)
    run_id = create_run(PROBLEM, {}, model={"units": 8}, kind="sweep", extra={"sweep": sweep.to_dict()}, root=runs)
    directory = run_dir(run_id, runs)
    append_cell(directory, CellResult(index=0, repeat=0, seed=0, values={"n_in": 3, "n_out": 2},
                                      problem={**PROBLEM.to_dict(), "n_in": 3}, status="done",
                                      exact_match={"baseline": 0.25, "attention": 0.75}, alignment=0.6,
                                      updates_done=40, seconds=2.5))
    with open(directory / "cells.jsonl", "ab") as fh:
        fh.write(b'{"index": "oops"}\n')
    update_status(directory, state="done", cells_total=2, cells_done=2, elapsed=3.0)
    at = app("pages/4_Sweep.py", run=run_id)
    no_exception(at)
    assert "cells.jsonl line 2 is corrupt" in warnings(at), messages(at)
    assert list(at.dataframe[0].value["input length"]) == [3]


# --- user text is never Markdown -----------------------------------------------------------------------


@pytest.mark.parametrize("path, raw", [
    ("pages/1_Train.py", "[Session expired: log in](https://x.io)"),
    ("pages/1_Train.py", "[x](https://x.io)"),
    ("pages/3_Compare.py", "![x](https://x.io/a.png)"),
    ("pages/3_Compare.py", "`[x](https://x.io)`"),
    ("pages/4_Sweep.py", "![x](https://x.io/a.png)"),
])
def test_a_markdown_link_in_the_url_is_shown_as_plain_text(runs, path, raw):
    at = app(path, run=raw)
    no_exception(at)
    assert any(code(raw) in e.value for e in at.error), messages(at)
    assert not any("](https://" in text.replace(code(raw), "") for text in rendered(at)), rendered(at)


def test_plain_escapes_every_markdown_construct():
    assert plain("[x](https://x.io)") == r"\[x\]\(https\://x\.io\)"
    assert "](" not in plain("![x](https://x.io/a.png)")
    assert plain("**b** _i_ `c` :red[x] $y$") == r"\*\*b\*\* \_i\_ \`c\` \:red\[x\] \$y\$"
    assert plain("a\nb" + "z" * 600, limit=10) == "a bzzzzzz…"
    assert code("a`b") == "`a'b`"
