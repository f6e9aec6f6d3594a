"""Fixtures shared by the page tests."""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from seqattn.speed import xla_cache

# The session's own XLA cache (seqattn.speed.xla_cache), set before seqattn is imported: the test processes
# share the programs they compile, and none comes from the user's cache, so a run here is as cold as on
# a fresh machine. pytest-xdist's workers inherit it; the process that made it removes it.
if "SEQATTN_XLA_CACHE" not in os.environ:
    os.environ["SEQATTN_XLA_CACHE"] = tempfile.mkdtemp(prefix="seqattn-test-xla-")
    atexit.register(shutil.rmtree, os.environ["SEQATTN_XLA_CACHE"], ignore_errors=True)
# The test session is an entry point, as the dashboard and the CLI are: it turns the cache on
# (and TensorFlow's start-up chatter off) for itself and every process it starts.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
xla_cache.enable()

from seqattn.jobs import control as jobs  # noqa: E402
from seqattn.model.config import ModelConfig  # noqa: E402
from seqattn.problem.config import ProblemConfig  # noqa: E402
from seqattn.training.config import TrainConfig  # noqa: E402

TINY_PROBLEM = ProblemConfig(cardinality=10, n_in=5, n_out=2)


def wait_done(run_id: str, root, timeout: float = 180) -> None:
    """Wait for a job to end (a test fails if it takes longer than ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while jobs.status(run_id, root).active:
        assert time.monotonic() < deadline, "job did not finish"
        time.sleep(0.2)


@pytest.fixture(scope="session")
def saved_run(tmp_path_factory):
    """A tiny finished run, trained well enough to be interesting; trained once per test session.

    Under pytest-xdist the first worker that needs it trains it (the others wait on a lock), and
    every worker gets its own copy, so no test writes into another worker's runs folder.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    source, trained = shared / "saved_run" / "runs", shared / "saved_run.id"
    with open(shared / "saved_run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not trained.exists():
            config = TrainConfig(protocol="batched", updates=150, batch_size=32, eval_every=50, eval_size=100,
                                 jit_compile=False)
            run_id = jobs.start(TINY_PROBLEM, config, model=ModelConfig(units=16), root=source)
            wait_done(run_id, source)
            assert jobs.status(run_id, source).state == "done"
            trained.write_text(run_id)
    run_id = trained.read_text()
    root = tmp_path_factory.mktemp("app") / "runs"
    root.mkdir()
    shutil.copytree(source / run_id, root / run_id)
    assert jobs.status(run_id, root).state == "done"
    return root, run_id


@pytest.fixture()
def runs(tmp_path, monkeypatch):
    """An empty runs root, the one the pages read (``$SEQATTN_RUNS_DIR``); some test files define their own."""
    root = tmp_path / "runs"
    monkeypatch.setenv("SEQATTN_RUNS_DIR", str(root))
    return root


@pytest.fixture()
def fake_trainer(monkeypatch):
    """Workers started from here train nothing: tests/fake_trainer replaces the trainer (for page tests)."""
    here = Path(__file__).resolve().parent
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(here / "fake_trainer"), str(here.parent)]))


@pytest.fixture()
def fake_backend():
    """Jobs a page starts are played in this process by tests/fake_trainer/launcher.py (through the jobs seam,
    :func:`ui.backend.use_launcher`): no worker process, no training. Hold them with ``fake_backend.hold()``."""
    from fake_trainer.launcher import FakeLauncher
    from ui import backend

    launcher = FakeLauncher()
    backend.use_launcher(launcher)
    yield launcher
    backend.use_launcher(None)
    launcher.join()


_MAIN = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Put pytest's ``__main__`` back after each test: AppTest leaves the page it ran there, and a Dask
    LocalCluster started later in this process would make each spawned worker run that page again."""
    yield
    sys.modules["__main__"] = _MAIN
