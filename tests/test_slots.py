"""The queue's slots: a slot in use is never taken over, an abandoned one is."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time

from seqattn.processes import process_start_time
from seqattn.runs import read_meta, update_status
from seqattn.jobs.slots import wait_for_slot
from test_runs import dead_pid, new_run


def waiter(directory) -> tuple[threading.Thread, list]:
    """``wait_for_slot`` for ``directory`` in a thread; the slot it gets lands in the list."""
    got: list = []
    thread = threading.Thread(target=lambda: got.append(wait_for_slot(directory, read_meta(directory)["created"],
                                                                        poll=0.02)), daemon=True)
    thread.start()
    return thread, got


def slot_held_by(root, state: str, heartbeat_age: float = 0.0, locked: bool = True):
    """Slot 0 named as held by a run in ``state`` (a live process, heartbeat ``heartbeat_age`` s old),
    and a queued run waiting for it; returns (holder, waiting, the slot's lock or None)."""
    _, holder = new_run(root)
    _, waiting = new_run(root)
    alive = {"pid": os.getpid(), "pid_start": process_start_time(os.getpid())}
    update_status(holder, state=state, heartbeat=time.time() - heartbeat_age, **alive)
    update_status(waiting, state="queued", **alive)
    slots = root / ".slots"
    slots.mkdir()
    (slots / "0.holder").write_text(json.dumps({"directory": str(holder.resolve())}))
    lock = None
    if locked:
        lock = open(slots / "0.lock", "a+")
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return holder, waiting, lock


def test_a_slot_being_taken_is_not_taken_over_on_its_dead_former_holders_name(tmp_path):
    root = tmp_path / "runs"
    _, gone = new_run(root)  # held slot 0, then died
    _, taking = new_run(root)  # has just locked slot 0, and is about to write its name
    _, waiting = new_run(root)
    update_status(gone, state="running", pid=dead_pid(), pid_start=time.time() - 5, heartbeat=time.time() - 5)
    update_status(waiting, state="queued", pid=os.getpid(), pid_start=process_start_time(os.getpid()))
    slots = root / ".slots"
    slots.mkdir()
    (slots / "0.holder").write_text(json.dumps({"directory": str(gone.resolve())}))
    # The taking job's moment between lock and name, inside the guard as wait_for_slot does it.
    guard = open(slots / "guard.lock", "a+")
    fcntl.flock(guard, fcntl.LOCK_EX)
    lock = open(slots / "0.lock", "a+")
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    thread, got = waiter(waiting)
    time.sleep(0.3)
    assert got == [], "no decision while a slot is being taken"
    (slots / "0.holder").write_text(json.dumps({"directory": str(taking.resolve())}))
    update_status(taking, state="running", pid=os.getpid(), pid_start=process_start_time(os.getpid()),
                  heartbeat=time.time())
    fcntl.flock(guard, fcntl.LOCK_UN)
    guard.close()
    time.sleep(0.5)
    assert got == [], "the slot is in use by a live, heartbeating job"
    # The holder dies: its lock goes with it and the waiting job takes the slot.
    update_status(taking, pid=dead_pid())
    lock.close()
    thread.join(timeout=5)
    assert got and got[0].index == 0 and got[0].still_mine()
    got[0].close()


def test_a_slot_whose_holder_stalled_is_taken_over(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQATTN_STALL_SECONDS", "10")
    _, waiting, lock = slot_held_by(tmp_path / "runs", "running", heartbeat_age=30)  # a frozen process keeps its lock
    thread, got = waiter(waiting)
    thread.join(timeout=5)
    assert got and got[0].index == 0 and got[0].still_mine()
    lock.close()


def test_a_finished_job_still_exiting_keeps_its_slot_until_its_process_ends(tmp_path):
    finishing, waiting, lock = slot_held_by(tmp_path / "runs", "done")
    thread, got = waiter(waiting)
    time.sleep(0.5)
    assert got == [], "taking it over now would let the next job take the lock it frees too"
    # The process ends: its lock is freed, then its pid is gone (the other order would let the waiter
    # see a dead holder whose lock is still held, and take the slot over instead).
    lock.close()
    update_status(finishing, pid=dead_pid())
    thread.join(timeout=5)
    assert got and got[0].still_mine() and got[0].handle is not None, "the freed lock, taken normally"
    got[0].close()


def test_a_freed_lock_is_not_taken_while_the_job_that_took_the_slot_over_trains(tmp_path):
    # Slot 0 held by takeover, without its lock (its frozen owner was killed).
    took_over, waiting, _ = slot_held_by(tmp_path / "runs", "running", locked=False)
    thread, got = waiter(waiting)
    time.sleep(0.5)
    assert got == []
    update_status(took_over, pid=dead_pid())
    thread.join(timeout=5)
    assert got and got[0].still_mine()
    got[0].close()


def test_a_released_slot_is_taken_at_once_while_its_finished_process_still_lives(tmp_path):
    """A job that has ended gives its slot back (Slot.release): the next job need not wait for its process's
    teardown, and takes the lock normally."""
    root = tmp_path / "runs"
    _, first = new_run(root)
    _, second = new_run(root)
    alive = {"pid": os.getpid(), "pid_start": process_start_time(os.getpid())}
    update_status(first, state="running", heartbeat=time.time(), **alive)
    slot = wait_for_slot(first, read_meta(first)["created"], poll=0.02)
    update_status(second, state="queued", **alive)
    thread, got = waiter(second)
    time.sleep(0.3)
    assert got == [], "the slot is in use"
    update_status(first, state="done")  # finished; this process (its owner) lives on
    slot.release()
    thread.join(timeout=5)
    assert got and got[0].index == slot.index and got[0].still_mine() and got[0].handle is not None
    got[0].close()


def test_releasing_a_slot_taken_over_from_a_frozen_process_keeps_its_name(tmp_path, monkeypatch):
    """Without a lock of its own (the frozen former holder keeps it), the slot keeps the ended job's name until
    that process ends, as before."""
    monkeypatch.setenv("SEQATTN_STALL_SECONDS", "10")
    _, waiting, lock = slot_held_by(tmp_path / "runs", "running", heartbeat_age=30)
    thread, got = waiter(waiting)
    thread.join(timeout=5)
    assert got and got[0].handle is None
    got[0].release()
    assert got[0].still_mine() and (tmp_path / "runs" / ".slots" / "0.holder").exists()
    lock.close()
