"""Cold pages against Streamlit's own floor, measured side by side in one run (issue: "within a hair of the floor").

Four figures, each on a freshly started ``streamlit run`` server and a browser context with an empty cache:

* (a) floor: launch -> title in the page, for a page holding only ``st.title``;
* (b) ours: launch -> the home page's title in the page (``streamlit run dashboard.py``, empty runs folder);
* (c) floor: ``page.goto`` of a fresh server's page holding only a title and one Plotly heatmap -> heatmap drawn;
* (d) ours: ``page.goto('/Explore?run=<id>')`` on a fresh server (nothing visited before, so the Explore
  warm-up never ran) -> the attention heatmap drawn.

and the ratios (b)/(a) (goal <= 1.15x) and (d)/(c) (goal <= 1.3x). Machines here are noisy, so only these
ratios hold: every repeat measures all four in turn, and each figure is the median over ``--repeats``.

Then (c) and (d) again with a **returning browser**, as a speaker's laptop is when the server restarts: one
browser context for each page, kept from round to round, and the same port every time, primed by one
untimed visit (Streamlit's scripts are then in the browser's cache; bench/startup_time.py's returning
browser). Their ratio is printed for information; the issue's goal is the first visit's.

The floor pages are written to a temporary folder at run time, with the dashboard's ``.streamlit/config.toml``
copied beside them (same theme and settings), and served with the same interpreter and command-line flags as
the dashboard (tests/e2e_server.py). "Title in the page" is the moment, recorded in the page, the title entered
the document (bench/startup_time.py's measure); "heatmap drawn" is Playwright seeing Plotly's drawn heatmap
(tests/e2e_server.py's ``HEATMAP_JS``, polled every 20 ms, as bench/demo_latency.py times Explore).

Run: ``.venv/bin/python bench/page_floors.py [--repeats 3] [--runs <folder with a finished seed run>]``
(without ``--runs``, a seed run is trained first with the CLI, about 20 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT / "tests"))
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(PROJECT))

from demo_latency import (  # noqa: E402
    VIEWPORT, Browser, existing_run, fmt, fresh_server_and_page, median, seed_run, time_explore,
)
from e2e_server import HEATMAP_JS, Server, free_port, start_server, stop_server  # noqa: E402
from startup_time import HEADING  # noqa: E402

PAGE_TIMEOUT = 120_000  # ms
HEALTH_TIMEOUT = 60.0  # s
FLOOR_TITLE = "Floor"
TITLE_PAGE = "title_only.py"
HEATMAP_PAGE = "heatmap_only.py"
# (b)/(a) and (d)/(c): the goals.
GOALS = {"launch": 1.15, "explore": 1.3}

# The floor pages: nothing but what their figure times.
TITLE_SOURCE = f"""import streamlit as st

st.title({FLOOR_TITLE!r})
"""
HEATMAP_SOURCE = f"""import plotly.graph_objects as go
import streamlit as st

st.title({FLOOR_TITLE!r})
st.plotly_chart(go.Figure(go.Heatmap(z=[[0.1, 0.7, 0.1, 0.05, 0.05], [0.05, 0.1, 0.8, 0.03, 0.02]],
                                     x=["12", "20", "36", "40", "12"], y=["12", "20"])))
"""

# Records, in the page, the moment (epoch ms) an <h1> holding TITLE enters the document (window.__titleAt).
TITLE_MARK_JS = """
(() => {
  const seen = () => [...document.querySelectorAll("h1")].some((h) => h.textContent.includes(TITLE));
  const watch = () => {
    const observer = new MutationObserver(() => {
      if (!window.__titleAt && seen()) {
        window.__titleAt = performance.timeOrigin + performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document.documentElement, {childList: true, subtree: true, characterData: true});
  };
  if (document.documentElement) watch(); else document.addEventListener("DOMContentLoaded", watch);
})();
"""


def write_floor_pages(folder: Path) -> Path:
    """Write the two floor pages and a copy of the dashboard's ``.streamlit/config.toml`` into ``folder``.

    Returns ``folder``, where a floor server then runs (Streamlit reads the config beside the script).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TITLE_PAGE).write_text(TITLE_SOURCE)
    (folder / HEATMAP_PAGE).write_text(HEATMAP_SOURCE)
    (folder / ".streamlit").mkdir(exist_ok=True)
    shutil.copy(PROJECT / ".streamlit" / "config.toml", folder / ".streamlit" / "config.toml")
    return folder


def start_floor_server(folder: Path, script: str, log_path: Path, port: int | None = None) -> Server:
    """``streamlit run <script>`` in ``folder`` with the dashboard's interpreter, flags and environment
    (tests/e2e_server.py's ``start_server``); returns once its health check answers ``ok``."""
    return start_server(folder / "runs", log_path, timeout=HEALTH_TIMEOUT, port=port, script=script, cwd=folder)


def launch_to_title(browser: Browser, start, title: str) -> float:
    """Seconds from calling ``start()`` (which starts a server and returns it once healthy) to an ``<h1>``
    holding ``title`` in a fresh browser context's page (the moment recorded in the page)."""
    context = browser.browser.new_context()
    started_epoch = time.time()
    server = start()
    try:
        page = context.new_page()
        page.add_init_script(TITLE_MARK_JS.replace("TITLE", repr(title)))
        page.goto(server.url)
        page.wait_for_function("() => window.__titleAt", timeout=PAGE_TIMEOUT, polling=50)
        return page.evaluate("() => window.__titleAt") / 1000 - started_epoch
    finally:
        context.close()
        stop_server(server)


def floor_launch(browser: Browser, folder: Path, tmp: Path, index: int) -> float:
    """(a): launch -> title of the one-line page, in seconds."""
    return launch_to_title(browser, lambda: start_floor_server(folder, TITLE_PAGE, tmp / f"floor-title{index}.log"),
                           FLOOR_TITLE)


def ours_launch(browser: Browser, tmp: Path, index: int) -> float:
    """(b): ``streamlit run dashboard.py`` (an empty runs folder, as bench/startup_time.py) -> the home title."""
    runs = tmp / f"launch{index}" / "runs"
    return launch_to_title(browser, lambda: start_server(runs, tmp / f"launch{index}.log"), HEADING)


def heatmap_drawn(page, url: str) -> float:
    """Seconds from ``page.goto(url)`` to a drawn Plotly heatmap in the page."""
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function(HEATMAP_JS, timeout=PAGE_TIMEOUT, polling=20)
    return time.perf_counter() - started


def floor_heatmap(browser: Browser, folder: Path, tmp: Path, index: int) -> float:
    """(c): a fresh server's title-and-heatmap page, ``page.goto`` -> heatmap drawn, in seconds."""
    server = start_floor_server(folder, HEATMAP_PAGE, tmp / f"floor-heatmap{index}.log")
    page = browser.new_page()
    try:
        return heatmap_drawn(page, server.url)
    finally:
        page.context.close()
        stop_server(server)


def ours_explore(browser: Browser, root: Path, run_id: str, tmp: Path, index: int) -> float:
    """(d): a fresh server, ``page.goto('/Explore?run=<id>')`` first (no home page, no warm-up) -> heatmap drawn."""
    with fresh_server_and_page(browser, root, tmp, f"explore-cold{index}") as (server, page):
        return time_explore(page, server, run_id)


def returning_visits(browser: Browser, folder: Path, root: Path, run_id: str, tmp: Path,
                     repeats: int) -> dict[str, list[float]]:
    """(c) and (d) with a returning browser: per page one context and one port, primed by an untimed visit,
    then ``repeats`` rounds of a fresh server each -> heatmap drawn, in seconds:
    {"floor heatmap, returning": [...], "ours explore, returning": [...]}."""
    def visit(context, start, index: int, path: str) -> float:
        server = start(index)
        page = context.new_page()
        try:
            return heatmap_drawn(page, server.url + path)
        finally:
            page.close()
            stop_server(server)

    floor_port, ours_port = free_port(), free_port()
    pages = {
        "floor heatmap, returning": (
            lambda i: start_floor_server(folder, HEATMAP_PAGE, tmp / f"floor-back{i}.log", port=floor_port), "/"),
        "ours explore, returning": (
            lambda i: start_server(root, tmp / f"explore-back{i}.log", port=ours_port), f"/Explore?run={run_id}"),
    }
    contexts = {name: browser.browser.new_context(viewport=VIEWPORT) for name in pages}
    samples: dict[str, list[float]] = {name: [] for name in pages}
    try:
        for name, (start, path) in pages.items():  # the untimed visit that fills the cache
            visit(contexts[name], start, 0, path)
        for index in range(1, repeats + 1):
            for name, (start, path) in pages.items():
                samples[name].append(visit(contexts[name], start, index, path))
            print(f"  returning browser, round {index}: floor {samples['floor heatmap, returning'][-1]:.2f} s, ours "
                  f"{samples['ours explore, returning'][-1]:.2f} s; load {os.getloadavg()[0]:.1f}")
    finally:
        for context in contexts.values():
            context.close()
    return samples


def one_round(browser: Browser, folder: Path, root: Path, run_id: str, tmp: Path, index: int) -> dict[str, float]:
    """The four figures once, side by side: {"floor launch", "ours launch", "floor heatmap", "ours explore"}."""
    figures = {
        "floor launch": floor_launch(browser, folder, tmp, index),
        "ours launch": ours_launch(browser, tmp, index),
        "floor heatmap": floor_heatmap(browser, folder, tmp, index),
        "ours explore": ours_explore(browser, root, run_id, tmp, index),
    }
    print(f"  round {index}: launch -> title: floor {figures['floor launch']:.2f} s, ours "
          f"{figures['ours launch']:.2f} s; fresh page -> heatmap: floor {figures['floor heatmap']:.2f} s, "
          f"ours (/Explore?run=) {figures['ours explore']:.2f} s; load {os.getloadavg()[0]:.1f}")
    return figures


def ratios(samples: dict[str, list[float]]) -> dict[str, float | None]:
    """Median ours / median floor: {"launch": (b)/(a), "explore": (d)/(c)}."""
    def ratio(ours: str, floor: str) -> float | None:
        top, bottom = median(samples.get(ours, [])), median(samples.get(floor, []))
        return top / bottom if top is not None and bottom else None

    return {"launch": ratio("ours launch", "floor launch"), "explore": ratio("ours explore", "floor heatmap"),
            "explore, returning browser": ratio("ours explore, returning", "floor heatmap, returning")}


def report(samples: dict[str, list[float]]) -> None:
    """Print each figure's median and runs, then the two ratios against their goals."""
    labels = {
        "floor launch": "(a) floor: launch -> title, one-line page",
        "ours launch": "(b) ours: launch -> home title",
        "floor heatmap": "(c) floor: fresh server, title + heatmap page -> heatmap drawn",
        "ours explore": "(d) ours: fresh server, /Explore?run= -> heatmap drawn",
        "floor heatmap, returning": "(c) again, returning browser (scripts cached)",
        "ours explore, returning": "(d) again, returning browser (scripts cached)",
    }
    width = max(len(v) for v in labels.values()) + 2
    print()
    for name, label in labels.items():
        values = samples.get(name, [])
        print(f"{label:<{width}} {fmt(median(values)):>8}   runs: {', '.join(fmt(v) for v in values)}")
    found = ratios(samples)
    for name, text in (("launch", "(b)/(a) launch -> title"), ("explore", "(d)/(c) fresh page -> heatmap"),
                       ("explore, returning browser", "(d)/(c), returning browser")):
        value, goal = found[name], GOALS.get(name)
        shown = "–" if value is None else f"{value:.3f}x"
        if goal is None:
            print(f"{text:<{width}} {shown:>8}   (for information)")
            continue
        verdict = "" if value is None else ("  met" if value <= goal else "  NOT met")
        print(f"{text:<{width}} {shown:>8}   goal <= {goal:.2f}x{verdict}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the four figures (default 3)")
    parser.add_argument("--runs", default=None,
                        help="a runs folder holding a finished seed run (default: train one with the CLI)")
    args = parser.parse_args(argv)
    print(f"page floors: {args.repeats} round(s); {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at start")
    samples: dict[str, list[float]] = {}
    browser = Browser()
    try:
        with tempfile.TemporaryDirectory(prefix="page-floors-") as name:
            tmp = Path(name)
            folder = write_floor_pages(tmp / "floor")
            root, run_id = existing_run(Path(args.runs)) if args.runs else seed_run(tmp)
            for index in range(1, args.repeats + 1):
                for key, value in one_round(browser, folder, root, run_id, tmp, index).items():
                    samples.setdefault(key, []).append(value)
            samples.update(returning_visits(browser, folder, root, run_id, tmp, args.repeats))
    finally:
        browser.close()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    report(samples)


if __name__ == "__main__":
    main()
