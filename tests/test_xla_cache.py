"""XLA's persistent compilation cache (seqattn.speed.xla_cache): the flags it sets, and that it never fails a run.

That processes load each other's compiled steps and train identically is checked where
several processes train anyway (tests/test_warm_worker.py). The subprocesses here are given
their own cache folder (and not the test session's ``TF_XLA_FLAGS``).
"""

from __future__ import annotations

import errno
import random
import re
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqattn.speed import xla_cache
from seqattn.training import xla_disk_cache


@pytest.fixture(autouse=True)
def nothing_said_yet(monkeypatch):
    """Each test starts with no warning said (a process says each once)."""
    monkeypatch.setattr(xla_cache, "_said", set())


def _env_with_cache(folder: Path) -> dict[str, str]:
    """This environment, with ``folder`` as the only XLA cache a child process will use."""
    env = {k: v for k, v in os.environ.items() if k != "TF_XLA_FLAGS"}
    env.update(SEQATTN_XLA_CACHE=str(folder), TF_CPP_MIN_LOG_LEVEL="2")
    return env



def test_the_default_folder_is_under_the_users_cache(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    assert xla_cache.enable(env) == tmp_path / "seqattn" / "xla"
    assert env["TF_XLA_FLAGS"] == f"--tf_xla_persistent_cache_directory={tmp_path / 'seqattn' / 'xla'}"
    assert (tmp_path / "seqattn" / "xla").is_dir()


def test_flags_the_user_set_are_kept_and_so_is_their_own_cache(tmp_path):
    env = {xla_cache.CACHE_ENV: str(tmp_path / "mine"), "TF_XLA_FLAGS": "--tf_xla_auto_jit=2"}
    assert xla_cache.enable(env) == tmp_path / "mine"
    assert env["TF_XLA_FLAGS"] == f"--tf_xla_auto_jit=2 --tf_xla_persistent_cache_directory={tmp_path / 'mine'}"
    chosen = {"TF_XLA_FLAGS": "--tf_xla_persistent_cache_directory=/elsewhere"}
    assert xla_cache.enable(chosen) is None
    assert chosen["TF_XLA_FLAGS"] == "--tf_xla_persistent_cache_directory=/elsewhere"


def test_off_or_an_unwritable_folder_adds_nothing(tmp_path):
    off = {xla_cache.CACHE_ENV: "off"}
    assert xla_cache.enable(off) is None and "TF_XLA_FLAGS" not in off
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    unwritable = {xla_cache.CACHE_ENV: str(blocked / "xla")}
    assert xla_cache.enable(unwritable) is None and "TF_XLA_FLAGS" not in unwritable


def test_a_read_only_folder_leaves_the_cache_off_and_says_so_once(tmp_path, monkeypatch, capsys):
    # A read-only mount: creating the folder works (it exists), writing a file in it does not. Root
    # ignores chmod, so the write itself is made to fail as the kernel would.
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(xla_cache.tempfile, "mkstemp", read_only)
    for _ in range(2):  # the dashboard calls enable() on every rerun of its script
        env = {xla_cache.CACHE_ENV: str(tmp_path)}
        assert xla_cache.enable(env) is None and "TF_XLA_FLAGS" not in env
    [line] = capsys.readouterr().err.splitlines()
    assert line == (f"XLA cache off: cannot write in {tmp_path} (Read-only file system); training compiles without "
                    "it. Set SEQATTN_XLA_CACHE to a writable folder, or to off.")
    xla_cache.repeat_warnings()  # a warm process says it again in its job's log
    assert capsys.readouterr().err.splitlines() == [line]


def test_the_write_probe_leaves_nothing_behind(tmp_path):
    assert xla_cache.enable({xla_cache.CACHE_ENV: str(tmp_path)}) == tmp_path
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["with space", "x --foo", 'quote " and \\ back', "it's", "tab\there", "-"])
def test_any_folder_name_goes_into_the_flags_as_tensorflow_reads_it_back(tmp_path, name):
    folder = tmp_path / name
    env = {xla_cache.CACHE_ENV: str(folder), "TF_XLA_FLAGS": "--tf_xla_auto_jit=2"}
    assert xla_cache.enable(env) == folder
    assert xla_disk_cache.parse_flags(env["TF_XLA_FLAGS"]) == [("--tf_xla_auto_jit", "2"),
                                                                (xla_cache.FLAG, str(folder))]


def test_flags_that_cannot_take_one_more_leave_the_cache_off_and_say_so(tmp_path, capsys):
    for flags in ('--tf_xla_auto_jit="2', "/a/file/of/flags"):  # a quote left open; TensorFlow reads a file
        env = {xla_cache.CACHE_ENV: str(tmp_path), "TF_XLA_FLAGS": flags}
        assert xla_cache.enable(env) is None and env["TF_XLA_FLAGS"] == flags
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(line.startswith("XLA cache off: TF_XLA_FLAGS (") for line in lines)


def test_a_folder_named_like_a_flag_is_used_by_tensorflow_as_a_folder(tmp_path):
    # For real: unquoted, the space cut the name and " --foo" made TensorFlow abort ("Unknown flag").
    folder = tmp_path / 'cache dir --foo "x"'
    script = ("from seqattn.speed import xla_cache; xla_cache.enable()\n"
              "import tensorflow as tf\n"
              "print(float(tf.function(lambda x: x * 2.0 + 1.0, jit_compile=True)(tf.constant(1.0))))")
    done = subprocess.run([sys.executable, "-c", script], env=_env_with_cache(folder), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "3.0", done.stderr[-2000:]
    assert [p.suffix for p in folder.iterdir()] == [".pb"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # nothing at the cut-off "cache"


# A tiny training's first update, XLA-compiled, in a new process (the same code path each time, so the same
# traced function name and cache key); it prints the losses.
_FIRST_UPDATE = """
from seqattn.speed import xla_cache
xla_cache.enable()
import numpy as np
from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.problem.batches import make_batch
from seqattn.training.config import TrainConfig
from seqattn.training.setup import build_setup
problem = ProblemConfig(cardinality=8, n_in=3, n_out=1)
setup = build_setup(problem, TrainConfig(protocol="batched", batch_size=4, seed=3, jit_compile=True), ("baseline",),
                    ModelConfig(units=8))
batch = make_batch(problem, 4, np.random.default_rng(0))
print(setup.update(batch.x, batch.y).tolist())
"""


def _first_update(folder: Path) -> subprocess.CompletedProcess[str]:
    """Run :data:`_FIRST_UPDATE` with ``folder`` as the XLA cache."""
    return subprocess.run([sys.executable, "-c", _FIRST_UPDATE], env=_env_with_cache(folder), capture_output=True,
                          text=True, errors="replace", timeout=120)  # TensorFlow's log quotes the garbage it read


def test_a_corrupt_cache_file_costs_one_compile_not_the_run(tmp_path):
    cache = tmp_path / "xla"
    first = _first_update(cache)
    assert first.returncode == 0, first.stderr[-2000:]
    [entry] = cache.glob("*.pb")
    entry.write_bytes(random.Random(0).randbytes(entry.stat().st_size))  # fixed garbage: the error type depends on it
    second = _first_update(cache)
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.stdout == first.stdout  # the failed call changed nothing: the same loss
    said = [line for line in second.stderr.splitlines() if line.startswith("XLA cache:")]
    # TensorFlow names the failure after what in the garbage it trips on (DataLossError, OutOfRangeError, ...)
    assert len(said) == 1 and re.fullmatch(
        rf"XLA cache: the update step failed to compile or load \(\w+Error\); set aside 1 bad file\(s\) "
        rf"in {re.escape(str(cache))} and compiled it afresh\.", said[0]), said
    assert (cache / (entry.name + ".corrupt")).is_file() and not entry.exists()
    assert [xla_disk_cache.entry_is_sound(p) for p in cache.glob("*.pb")] == [True]  # the fresh compile's


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _entry(folder: Path, function: str, signature: int = 11, cluster: int = 22) -> Path:
    """A well-formed cache entry, as TensorFlow writes one, for the traced function named ``function``."""
    key = _field(1, signature) + _field(2, cluster) + _field(3, b"XLA_CPU_JIT") + _field(4, b"xla_compile_cache")
    hlo = _field(1, f"{function}[_XlaMustCompile=true]".encode())
    program = _field(1, b"\x7fELF...")
    path = folder / f"xla_compile_cache__{signature}__{cluster}__XLA_CPU_JIT.pb"
    path.write_bytes(_field(1, key) + _field(2, hlo) + _field(3, program))
    return path


def test_cache_files_are_judged_by_their_structure(tmp_path):
    sound = _entry(tmp_path, "__inference_step_1")
    data = sound.read_bytes()
    assert xla_disk_cache.entry_is_sound(sound)
    bad = {"empty": b"", "garbage": b"garbage\n", "truncated": data[:-3], "random": random.Random(1).randbytes(len(data))}
    for name, content in bad.items():
        path = tmp_path / f"xla_compile_cache__{name}__1__XLA_CPU_JIT.pb"
        path.write_bytes(content)
        assert not xla_disk_cache.entry_is_sound(path), name
    renamed = tmp_path / "xla_compile_cache__12__22__XLA_CPU_JIT.pb"  # another key's file
    renamed.write_bytes(data)
    assert not xla_disk_cache.entry_is_sound(renamed)


class _Traces:
    """Stand-ins for the step's successive traces: each call of a trace returns or raises the next outcome."""

    def __init__(self, *traces: list) -> None:
        self.traces = list(traces)

    def next_trace(self, step):
        step._ran = False
        outcomes = self.traces.pop(0)

        def call(*args):
            outcome = outcomes.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        return call


def test_a_program_damaged_deep_inside_is_set_aside_once_a_fresh_compile_works(tmp_path, monkeypatch, capsys):
    import tensorflow as tf

    damaged, other = _entry(tmp_path, "__inference_step_7", 1, 2), _entry(tmp_path, "__inference_step_70", 3, 4)
    monkeypatch.setenv("TF_XLA_FLAGS", f"{xla_cache.FLAG}={tmp_path}")
    failed = tf.errors.InternalError(None, None, "Failed to parse serialized CpuAotCompilationResult. "
                                                 "[Op:__inference_step_7]")
    traces = _Traces([failed], [1.5, 2.5])
    monkeypatch.setattr(xla_disk_cache.UpdateStep, "_trace", lambda step: traces.next_trace(step))
    step = xla_disk_cache.UpdateStep(lambda: None, jit_compile=True)
    assert (step(), step()) == (1.5, 2.5)
    assert not damaged.exists() and other.exists()
    assert capsys.readouterr().err == (f"XLA cache: the update step failed to compile or load (InternalError); set "
                                       f"aside 1 bad file(s) in {tmp_path} and compiled it afresh.\n")


def test_an_error_after_the_step_ran_is_not_the_caches(tmp_path, monkeypatch):
    import tensorflow as tf

    entry = _entry(tmp_path, "__inference_step_7")
    monkeypatch.setenv("TF_XLA_FLAGS", f"{xla_cache.FLAG}={tmp_path}")
    failed = tf.errors.ResourceExhaustedError(None, None, "out of memory [Op:__inference_step_7]")
    traces = _Traces([1.0, failed], [2.0])
    monkeypatch.setattr(xla_disk_cache.UpdateStep, "_trace", lambda step: traces.next_trace(step))
    step = xla_disk_cache.UpdateStep(lambda: None, jit_compile=True)
    assert step() == 1.0
    with pytest.raises(tf.errors.ResourceExhaustedError):
        step()
    assert entry.exists()
