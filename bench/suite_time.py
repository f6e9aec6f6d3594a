"""How long `make test` takes: the linter, then every test on pytest-xdist's processes.

Runs what the Makefile's `test` target runs (ruff, then ``pytest -n 2 --dist loadfile``) in this
checkout, from a cold XLA cache (tests/conftest.py gives every session its own), and prints the
wall time, the CPU time of every process it started, and each test file's summed test time (the
slowest first), so a change that slows the suite shows where. The goal (issue 9) is 4 minutes on
2 cores.

    python bench/suite_time.py [--workers 2] [pytest args...]
"""

from __future__ import annotations

import argparse
import collections
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 240


def file_times(junit: Path) -> dict[str, float]:
    """Summed test time (setup, call and teardown) per test file, from a JUnit XML report."""
    totals: dict[str, float] = collections.defaultdict(float)
    for case in ET.parse(junit).getroot().iter("testcase"):
        parts = case.get("classname", "").split(".")  # tests.test_app, or tests.test_app.SomeClass
        module = next((i for i, part in enumerate(parts) if part.startswith("test_")), len(parts) - 1)
        totals["/".join(parts[: module + 1]) + ".py"] += float(case.get("time", 0))
    return dict(totals)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist processes (the Makefile's TEST_WORKERS)")
    args, extra = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        started = time.monotonic()
        lint = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT)
        tests = subprocess.run([sys.executable, "-m", "pytest", "-n", str(args.workers), "--dist", "loadfile", "-q",
                                "-p", "no:cacheprovider", f"--junitxml={junit}", *extra], cwd=ROOT)
        wall = time.monotonic() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        per_file = file_times(junit) if junit.exists() else {}
    print(f"\nlint exit {lint.returncode}, tests exit {tests.returncode}")
    print("slowest test files (summed test time, s):")
    for name, seconds in sorted(per_file.items(), key=lambda item: -item[1])[:12]:
        print(f"  {seconds:6.1f}  {name}")
    print(f"CPU time of the processes it started: {usage.ru_utime + usage.ru_stime:.0f} s "
          f"(user {usage.ru_utime:.0f} s, system {usage.ru_stime:.0f} s)")
    print(f"make test (ruff + pytest -n {args.workers}): {wall:.0f} s wall "
          f"({wall // 60:.0f} min {wall % 60:02.0f} s; goal {GOAL_SECONDS} s on 2 cores)")
    return lint.returncode or tests.returncode


if __name__ == "__main__":
    sys.exit(main())
