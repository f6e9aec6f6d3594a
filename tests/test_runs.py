"""The runs package on hand-written files: progress.csv versions, the incremental tail,
listings that never write, and the cell log of comparisons and sweeps (old and new)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from seqattn.sweeps.cells import CellResult
from seqattn.problem.config import ProblemConfig
from seqattn.sweeps.records import cell_losses, cell_results, cells_of, read_cells
from seqattn.runs import (
    PROGRESS_COLUMNS,
    CellLogWriter,
    ProgressTail,
    RunError,
    RunWriter,
    append_cell,
    create_run,
    find_named_run,
    get_run,
    list_runs,
    read_progress,
    read_status,
    run_dir,
    update_status,
    validate_run_name,
)
from seqattn.processes import process_start_time
from seqattn.training.progress import Progress

PROBLEM = ProblemConfig(cardinality=6, n_in=4, n_out=2)
V1_COLUMNS = ("update,total,samples,elapsed,loss_baseline,loss_attention,smoothed_baseline,smoothed_attention,"
              "accuracy_baseline,accuracy_attention,alignment,final").split(",")


@pytest.fixture()
def root(tmp_path) -> Path:
    return tmp_path / "runs"


def new_run(root: Path, kind: str = "train", **extra) -> tuple[str, Path]:
    run_id = create_run(PROBLEM, {}, model={"units": 8}, kind=kind, extra=extra or None, root=root)
    return run_id, run_dir(run_id, root)


def progress(update: int, names=("baseline", "attention"), evaluated: bool = False, final: bool = False) -> Progress:
    return Progress(
        update=update, total=10, samples=4 * update, elapsed=0.1 * update,
        loss={n: 1.0 / update for n in names}, smoothed={n: 2.0 / update for n in names},
        accuracy={n: 0.5 for n in names} if evaluated else None,
        per_position={n: [0.5, 0.5, 1.0, 1.0] for n in names} if evaluated else None,
        alignment=0.75 if evaluated and "attention" in names else None, final=final,
    )


def cell(index: int, status: str = "done", repeat: int = 0) -> CellResult:
    done = status == "done"
    return CellResult(
        index=index, repeat=repeat, seed=repeat, values={"n_in": 4, "n_out": 2}, problem=PROBLEM.to_dict(),
        status=status, error=None if done else "KilledWorker: gone",
        exact_match={"baseline": 0.25, "attention": 0.75} if done else {},
        alignment=0.5 if done else None, loss_updates=[1, 2] if done else [],
        losses={"baseline": [1.0, math.nan], "attention": [0.9, 0.5]} if done else {},
        updates_done=2 if done else 0, seconds=1.0,
    )


# --- progress.csv ---------------------------------------------------------------------------------

def test_run_writer_writes_a_v2_header_with_the_runs_model_names(root):
    _, directory = new_run(root)
    writer = RunWriter(directory, ("attention",))
    writer.on_progress(progress(5, ("attention",), evaluated=True))
    writer.on_progress(progress(10, ("attention",), evaluated=True, final=True))
    writer.close()
    lines = (directory / "progress.csv").read_text().splitlines()
    assert lines[0] == "# seqattn progress v2"
    assert lines[1] == "update,total,samples,elapsed,loss_attention,smoothed_attention,accuracy_attention,alignment,final"
    history = read_progress(directory)
    assert list(history.columns) == lines[1].split(",")
    assert history["update"].tolist() == [5, 10] and history["final"].tolist() == [0, 1]
    assert history["accuracy_attention"].tolist() == [0.5, 0.5] and history["alignment"].tolist() == [0.75, 0.75]
    status = read_status(directory)
    assert status["update"] == 10 and status["total"] == 10 and status["phase"] == "training"


def test_run_writer_with_every_model_writes_the_v1_columns_after_the_version_line(root):
    _, directory = new_run(root)
    writer = RunWriter(directory)
    writer.on_progress(progress(1))
    writer.close()
    assert list(PROGRESS_COLUMNS) == V1_COLUMNS
    assert (directory / "progress.csv").read_text().splitlines()[1] == ",".join(V1_COLUMNS)


def test_a_v1_file_without_version_line_still_reads(tmp_path):
    rows = ["1,10,4,0.1,1.0,0.9,1.0,0.9,,,,0", "10,10,40,1.0,0.5,0.2,0.6,0.3,0.4,0.9,0.8,1"]
    (tmp_path / "progress.csv").write_text(",".join(V1_COLUMNS) + "\n" + "\n".join(rows) + "\n")
    history = read_progress(tmp_path)
    assert list(history.columns) == V1_COLUMNS
    assert history["update"].tolist() == [1, 10]
    assert history["accuracy_attention"].iloc[-1] == 0.9 and math.isnan(history["accuracy_attention"].iloc[0])
    assert history["final"].tolist() == [0, 1]


@pytest.mark.parametrize(
    "text, message",
    [
        ("# seqattn progress v99\nupdate,total,samples,elapsed,alignment,final\n", "newer"),
        ("# some other file\nupdate,total\n", "unknown header"),
        ("update,total,samples,elapsed,loss_baseline,mystery,alignment,final\n", "unknown header"),
        ("update,total,samples,elapsed,final\n", "unknown header"),
    ],
)
def test_unreadable_progress_headers_give_run_errors(tmp_path, text, message):
    (tmp_path / "progress.csv").write_text(text)
    with pytest.raises(RunError, match=message):
        read_progress(tmp_path)


def test_progress_tail_reads_only_new_complete_lines_and_waits_for_a_whole_header(tmp_path):
    path = tmp_path / "progress.csv"
    tail = ProgressTail(path)
    assert tail.read().empty  # no file yet

    def append(text: str) -> None:
        with open(path, "a") as fh:
            fh.write(text)

    append("# seqattn progress v2\n")
    assert tail.read().empty and tail.columns is None
    append("update,total,samples,elap")
    assert tail.read().empty and tail.columns is None
    append("sed,loss_baseline,smoothed_baseline,accuracy_baseline,alignment,final\n")
    assert tail.read().empty
    assert tail.columns == ("update", "total", "samples", "elapsed", "loss_baseline", "smoothed_baseline",
                            "accuracy_baseline", "alignment", "final")
    append("1,10,4,0.1,1.0,1.0,,,0\n2,10,8,0.2,0.9,")
    assert tail.read()["update"].tolist() == [1]
    append("0.95,,,0\n")
    assert tail.read()["loss_baseline"].tolist() == [1.0, 0.9]
    # Bytes already read are not read again: change the first row in place (same length).
    path.write_text(path.read_text().replace("1,10,4,0.1,1.0,1.0", "1,10,4,0.1,7.0,1.0"))
    append("3,10,12,0.3,0.8,0.9,0.5,,1\n")
    frame = tail.read()
    assert frame["loss_baseline"].tolist() == [1.0, 0.9, 0.8]
    assert frame["final"].tolist() == [0, 0, 1]
    assert len(read_progress(tmp_path)) == 3 and read_progress(tmp_path)["loss_baseline"].iloc[0] == 7.0


# --- listings -------------------------------------------------------------------------------------

def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    paths = [root, *root.rglob("*")]
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size) for p in paths}


def test_listing_a_run_whose_worker_died_reports_interrupted_without_writing(root):
    run_id, directory = new_run(root)
    update_status(directory, state="running", pid=dead_pid(), pid_start=time.time() - 5, update=3, total=10)
    time.sleep(0.02)  # a write now would get a later mtime
    before = snapshot(root)
    listing = list_runs(root)
    assert [(s.id, s.state) for s in listing] == [(run_id, "interrupted")]
    assert "stopped unexpectedly" in listing[0].error
    assert get_run(run_id, root).state == "interrupted"
    assert snapshot(root) == before
    assert read_status(directory)["state"] == "running"  # every reader derives it; nobody rewrites it


def test_list_runs_by_kind_leaves_out_other_kinds_and_broken_folders(root):
    train_id, _ = new_run(root)
    sweep_id, _ = new_run(root, kind="sweep", sweep={"axis": "n_in", "values": [3, 4], "seeds": 1})
    (root / "20200101-000000-abcdef").mkdir()  # a run id without run.json
    (root / "not-a-run").mkdir()
    everything = {s.id: s for s in list_runs(root)}
    assert set(everything) == {train_id, sweep_id, "20200101-000000-abcdef", "not-a-run"}
    assert everything["not-a-run"].broken and everything["20200101-000000-abcdef"].broken
    # A queued sweep has no cells_total yet (its label then reads "0/None cells"), so only the start is pinned.
    assert everything[sweep_id].label().startswith(f"{sweep_id} · sweep n_in = 3,4 · ")
    assert [s.id for s in list_runs(root, kind="train")] == [train_id]
    assert [s.id for s in list_runs(root, kind="sweep")] == [sweep_id]


# --- cells.jsonl and legacy comparisons -------------------------------------------------------------

def test_cells_round_trip_in_grid_order_with_nan_losses(root):
    _, directory = new_run(root, kind="sweep")
    for index in (2, 0, 1):
        append_cell(directory, cell(index, status="failed" if index == 1 else "done"))
    first_line = (directory / "cells.jsonl").read_text().splitlines()[0]
    assert json.loads(first_line)["losses"]["baseline"] == [1.0, None]  # strict JSON, no NaN
    cells = read_cells(directory)
    assert [c.index for c in cells] == [0, 1, 2]
    assert math.isnan(cells[0].losses["baseline"][1]) and cells[0].losses["attention"] == [0.9, 0.5]
    assert cells[1].status == "failed" and cells[1].error == "KilledWorker: gone"
    rows = cell_results(directory)
    assert rows["cell"].tolist() == [0, 0, 1, 1, 2, 2]
    assert rows["status"].tolist() == ["done", "done", "failed", "failed", "done", "done"]
    assert cell_losses(directory)["cell"].tolist() == [0] * 4 + [2] * 4


def test_a_corrupt_cells_line_is_an_error_naming_the_line(root):
    _, directory = new_run(root, kind="sweep")
    append_cell(directory, cell(0))
    with open(directory / "cells.jsonl", "a") as fh:
        fh.write("{not json\n")
    append_cell(directory, cell(2))
    with pytest.raises(RunError, match="cells.jsonl line 2 is corrupt"):
        read_cells(directory)
    (directory / "cells.jsonl").write_text(json.dumps(cell(0).to_dict()) + "\n" + json.dumps({"index": 1}) + "\n")
    with pytest.raises(RunError, match="line 2 is corrupt"):
        read_cells(directory)


def test_a_partial_last_cells_line_is_ignored_until_complete(root):
    _, directory = new_run(root, kind="sweep")
    append_cell(directory, cell(0))
    whole = json.dumps(cell(1).to_dict())
    with open(directory / "cells.jsonl", "a") as fh:
        fh.write(whole[: len(whole) // 2])
    assert [c.index for c in read_cells(directory)] == [0]
    with open(directory / "cells.jsonl", "a") as fh:
        fh.write(whole[len(whole) // 2:] + "\n")
    assert [c.index for c in read_cells(directory)] == [0, 1]


def test_legacy_comparisons_read_through_the_cell_functions(root):
    run_id, directory = new_run(root, kind="compare", repeats=2)
    pd.DataFrame({"repeat": [0, 0, 1, 1], "seed": [0, 0, 1, 1], "model": ["baseline", "attention"] * 2,
                  "exact_match": [0.2, 0.9, 0.3, 1.0]}).to_csv(directory / "results.csv", index=False)
    pd.DataFrame({"repeat": [0] * 4 + [1] * 4, "update": [1, 2, 1, 2] * 2, "model": ["baseline"] * 2 + ["attention"] * 2
                  + ["baseline"] * 2 + ["attention"] * 2, "loss": [1.0, 0.8, 0.9, 0.5] * 2}
                 ).to_csv(directory / "losses.csv", index=False)
    results = cells_of(run_id, root)
    assert results["cell"].tolist() == [0, 0, 1, 1] and set(results["status"]) == {"done"}
    assert results["exact_match"].tolist() == [0.2, 0.9, 0.3, 1.0]
    losses = cell_losses(directory)
    assert losses["cell"].tolist() == losses["repeat"].tolist() and len(losses) == 8
    # Once the run has cells.jsonl, that file wins.
    append_cell(directory, cell(0))
    assert cell_results(directory)["exact_match"].tolist() == [0.25, 0.75]


def test_a_run_without_cells_has_empty_frames(root):
    run_id, directory = new_run(root, kind="sweep")
    assert read_cells(directory) == []
    assert cells_of(run_id, root).empty and cell_losses(directory).empty


def test_cell_log_writer_counts_finished_failed_and_running_updates(root):
    _, directory = new_run(root, kind="sweep")
    log = CellLogWriter(directory, cells_total=3, updates_per_cell=100)
    status = read_status(directory)
    assert (status["cells_total"], status["cells_done"], status["total"], status["update"]) == (3, 0, 300, 0)
    log.on_progress(0, 50)
    log.on_result(cell(1))
    log.on_result(cell(2, status="failed"))
    status = read_status(directory)
    assert (status["cells_done"], status["cells_failed"], status["update"]) == (2, 1, 250)
    assert [c.index for c in read_cells(directory)] == [1, 2]


# --- damaged files: one tolerant path --------------------------------------------------------------


def test_progress_tail_skips_a_corrupt_row_names_its_line_and_keeps_reading(tmp_path):
    path = tmp_path / "progress.csv"
    header = "# seqattn progress v2\n" + ",".join(V1_COLUMNS) + "\n"
    row = "{u},10,4,0.1,1.0,1.0,2.0,2.0,,,,0\n"
    path.write_text(header + row.format(u=1) + "garbage,\x00,row\n")
    tail = ProgressTail(path)
    assert tail.read()["update"].tolist() == [1]
    assert tail.problem == "progress.csv line 4 is corrupt"
    with open(path, "a") as fh:
        fh.write(row.format(u=2) + "x\n" + row.format(u=3))
    assert tail.read()["update"].tolist() == [1, 2, 3]
    assert tail.problem == "progress.csv line 4 is corrupt (and 1 more corrupt line)"
    with pytest.raises(RunError, match="line 4 is corrupt"):
        read_progress(tmp_path)


def test_json_files_say_missing_unreadable_or_corrupt_truthfully(tmp_path):
    from seqattn.runs import read_json

    with pytest.raises(RunError, match=r"^status.json is missing$"):
        read_json(tmp_path / "status.json")
    (tmp_path / "status.json").mkdir()
    with pytest.raises(RunError, match=r"^status.json cannot be read \(a folder is where the file should be\)$"):
        read_json(tmp_path / "status.json")
    (tmp_path / "run.json").write_bytes(b"\xff\xfe")
    with pytest.raises(RunError, match=r"corrupt: not UTF-8 text"):
        read_json(tmp_path / "run.json")


def test_a_cells_line_of_invalid_utf8_is_a_corrupt_line_not_a_crash(root):
    _, directory = new_run(root, kind="sweep", sweep={"axis": "n_in", "values": [4], "seeds": 1})
    append_cell(directory, cell(0))
    with open(directory / "cells.jsonl", "ab") as fh:
        fh.write(b"\xff\xfe\n")
    with pytest.raises(RunError, match="cells.jsonl line 2 is corrupt"):
        read_cells(directory)


def test_one_run_that_fails_oddly_is_broken_alone_in_the_listing(root, monkeypatch):
    import seqattn.runs.listing as summary_module  # where the listing looks summarize up

    good, _ = new_run(root)
    odd, _ = new_run(root)
    real = summary_module.summarize

    def summarize(directory):
        if directory.name == odd:
            raise RuntimeError("surprise")
        return real(directory)

    monkeypatch.setattr(summary_module, "summarize", summarize)
    listing = {s.id: s for s in list_runs(root)}
    assert listing[good].broken is None
    assert "RuntimeError: surprise" in listing[odd].broken


def test_a_queued_run_whose_process_died_says_nothing_was_trained_and_to_start_it_again(root):
    run_id, directory = new_run(root)
    update_status(directory, state="queued", pid=dead_pid(), pid_start=time.time() - 5)
    summary = get_run(run_id, root)
    assert summary.state == "interrupted"
    assert "while it waited for its turn" in summary.error and "nothing was trained" in summary.error


# --- run names ------------------------------------------------------------------------------------

def named_run(root: Path, name: str | None, state: str = "done", kind: str = "train") -> str:
    """A run called ``name``; ``done`` ones have a final progress row, result.json and model archives."""
    run_id = create_run(PROBLEM, {}, model={"units": 8}, kind=kind, root=root, name=name,
                        extra={"sweep": {"axis": "n_in", "values": [3, 4], "seeds": 1}} if kind == "sweep" else None)
    directory = run_dir(run_id, root)
    if state == "done" and kind == "train":
        writer = RunWriter(directory, ("baseline", "attention"))
        writer.on_progress(progress(10, evaluated=True, final=True))
        writer.close()
        for model in ("baseline", "attention"):
            with zipfile.ZipFile(directory / f"{model}.keras", "w") as archive:
                archive.writestr("config.json", "{}")
        accuracy = {n: {"exact_match": 0.5, "per_position": [0.5] * 4} for n in ("baseline", "attention")}
        (directory / "result.json").write_text(json.dumps({"accuracy": accuracy, "updates_done": 10}))
    update_status(directory, state=state, pid=os.getpid() if state == "running" else None,
                  pid_start=process_start_time(os.getpid()) if state == "running" else None)
    time.sleep(0.01)  # distinct creation times: "newest" is well defined
    return run_id


def test_a_named_run_keeps_its_name_and_its_label_shows_it_after_the_id(root):
    run_id = named_run(root, "dates-demo")
    assert json.loads((run_dir(run_id, root) / "run.json").read_text())["name"] == "dates-demo"
    summary = get_run(run_id, root)
    assert summary.name == "dates-demo" and "name" not in summary.extra
    assert summary.label() == f"{run_id} · dates-demo · echo K=6 n_in=4 n_out=2 · done · baseline 50%, attention 50%"
    unnamed = named_run(root, None)
    assert get_run(unnamed, root).name is None
    assert "name" not in json.loads((run_dir(unnamed, root) / "run.json").read_text())
    assert get_run(unnamed, root).label().startswith(f"{unnamed} · echo K=6")  # as before names
    sweep = named_run(root, "length-sweep", state="queued", kind="sweep")
    assert get_run(sweep, root).label().startswith(f"{sweep} · length-sweep · sweep n_in = 3,4 · ")
    (run_dir(run_id, root) / "status.json").unlink()
    assert get_run(run_id, root).label().startswith(f"{run_id} · dates-demo · broken: ")


def test_a_hand_damaged_name_is_dropped_and_the_run_still_reads(root):
    run_id = named_run(root, "fine")
    meta_path = run_dir(run_id, root) / "run.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "name": ["not", "a", "name"]}))
    summary = get_run(run_id, root)
    assert summary.broken is None and summary.name is None and summary.usable


def test_find_named_run_gives_the_newest_usable_training_of_that_name(root):
    assert find_named_run("demo", root) is None
    older = named_run(root, "demo")
    newest = named_run(root, "demo")
    named_run(root, "other")
    named_run(root, "demo", state="running")  # newer, but no models yet
    named_run(root, None)
    assert find_named_run("demo", root).id == newest != older
    assert find_named_run("Demo", root) is None  # names are exact
    sweep = named_run(root, "demo", state="done", kind="sweep")
    assert find_named_run("demo", root, kind="sweep").id == sweep
    assert find_named_run("demo", root).id == newest  # a sweep is no training


@pytest.mark.parametrize("name", ["", "two words", "x" * 41, "café", "../up", "a/b", "20261123-195700-a1b2c3", 7])
def test_an_invalid_run_name_is_refused_and_nothing_is_made(root, name):
    with pytest.raises(ValueError, match="run name"):
        create_run(PROBLEM, {}, root=root, name=name)
    assert not root.exists() or list(root.iterdir()) == []
    assert validate_run_name("dates-demo_2.1") == "dates-demo_2.1" and validate_run_name("x" * 40)
