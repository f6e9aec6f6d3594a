"""The warm training process (seqattn.speed.warm_pool) and the prepared training it runs (seqattn.speed.warm_start)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from seqattn.jobs import control as jobs
from seqattn.speed import warm_pool
from seqattn.speed import warm_start
from seqattn.jobs.control import worker_env
from seqattn.jobs.worker import NICENESS
from seqattn.speed.warm_process import WAITING_NICENESS
from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.runs import create_run, read_progress, read_result, read_status, run_dir
from seqattn.training.config import TrainConfig
from seqattn.training.session import train

from tests.conftest import wait_done

# Short sequences: compiling the update step with XLA costs seconds, more the longer the sequences.
PROBLEM = ProblemConfig(cardinality=10, n_in=2, n_out=2)
RECIPE = TrainConfig(protocol="batched", updates=40, batch_size=8, eval_every=20, eval_size=50, seed=5, jit_compile=True)
MODEL = ModelConfig(units=8)
OTHER_PROBLEM = ProblemConfig(cardinality=12, n_in=3, n_out=2)
OTHER_RECIPE = TrainConfig(protocol="batched", updates=30, batch_size=8, eval_every=10, eval_size=50, seed=6,
                           jit_compile=True)
OTHER_MODEL = ModelConfig(units=16)


def _job(problem: ProblemConfig, recipe: TrainConfig, model: ModelConfig) -> dict:
    return {"problem": problem.to_dict(), "train": recipe.to_dict(), "model": model.to_dict(),
            "names": ["baseline", "attention"]}


def test_a_prepared_training_gives_the_numbers_of_a_cold_one_bit_for_bit():
    # Made for RECIPE, it serves a job that only trains longer and evaluates at other times.
    longer = dataclasses.replace(RECIPE, updates=50, eval_every=25, eval_size=70)
    cold = train(PROBLEM, longer, model=MODEL)
    warm_start.prepare_in_background(PROBLEM, RECIPE, MODEL)
    prepared = warm_start.take(PROBLEM, longer, MODEL)
    assert prepared is not None
    # Compiling ran one update; every variable was put back: the optimizers are at step 0.
    assert all(int(m.optimizer.iterations.numpy()) == 0 for m in prepared.models.values())
    warm = train(PROBLEM, longer, model=MODEL, setup=prepared)
    np.testing.assert_array_equal(warm.losses, cold.losses)
    assert {k: v.per_position for k, v in warm.accuracy.items()} == {k: v.per_position for k, v in cold.accuracy.items()}
    # Used, then reseeded (as the next sweep cell of these shapes takes it): weights and optimizers
    # are back to the seed's, so the same compiled step trains the cold numbers again.
    with pytest.raises(ValueError, match="only jobs of its own shapes"):
        warm_start.reseed(prepared, PROBLEM, longer, ModelConfig(units=16))
    again = train(PROBLEM, longer, model=MODEL, setup=warm_start.reseed(prepared, PROBLEM, longer, MODEL))
    np.testing.assert_array_equal(again.losses, cold.losses)


def test_a_prepared_training_is_only_taken_by_the_job_it_was_made_for_and_only_once():
    recipe = dataclasses.replace(RECIPE, jit_compile=False)
    warm_start.prepare_in_background(PROBLEM, recipe, MODEL)
    assert warm_start.take(PROBLEM, recipe, ModelConfig(units=16)) is None  # another job starts cold
    assert warm_start.take(PROBLEM, dataclasses.replace(recipe, seed=6), MODEL) is None  # other weights
    assert warm_start.take(PROBLEM, recipe, MODEL) is not None
    assert warm_start.take(PROBLEM, recipe, MODEL) is None  # used up


def test_nothing_is_prepared_for_a_job_no_longer_wanted():
    asked = []
    warm_start.prepare_in_background(PROBLEM, RECIPE, MODEL, still_wanted=lambda key: asked.append(key) or False)
    assert warm_start.take(PROBLEM, RECIPE, MODEL) is None
    assert asked == [warm_start.job_key(PROBLEM, RECIPE, MODEL)]


class RecordedStep:
    """An update step that counts its runs (its traces are counted by TensorFlow)."""

    def __init__(self, step) -> None:
        self.step, self.runs = step, 0

    def get_concrete_function(self, *args):
        return self.step.get_concrete_function(*args)

    def __call__(self, *args):
        self.runs += 1
        return self.step(*args)


@pytest.fixture()
def made_steps(monkeypatch) -> list[RecordedStep]:
    """Every update step made in this test, recorded."""
    from seqattn.training import setup as training

    made: list[RecordedStep] = []
    real = training.make_update_step
    record = lambda *args: made.append(RecordedStep(real(*args))) or made[-1]  # noqa: E731
    monkeypatch.setattr(training, "make_update_step", record)  # a fresh build's and a preparation's
    return made


def test_a_preparation_stops_at_the_stage_its_job_stops_being_wanted(made_steps):
    # Wanted when asked before tracing the step, no longer before compiling and running it.
    asked = []
    with pytest.raises(warm_start.Abandoned):
        warm_start.prepare(PROBLEM, RECIPE, MODEL, keep_going=lambda: asked.append(1) or len(asked) < 2)
    assert len(asked) == 2
    [step] = made_steps
    assert (step.step.experimental_get_tracing_count(), step.runs) == (1, 0)  # traced, never compiled or run


def test_a_job_arriving_stops_the_preparation_in_the_background_quietly(made_steps, capsys):
    asked = []  # the first answer lets it start; the job "arrives" before the step is traced
    warm_start.prepare_in_background(PROBLEM, RECIPE, MODEL, still_wanted=lambda key: asked.append(key) or len(asked) < 2)
    assert warm_start.take(PROBLEM, RECIPE, MODEL) is None
    assert asked == [warm_start.job_key(PROBLEM, RECIPE, MODEL)] * 2
    [step] = made_steps
    assert (step.step.experimental_get_tracing_count(), step.runs) == (0, 0)
    assert "preparing failed" not in capsys.readouterr().out


def test_a_failed_preparation_leaves_the_job_to_start_cold(capsys):
    def fail() -> None:
        raise RuntimeError("no room")

    warm_start.prepare_in_background(PROBLEM, RECIPE, MODEL, before=fail)
    assert warm_start.take(PROBLEM, RECIPE, MODEL) is None
    assert "preparing failed (RuntimeError: no room); the job starts cold" in capsys.readouterr().out


def test_the_pool_is_off_with_its_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(warm_pool.WARM_ENV, "0")
    assert warm_pool.start(tmp_path) is None


def _numbers(run_id: str, root) -> tuple[dict, list]:
    directory = run_dir(run_id, root)
    losses = read_progress(directory)
    return read_result(run_id, root)["accuracy"], losses.filter(like="loss").to_numpy().tolist()


# The cold references of the two-jobs test, one after the other in one fresh process (one TensorFlow
# start-up instead of two): each training builds its models from its seed, exactly as a cold worker's does.
COLD_TRAININGS = """
import sys
from pathlib import Path

from seqattn.runs import read_meta
from seqattn.jobs.tasks import TaskContext, run_training

for directory in map(Path, sys.argv[1:]):
    assert run_training(TaskContext(directory, read_meta(directory), stop=lambda: False)) == "done"
"""


def _wait_ready(root, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not warm_pool.ready_files(root):
        assert time.monotonic() < deadline, "the warm process never got ready"
        time.sleep(0.1)


def test_warm_processes_run_two_jobs_in_a_row_with_the_numbers_of_cold_runs(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    # The prepared job traces its step without XLA (preparing an XLA step is the in-process test's);
    # the other job compiles its step with XLA, in one fresh process after another.
    recipe = dataclasses.replace(RECIPE, jit_compile=False)
    # Every process below shares one fresh XLA cache (seqattn.speed.xla_cache): a process that loads a
    # program another one compiled must still give the same numbers.
    cache = tmp_path / "xla"
    cache.mkdir()
    monkeypatch.setenv("TF_XLA_FLAGS", f"--tf_xla_persistent_cache_directory={cache}")
    pool = warm_pool.WarmPool(root, _job(PROBLEM, recipe, MODEL))
    assert warm_pool.WarmPool(root).job == warm_pool.default_job()
    try:
        pool.ensure()
        _wait_ready(root)
        first_pid = pool.pid
        # It waits below this process (the dashboard) and above a running job (NICENESS).
        assert os.getpriority(os.PRIO_PROCESS, first_pid) == max(WAITING_NICENESS, os.nice(0))
        assert WAITING_NICENESS < NICENESS
        # The prepared job, then another one (different problem, size and seed) right after; it waits
        # for the first one's slot in the next warm process, which then has no reason to prepare anything.
        prepared_run = create_run(PROBLEM, recipe.to_dict(), model=MODEL.to_dict(), root=root)
        assert pool.hand_off(run_dir(prepared_run, root)) == first_pid
        assert pool.pid not in (None, first_pid)  # a fresh process for the next job: no state carried over
        assert pool.job == _job(PROBLEM, recipe, MODEL)  # it prepares the job last started
        other_run = create_run(OTHER_PROBLEM, OTHER_RECIPE.to_dict(), model=OTHER_MODEL.to_dict(), root=root)
        second_pid = pool.hand_off(run_dir(other_run, root))
        assert second_pid not in (None, first_pid)
        wait_done(prepared_run, root)
        wait_done(other_run, root)
    finally:
        pool.close()
    # The cold runs: the other job first, in a process as fresh as the warm one that ran it (their update
    # steps are the same program, so this one loads it from the cache), then the prepared job.
    cold_other = create_run(OTHER_PROBLEM, OTHER_RECIPE.to_dict(), model=OTHER_MODEL.to_dict(), root=root)
    cold_prepared = create_run(PROBLEM, recipe.to_dict(), model=MODEL.to_dict(), root=root)
    cold = subprocess.run([sys.executable, "-c", COLD_TRAININGS, str(run_dir(cold_other, root)),
                           str(run_dir(cold_prepared, root))], env=worker_env(), capture_output=True, text=True,
                          timeout=300)
    assert cold.returncode == 0, cold.stderr[-2000:]
    assert [read_status(run_dir(r, root))["prepared"] for r in (prepared_run, other_run, cold_prepared)] == [
        True, False, False]
    for warm_id, cold_id in ((prepared_run, cold_prepared), (other_run, cold_other)):
        assert jobs.status(warm_id, root).state == "done"
        assert _numbers(warm_id, root) == _numbers(cold_id, root)
    # The other job's step was compiled by its warm process; its cold run loaded that program.
    assert len(list(cache.iterdir())) == 1


def test_a_job_cancelled_while_its_warm_process_still_loads_ends_cancelled_untrained(tmp_path):
    root = tmp_path / "runs"
    pool = warm_pool.WarmPool(root, _job(PROBLEM, RECIPE, MODEL))
    blocker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pool.ensure(after=blocker.pid)  # it loads nothing until the job arrives
        time.sleep(1.0)
        run_id = create_run(PROBLEM, RECIPE.to_dict(), model=MODEL.to_dict(), root=root)
        assert pool.hand_off(run_dir(run_id, root)) is not None
        time.sleep(0.5)  # now importing TensorFlow and preparing
        asked = time.monotonic()
        jobs.cancel(run_id, root)
        # About 1 s (bench/cancel_latency.py times it); 10 s only guards against a hang.
        while jobs.status(run_id, root).active:
            assert time.monotonic() - asked < 10.0, "the cancel was not seen"
            time.sleep(0.05)
        status = jobs.status(run_id, root)
        assert status.state == "cancelled" and status.update == 0, status
    finally:
        pool.close()
        blocker.kill()
        blocker.wait()


def test_a_dead_warm_process_means_a_cold_start_and_a_new_warm_process(tmp_path):
    root = tmp_path / "runs"
    pool = warm_pool.WarmPool(root, _job(PROBLEM, RECIPE, MODEL))
    blocker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pool.ensure(after=blocker.pid)
        dead = pool.pid
        os.kill(dead, 9)
        deadline = time.monotonic() + 10
        while pool.pid is not None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        run_id = create_run(PROBLEM, RECIPE.to_dict(), model=MODEL.to_dict(), root=root)
        assert pool.hand_off(run_dir(run_id, root)) is None  # the caller starts it cold
        assert pool.pid not in (None, dead)
    finally:
        pool.close()
        blocker.kill()
        blocker.wait()


def test_a_started_job_goes_to_the_launcher_it_is_given(tmp_path):
    handed = []

    def launcher(directory):
        handed.append(directory)
        return 4242

    run_id = jobs.start(PROBLEM, RECIPE, model=MODEL, root=tmp_path, launcher=launcher)
    assert handed == [run_dir(run_id, tmp_path)]
    assert read_status(run_dir(run_id, tmp_path))["pid"] == 4242  # no cold process was started


# --- Issue 24: a frozen warm process, what a warm process holds, queued jobs without TensorFlow ---


def test_a_frozen_warm_process_is_killed_and_its_job_started_cold(tmp_path):
    import signal

    from seqattn.processes import process_alive

    root = tmp_path / "runs"
    recipe = dataclasses.replace(RECIPE, jit_compile=False)
    pool = warm_pool.WarmPool(root, _job(PROBLEM, recipe, MODEL))
    pool.ensure()
    frozen = pool.pid
    os.kill(frozen, signal.SIGSTOP)  # frozen while it prepares: it would never take a job
    try:
        run_id = jobs.start(PROBLEM, recipe, model=MODEL, root=root, launcher=pool.launch)
        wait_done(run_id, root, timeout=120)  # before the fix: queued for ever behind the frozen process
        assert jobs.status(run_id, root).state == "done"
        assert read_status(run_dir(run_id, root))["pid"] != frozen  # a new process trained it
        assert not process_alive(frozen)  # killed: it can neither hold the job nor wake up to run it
        log = (run_dir(run_id, root) / "worker.log").read_text()
        assert "The warm training process did not take this job" in log
        assert pool.pid not in (None, frozen)  # the next warm process is ready for the next click
    finally:
        if process_alive(frozen):
            os.kill(frozen, signal.SIGCONT)
            os.kill(frozen, signal.SIGKILL)
        pool.close()


def test_after_a_big_job_the_next_warm_process_prepares_the_defaults(tmp_path):
    root = tmp_path / "runs"
    pool = warm_pool.WarmPool(root, _job(PROBLEM, RECIPE, MODEL))
    prepared: list[dict] = []  # what each warm process the pool starts would prepare (none is started)
    pool._spawn = lambda after: prepared.append(pool.job)
    big_problem, big_recipe = ProblemConfig(cardinality=50, n_in=100, n_out=100), TrainConfig(protocol="batched",
                                                                                                 batch_size=1024)
    small_run = create_run(PROBLEM, RECIPE.to_dict(), model=MODEL.to_dict(), root=root)
    big_run = create_run(big_problem, big_recipe.to_dict(), root=root)
    for run_id in (small_run, big_run, small_run):
        assert pool.hand_off(run_dir(run_id, root)) is None  # no process was waiting: each would start cold
    # The small job again after a small one; after the big one (estimated at 11 GiB) the Train form's defaults.
    assert prepared == [_job(PROBLEM, RECIPE, MODEL), warm_pool.default_job(), _job(PROBLEM, RECIPE, MODEL)]
    assert warm_start.small_enough(*warm_pool.job_configs(warm_pool.default_job())[:3])
    assert not warm_start.small_enough(big_problem, big_recipe, ModelConfig())


def _maps_tensorflow(pid: int) -> bool:
    import psutil

    return any("tensorflow" in m.path for m in psutil.Process(pid).memory_maps())


def test_a_job_that_must_wait_starts_cold_and_waits_without_tensorflow(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQATTN_MAX_JOBS", "1")
    root = tmp_path / "runs"
    recipe = dataclasses.replace(RECIPE, jit_compile=False)
    pool = warm_pool.WarmPool(root, _job(PROBLEM, recipe, MODEL))
    running = queued = None
    try:
        pool.ensure()
        _wait_ready(root)
        warm = pool.pid
        running = jobs.start(PROBLEM, dataclasses.replace(recipe, updates=200_000, eval_every=1000), model=MODEL,
                             root=root, launcher=pool.launch)
        deadline = time.monotonic() + 60
        while jobs.status(running, root).state != "running":
            assert time.monotonic() < deadline, "the first job never started"
            time.sleep(0.1)
        assert read_status(run_dir(running, root))["pid"] == warm  # a free slot: the warm process took it
        follower = pool.pid  # waits for that job to end before it loads anything
        queued = jobs.start(PROBLEM, recipe, model=MODEL, root=root, launcher=pool.launch)
        pid = read_status(run_dir(queued, root))["pid"]
        assert pid not in (warm, follower)  # it must wait: a cold process took it
        deadline = time.monotonic() + 30
        while read_status(run_dir(queued, root)).get("pid_start") is None:  # its worker has started
            assert time.monotonic() < deadline, "the queued job's worker never started"
            time.sleep(0.1)
        time.sleep(2.0)
        assert jobs.status(queued, root).state == "queued"
        assert not _maps_tensorflow(pid)  # no TensorFlow, no models while it waits
        assert pool.pid not in (None, follower) and not _maps_tensorflow(pool.pid)  # now follows the queued job
    finally:
        for run_id in (queued, running):
            if run_id is not None:
                jobs.cancel(run_id, root)
        pool.close()
        for run_id in (queued, running):
            if run_id is not None:
                wait_done(run_id, root, timeout=60)
