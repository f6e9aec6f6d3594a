"""Soak: many small jobs from several clients while workers are killed or frozen and files damaged.

Three client threads each start ``--jobs`` small trainings through the jobs API
(as three dashboard sessions would). Meanwhile a chaos loop, every few seconds,
SIGKILLs or SIGSTOPs a random live worker (a frozen one is never resumed: the
heartbeat must free its slot) and damages one finished run's files. At the end
it prints how the jobs ended, the runs whose state and files disagree (goal 0),
the tracebacks found in any log (goal 0) and the peak memory of this process
(the "server") and of the workers.

Run: ``.venv/bin/python bench/soak.py [--clients 3] [--jobs 10] [--chaos-every 4]``
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seqattn.jobs import control as jobs  # noqa: E402
from seqattn.model.config import ModelConfig  # noqa: E402
from seqattn.problem.config import ProblemConfig  # noqa: E402
from seqattn.runs import list_runs, run_dir  # noqa: E402
from seqattn.training.config import TrainConfig  # noqa: E402

PROBLEM = ProblemConfig(cardinality=10, n_in=5, n_out=2)
MODEL = ModelConfig(units=8)
TRAIN = TrainConfig(protocol="batched", updates=300, batch_size=16, eval_every=100, eval_size=100)
END_STATES = {"done", "cancelled", "failed", "interrupted", "stalled", "broken"}


class Peaks:
    """Peak resident memory of this process and of the largest worker, sampled twice a second."""

    def __init__(self) -> None:
        self.server = 0
        self.worker = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.5):
            self.server = max(self.server, me.memory_info().rss)
            for child in me.children(recursive=True):
                try:
                    if "seqattn.jobs.worker" in " ".join(child.cmdline()):
                        self.worker = max(self.worker, child.memory_info().rss)
                except psutil.Error:
                    pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def client(root: Path, count: int, started: list[str], refused: list[str], lock: threading.Lock) -> None:
    """One session: starts ``count`` jobs a second or two apart; refused by the queue cap, it waits and tries again."""
    for _ in range(count):
        while True:
            try:
                run_id = jobs.start(PROBLEM, dataclasses.replace(TRAIN, seed=random.randrange(10_000)), model=MODEL,
                                    root=root)
            except jobs.QueueFull as exc:
                with lock:
                    refused.append(str(exc))
                time.sleep(2.0)
                continue
            with lock:
                started.append(run_id)
            break
        time.sleep(random.uniform(0.5, 2.0))


def worker_pid(root: Path, run_id: str) -> int | None:
    try:
        status = json.loads((run_dir(run_id, root) / "status.json").read_text())
    except (OSError, ValueError):
        return None
    return status.get("pid") if status.get("state") in ("queued", "running") else None


def chaos(root: Path, started: list[str], lock: threading.Lock, every: float, done: threading.Event,
          events: collections.Counter) -> None:
    """Every ``every`` seconds: kill or freeze a random live worker, and damage a finished run."""
    while not done.wait(every):
        with lock:
            candidates = list(started)
        live = [(r, pid) for r in candidates if (pid := worker_pid(root, r))]
        if live:
            run_id, pid = random.choice(live)
            how = random.choice([signal.SIGKILL, signal.SIGSTOP])
            try:
                os.kill(pid, how)
                events["frozen" if how == signal.SIGSTOP else "killed"] += 1
            except OSError:
                pass
        finished = [r for r in candidates if jobs.status(r, root).state == "done"]
        if finished:
            victim = run_dir(random.choice(finished), root)
            target = random.choice(["evals.jsonl", "progress.csv", "result.json"])
            try:
                with open(victim / target, "ab") as handle:
                    handle.write(b"\x00\xffnot what this file should hold\n")
                events[f"damaged {target}"] += 1
            except OSError:
                pass


def disagreements(root: Path) -> list[str]:
    """Runs whose state and files do not fit together: still active after the soak, or done but unusable."""
    found = []
    for summary in list_runs(root):
        state = jobs.status(summary.id, root).state
        if state in ("queued", "running"):
            found.append(f"{summary.id}: still {state} after the soak")
        elif state == "done" and not summary.usable:
            found.append(f"{summary.id}: done but its models cannot be used ({summary.broken})")
    return found


def tracebacks(root: Path) -> list[str]:
    found = []
    for log in root.rglob("*.log"):
        text = log.read_text(errors="replace")
        if "Traceback" in text:
            found.append(str(log.relative_to(root)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=10, help="jobs per client")
    parser.add_argument("--chaos-every", type=float, default=8.0, help="seconds between chaos events")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for every job to end")
    args = parser.parse_args()
    os.environ.setdefault("SEQATTN_STALL_SECONDS", "10")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        started: list[str] = []
        refused: list[str] = []
        lock = threading.Lock()
        events: collections.Counter = collections.Counter()
        peaks = Peaks()
        clock = time.monotonic()
        done = threading.Event()
        chaos_thread = threading.Thread(target=chaos, args=(root, started, lock, args.chaos_every, done, events),
                                        daemon=True)
        chaos_thread.start()
        clients = [threading.Thread(target=client, args=(root, args.jobs, started, refused, lock))
                   for _ in range(args.clients)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            states = [jobs.status(r, root).state for r in started]
            if all(s in END_STATES for s in states):
                break
            time.sleep(1.0)
        done.set()
        chaos_thread.join()
        peaks.stop()
        elapsed = time.monotonic() - clock
        # Frozen workers are never resumed by the soak: end them now.
        for proc in psutil.Process().children(recursive=True):
            try:
                if "seqattn.jobs.worker" in " ".join(proc.cmdline()):
                    proc.kill()
            except psutil.Error:  # already gone, or a zombie the jobs module is about to reap
                pass
        time.sleep(1.0)  # the jobs module reaps its children in the background

        ended = collections.Counter(jobs.status(r, root).state for r in started)
        print(f"soak: {args.clients} clients x {args.jobs} jobs, chaos every {args.chaos_every:g} s, "
              f"{elapsed:.0f} s in all")
        print(f"jobs started {len(started)}; starts refused by the queue cap (then retried) {len(refused)}")
        for state in ("done", "cancelled", "interrupted", "stalled", "failed", "broken", "queued", "running"):
            print(f"  {state:12s} {ended.get(state, 0)}")
        print("chaos: " + ", ".join(f"{k} {v}" for k, v in sorted(events.items())))
        reasons = collections.Counter()
        for run_id in started:
            status = jobs.status(run_id, root)
            if status.state in ("interrupted", "failed", "broken", "stalled"):
                reasons[f"{status.state}: {(status.error or '')[:90]}"] += 1
        for reason, count in reasons.most_common(6):
            print(f"  {count:3d} x {reason}")
        bad = disagreements(root)
        print(f"runs whose state or files disagree: {len(bad)} (goal 0)")
        for line in bad[:10]:
            print("  " + line)
        traces = tracebacks(root)
        print(f"tracebacks in any log: {len(traces)} (goal 0)")
        for line in traces[:10]:
            print("  " + line)
        if refused:
            print(f"queue cap message: {refused[0]}")
        print(f"peak memory: server (this process) {peaks.server / 2**30:.2f} GiB, "
              f"largest worker {peaks.worker / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
