"""Sweeps and cells: grid rules and caps, the comparison's pinned numbers, the same numbers in this
process and on Dask (local and external clusters), and runs of cells that survive a killed Dask
worker or a cancel. Tiny models; the Dask tests share one two-worker LocalCluster."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import seqattn
from seqattn.sweeps import cluster
from seqattn.jobs import control as jobs
from seqattn.speed import setups as setups_module
from seqattn.speed.setups import FastSetups
from seqattn.sweeps.cells import CellResult, downsample_losses
from seqattn.sweeps.compare import compare
from seqattn.sweeps.executors import dask_backend, local_backend, run_cells
from seqattn.problem.config import ProblemConfig
from seqattn.model.registry import MODEL_NAMES
from seqattn.runs import read_status, run_dir
from seqattn.sweeps.records import cells_of, read_cells
from seqattn.training.cost import GRAPH_COSTS, MAX_CELL_SECONDS, XLA_COSTS, cost_model, estimate_cell_seconds
from seqattn.sweeps.grid import (
    MAX_CELLS,
    SweepConfig,
    chance_exact_match,
    estimate_sweep_seconds,
    grid_cells,
    losses_frame,
    format_threshold_table,
    results_frame,
    summary_table,
    threshold_table,
)
from seqattn.model.config import ModelConfig
from seqattn.training.config import TrainConfig
from test_jobs import wait_for  # the job tests' polling helper

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = ProblemConfig(cardinality=6, n_in=4, n_out=2)
MODEL = ModelConfig(units=16)
CONFIG = TrainConfig(protocol="batched", updates=120, batch_size=16, learning_rate=2e-2,
                     eval_size=200, eval_every=60, jit_compile=False, seed=3)
# What compare(PROBLEM, CONFIG, 3, model=MODEL) gave before cells and executors existed: repeats 0..2 x (baseline, attention).
PINNED = [0.245, 0.985, 0.485, 0.995, 0.415, 1.0]
# Two cells (one per Dask worker): a cell costs seconds of model building and tracing whatever its size.
GRID = SweepConfig(axis="n_in", values=(3, 5), seeds=1)


def matches(results: list[CellResult]) -> dict[int, dict[str, float]]:
    return {r.index: r.exact_match for r in results}


def made_cell(index: int, n_in: int = 3, repeat: int = 0, status: str = "done",
              exact: tuple[float, float] = (0.2, 0.9), alignment: float = 0.7) -> CellResult:
    done = status == "done"
    return CellResult(
        index=index, repeat=repeat, seed=3 + repeat, values={"n_in": n_in, "n_out": 2},
        problem=dataclasses.replace(PROBLEM, n_in=n_in).to_dict(), status=status,
        error=None if done else "the cell's worker failed (KilledWorker: gone)",
        exact_match=dict(zip(MODEL_NAMES, exact)) if done else {},
        per_position={m: [1.0] * n_in for m in MODEL_NAMES} if done else {},
        alignment=alignment if done else None,
        loss_updates=[2, 4] if done else [],
        losses={"baseline": [1.5, math.nan], "attention": [1.2, 0.4]} if done else {},
        updates_done=4 if done else 0, seconds=2.5,
    )


# --- grid rules (no training) ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(axis="length"), "axis must be one of n_in, n_out, cardinality, units; got 'length'"),
        (dict(values=()), "give at least one value of n_in"),
        (dict(values=(5, 10, 5)), "the values of n_in repeat: 5, 10, 5"),
        (dict(values=(5, 7.5)), "each n_in value must be a whole number"),
        (dict(values=(5, "7")), "each n_in value must be a whole number"),
        (dict(values=(5, True)), "each n_in value must be a whole number"),
        (dict(values=(0, 5)), "each n_in value must be from 1"),
        # Each axis's own range (the sweep said "1 to 1000000" for every axis before).
        (dict(values=(5, 500)), r"^each n_in value must be from 1 to 100; got 500\.$"),
        (dict(axis="n_out", values=(1, 101)), r"^each n_out value must be from 1 to 100; got 101\.$"),
        (dict(axis="cardinality", values=(1,)), r"^each cardinality value must be from 2 to 1000; got 1\.$"),
        (dict(axis="units", values=(8, 2048)), r"^each units value must be from 1 to 1024; got 2048\.$"),
        (dict(seeds=0), "seeds must be from 1 to 100; got 0"),
        (dict(seeds=101), "seeds must be from 1 to 100; got 101"),
        (dict(seeds=2.0), "seeds must be a whole number"),
        (dict(values=tuple(range(1, 68)), seeds=3), "201 cells.*at most 200 run in one sweep"),
        (dict(n_out_rule="double"), "n_out_rule must be one of fixed, half"),
    ],
)
def test_sweep_config_rejects_bad_grids(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SweepConfig(**kwargs)


def test_sweep_config_limits_and_round_trip():
    assert SweepConfig(values=tuple(range(1, 101)), seeds=2).cell_count == MAX_CELLS == 200
    repeats = SweepConfig(axis=None, values=(1, 2), seeds=100)
    assert repeats.values == () and repeats.cell_count == 100
    sweep = SweepConfig(axis="units", values=[8, 16], seeds=2)
    assert sweep.values == (8, 16)
    assert SweepConfig.from_dict(json.loads(json.dumps(sweep.to_dict()))) == sweep


@pytest.mark.parametrize(
    "sweep, message",
    [
        (SweepConfig(values=(1, 3)), "n_in = 1 does not make a valid cell: n_out must be from 1 to 1; got 2"),
        (SweepConfig(axis="n_out", values=(1, 5)), "n_out = 5 does not make a valid cell"),
    ],
)
def test_grid_refuses_a_value_that_makes_an_invalid_problem(sweep, message):
    with pytest.raises(ValueError, match=message):
        grid_cells(PROBLEM, CONFIG, sweep, model=MODEL)


def test_grid_refuses_a_cell_estimated_above_the_cap():
    long = dataclasses.replace(CONFIG, updates=100_000)
    assert estimate_cell_seconds(PROBLEM, long, MODEL) < MAX_CELL_SECONDS
    assert estimate_cell_seconds(PROBLEM, long, ModelConfig(units=1024)) > MAX_CELL_SECONDS
    with pytest.raises(ValueError, match=r"one cell at units = 1024 is estimated at \d+ minutes; at most 30 minutes"):
        grid_cells(PROBLEM, long, SweepConfig(axis="units", values=(16, 1024), seeds=1), model=MODEL)
    with pytest.raises(ValueError, match=r"^one cell is estimated at"):
        grid_cells(PROBLEM, long, SweepConfig(axis=None, seeds=1), model=ModelConfig(units=1024))
    assert len(grid_cells(PROBLEM, long, SweepConfig(axis="units", values=(16, 32), seeds=1), model=MODEL)) == 2


def test_grid_is_value_major_with_seeds_counting_up_from_the_recipe():
    cells = grid_cells(PROBLEM, CONFIG, SweepConfig(axis="n_in", values=(5, 3), seeds=3), model=MODEL)
    assert [(c.index, c.values["n_in"], c.repeat, c.train.seed) for c in cells] == [
        (0, 5, 0, 3), (1, 5, 1, 4), (2, 5, 2, 5), (3, 3, 0, 3), (4, 3, 1, 4), (5, 3, 2, 5)]
    assert all(c.values["n_out"] == c.problem.n_out == 2 for c in cells)  # the fixed rule keeps n_out
    assert all(c.train == dataclasses.replace(CONFIG, seed=c.train.seed) for c in cells)
    assert all(c.names == MODEL_NAMES for c in cells)
    repeats = grid_cells(PROBLEM, CONFIG, SweepConfig(axis=None, seeds=3), model=MODEL)
    assert [(c.values, c.problem, c.train.seed) for c in repeats] == [({}, PROBLEM, 3), ({}, PROBLEM, 4), ({}, PROBLEM, 5)]
    units = grid_cells(PROBLEM, CONFIG, SweepConfig(axis="units", values=(8, 32), seeds=1), names=("attention",), model=MODEL)
    assert [(c.values, c.model.units, c.problem, c.names) for c in units] == [
        ({"units": 8}, 8, PROBLEM, ("attention",)), ({"units": 32}, 32, PROBLEM, ("attention",))]


def test_half_rule_echoes_half_of_each_input_length():
    cells = grid_cells(PROBLEM, CONFIG, SweepConfig(axis="n_in", values=(1, 3, 8, 9), seeds=1, n_out_rule="half"), model=MODEL)
    assert [(c.problem.n_in, c.problem.n_out) for c in cells] == [(1, 1), (3, 1), (8, 4), (9, 4)]
    assert cells[2].values == {"n_in": 8, "n_out": 4}


def test_the_estimate_follows_the_recipes_xla_choice():
    long = ProblemConfig(cardinality=50, n_in=40, n_out=2)
    graph, xla = (dataclasses.replace(CONFIG, updates=500, jit_compile=jit) for jit in (False, True))
    assert cost_model(graph) is GRAPH_COSTS and cost_model(xla) is XLA_COSTS
    # Long sequences: compiling them takes tens of seconds, and the compiled update is no faster.
    assert estimate_cell_seconds(long, graph) < estimate_cell_seconds(long, xla)


def test_sweep_estimate_spreads_cells_over_workers():
    cells = grid_cells(PROBLEM, CONFIG, SweepConfig(axis=None, seeds=4), model=MODEL)
    one = estimate_cell_seconds(PROBLEM, CONFIG, MODEL)
    assert estimate_sweep_seconds(cells, 1) == pytest.approx(4 * one)
    assert estimate_sweep_seconds(cells, 2) == pytest.approx(2 * one)
    assert estimate_sweep_seconds(cells, 8) == pytest.approx(one)


# --- cell results and frames (hand-made, no training) ---------------------------------------------

def test_cell_result_round_trips_through_strict_json_with_nan_losses():
    cell = made_cell(0)
    data = cell.to_dict()
    assert data["losses"]["baseline"] == [1.5, None]
    back = CellResult.from_dict(json.loads(json.dumps(data, allow_nan=False)))
    assert math.isnan(back.losses["baseline"][1]) and back.losses["baseline"][0] == 1.5
    assert dataclasses.replace(back, losses={}) == dataclasses.replace(cell, losses={})
    assert CellResult.from_dict(made_cell(1, status="failed").to_dict()) == made_cell(1, status="failed")


def test_cell_result_from_dict_rejects_odd_data():
    data = made_cell(0).to_dict()
    with pytest.raises(ValueError, match="unknown cell status 'exploded'"):
        CellResult.from_dict({**data, "status": "exploded"})
    with pytest.raises(ValueError, match="not a cell result"):
        CellResult.from_dict({**data, "colour": "red"})
    with pytest.raises(ValueError, match="not a cell result"):
        CellResult.from_dict({k: v for k, v in data.items() if k != "index"})


def test_downsample_losses_keeps_short_runs_and_averages_windows():
    short = np.arange(20, dtype=np.float32).reshape(10, 2)
    points, means = downsample_losses(short)
    assert points == list(range(1, 11)) and means is short
    long = np.repeat(np.arange(3000, dtype=np.float64)[:, None], 2, axis=1)
    points, means = downsample_losses(long, max_points=1000)
    assert len(points) == 1000 and points[:3] == [3, 6, 9] and points[-1] == 3000
    np.testing.assert_allclose(means[:2, 0], [1.0, 4.0])
    assert means.shape == (1000, 2)
    points, means = downsample_losses(np.ones((2500, 1)))
    assert len(points) == 1000 and points[-1] == 2500 and np.all(means == 1.0)


def test_results_frame_has_a_row_per_cell_and_model_with_failed_cells():
    frame = results_frame([made_cell(2, n_in=5, exact=(0.1, 0.6), alignment=0.5), made_cell(0),
                           made_cell(1, repeat=1, exact=(0.4, 1.0), alignment=0.9), made_cell(3, n_in=5, status="failed")])
    assert frame["cell"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert frame["model"].tolist() == list(MODEL_NAMES) * 4
    assert frame["n_in"].tolist() == [3, 3, 3, 3, 5, 5, 5, 5]
    assert frame["exact_match"].tolist()[:6] == [0.2, 0.9, 0.4, 1.0, 0.1, 0.6]
    assert frame["exact_match"].iloc[6:].isna().all()
    assert frame.loc[frame["model"] == "attention", "alignment"].tolist()[:3] == [0.7, 0.9, 0.5]
    assert frame.loc[frame["model"] == "baseline", "alignment"].isna().all()
    failed = frame[frame["status"] == "failed"]
    assert len(failed) == 2 and failed["error"].str.contains("KilledWorker").all()
    assert set(frame.columns) >= {"repeat", "seed", "cardinality", "n_out", "updates", "seconds"}
    units = results_frame([dataclasses.replace(made_cell(0), values={"units": 32})])
    assert units["units"].tolist() == [32, 32]
    assert results_frame([]).empty and "exact_match" in results_frame([]).columns


def test_losses_frame_keeps_done_cells_only():
    frame = losses_frame([made_cell(1, repeat=1), made_cell(0), made_cell(2, status="failed")])
    assert list(frame.columns) == ["cell", "repeat", "update", "model", "loss"]
    assert frame["cell"].tolist() == [0] * 4 + [1] * 4
    assert frame["update"].tolist() == [2, 4] * 4
    assert frame["model"].tolist()[:4] == ["baseline", "baseline", "attention", "attention"]
    assert losses_frame([made_cell(0, status="failed")]).empty


def test_summary_table_over_done_cells_per_value_and_model():
    frame = results_frame([made_cell(0), made_cell(1, repeat=1, exact=(0.4, 1.0), alignment=0.9),
                           made_cell(2, n_in=5, exact=(0.1, 0.6), alignment=0.5), made_cell(3, n_in=5, status="failed")])
    table = summary_table(frame, "n_in").set_index(["n_in", "model"])
    assert table.loc[(3, "attention"), ["mean", "min", "max", "seeds"]].tolist() == pytest.approx([0.95, 0.9, 1.0, 2])
    assert table.loc[(3, "baseline"), "mean"] == pytest.approx(0.3)
    assert table.loc[(3, "attention"), "alignment"] == pytest.approx(0.8)
    assert math.isnan(table.loc[(3, "baseline"), "alignment"])
    assert table.loc[(5, "attention"), "seeds"] == 1  # the failed cell does not count
    repeats = summary_table(frame[frame["n_in"] == 3], None).set_index("model")
    assert repeats.loc["attention", "mean"] == pytest.approx(0.95)
    empty = summary_table(results_frame([]), "n_in")
    assert empty.empty and list(empty.columns) == ["n_in", "model", "mean", "min", "max", "seeds", "alignment"]


def test_chance_exact_match():
    assert chance_exact_match(PROBLEM) == pytest.approx(1 / 36)
    assert chance_exact_match({"cardinality": 10, "n_in": 5, "n_out": 3}) == pytest.approx(1e-3)
    assert chance_exact_match(dataclasses.replace(PROBLEM, pad_target=False)) == chance_exact_match(PROBLEM)


# --- in this process ------------------------------------------------------------------------------

# Two repeats pin the numbers and the seed of each repeat; the explicit backend, the same code path, trains one.
@pytest.mark.parametrize("explicit, repeats", [(False, 2), (True, 1)], ids=["default backend", "local_backend()"])
def test_comparison_gives_the_numbers_pinned_before_the_executor_refactor(explicit, repeats, monkeypatch):
    made = []
    monkeypatch.setattr(setups_module, "_kept", None)  # nothing kept from an earlier test
    real_build = setups_module.build_setup
    monkeypatch.setattr(setups_module, "build_setup", lambda *args: made.append(args) or real_build(*args))
    backend = local_backend() if explicit else None
    try:
        outcome = compare(PROBLEM, CONFIG, repeats, model=MODEL, backend=backend, setups=FastSetups())
    finally:
        if backend is not None:
            backend.close()
    assert not outcome.cancelled
    assert outcome.results["exact_match"].tolist() == PINNED[: 2 * repeats]
    assert outcome.results["repeat"].tolist() == [0, 0, 1, 1, 2, 2][: 2 * repeats]
    assert outcome.results["seed"].tolist() == [3, 3, 4, 4, 5, 5][: 2 * repeats]
    assert outcome.results["model"].tolist() == list(MODEL_NAMES) * repeats
    assert len(outcome.losses) == repeats * 2 * CONFIG.updates
    # A repeat takes the traced step of the one before (same shapes, reseeded): the pinned numbers hold.
    assert len(made) == 1


def test_run_cells_stop_keeps_the_finished_cell_only():
    cells = grid_cells(PROBLEM, CONFIG, SweepConfig(axis=None, seeds=3), model=MODEL)
    arrived: list[CellResult] = []
    backend = local_backend()
    try:
        results, cancelled = run_cells(cells, backend, on_result=arrived.append, stop=lambda: bool(arrived))
    finally:
        backend.close()
    assert cancelled
    assert results == arrived and [r.index for r in results] == [0]
    assert results[0].status == "done" and list(results[0].exact_match.values()) == PINNED[:2]


@pytest.fixture(scope="module")
def grid_cells_in_process():
    """GRID trained one cell after another in this process, with each cell's last progress update."""
    cells = grid_cells(PROBLEM, CONFIG, GRID, model=MODEL)
    last_update: dict[int, int] = {}
    backend = local_backend()
    try:
        results, cancelled = run_cells(cells, backend,
                                       on_progress=lambda spec, p: last_update.__setitem__(spec.index, p.update))
    finally:
        backend.close()
    return cells, results, cancelled, last_update


def test_in_process_grid_returns_every_cell_in_order_with_progress(grid_cells_in_process):
    cells, results, cancelled, last_update = grid_cells_in_process
    assert not cancelled
    assert [r.index for r in results] == [0, 1] and all(r.status == "done" for r in results)
    assert [(r.values, r.seed, r.updates_done) for r in results] == [
        ({"n_in": 3, "n_out": 2}, 3, 120), ({"n_in": 5, "n_out": 2}, 3, 120)]
    assert last_update == {0: 120, 1: 120}


# --- on Dask --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def local_dask():
    """A client of this process's LocalCluster, two single-threaded workers, shared by the Dask tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(cluster.WORKERS_ENV, "2")
        patch.delenv(cluster.SCHEDULER_ENV, raising=False)
        client = cluster.client()
    try:
        yield client
    finally:
        client.close()
        cluster.close_local_cluster()


def run_on_dask(client, cells, workers: int = 2) -> list[CellResult]:
    backend = dask_backend(client)
    assert backend.workers == workers and not backend.in_process and client.scheduler.address in backend.description
    try:
        results, cancelled = run_cells(cells, backend)
    finally:
        backend.close()
    assert not cancelled
    assert [r.index for r in results] == list(range(len(cells)))
    assert all(r.status == "done" for r in results), [r.error for r in results]
    return results


def test_local_cluster_gives_the_in_process_numbers_twice_on_warm_workers(local_dask, grid_cells_in_process):
    # Guards the seeding in training.setup.build_models: Keras drew unseeded initializer
    # seeds from Python's global random, which a Dask worker's event loop also draws from.
    cells, expected, _, _ = grid_cells_in_process
    first = run_on_dask(local_dask, cells)
    assert matches(first) == matches(expected)
    assert matches(run_on_dask(local_dask, cells)) == matches(first)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def external_dask(tmp_path):
    """A client of a scheduler and two workers started with the README's recipe, verbatim: `dask
    scheduler`, `dask worker tcp://host:port --nthreads 1 --nworkers 2`, from the venv, without
    PYTHONPATH, in a folder outside the checkout."""
    assert not tmp_path.resolve().is_relative_to(ROOT.resolve())
    bin_dir = str(Path(sys.executable).parent)  # what `. .venv/bin/activate` puts first on PATH
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {
        "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes: list[subprocess.Popen] = []

    def launch(command: str, log: str) -> None:
        with open(tmp_path / log, "wb") as out:
            processes.append(subprocess.Popen(command, shell=True, env=env, stdout=out, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, cwd=tmp_path, start_new_session=True))

    client = None
    try:
        launch(f"dask scheduler --port {port} --host 127.0.0.1 --no-dashboard", log="scheduler.log")
        launch(f"dask worker {address} --nthreads 1 --nworkers 2 --no-dashboard", log="workers.log")
        from distributed import Client

        client = wait_for(lambda: _connected(Client, address), timeout=60)
        client.wait_for_workers(2, timeout=120)
        yield client
    finally:
        if client is not None:
            client.close()
        for process in reversed(processes):  # workers first, then the scheduler
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: the worker processes go too
                process.wait(timeout=10)


def _connected(client_class, address: str):
    try:
        return client_class(address, timeout="2s")
    except OSError:
        return None


def test_external_scheduler_gives_the_in_process_numbers(external_dask, grid_cells_in_process, tmp_path):
    cells, expected, _, _ = grid_cells_in_process
    assert len(external_dask.scheduler_info()["workers"]) == 2
    address = external_dask.scheduler.address
    # What a sweep checks before sending cells: every side imports this seqattn (no PYTHONPATH needed).
    cluster.check_environment(cluster.probe_versions(external_dask), address)
    assert matches(run_on_dask(external_dask, cells, workers=2)) == matches(expected)
    # And the CLI, pointed at it by the environment as the README says, from a folder outside the checkout.
    csv = tmp_path / "sweep.csv"
    result = subprocess.run(
        [sys.executable, "-m", "seqattn", "sweep", "--n-in", "3,5", "--n-out", "2", "--cardinality", "6",
         "--units", "16", "--updates", "120", "--batch-size", "16", "--learning-rate", "0.02", "--eval-size", "200",
         "--eval-every", "60", "--no-jit", "--seed", "3", "--seeds", "1", "--until", "off", "--csv", str(csv),
         "--runs-dir", str(tmp_path / "runs")],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {cluster.SCHEDULER_ENV: address})
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"on {address}" in result.stderr and result.stderr.strip().endswith("2 done, 0 failed")
    import pandas as pd

    rows = pd.read_csv(csv)
    assert {(int(r.cell), r.model): r.exact_match for r in rows.itertuples()} == {
        (r.index, name): value for r in expected for name, value in r.exact_match.items()}


def kill_a_busy_worker_during(client, work, after: float = 1.0):
    """Run ``work()`` while a thread SIGKILLs the process of one worker that has been running a cell
    for ``after`` seconds (its nanny starts a fresh one). Returns work's value."""
    killed: dict[str, object] = {}

    def kill() -> None:
        try:
            busy = wait_for(lambda: next((w for w, keys in client.processing().items() if keys), None))
            pid = client.run(os.getpid, workers=[busy])[busy]
            time.sleep(after)
            os.kill(pid, signal.SIGKILL)
            killed["pid"] = pid
        except Exception as exc:  # reported below
            killed["error"] = exc

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    value = work()
    thread.join(timeout=150)
    assert "pid" in killed, killed
    return value


def assert_every_cell_once(results: list[CellResult], count: int) -> None:
    """Every cell came back (rerun by Dask) or is a failed result with a reason; grid order, no duplicates."""
    assert [r.index for r in results] == list(range(count))
    for r in results:
        assert r.status == "done" or (r.status == "failed" and "worker" in r.error), (r.status, r.error)


def test_a_killed_worker_loses_no_cell_of_a_sweep_job(local_dask, grid_cells_in_process, tmp_path, monkeypatch):
    monkeypatch.delenv(cluster.SCHEDULER_ENV, raising=False)
    root = tmp_path / "runs"
    run_id = jobs.start_sweep(PROBLEM, CONFIG, GRID, model=MODEL, scheduler=local_dask.scheduler.address, root=root)
    # Half a second into a cell its worker is still building or tracing the models (a cell takes seconds).
    kill_a_busy_worker_during(local_dask, lambda: wait_for(lambda: not jobs.status(run_id, root).active, timeout=300),
                              after=0.5)
    status = jobs.status(run_id, root)
    assert status.state == "done", status
    count = GRID.cell_count
    assert (status.cells_done, status.cells_total) == (count, count)
    text = (run_dir(run_id, root) / "cells.jsonl").read_text()
    assert text.endswith("\n") and len(text.splitlines()) == count  # each cell reported once
    cells = read_cells(run_dir(run_id, root))  # every line parses
    assert_every_cell_once(cells, count)
    # The cell rerun after the kill gives the numbers it gives in this process.
    _, expected, _, _ = grid_cells_in_process
    done = [c.index for c in cells if c.status == "done"]
    assert done, [c.error for c in cells]
    assert {i: cells[i].exact_match for i in done} == {i: expected[i].exact_match for i in done}


def test_cancel_keeps_the_finished_cells(local_dask, tmp_path, monkeypatch):
    monkeypatch.delenv(cluster.SCHEDULER_ENV, raising=False)
    root = tmp_path / "runs"
    # The first cell is small; the others are far slower, so the cancel lands while they train.
    config = dataclasses.replace(CONFIG, updates=400, eval_every=400)
    sweep = SweepConfig(axis="units", values=(8, 256, 384, 512), seeds=1)
    run_id = jobs.start_sweep(PROBLEM, config, sweep, model=MODEL, scheduler=local_dask.scheduler.address, root=root)
    wait_for(lambda: jobs.status(run_id, root).cells_done >= 1, timeout=240)
    jobs.cancel(run_id, root)
    wait_for(lambda: not jobs.status(run_id, root).active, timeout=60)
    status = jobs.status(run_id, root)
    assert status.state == "cancelled", status
    cells = cells_of(run_id, root)
    finished = sorted(set(cells["cell"]))
    assert 0 in finished and len(finished) < 4
    assert set(cells["status"]) == {"done"} and cells["exact_match"].notna().all()
    assert len(cells) == 2 * len(finished)
    assert read_status(run_dir(run_id, root))["cells_done"] == len(finished)
    # The cancelled cells were asked to stop: the workers are free again soon.
    wait_for(lambda: not any(local_dask.processing().values()), timeout=60)



# --- trained to a threshold (hand-made, no training) ----------------------------------------------

def until_cell(index: int, n_in: int, repeat: int, reached: dict[str, int | None], cap: int = 1000,
               status: str = "done") -> CellResult:
    cell = dataclasses.replace(made_cell(index, n_in=n_in, repeat=repeat, status=status), until=95, cap=cap)
    if status == "done":
        cell.stops = {name: {"reached": r, "updates": cap if r is None else r, "seconds": (r or cap) / 100}
                      for name, r in reached.items()}
    return cell


def test_a_cell_trained_to_a_threshold_keeps_its_stops_through_json_and_frames():
    cell = until_cell(0, 3, 0, {"baseline": None, "attention": 200})
    back = CellResult.from_dict(json.loads(json.dumps(cell.to_dict(), allow_nan=False)))
    assert back.until == 95 and back.cap == 1000 and back.stops == cell.stops
    old = {k: v for k, v in made_cell(1).to_dict().items() if k not in ("until", "cap", "stops")}
    assert CellResult.from_dict(old).until is None, "a cell recorded before thresholds reads as a fixed budget"
    frame = results_frame([cell, made_cell(1)]).set_index(["cell", "model"])
    assert math.isnan(frame.loc[(0, "baseline"), "reached"]) and frame.loc[(0, "baseline"), "model_updates"] == 1000
    assert frame.loc[(0, "attention"), ["reached", "model_updates", "until", "cap"]].tolist() == [200, 200, 95, 1000]
    assert math.isnan(frame.loc[(1, "attention"), "reached"]), "a fixed budget reaches nothing"
    assert frame.loc[(1, "attention"), "model_updates"] == 4


def test_threshold_table_counts_a_missed_threshold_at_the_cap_and_says_how_many():
    cells = [until_cell(0, 3, 0, {"baseline": 400, "attention": 100}), until_cell(1, 3, 1, {"baseline": 600, "attention": 150}),
             until_cell(2, 5, 0, {"baseline": None, "attention": 200}), until_cell(3, 5, 1, {"baseline": 900, "attention": 200}),
             until_cell(4, 5, 2, {}, status="failed")]
    table = threshold_table(results_frame(cells), "n_in").set_index(["n_in", "model"])
    assert table.loc[(3, "baseline"), ["seeds", "reached", "updates_mean", "updates_min", "updates_max"]].tolist() == [
        2, 2, 500, 400, 600]
    assert table.loc[(5, "baseline"), ["seeds", "reached", "updates_mean", "updates_max"]].tolist() == [2, 1, 950, 1000]
    assert table.loc[(5, "attention"), "updates_mean"] == 200
    lines = format_threshold_table(table.reset_index(), "n_in")
    assert len(lines) == 4
    assert "1 of 2 not within 1,000" in lines[3] and lines[3].startswith("input length    5  baseline")
    assert "not within" not in lines[0]
    assert threshold_table(results_frame([made_cell(0)]), "n_in").empty, "a fixed-budget sweep has no such table"


def versions(scheduler: str | None, workers: dict[str, str | None]) -> dict:
    return {"scheduler": {"packages": {"seqattn": scheduler}},
            "workers": {address: {"packages": {"seqattn": v}} for address, v in workers.items()}}


def test_a_cluster_that_cannot_import_this_seqattn_is_refused_with_one_line_naming_the_side():
    ours = seqattn.__version__
    cluster.check_environment(versions(ours, {"tcp://a:1": ours, "tcp://b:1": ours}), "tcp://s:8786")
    cases = [
        (versions(None, {"tcp://a:1": ours}), "The Dask scheduler at tcp://s:8786 cannot import seqattn"),
        (versions("0.0.1", {"tcp://a:1": ours}), f"has seqattn 0.0.1, this machine {ours}"),
        (versions(ours, {"tcp://a:1": ours, "tcp://b:1": None}), "1 of 2 Dask workers of tcp://s:8786 (tcp://b:1) "
                                                                 "cannot import seqattn"),
        (versions(ours, {"tcp://a:1": "9.9"}), "have another seqattn"),
    ]
    for answer, message in cases:
        with pytest.raises(cluster.ClusterError) as caught:
            cluster.check_environment(answer, "tcp://s:8786")
        text = str(caught.value)
        assert message in text and "\n" not in text and "Nothing was trained" in text
        assert ".venv/bin/dask" in text and "pip install -e" in text, "says how to install it there"
