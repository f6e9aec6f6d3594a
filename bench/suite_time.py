"""How long `make test` takes, optionally side by side with another commit's `make test`.

Runs this checkout's own Makefile ``test`` recipe (today: ruff, then ``pytest -n 2
--dist loadfile``) with this checkout's ``.venv`` already set up, from a cold XLA cache
(tests/conftest.py gives every session its own), and prints the wall time, the CPU
time of every process it started, and each test file's summed test time (the slowest
first), so a change that slows the suite shows where.

``--against REV`` also times REV's own ``make test`` recipe, in a temporary git worktree
with the same ``.venv``, alternating with this checkout's for ``--rounds`` rounds (this
one first in odd rounds, REV first in even ones). The machine's speed drifts by tens of
seconds between runs of the same code, so a goal like issue 9's "not slower than
today's 4 min" is decided by this ratio against the commit of that day (7ff5339), not by
one absolute figure.

``--fresh`` times what CI times instead: each run is a fresh clone (this checkout's HEAD,
or REV) whose plain ``make test`` builds its own new ``.venv`` first (pip's download
cache is shared), then runs the recipe.

    python bench/suite_time.py [--against 7ff5339] [--rounds 2] [--fresh]
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "7ff5339"  # the code issue 9 was filed on: its `make test` is the "4 min" to stay under


@dataclass(frozen=True)
class SuiteRun:
    """One `make test`: wall and CPU seconds, exit code, summed test time per test file, tests run."""

    wall: float
    cpu: float
    code: int
    per_file: dict[str, float]
    tests: int


def file_times(junit: Path) -> tuple[dict[str, float], int]:
    """Summed test time (setup, call and teardown) per test file, and the number of tests, from a JUnit report."""
    totals: dict[str, float] = collections.defaultdict(float)
    count = 0
    for case in ET.parse(junit).getroot().iter("testcase"):
        parts = case.get("classname", "").split(".")  # tests.test_app, or tests.test_app.SomeClass
        module = next((i for i, part in enumerate(parts) if part.startswith("test_")), len(parts) - 1)
        totals["/".join(parts[: module + 1]) + ".py"] += float(case.get("time", 0))
        count += 1
    return dict(totals), count


def timed_make(command: list[str], env: dict[str, str]) -> SuiteRun:
    """Run a `make ... test` command with a JUnit report asked of pytest; its times and exit code."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        env = dict(env, PYTEST_ADDOPTS=f"-p no:cacheprovider --junitxml={junit}")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        code = subprocess.run(command, env=env).returncode
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        per_file, tests = file_times(junit) if junit.exists() else ({}, 0)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return SuiteRun(wall, cpu, code, per_file, tests)


def make_test(checkout: Path, venv: Path) -> SuiteRun:
    """Run ``checkout``'s own `make test` recipe with ``venv`` (its set-up steps taken as done)."""
    # The set-up stamps count as old, so make runs only the recipe, whatever the checkout's requirements.
    return timed_make(["make", "-s", "-C", str(checkout), "test", f"VENV={venv}",
                       "-o", f"{venv}/.run-deps", "-o", f"{venv}/.test-deps"], dict(os.environ))


def fresh_make_test(rev: str) -> SuiteRun:
    """Clone this repository at ``rev`` into a temporary folder and run its plain `make test` (new .venv)."""
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", "--detach", rev], check=True)
        env = {name: value for name, value in os.environ.items() if name != "VIRTUAL_ENV"}
        return timed_make(["make", "-s", "-C", str(clone), "test"], env)


def describe(label: str, run: SuiteRun) -> str:
    return (f"{label}: {run.wall:.0f} s wall ({run.wall // 60:.0f} min {run.wall % 60:02.0f} s), "
            f"{run.cpu:.0f} s CPU, {run.tests} tests, exit {run.code}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="also time this commit's `make test`, alternating")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each (default 1)")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv", help="the set-up .venv both use")
    parser.add_argument("--fresh", action="store_true", help="fresh clones, each building its own .venv, as CI does")
    args = parser.parse_args()
    venv = args.venv.resolve()
    if not args.fresh and not (venv / "bin" / "python").exists():
        parser.error(f"no .venv at {venv}: run `make test` once first")
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    here: list[SuiteRun] = []
    there: list[SuiteRun] = []
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp) / "other"
        if args.against and not args.fresh:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--quiet", "--detach", str(other), args.against],
                           check=True)
        try:
            for round_ in range(args.rounds):
                order = [(here, ROOT, head, f"fresh clone of {head}" if args.fresh else "this checkout")]
                if args.against:
                    order.append((there, other, args.against, f"fresh clone of {args.against}" if args.fresh else args.against))
                for runs, checkout, rev, label in order if round_ % 2 == 0 else order[::-1]:
                    runs.append(fresh_make_test(rev) if args.fresh else make_test(checkout, venv))
                    print(describe(f"round {round_ + 1}, {label}", runs[-1]), flush=True)
        finally:
            if args.against and not args.fresh:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)], check=False)
    last = here[-1]
    print("\nslowest test files of this checkout, last round (summed test time, s):")
    for name, seconds in sorted(last.per_file.items(), key=lambda item: -item[1])[:12]:
        print(f"  {seconds:6.1f}  {name}")
    walls = [run.wall for run in here]
    print(f"make test, this checkout: {', '.join(f'{w:.0f}' for w in walls)} s wall "
          f"(goal: not slower than {REFERENCE}'s, side by side: --against {REFERENCE})")
    if args.against:
        theirs = [run.wall for run in there]
        print(f"make test, {args.against}: {', '.join(f'{w:.0f}' for w in theirs)} s wall")
        print(f"this checkout / {args.against}, median wall: {statistics.median(walls) / statistics.median(theirs):.2f}x "
              f"({len(here)} runs each, alternating)")
    return max(run.code for run in here + there)


if __name__ == "__main__":
    sys.exit(main())
