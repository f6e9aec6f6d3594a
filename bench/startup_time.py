"""Time from launching the dashboard server to the rendered home page, in a browser.

Starts ``streamlit run dashboard.py`` (empty runs folder), opens it in Debian's
headless Chromium and records, in the page, when the title entered the document
and when the echo task's example diagram (the last of the page's first screen to
arrive) did; Playwright itself notices later (its polls back off to every
0.5 s), so the in-page moments are the figures. Also whether the server had loaded
TensorFlow by then (it should not).

Two kinds of visit, each on a freshly started server:

- **new browser**: a browser context with an empty cache (a first visit), on a
  new port each time;
- **returning browser**: one context, the same port every time, primed by one
  visit first, as the speaker's browser is when the server restarts
  (Streamlit's scripts are cached as immutable; the page is not).

Run: ``.venv/bin/python bench/startup_time.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from e2e_server import free_port, start_server, stop_server, tensorflow_loaded  # noqa: E402  (the e2e test's server fixture)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
HEADING = "How attention works in a sequence-to-sequence model"
# Records, in the page, the moments (epoch ms) the title and the example diagram are in the document.
HEADING_MARK_JS = """
(() => {
  const seen = () => [...document.querySelectorAll("h1")].some((h) => h.textContent.includes(HEADING));
  const drawn = () => document.querySelector('.example-pair svg');
  const now = () => performance.timeOrigin + performance.now();
  const watch = () => {
    const observer = new MutationObserver(() => {
      if (!window.__headingAt && seen()) window.__headingAt = now();
      if (!window.__drawnAt && drawn()) window.__drawnAt = now();
      if (window.__headingAt && window.__drawnAt) observer.disconnect();
    });
    observer.observe(document.documentElement, {childList: true, subtree: true, characterData: true});
  };
  if (document.documentElement) watch(); else document.addEventListener("DOMContentLoaded", watch);
})();
""".replace("HEADING", repr(HEADING))


def one_start(context, port: int | None = None) -> dict[str, float | bool]:
    """Launch a server and open its home page in a new tab of ``context`` (a Playwright browser context).

    Returns seconds from launch to: ``healthy`` (health check answers), ``seen``
    (Playwright sees the title), ``title`` (the title is in the page), ``drawn``
    (the example diagram is drawn); and ``tensorflow`` (loaded in the server by then).
    """
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        started_epoch = time.time()
        server = start_server(Path(tmp) / "runs", Path(tmp) / "server.log", port=port)
        healthy = time.perf_counter() - started
        try:
            page = context.new_page()
            page.add_init_script(HEADING_MARK_JS)
            page.goto(server.url)
            page.get_by_role("heading", name=HEADING).wait_for(timeout=60_000)
            seen = time.perf_counter() - started
            page.wait_for_function("() => window.__drawnAt", timeout=60_000, polling=50)
            marks = page.evaluate("() => [window.__headingAt, window.__drawnAt]")
            title, drawn = (mark / 1000 - started_epoch if mark else float("nan") for mark in marks)
            loaded = tensorflow_loaded(server.process.pid)
            page.close()
        finally:
            stop_server(server)
    return {"healthy": healthy, "seen": seen, "title": title, "drawn": drawn, "tensorflow": loaded}


def new_browser_starts(browser, repeats: int) -> list[dict[str, float | bool]]:
    """A first visit each time: an empty cache, a new port."""
    results = []
    for _ in range(repeats):
        context = browser.new_context()
        results.append(one_start(context))
        context.close()
    return results


def returning_browser_starts(browser, repeats: int) -> list[dict[str, float | bool]]:
    """The same browser and port each time, primed by one untimed visit."""
    context, port = browser.new_context(), free_port()
    one_start(context, port)
    results = [one_start(context, port) for _ in range(repeats)]
    context.close()
    return results


def summary(label: str, results: list[dict[str, float | bool]]) -> None:
    for i, r in enumerate(results, 1):
        print(f"  {label} {i}: healthy {r['healthy']:.2f} s, title in the page {r['title']:.2f} s, diagram drawn "
              f"{r['drawn']:.2f} s (Playwright saw the title at {r['seen']:.2f} s); "
              f"TensorFlow in the server: {'yes' if r['tensorflow'] else 'no'}")
    title = statistics.median(r["title"] for r in results)
    drawn = statistics.median(r["drawn"] for r in results)
    print(f"{label}: launch -> title in the page {title:.2f} s, -> first screen drawn (diagram) {drawn:.2f} s "
          f"(median of {len(results)})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        new = new_browser_starts(browser, args.repeats)
        returning = returning_browser_starts(browser, args.repeats)
        browser.close()
    summary("new browser", new)
    summary("returning browser", returning)


if __name__ == "__main__":
    main()
