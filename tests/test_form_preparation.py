"""The warm process prepares the job the Train form shows (seqattn.speed.warm_pool.WarmPool.want / prepare_for)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from seqattn.jobs import control as jobs
from seqattn.jobs.control import worker_env
from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.processes import process_alive
from seqattn.runs import create_run, read_status, run_dir
from seqattn.speed import warm_pool
from seqattn.training.config import TrainConfig

from tests.conftest import wait_done
from tests.test_warm_worker import COLD_TRAININGS, MODEL, PROBLEM, RECIPE, _job, _numbers

BIG = (ProblemConfig(cardinality=50, n_in=100, n_out=100), TrainConfig(protocol="batched", batch_size=1024))


class _Spawned:
    """A stand-in for a warm process: alive until its stdin is closed."""

    def __init__(self, pool: warm_pool.WarmPool, after: int | None, eager: bool) -> None:
        self.job, self.after, self.eager, self.pid, self.stdin = pool.job, after, eager, 10**6, self
        self.closed = False
        self.told: list[dict] = []  # the lines written to it

    def poll(self) -> int | None:
        return 0 if self.closed else None

    def write(self, data: bytes) -> None:
        self.told.append(json.loads(data))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@pytest.fixture()
def pool(tmp_path, monkeypatch):
    """A pool whose processes are stand-ins (nothing starts); ``pool.spawned`` lists them."""
    monkeypatch.setattr(warm_pool, "FORM_STILL_SECONDS", 0.2)
    monkeypatch.setattr(warm_pool, "reap_in_background", lambda process: None)
    made = warm_pool.WarmPool(tmp_path / "runs", _job(PROBLEM, RECIPE, MODEL))
    made.spawned = []

    def spawn(after, eager=False):
        made._after, made._eager, made._in_place = after, eager, 0
        made.spawned.append(_Spawned(made, after, eager))
        return made.spawned[-1]

    made._spawn = spawn
    made.ensure()
    yield made
    made.close()


def _wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_the_form_job_is_prepared_once_the_form_is_still(pool):
    other = dataclasses.replace(PROBLEM, n_in=3)
    for n_in in (3, 4, 5):  # the speaker types: only the value the form rests on is prepared
        pool.want(dataclasses.replace(PROBLEM, n_in=n_in), RECIPE, MODEL)
    _wait_for(lambda: len(pool.spawned) == 2)
    time.sleep(0.4)
    assert len(pool.spawned) == 2 and pool.spawned[-1].job == _job(dataclasses.replace(PROBLEM, n_in=5), RECIPE, MODEL)
    assert pool.spawned[0].closed, "the old preparation is dropped: its process exits"
    assert not pool.spawned[-1].eager  # nothing runs: it loads at once anyway
    # The same shapes with another seed: the job reseeds the preparation (no new process); nor for a big job.
    assert not pool.prepare_for(_job(dataclasses.replace(PROBLEM, n_in=5), dataclasses.replace(RECIPE, seed=9),
                                     MODEL))
    assert not pool.prepare_for(_job(*BIG, ModelConfig()))
    assert pool.prepare_for(_job(other, RECIPE, MODEL)) and pool.spawned[-1].job == _job(other, RECIPE, MODEL)
    assert len(pool.spawned) == 3


def test_a_job_without_xla_is_prepared_by_the_waiting_process_itself_a_few_times(pool):
    graph = dataclasses.replace(RECIPE, jit_compile=False)
    jobs_told = [_job(dataclasses.replace(PROBLEM, n_in=n), graph, MODEL) for n in (3, 4, 5)]
    for job in jobs_told:
        assert pool.prepare_for(job)
    assert len(pool.spawned) == 1, "TensorFlow is loaded there: no new process"
    assert pool.spawned[0].told == [{"prepare": job} for job in jobs_told]
    assert pool.job == jobs_told[-1]
    # Each leaves a little memory behind: after IN_PLACE_AT_MOST, a fresh process prepares the next.
    fourth = _job(dataclasses.replace(PROBLEM, n_in=6), graph, MODEL)
    assert warm_pool.IN_PLACE_AT_MOST == 3 and pool.prepare_for(fourth)
    assert len(pool.spawned) == 2 and pool.spawned[0].closed and pool.spawned[1].job == fourth
    assert pool.prepare_for(_job(PROBLEM, graph, MODEL)) and pool.spawned[1].told == [{"prepare": _job(PROBLEM, graph,
                                                                                                          MODEL)}]


def test_a_form_shown_while_a_job_runs_is_prepared_beside_it(pool, monkeypatch):
    monkeypatch.setattr(warm_pool, "another_job_active", lambda *args, **kwargs: True)
    pool._after = 4321  # the waiting process follows the running job: it would load nothing before it ends
    assert pool.prepare_for(_job(PROBLEM, RECIPE, MODEL)), "the same job, but it must load now"
    assert pool.spawned[-1].eager and pool.spawned[-1].after is None
    assert not pool.prepare_for(_job(PROBLEM, dataclasses.replace(RECIPE, updates=999), MODEL))  # same shapes


def test_a_job_prepared_for_the_form_is_taken_with_the_numbers_of_a_cold_run(tmp_path):
    """A real warm process: the form changes the problem (prepared in place), then the seed; the job takes it."""
    root = tmp_path / "runs"
    recipe = dataclasses.replace(RECIPE, jit_compile=False)
    form_problem = dataclasses.replace(PROBLEM, n_in=3)
    pool = warm_pool.WarmPool(root, _job(PROBLEM, recipe, MODEL))
    try:
        pool.ensure()
        first = pool.pid
        _wait_for(lambda: warm_pool.ready_files(root), 120)
        assert pool.prepare_for(_job(form_problem, recipe, MODEL))
        assert pool.pid == first  # prepared where TensorFlow is loaded
        reseeded = dataclasses.replace(recipe, seed=recipe.seed + 1)  # the seed changed after it was prepared
        run_id = jobs.start(form_problem, reseeded, model=MODEL, root=root, launcher=pool.launch)
        wait_done(run_id, root)
    finally:
        pool.close()
    status = read_status(run_dir(run_id, root))
    assert status["pid"] == first and status["prepared"] is True, status
    cold_id = create_run(form_problem, reseeded.to_dict(), model=MODEL.to_dict(), root=root)
    cold = subprocess.run([sys.executable, "-c", COLD_TRAININGS, str(run_dir(cold_id, root))], env=worker_env(),
                          capture_output=True, text=True, timeout=300)
    assert cold.returncode == 0, cold.stderr[-2000:]
    assert _numbers(run_id, root) == _numbers(cold_id, root)


def test_an_xla_job_for_the_form_gets_a_fresh_process_and_the_old_one_exits(tmp_path):
    root = tmp_path / "runs"
    pool = warm_pool.WarmPool(root, _job(PROBLEM, dataclasses.replace(RECIPE, jit_compile=False), MODEL))
    try:
        pool.ensure()
        first = pool.pid
        assert pool.prepare_for(_job(dataclasses.replace(PROBLEM, n_in=3), RECIPE, MODEL))  # RECIPE compiles
        assert pool.pid not in (None, first)
        _wait_for(lambda: not process_alive(first), timeout=30)  # the dropped preparation's process has gone
    finally:
        pool.close()


def test_the_click_that_starts_the_forms_job_drops_its_pending_preparation(pool, monkeypatch, tmp_path):
    """The click redraws the form (want) just before the job starts: that job must not then be prepared again in
    a process loading TensorFlow beside it (it slowed the race), and the next process waits for the job to end."""
    root = tmp_path / "runs"
    pool.want(PROBLEM, RECIPE, MODEL)  # the form, redrawn by the click
    directory = run_dir(create_run(PROBLEM, RECIPE.to_dict(), model=MODEL.to_dict(), root=root), root)
    taken = pool.spawned[0]
    monkeypatch.setattr(pool, "_watch_take", lambda *args: None)
    assert pool.launch(directory) == taken.pid
    monkeypatch.setattr(warm_pool, "another_job_active", lambda *args, **kwargs: True)  # the job now runs
    time.sleep(4 * warm_pool.FORM_STILL_SECONDS)
    assert len(pool.spawned) == 2, "one process for the next job, and no other"
    follower = pool.spawned[-1]
    assert follower.after == taken.pid and not follower.eager and not follower.closed



@pytest.mark.parametrize(("states", "alive", "waits"), [
    ([True, True, False], True, 3),  # the job it follows trains, then ends: not its process's teardown too
    ([False, False, False], True, None),  # a job not yet named in its run: its process's exit
    ([False], False, 1),  # nothing runs and the process has gone
])
def test_a_waiting_process_loads_once_the_job_it_follows_has_ended(monkeypatch, states, alive, waits):
    from seqattn.speed import warm_process

    checks = iter(states)
    asked = []
    monkeypatch.setattr(warm_process, "another_job_active", lambda root: asked.append(1) or next(checks, False))
    monkeypatch.setattr(warm_process, "process_alive", lambda pid: alive)
    monkeypatch.setattr(warm_process, "WAIT_POLL", 0.001)
    arrived = threading.Event()
    waiting = threading.Thread(target=warm_process._wait_for, args=(4321, arrived, Path("runs")), daemon=True)
    waiting.start()
    waiting.join(0.5)
    if waits is None:
        assert waiting.is_alive(), "it waits for that process"
    else:
        assert not waiting.is_alive() and len(asked) == waits
    arrived.set()  # a job arrives: no wait goes on
    waiting.join(5)
    assert not waiting.is_alive()
