"""The "instant demo" figures of issue 11, measured in Chromium on fresh servers.

Seed problem (K=50, n_in=5, n_out=2), the Train form's batched defaults:

* ``train``: open /Train, click "Train both models"; seconds until the live
  loss chart has a point, and until "Attention exact match" shows >= 95 %;
* ``explore``: a run trained beforehand with the CLI (``python -m seqattn
  train --protocol batched``); on a freshly started server, seconds from
  ``page.goto('/Explore?run=<id>')`` to the drawn attention heatmap, two ways:
  *home first* (the home page drawn, then the server's warm-up thread left to
  finish, as while the speaker talks) and *direct* (no home page: the plain cost);
  and *home first, sidebar link*: from the home page, a click on the sidebar's
  Explore link (no page reload) to the drawn heatmap;
* the train figures are taken once the server's warm training process is ready
  (``seqattn.speed.warm_pool``; how long that took after opening /Train is printed);
* ``launch``: ``streamlit run dashboard.py`` to the home page's title in the
  page and to its first screen drawn (bench/startup_time.py's measure), for a first
  visit (empty browser cache) and a returning browser (same port, cached
  scripts), and whether TensorFlow was loaded by then;
* ``keystroke``: server-side cost of one Explore keystroke (parse, both
  predictions, attention, figure): bench/predict_latency.py's p50.
* ``change`` (issue 25): on a fresh server, /Train opened and its warm process ready, the
  speaker changes Input length to 8, waits 5 s, clicks: seconds to the first loss point; once
  that run is done, "Train another", Input length 10, 5 s, click: the same; while that run
  trains, "Train another", Input length 8, 5 s, "Cancel it and train": the same;
* ``ready``: ``streamlit run dashboard.py`` launched, the home page opened as soon as the
  server answers: seconds from launch until the warm training process is ready (a click on
  the Train form's defaults would train at once);
* ``floors`` (issue 25): bench/page_floors.py's figures: launch -> home title beside a one-line
  Streamlit page, fresh-server /Explore?run= -> heatmap beside a page holding a title and one
  Plotly heatmap, and their ratios, all measured in this run.

Every figure is the median over ``--repeats`` fresh server starts (3).

Run: ``.venv/bin/python bench/demo_latency.py [--repeats 3] [--only train,explore,launch,keystroke]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT / "tests"))
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(PROJECT))

from e2e_server import (  # noqa: E402
    HEATMAP_JS, LOSS_POINTS_JS, Server, free_port, start_server, stop_server, venv_python,
)
from startup_time import ARGS, CHROMIUM, one_start  # noqa: E402

STAGES = ("train", "change", "ready", "explore", "launch", "floors", "keystroke")
VIEWPORT = {"width": 1400, "height": 900}
PAGE_TIMEOUT = 120_000  # ms
TRAIN_TIMEOUT = 300_000  # ms: a whole seed run on a busy 2-core machine
QUIET_TIMEOUT = 120.0  # s: waiting for the warm-up to end
SEED_FORM = {"Cardinality": "50", "Input length": "5", "Echo length": "2"}
SETTLE_SECONDS = 5.0  # the speaker changes a setting, then talks this long before clicking
TARGET_ACCURACY = 95.0


# The best "Attention exact match" metric on the page (live "(held out)" or the finished run's), in %.
ATTENTION_ACCURACY_JS = """
() => {
  let best = -1;
  for (const metric of document.querySelectorAll('[data-testid="stMetric"]')) {
    const label = metric.querySelector('[data-testid="stMetricLabel"]');
    const value = metric.querySelector('[data-testid="stMetricValue"]');
    if (!label || !value || !/^\\s*Attention exact match/i.test(label.innerText)) continue;
    const match = value.innerText.match(/([\\d.]+)\\s*%/);
    if (match) best = Math.max(best, parseFloat(match[1]));
  }
  return best;
}
"""


# -- helpers -------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_quiet(pid: int, quiet: float = 1.0, timeout: float = QUIET_TIMEOUT) -> float:
    """Wait until the server process burns (almost) no CPU for ``quiet`` seconds; returns seconds waited."""
    started = time.perf_counter()
    last = cpu_seconds(pid)
    calm_since = time.perf_counter()
    while time.perf_counter() - started < timeout:
        time.sleep(0.2)
        now = cpu_seconds(pid)
        if now - last > 0.05 * 0.2 * 2:  # more than ~5 % of a core over the tick: still working
            calm_since = time.perf_counter()
        last = now
        if time.perf_counter() - calm_since >= quiet:
            return time.perf_counter() - started - quiet
    return time.perf_counter() - started


def wait_warm_ready(runs: Path, since: float, timeout: float = QUIET_TIMEOUT) -> float | None:
    """Seconds from ``since`` until the server's warm training process is ready (seqattn.speed.warm_pool), None if never."""
    while time.perf_counter() - since < timeout:
        if list((runs / ".warm").glob("*.ready")):
            return time.perf_counter() - since
        time.sleep(0.1)
    return None


def median(values: list[float | None]) -> float | None:
    real = [v for v in values if v is not None]
    return statistics.median(real) if real else None


def fmt(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "–"
    return f"{value:.2f} {unit}" if unit == "s" else f"{value:.1f} {unit}"


class Browser:
    """One headless Chromium for the whole bench; a fresh context (empty cache) per measurement."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        self.returning = None  # (context, port) of bench/startup_time.py's returning browser, once primed

    def new_page(self):
        context = self.browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(PAGE_TIMEOUT)
        return context.new_page()

    def close(self) -> None:
        if self.returning is not None:
            self.returning[0].close()
        self.browser.close()
        self._playwright.stop()


@contextlib.contextmanager
def fresh_server_and_page(browser: Browser, runs_dir: Path, tmp: Path, name: str) -> Iterator[tuple[Server, object]]:
    """A freshly started server on ``runs_dir`` and a page in a fresh browser context; both closed after."""
    server = start_server(runs_dir, tmp / f"{name}.log")
    page = browser.new_page()
    try:
        yield server, page
    finally:
        page.context.close()
        stop_server(server)


# -- train ---------------------------------------------------------------------
def one_training(browser: Browser, tmp: Path, index: int) -> dict[str, float | None]:
    """Click "Train both models" on the seed problem's defaults: first loss point, attention >= 95 %."""
    from playwright.sync_api import expect  # imported where used, as Browser imports Playwright

    runs = tmp / f"train{index}" / "runs"
    with fresh_server_and_page(browser, runs, tmp, f"train{index}") as (server, page):
        opened = time.perf_counter()
        page.goto(server.url + "/Train")
        button = page.get_by_role("button", name="Train both models")
        button.wait_for()
        page.get_by_text("Batched (fast)", exact=True).wait_for()
        for label, value in SEED_FORM.items():  # the form's defaults are the seed problem
            # Retried until shown: a number field was once read empty, a moment before its value, on a fresh server.
            expect(page.get_by_label(label, exact=True), f"the Train form's {label} is the seed problem's "
                   f"{value}").to_have_value(value, timeout=10_000)
        assert page.get_by_role("radio", name="Batched (fast)").is_checked(), "batched is the default protocol"
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')")
        # As on stage, the server has been up a little while: its warm training process is ready.
        ready = wait_warm_ready(runs, opened)
        clicked = time.perf_counter()
        button.click()
        page.wait_for_function(f"() => ({LOSS_POINTS_JS})() >= 1", timeout=TRAIN_TIMEOUT, polling=50)
        first_point = time.perf_counter() - clicked
        reached = None
        try:
            page.wait_for_function(f"(target) => ({ATTENTION_ACCURACY_JS})() >= target", arg=TARGET_ACCURACY,
                                   timeout=TRAIN_TIMEOUT, polling=50)
            reached = time.perf_counter() - clicked
        except Exception as exc:  # noqa: BLE001  (the run may end below the target: no figure then)
            print(f"  train {index}: attention never showed {TARGET_ACCURACY:.0f} % "
                  f"(best {page.evaluate(ATTENTION_ACCURACY_JS)} %): {exc.__class__.__name__}")
        print(f"  train {index}: warm process ready {fmt(ready)} after opening /Train; first loss point "
              f"{first_point:.2f} s, attention >= 95 % {fmt(reached)}")
        return {"first loss point": first_point, "attention >= 95 %": reached, "warm process ready": ready}


# -- change --------------------------------------------------------------------
def set_number(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')")


def first_point_after(page, click) -> float:
    """Seconds from ``click()`` to the new run's first loss point on the page."""
    before = page.url
    clicked = time.perf_counter()
    click()
    page.wait_for_url(lambda url: url != before and "run=" in url, timeout=PAGE_TIMEOUT)
    page.wait_for_function(f"() => ({LOSS_POINTS_JS})() >= 1", timeout=TRAIN_TIMEOUT, polling=50)
    return time.perf_counter() - clicked


def one_change(browser: Browser, tmp: Path, index: int) -> dict[str, float | None]:
    """A setting changed before each click: Input length 8, then 10 after a run, then 8 with "Cancel it and train"."""
    runs = tmp / f"change{index}" / "runs"
    with fresh_server_and_page(browser, runs, tmp, f"change{index}") as (server, page):
        opened = time.perf_counter()
        page.goto(server.url + "/Train")
        page.get_by_role("button", name="Train both models").wait_for()
        wait_warm_ready(runs, opened)
        set_number(page, "Input length", "8")
        time.sleep(SETTLE_SECONDS)
        to_8 = first_point_after(page, page.get_by_role("button", name="Train both models").click)
        page.get_by_text(re.compile(r"^Done: ")).wait_for(timeout=TRAIN_TIMEOUT)
        page.get_by_role("button", name="Train another").click()
        set_number(page, "Input length", "10")
        time.sleep(SETTLE_SECONDS)
        to_10 = first_point_after(page, page.get_by_role("button", name="Train both models").click)
        page.get_by_role("button", name="Train another").click()
        page.get_by_role("button", name="Cancel it and train").wait_for()
        set_number(page, "Input length", "8")
        time.sleep(SETTLE_SECONDS)
        cancel_and_train = first_point_after(page, page.get_by_role("button", name="Cancel it and train").click)
        prepared = [json.loads((d / "status.json").read_text()).get("prepared")
                    for d in sorted(runs.iterdir()) if d.is_dir() and not d.name.startswith(".")]
    print(f"  change {index}: -> 8: {to_8:.2f} s, after a run -> 10: {to_10:.2f} s, cancel it and train (8): "
          f"{cancel_and_train:.2f} s; prepared ahead: {prepared}")
    return {"changed to 8 -> first loss point": to_8, "changed to 10 after a run -> first loss point": to_10,
            "cancel it and train (8) -> first loss point": cancel_and_train}


# -- ready ---------------------------------------------------------------------
def one_ready(browser: Browser, tmp: Path, index: int) -> dict[str, float | None]:
    """Launch -> the warm training process ready, the home page opened as soon as the server answers."""
    from startup_time import HEADING

    runs = tmp / f"ready{index}" / "runs"
    launched = time.perf_counter()
    server = start_server(runs, tmp / f"ready{index}.log")
    page = browser.new_page()
    try:
        page.goto(server.url)
        page.get_by_role("heading", name=HEADING).wait_for()
        title = time.perf_counter() - launched
        ready = wait_warm_ready(runs, launched)
    finally:
        page.context.close()
        stop_server(server)
    print(f"  ready {index}: title {title:.2f} s, warm process ready {fmt(ready)} after launch")
    return {"launch -> ready for an instant click": ready}


# -- explore -------------------------------------------------------------------
def seed_run(tmp: Path) -> tuple[Path, str]:
    """Train the seed problem with the CLI (batched defaults) into a runs folder; returns (root, run id)."""
    root = tmp / "seed" / "runs"
    started = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    subprocess.run([venv_python(), "-m", "seqattn", "train", "--protocol", "batched", "--out", str(root), "--quiet"],
                   cwd=PROJECT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_id = next(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    print(f"  seed run {run_id} trained with the CLI in {time.perf_counter() - started:.1f} s")
    return root, run_id


def existing_run(root: Path) -> tuple[Path, str]:
    """The newest finished run of a runs folder given with ``--runs``."""
    from seqattn.runs import list_runs

    usable = [r for r in list_runs(root) if r.usable]
    if not usable:
        raise SystemExit(f"no finished run in {root}")
    print(f"  seed run {usable[0].id} from {root}")
    return root, usable[0].id


def time_explore(page, server: Server, run_id: str) -> float:
    started = time.perf_counter()
    page.goto(f"{server.url}/Explore?run={run_id}")
    page.wait_for_function(HEATMAP_JS, timeout=PAGE_TIMEOUT, polling=20)
    return time.perf_counter() - started


def one_explore(browser: Browser, root: Path, run_id: str, tmp: Path, index: int) -> dict[str, float | None]:
    from startup_time import HEADING

    results: dict[str, float | None] = {}
    # Home first: the home page drawn, the warm-up left to finish (the speaker talks), then Explore.
    with fresh_server_and_page(browser, root, tmp, f"explore-home{index}") as (server, page):
        page.goto(server.url)
        page.get_by_role("heading", name=HEADING).wait_for()
        warm = wait_quiet(server.process.pid)
        results["explore, home first"] = time_explore(page, server, run_id)
        results["warm-up (home drawn -> server idle)"] = warm
    # Home first, then the sidebar's Explore link, as a speaker clicks it (no page reload; Explore opens
    # on the newest run, the seed run).
    with fresh_server_and_page(browser, root, tmp, f"explore-link{index}") as (server, page):
        page.goto(server.url)
        page.get_by_role("heading", name=HEADING).wait_for()
        wait_quiet(server.process.pid)
        started = time.perf_counter()
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Explore").click()
        page.wait_for_function(HEATMAP_JS, timeout=PAGE_TIMEOUT, polling=20)
        results["explore, home first, sidebar link"] = time.perf_counter() - started
    # Direct: a fresh server, the Explore link opened first (no home page, no warm-up).
    with fresh_server_and_page(browser, root, tmp, f"explore-direct{index}") as (server, page):
        results["explore, direct"] = time_explore(page, server, run_id)
    print(f"  explore {index}: home first {results['explore, home first']:.2f} s "
          f"(warm-up took {warm:.1f} s), by the sidebar link {results['explore, home first, sidebar link']:.2f} s, "
          f"direct {results['explore, direct']:.2f} s")
    return results


# -- launch --------------------------------------------------------------------
def one_launch(browser: Browser, index: int) -> dict[str, float | None]:
    """bench/startup_time.py's measure: a first visit (empty cache) and a returning browser (same port, cached)."""
    first = one_start(browser.browser.new_context())
    if browser.returning is None:
        browser.returning = (browser.browser.new_context(), free_port())
        one_start(*browser.returning)  # the visit that fills the cache
    again = one_start(*browser.returning)
    print(f"  launch {index}: new browser: title {first['title']:.2f} s, drawn {first['drawn']:.2f} s; returning "
          f"browser: title {again['title']:.2f} s, drawn {again['drawn']:.2f} s; TensorFlow loaded by then: "
          f"{'yes' if first['tensorflow'] or again['tensorflow'] else 'no'}")
    return {"launch -> title in the page": first["title"], "launch -> home page drawn": first["drawn"],
            "launch -> title, returning browser": again["title"],
            "launch -> home page drawn, returning browser": again["drawn"],
            "TensorFlow loaded at render (1 = yes)": float(first["tensorflow"] or again["tensorflow"])}


# -- keystroke -----------------------------------------------------------------
def one_keystroke(index: int) -> dict[str, float | None]:
    """bench/predict_latency.py in a fresh process; its p50 of parse + predictions + attention + figure."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run([venv_python(), str(BENCH / "predict_latency.py")], cwd=PROJECT, env=env, check=True,
                         capture_output=True, text=True).stdout
    match = re.search(r"heatmap figure: p50 ([\d.]+) ms", out)
    p50 = float(match.group(1)) if match else None
    print(f"  keystroke {index}: p50 {fmt(p50, 'ms')}")
    return {"keystroke (server side) p50": p50}


# -- report --------------------------------------------------------------------
GOALS = {
    "first loss point": ("10.5 s", "<= 2 s"),
    "attention >= 95 %": ("15.4 s", "<= 5 s"),
    "explore, home first": ("3.0-5.7 s", "<= 1 s"),
    "explore, home first, sidebar link": ("3.0-5.7 s", "<= 1 s"),
    "explore, direct": ("3.0-5.7 s", "<= 1 s"),
    "launch -> title in the page": ("1.9-2.9 s", "<= 1.5 s"),
    "launch -> home page drawn": ("1.9-2.9 s", "<= 1.5 s"),
    "launch -> title, returning browser": ("1.9-2.9 s", "<= 1.5 s"),
    "launch -> home page drawn, returning browser": ("1.9-2.9 s", "<= 1.5 s"),
    "keystroke (server side) p50": ("3-8 ms", "<= 10 ms"),
    "changed to 8 -> first loss point": ("", "<= 2 s"),
    "changed to 10 after a run -> first loss point": ("5.5 s", "<= 2 s"),
    "cancel it and train (8) -> first loss point": ("22.6 s", "<= 2 s"),
    "launch -> ready for an instant click": ("", "<= 10 s"),
}


def report(samples: dict[str, list[float | None]]) -> None:
    width = max(len(k) for k in samples) + 2
    print()
    print(f"{'figure':<{width}} {'median':>10}   {'issue: now':>11} {'goal':>9}   runs")
    for name, values in samples.items():
        unit = "ms" if name.startswith("keystroke") else ("" if "(1 = yes)" in name else "s")
        now, goal = GOALS.get(name, ("", ""))
        shown = fmt(median(values), unit) if unit else str(median(values))
        runs = ", ".join(fmt(v, unit) if unit else str(v) for v in values)
        print(f"{name:<{width}} {shown:>10}   {now:>11} {goal:>9}   {runs}")
    print()
    for name, values in samples.items():
        unit = "ms" if name.startswith("keystroke") else ("" if "(1 = yes)" in name else "s")
        shown = fmt(median(values), unit) if unit else str(median(values))
        runs = ", ".join(fmt(v, unit) if unit else str(v) for v in values)
        print(f"{name}: {shown} (runs: {runs})")


def collect(samples: dict[str, list[float | None]], measure: Callable[[int], dict[str, float | None]],
            repeats: int) -> None:
    for i in range(1, repeats + 1):
        for name, value in measure(i).items():
            samples.setdefault(name, []).append(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh server starts per figure (default 3)")
    parser.add_argument("--only", default=",".join(STAGES),
                        help=f"comma-separated subset of {','.join(STAGES)} (default all)")
    parser.add_argument("--runs", default=None,
                        help="for explore: a runs folder holding a finished seed run (default: train one with the CLI)")
    parser.add_argument("--no-warmup", action="store_true",
                        help="servers start with SEQATTN_WARMUP=0 (no warm-up thread): to compare")
    args = parser.parse_args(argv)
    if args.no_warmup:
        os.environ["SEQATTN_WARMUP"] = "0"
    stages = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        parser.error(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    print(f"demo latency: {args.repeats} repeat(s) of {', '.join(stages)}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")

    samples: dict[str, list[float | None]] = {}
    browser = Browser() if set(stages) & {"train", "change", "ready", "explore", "launch", "floors"} else None
    try:
        with tempfile.TemporaryDirectory(prefix="demo-latency-") as name:
            tmp = Path(name)
            if "train" in stages:
                collect(samples, lambda i: one_training(browser, tmp, i), args.repeats)
            if "change" in stages:
                collect(samples, lambda i: one_change(browser, tmp, i), args.repeats)
            if "ready" in stages:
                collect(samples, lambda i: one_ready(browser, tmp, i), args.repeats)
            if {"explore", "floors"} & set(stages):
                root, run_id = existing_run(Path(args.runs)) if args.runs else seed_run(tmp)
            if "explore" in stages:
                collect(samples, lambda i: one_explore(browser, root, run_id, tmp, i), args.repeats)
            if "floors" in stages:
                import page_floors  # it imports this module's helpers

                floor_pages = page_floors.write_floor_pages(tmp / "floor")
                collect(samples, lambda i: page_floors.one_round(browser, floor_pages, root, run_id, tmp, i),
                        args.repeats)
            if "launch" in stages:
                collect(samples, lambda i: one_launch(browser, i), args.repeats)
            if "keystroke" in stages:
                collect(samples, one_keystroke, args.repeats)
    finally:
        if browser is not None:
            browser.close()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    report(samples)
    if "floors" in stages:
        import page_floors

        for name, value in page_floors.ratios(samples).items():
            if name not in page_floors.GOALS:  # the returning browser's: bench/page_floors.py alone measures it
                continue
            goal = page_floors.GOALS[name]
            print(f"ratio to Streamlit's floor, {name}: {'–' if value is None else f'{value:.2f}x'} (goal <= {goal:.2f}x)")


if __name__ == "__main__":
    main()
