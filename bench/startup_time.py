"""Time from launching the dashboard server to the first rendered home page, in a browser.

Starts ``streamlit run dashboard.py`` on a free localhost port (empty runs folder),
opens it in Debian's headless Chromium and waits for the home page's title. Also
reports when the title entered the page (Playwright notices it later: its polls
back off to every 0.5 s) and whether the server process had loaded TensorFlow by
then (it should not: the home page imports no TensorFlow).

Run: ``.venv/bin/python bench/startup_time.py``
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from e2e_server import start_server, stop_server  # noqa: E402  (the e2e test's server fixture)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
HEADING = "How attention works in a sequence-to-sequence model"
# Records, in the page, the moment the title is first in the document (epoch milliseconds).
HEADING_MARK_JS = """
(() => {
  const seen = () => [...document.querySelectorAll("h1")].some((h) => h.textContent.includes(HEADING));
  const watch = () => {
    const observer = new MutationObserver(() => {
      if (seen()) { window.__headingAt = performance.timeOrigin + performance.now(); observer.disconnect(); }
    });
    observer.observe(document.documentElement, {childList: true, subtree: true, characterData: true});
  };
  if (document.documentElement) watch(); else document.addEventListener("DOMContentLoaded", watch);
})();
""".replace("HEADING", repr(HEADING))


def tensorflow_loaded(pid: int) -> bool:
    """True if the process has TensorFlow's shared library mapped."""
    try:
        return "libtensorflow" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def one_start(browser) -> tuple[float, float, float, bool]:
    """Seconds from launch to: health check ok, title seen by Playwright, title in the page; TensorFlow loaded."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        started_epoch = time.time()
        server = start_server(Path(tmp) / "runs", Path(tmp) / "server.log")
        healthy = time.perf_counter() - started
        try:
            page = browser.new_page()
            page.add_init_script(HEADING_MARK_JS)
            page.goto(server.url)
            page.get_by_role("heading", name=HEADING).wait_for(timeout=60_000)
            rendered = time.perf_counter() - started
            in_page = page.evaluate("() => window.__headingAt || null")
            in_page = in_page / 1000 - started_epoch if in_page else float("nan")
            loaded = tensorflow_loaded(server.process.pid)
            page.close()
        finally:
            stop_server(server)
    return healthy, rendered, in_page, loaded


def main(repeats: int = 3) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        results = [one_start(browser) for _ in range(repeats)]
        browser.close()
    for i, (healthy, rendered, in_page, loaded) in enumerate(results, 1):
        print(f"start {i}: server healthy after {healthy:.2f} s, home page rendered after {rendered:.2f} s "
              f"(title in the page after {in_page:.2f} s), TensorFlow loaded in the server: {'yes' if loaded else 'no'}")
    print(f"median time from launch to rendered home page: {statistics.median(r[1] for r in results):.2f} s "
          f"(title in the page: {statistics.median(r[2] for r in results):.2f} s)")


if __name__ == "__main__":
    main()
