"""The cost guard: estimates, the shared budget, refusals before anything starts, the queue cap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqattn.training import budget
from seqattn.jobs import control as jobs
from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.runs import create_run, list_runs
from seqattn.sweeps.grid import SweepConfig, grid_cells
from seqattn.training.config import TrainConfig

PROJECT = Path(__file__).resolve().parent.parent
# The issue's job: grew a worker from 0.6 to 9 GiB in 22 s on a 23 GiB machine.
HUGE_PROBLEM = ProblemConfig(cardinality=1000, n_in=100, n_out=100)
HUGE_TRAIN = TrainConfig(protocol="batched", batch_size=4096)
HUGE_MODEL = ModelConfig(units=1024)
SMALL_PROBLEM = ProblemConfig(cardinality=8, n_in=4, n_out=2)
SMALL_TRAIN = TrainConfig(protocol="batched", updates=60, batch_size=8, eval_every=20, eval_size=64)
SMALL_MODEL = ModelConfig(units=8)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in (budget.MEMORY_BUDGET_ENV, budget.TIME_BUDGET_ENV, jobs.MAX_QUEUED_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def test_small_job_fits_and_its_estimate_is_plausible():
    estimate = budget.check_budget(SMALL_PROBLEM, SMALL_TRAIN, SMALL_MODEL)
    assert 0.5 * budget.GIB < estimate.peak_bytes < 1.5 * budget.GIB  # TensorFlow's baseline dominates
    assert 1 < estimate.seconds < 60
    assert estimate.describe().startswith("Estimated: ~")
    assert "GiB peak memory" in estimate.describe()


def test_the_issues_job_is_refused_naming_what_to_reduce():
    estimate = budget.estimate_job(HUGE_PROBLEM, HUGE_TRAIN, HUGE_MODEL)
    assert estimate.peak_bytes > 100 * budget.GIB
    with pytest.raises(ValueError, match=r"would need about \d+\.\d GiB of memory; the budget is") as info:
        budget.check_budget(HUGE_PROBLEM, HUGE_TRAIN, HUGE_MODEL)
    message = str(info.value)
    assert "smaller batch size" in message and budget.MEMORY_BUDGET_ENV in message


def test_default_memory_budget_is_half_the_machine_and_the_variable_overrides_it(monkeypatch):
    import psutil

    assert budget.memory_budget_bytes() == pytest.approx(psutil.virtual_memory().total / 2)
    monkeypatch.setenv(budget.MEMORY_BUDGET_ENV, "1.5")
    assert budget.memory_budget_bytes() == 1.5 * budget.GIB
    monkeypatch.setenv(budget.MEMORY_BUDGET_ENV, "nonsense")  # refused by name, never replaced silently
    with pytest.raises(ValueError, match=f"^{budget.MEMORY_BUDGET_ENV}=nonsense is not accepted"):
        budget.memory_budget_bytes()


def test_a_bigger_box_may_raise_both_budgets(monkeypatch):
    monkeypatch.setenv(budget.MEMORY_BUDGET_ENV, "4096")  # the largest accepted (seqattn/settings.py)
    with pytest.raises(ValueError, match=budget.TIME_BUDGET_ENV):
        budget.check_budget(HUGE_PROBLEM, HUGE_TRAIN, HUGE_MODEL)
    monkeypatch.setenv(budget.TIME_BUDGET_ENV, str(30 * 86400))  # the largest accepted: 30 days
    budget.check_budget(HUGE_PROBLEM, HUGE_TRAIN, HUGE_MODEL)


def test_time_budget_refuses_long_trainings(monkeypatch):
    monkeypatch.setenv(budget.TIME_BUDGET_ENV, "5")
    with pytest.raises(ValueError, match=r"is estimated at \d+ minutes; at most 5 seconds per training"):
        budget.check_budget(SMALL_PROBLEM, TrainConfig(protocol="batched", updates=100_000, batch_size=8),
                            SMALL_MODEL)


def test_the_sweep_guard_uses_the_same_budget(monkeypatch):
    monkeypatch.setenv(budget.MEMORY_BUDGET_ENV, "2")
    problem = ProblemConfig(cardinality=50, n_in=20, n_out=10)
    train = TrainConfig(protocol="batched", updates=10, batch_size=512)
    assert budget.estimate_job(problem, train, ModelConfig(units=1024)).peak_bytes > 2 * budget.GIB
    with pytest.raises(ValueError, match=r"^one cell at units = 1024 would need about .* the budget is 2\.0 GiB"):
        grid_cells(problem, train, SweepConfig(axis="units", values=(8, 1024), seeds=1), model=ModelConfig(units=8))
    assert len(grid_cells(problem, train, SweepConfig(axis="units", values=(8, 16), seeds=1))) == 2


def test_jobs_start_refuses_over_budget_before_creating_a_run(clean_env):
    with pytest.raises(ValueError, match="GiB of memory"):
        jobs.start(HUGE_PROBLEM, HUGE_TRAIN, model=HUGE_MODEL)
    with pytest.raises(ValueError, match="GiB of memory"):
        jobs.start(HUGE_PROBLEM, HUGE_TRAIN, model=HUGE_MODEL, kind="compare", extra={"repeats": 2})
    with pytest.raises(ValueError, match="one cell at n_in = 50 would need"):
        jobs.start_sweep(HUGE_PROBLEM, HUGE_TRAIN,
                         SweepConfig(axis="n_in", values=(50, 100), seeds=1, n_out_rule="half"), model=HUGE_MODEL)
    assert list_runs(clean_env) == []


def test_queue_cap_of_one_says_one_job_is_waiting(clean_env, monkeypatch):
    monkeypatch.setenv(jobs.MAX_QUEUED_ENV, "1")
    create_run(SMALL_PROBLEM, SMALL_TRAIN.to_dict(), model=SMALL_MODEL.to_dict())
    with pytest.raises(jobs.QueueFull, match=r"^1 job is already waiting; wait for one to finish or cancel one "
                                             r"\(at most 1 may wait"):
        jobs.start(SMALL_PROBLEM, SMALL_TRAIN, model=SMALL_MODEL)


def test_queue_cap_refuses_a_sixth_waiting_job_and_starts_nothing(clean_env, monkeypatch):
    monkeypatch.setenv(jobs.MAX_QUEUED_ENV, "3")
    for _ in range(3):  # runs waiting for a worker count as queued
        create_run(SMALL_PROBLEM, SMALL_TRAIN.to_dict(), model=SMALL_MODEL.to_dict())
    assert jobs.queued_count() == 3
    with pytest.raises(jobs.QueueFull, match="3 jobs are already waiting; wait for one to finish or cancel one"):
        jobs.start(SMALL_PROBLEM, SMALL_TRAIN, model=SMALL_MODEL)
    with pytest.raises(ValueError, match="already waiting"):  # the command line's exit 2
        jobs.start_sweep(SMALL_PROBLEM, SMALL_TRAIN, SweepConfig(axis="n_in", values=(3, 4), seeds=1),
                         model=SMALL_MODEL)
    assert len(list_runs(clean_env)) == 3
    assert jobs.max_queued() == 3
    monkeypatch.delenv(jobs.MAX_QUEUED_ENV)
    assert jobs.max_queued() == 5


def test_cli_train_over_budget_exits_2_and_trains_nothing(clean_env):
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    out = subprocess.run(
        [sys.executable, "-m", "seqattn", "train", "--cardinality", "1000", "--n-in", "100", "--n-out", "100",
         "--units", "1024", "--batch-size", "4096", "--protocol", "batched", "--out", str(clean_env)],
        capture_output=True, text=True, timeout=120, env=env, cwd=PROJECT,
    )
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m seqattn train: error:") and "GiB of memory" in lines[0]
    assert list_runs(clean_env) == [], "refused before any run is written"
