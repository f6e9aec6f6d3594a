"""XLA's persistent compilation cache (seqattn.speed.xla_cache): the flags it sets.

That processes load each other's compiled steps and train identically is checked where
several processes train anyway (tests/test_warm_worker.py).
"""

from __future__ import annotations


from seqattn.speed import xla_cache



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
