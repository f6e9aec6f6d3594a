"""Background jobs and saved runs, with tiny models trained in real worker processes."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from seqattn.jobs import control as jobs
from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.runs import (
    RunError,
    ProgressTail,
    ensure_root,
    get_run,
    list_runs,
    load_models,
    read_evals,
    read_progress,
    run_dir,
    validate_run_id,
)
from seqattn.training.config import TrainConfig

MODEL = ModelConfig(units=8)
ROOT = Path(__file__).resolve().parent.parent

PROBLEM = ProblemConfig(cardinality=8, n_in=4, n_out=2)


def tiny(updates: int = 60, **kw) -> TrainConfig:
    kw.setdefault("eval_every", 20)
    return TrainConfig(protocol="batched", updates=updates, batch_size=8, eval_size=64,
                       jit_compile=False, **kw)


def wait_for(predicate, timeout: float = 120.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


@pytest.fixture()
def root(tmp_path, monkeypatch):
    path = tmp_path / "runs"
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(path))
    monkeypatch.delenv("SEQATTN_MAX_JOBS", raising=False)
    return path


def test_lifecycle_queued_running_done_with_history_and_models(root):
    run_id = jobs.start(PROBLEM, model=MODEL, train=tiny(updates=150, eval_every=30))
    first = jobs.status(run_id)
    assert first.state in ("queued", "running")
    seen = {first.state}
    tail = ProgressTail(run_dir(run_id) / "progress.csv")
    lengths = []
    while jobs.status(run_id).active:
        seen.add(jobs.status(run_id).state)
        lengths.append(len(tail.read()))
        time.sleep(0.05)
    final = jobs.status(run_id)
    assert final.state == "done", final
    assert "running" in seen
    assert final.update == final.total == 150
    history = read_progress(run_dir(run_id))
    assert history["update"].is_monotonic_increasing and history["update"].iloc[-1] == 150
    assert history["final"].iloc[-1] == 1
    assert history[["loss_baseline", "loss_attention"]].notna().all().all()
    # the incremental reader agrees with a full read
    pd_tail = tail.read()
    assert len(pd_tail) == len(history)
    assert lengths == sorted(lengths)
    evals = read_evals(run_dir(run_id))
    assert [e["update"] for e in evals] == [30, 60, 90, 120, 150]
    assert np.allclose(np.sum(evals[-1]["attention"], axis=1), 1.0, atol=1e-4)
    summary = get_run(run_id)
    assert summary.usable and set(summary.accuracy) == {"baseline", "attention"}
    models = load_models(run_id)
    assert set(models) == {"baseline", "attention"}


def test_save_then_load_gives_identical_predictions(root):
    from seqattn.model.builders import Predictor
    from seqattn.runs import create_run, save_result
    from seqattn.training.session import train

    config = tiny(updates=30)
    result = train(PROBLEM, config, model=MODEL)
    run_id = create_run(PROBLEM, config.to_dict(), model=MODEL.to_dict())
    directory = run_dir(run_id)
    from seqattn.runs import RunWriter, update_status

    writer = RunWriter(directory)
    for report in result.reports:
        writer.on_progress(report)
    writer.close()
    save_result(directory, result)
    update_status(directory, state="done")
    loaded = load_models(run_id)
    inputs = np.random.default_rng(3).integers(0, PROBLEM.cardinality, size=(16, PROBLEM.n_in))
    for name in ("baseline", "attention"):
        before, after = Predictor(result.models[name])(inputs), Predictor(loaded[name])(inputs)
        np.testing.assert_allclose(before.probabilities, after.probabilities, atol=1e-6)
        if name == "attention":
            np.testing.assert_allclose(before.attention, after.attention, atol=1e-6)


def test_cancel_running_job_stops_quickly_and_keeps_history_and_models(root):
    run_id = jobs.start(PROBLEM, model=MODEL, train=tiny(updates=200_000, eval_every=1000))
    wait_for(lambda: jobs.status(run_id).update >= 50)
    jobs.cancel(run_id)
    # Stops within one update (bench/cancel_latency.py times it: about 1 s); 10 s only guards against a hang.
    wait_for(lambda: not jobs.status(run_id).active, timeout=10, interval=0.02)
    summary = get_run(run_id)
    assert summary.state == "cancelled"
    assert summary.update >= 50
    assert len(read_progress(run_dir(run_id))) > 0
    assert summary.usable
    predictions = load_models(run_id)
    assert set(predictions) == {"baseline", "attention"}


@pytest.fixture(scope="module")
def queued_behind_a_running_job(tmp_path_factory):
    """With one slot: a long job runs, a second waits; what the waiting worker looked like after 2 s,
    then what cancelling the waiting job (twice) and the running one did. Shared by two tests."""
    import psutil

    seen: dict = {}
    path = tmp_path_factory.mktemp("queued") / "runs"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEQATTN_RUNS_DIR", str(path))
        patch.setenv("SEQATTN_MAX_JOBS", "1")
        first = jobs.start(PROBLEM, model=MODEL, train=tiny(updates=200_000, eval_every=1000))
        wait_for(lambda: jobs.status(first).state == "running")
        second = jobs.start(PROBLEM, model=MODEL, train=tiny())
        seen["second_right_after"] = jobs.status(second).state
        pid = wait_for(lambda: _status_file(second).get("pid"))
        time.sleep(2.0)
        seen["second_after_2s"] = jobs.status(second).state
        process = psutil.Process(pid)
        seen["rss"] = process.memory_info().rss
        seen["mapped"] = {m.path for m in process.memory_maps()}
        jobs.cancel(second)
        jobs.cancel(second)
        wait_for(lambda: jobs.status(second).state == "cancelled", timeout=10)
        seen["second_has_models"] = get_run(second).has_models
        jobs.cancel(first)
        wait_for(lambda: jobs.status(first).state == "cancelled", timeout=10)
        seen["cancel_finished_first"] = jobs.cancel(first).state
        wait_for(lambda: not jobs.status(first).active and not jobs.status(second).active, timeout=20)
    return seen


def test_cancel_while_queued_and_twice_is_harmless(queued_behind_a_running_job):
    seen = queued_behind_a_running_job
    assert seen["second_right_after"] == "queued"
    assert seen["second_after_2s"] == "queued"
    assert not seen["second_has_models"]  # cancelled twice while queued: it ended cancelled, untrained
    assert seen["cancel_finished_first"] == "cancelled"  # cancelling a finished run changes nothing


def test_failed_job_reports_its_message(root, monkeypatch, tmp_path):
    # The worker process imports sitecustomize from PYTHONPATH: make its trainer fail there,
    # so no test hook sits in the production code. Nothing before the failing trainer loads
    # TensorFlow there: the report, not the models, is under test.
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        "import seqattn.sweeps.cells\n"
        "import seqattn.training.session\n"
        "import seqattn.training.threads\n"
        "def train(*args, **kwargs):\n"
        "    raise RuntimeError('the disk is on fire')\n"
        "seqattn.training.session.train = train\n"
        "seqattn.training.threads.fit_threads_to_process = lambda threads=None: None\n"
        "import types, seqattn.jobs.tasks\n"
        "seqattn.jobs.tasks.setup_for = lambda ctx: types.SimpleNamespace(models={}, ahead=False)\n"
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(hooks), str(ROOT)]))
    run_id = jobs.start(PROBLEM, model=MODEL, train=tiny())
    wait_for(lambda: not jobs.status(run_id).active)
    status = jobs.status(run_id)
    assert status.state == "failed"
    # The cause, once: the Train page leads with "Training failed." ("Training failed. Training failed: ..." before).
    assert status.error == "RuntimeError: the disk is on fire"
    assert "Traceback" not in status.error


def test_max_jobs_one_runs_jobs_one_after_the_other(root, monkeypatch, fake_trainer):
    # The queue, not the training, is under test: the workers train with tests/fake_trainer.
    monkeypatch.setenv("SEQATTN_MAX_JOBS", "1")
    a = jobs.start(PROBLEM, model=MODEL, train=tiny(updates=80))
    b = jobs.start(PROBLEM, model=MODEL, train=tiny(updates=80))
    both_running = False
    while jobs.status(a).active or jobs.status(b).active:
        states = (jobs.status(a).state, jobs.status(b).state)
        both_running |= states == ("running", "running")
        if states[0] == "queued":
            assert states[1] == "queued"  # the older run goes first
        time.sleep(0.05)
    assert not both_running
    started = [json.loads((run_dir(r) / "status.json").read_text()) for r in (a, b)]
    assert started[0]["finished"] <= started[1]["started"]
    assert jobs.status(a).state == jobs.status(b).state == "done"


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory):
    """A long run whose worker was SIGKILLed after its first checkpoint (update 40), shared by two tests."""
    path = tmp_path_factory.mktemp("killed") / "runs"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEQATTN_RUNS_DIR", str(path))
        patch.delenv("SEQATTN_MAX_JOBS", raising=False)
        run_id = jobs.start(PROBLEM, model=MODEL, train=tiny(updates=200_000, eval_every=40))
        checkpoint = wait_for(lambda: _status_file(run_id).get("checkpoint"))
        wait_for(lambda: jobs.status(run_id).update >= 30)
        os.kill(_status_file(run_id)["pid"], signal.SIGKILL)
        wait_for(lambda: jobs.status(run_id).state == "interrupted", timeout=10)
    return path, run_id, checkpoint


def test_killed_worker_shows_interrupted_with_history(killed_run, monkeypatch):
    path, run_id, _ = killed_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(path))
    assert jobs.status(run_id).state == "interrupted"
    assert len(read_progress(run_dir(run_id))) > 0
    assert get_run(run_id).state == "interrupted"


def _copy_run(src_root: Path, run_id: str, dst_root: Path, new_id: str) -> Path:
    import shutil

    dst = dst_root / new_id
    shutil.copytree(src_root / run_id, dst)
    return dst


def test_damaged_runs_are_listed_as_broken_with_reasons(root, saved_run):
    src_root, run_id = saved_run  # conftest's finished run, trained once per test session
    root.mkdir(parents=True)
    good = _copy_run(src_root, run_id, root, "20200101-000000-aaaaaa")
    truncated = _copy_run(src_root, run_id, root, "20200101-000001-bbbbbb")
    text = (truncated / "progress.csv").read_text().splitlines(keepends=True)
    (truncated / "progress.csv").write_text("".join(text[:-1]))
    corrupt = _copy_run(src_root, run_id, root, "20200101-000002-cccccc")
    data = (corrupt / "attention.keras").read_bytes()
    (corrupt / "attention.keras").write_bytes(data[: len(data) // 2])
    (root / "20200101-000003-dddddd").mkdir()
    (root / "not-a-run").mkdir()
    (root / "20200101-000004-eeeeee").mkdir()
    (root / "20200101-000004-eeeeee" / "run.json").write_text("{not json")
    listing = {s.id: s for s in list_runs()}
    assert listing[good.name].broken is None and listing[good.name].usable
    assert "truncated" in listing[truncated.name].broken
    assert "attention.keras" in listing[corrupt.name].broken
    assert "run.json is missing" in listing["20200101-000003-dddddd"].broken
    assert "not a seqattn run" in listing["not-a-run"].broken
    assert "run.json is unreadable" in listing["20200101-000004-eeeeee"].broken
    with pytest.raises(RunError, match="cannot be used"):
        load_models(corrupt.name)


@pytest.mark.parametrize("bad", ["../../etc", "..", "/etc/passwd", "20261123-195700-a1b2c3/../x", "", None, "x" * 300])
def test_malformed_run_ids_are_rejected_before_touching_files(root, bad):
    with pytest.raises(ValueError, match="not a run id"):
        validate_run_id(bad)
    with pytest.raises(ValueError):
        jobs.status(bad)
    with pytest.raises(ValueError):
        jobs.cancel(bad)


def test_unknown_run_id_is_a_clear_error(root):
    with pytest.raises(RunError, match="no run 20200101-000000-abcdef"):
        jobs.status("20200101-000000-abcdef")


def test_unwritable_root_gives_clear_error(tmp_path):
    # A regular file where the folder should be is unwritable even for root.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RunError, match="Cannot write to the runs folder"):
        ensure_root(blocker / "runs")
    with pytest.raises(RunError, match="Cannot write to the runs folder"):
        jobs.start(PROBLEM, model=MODEL, train=tiny(), root=blocker / "runs")


# --- Resources: memory guard, queued workers, heartbeat and stalls, checkpoints (issue 13) ---


def _status_file(run_id: str) -> dict:
    return json.loads((run_dir(run_id) / "status.json").read_text())


def test_running_job_over_its_memory_budget_stops_itself_with_a_reason(root, monkeypatch, tmp_path):
    # A budget below what TensorFlow alone takes; the start check (an estimate) is
    # turned off in both processes so the running job meets the budget.
    monkeypatch.setattr(jobs, "check_budget", lambda *args, **kwargs: None)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    # The budget counts memory that no file backs (not TensorFlow's library pages, shared by all our processes):
    # the worker holds 100 MiB of it more than usual, so that with TensorFlow's it is over the smallest budget accepted.
    (hooks / "sitecustomize.py").write_text(
        "import seqattn.jobs.control\n"
        "seqattn.jobs.control.check_budget = lambda *args, **kwargs: None\n"
        "held = b'1' * (100 << 20)\n"
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(hooks), str(ROOT)]))
    monkeypatch.setenv("SEQATTN_MEMORY_BUDGET_GB", "0.3")
    run_id = jobs.start(PROBLEM, model=MODEL, train=tiny(updates=200_000, eval_every=1000))
    wait_for(lambda: not jobs.status(run_id).active, timeout=120)
    status = jobs.status(run_id)
    assert status.state == "failed"
    assert status.error.startswith("stopped: memory use ")
    assert status.error.endswith("GiB reached the budget 0.3 GiB")


def test_queued_worker_waits_without_tensorflow(queued_behind_a_running_job):
    seen = queued_behind_a_running_job
    assert seen["second_after_2s"] == "queued"
    rss, mapped = seen["rss"], seen["mapped"]
    print(f"queued worker RSS: {rss / 2**20:.0f} MiB")
    assert not any("tensorflow" in path for path in mapped)
    assert rss < 300 * 2**20


def test_frozen_worker_is_stalled_and_frees_its_slot(root, monkeypatch):
    monkeypatch.setenv("SEQATTN_MAX_JOBS", "1")
    monkeypatch.setenv("SEQATTN_STALL_SECONDS", "10")  # the shortest accepted (seqattn/settings.py)
    frozen = jobs.start(PROBLEM, model=MODEL, train=tiny(updates=200_000, eval_every=1000))
    wait_for(lambda: jobs.status(frozen).update >= 20)
    assert "heartbeat" in _status_file(frozen)
    pid = _status_file(frozen)["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        # The job that takes the slot over need not train for real (tests/fake_trainer); the frozen one does.
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "tests" / "fake_trainer"), str(ROOT)]))
        waiting = jobs.start(PROBLEM, model=MODEL, train=tiny())
        stopped = time.monotonic()
        wait_for(lambda: jobs.status(frozen).state == "stalled", timeout=30)
        assert time.monotonic() - stopped < 20
        stalled = jobs.status(frozen)
        assert not stalled.active and "no sign of life" in stalled.error
        wait_for(lambda: jobs.status(waiting).state == "done", timeout=120)
    finally:
        os.kill(pid, signal.SIGCONT)
    # Woken up, the frozen job finds its slot taken and stops itself, keeping what it had.
    wait_for(lambda: jobs.status(frozen).state not in ("running", "stalled", "queued"), timeout=30)
    final = jobs.status(frozen)
    assert final.state == "interrupted" and "its slot went to the next job" in final.error


def test_killed_run_keeps_its_models_from_the_last_evaluation(killed_run, monkeypatch):
    from seqattn.model.builders import Predictor
    from seqattn.runs import load_models

    path, run_id, checkpoint = killed_run
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(path))
    assert checkpoint["update"] % 40 == 0 and set(checkpoint["accuracy"]) == {"baseline", "attention"}
    assert jobs.status(run_id).state == "interrupted"
    directory = run_dir(run_id)
    assert not [p for p in directory.iterdir() if p.name.startswith(".") and p.suffix == ".keras"]
    summary = get_run(run_id)
    assert summary.usable and summary.checkpoint == _status_file(run_id)["checkpoint"]["update"], summary
    assert f"models as at update {summary.checkpoint:,}" in summary.label()
    models = load_models(run_id)
    inputs = np.random.default_rng(0).integers(0, PROBLEM.cardinality, size=(4, PROBLEM.n_in))
    for model in models.values():
        prediction = Predictor(model)(inputs)
        assert prediction.tokens.shape == (4, PROBLEM.target_len)


def test_a_job_that_does_not_fit_beside_our_other_live_processes_is_refused(root, monkeypatch, fake_trainer):
    import subprocess
    import sys

    import psutil

    from seqattn.jobs.neighbours import register_helper
    from seqattn.training.budget import estimate_job

    # A helper process of ours (as the warm training process registers itself) holding 300 MiB, and a budget
    # with room for the job's estimate alone but not beside it.
    holder = subprocess.Popen([sys.executable, "-c", "import time; held = b'1' * (300 << 20); time.sleep(120)"])
    try:
        wait_for(lambda: psutil.Process(holder.pid).memory_info().rss > 300 << 20, timeout=30)
        register_helper(root, "memory holder", pid=holder.pid)
        estimate = estimate_job(PROBLEM, tiny(), MODEL).peak_bytes
        monkeypatch.setenv("SEQATTN_MEMORY_BUDGET_GB", f"{(estimate + (100 << 20)) / 2**30:.3f}")
        run_id = jobs.start(PROBLEM, model=MODEL, train=tiny())  # alone it fits: the start check passes
        wait_for(lambda: not jobs.status(run_id).active, timeout=60)
        status = jobs.status(run_id)
        assert status.state == "failed", status
        assert re.fullmatch(r"Refused: this training would need about [\d.]+ GiB of memory, and our other processes "
                            r"\(1 memory holder\) use 0\.3 GiB of the [\d.]+ GiB budget\. Start it again once they "
                            r"have finished, or use .+ \(or set SEQATTN_MEMORY_BUDGET_GB\)\.", status.error), status.error
        assert not get_run(run_id).has_models
    finally:
        holder.kill()
        holder.wait()


def test_an_idle_process_can_give_its_free_heap_back():
    from seqattn.processes import return_free_heap

    assert return_free_heap() is True  # glibc (Debian, as in CI): malloc_trim found and called
