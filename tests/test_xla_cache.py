"""XLA's persistent compilation cache (seqattn.xla_cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from seqattn import xla_cache

PROJECT = Path(__file__).resolve().parent.parent


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


TRAIN_A_LITTLE = """
import json
from seqattn.model_config import ModelConfig
from seqattn.problem import ProblemConfig
from seqattn.training import TrainConfig, train
result = train(ProblemConfig(cardinality=6, n_in=3, n_out=2),
               TrainConfig(protocol="batched", updates=3, batch_size=4, eval_size=10, seed=2), model=ModelConfig(units=8))
print(json.dumps(result.losses.tolist()))
"""


def test_a_second_process_loads_the_compiled_step_and_trains_identically(tmp_path):
    env = {**os.environ, xla_cache.CACHE_ENV: str(tmp_path / "xla"), "PYTHONPATH": str(PROJECT)}
    env.pop("TF_XLA_FLAGS", None)

    def run() -> list:
        done = subprocess.run([sys.executable, "-c", TRAIN_A_LITTLE], env=env, capture_output=True, text=True,
                              timeout=300, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = run()
    cached = sorted(p.name for p in (tmp_path / "xla").iterdir())
    assert cached, "the first process left no compiled program"
    assert run() == first
    assert sorted(p.name for p in (tmp_path / "xla").iterdir()) == cached  # loaded, not compiled again
