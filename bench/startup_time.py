"""Time from launching the dashboard server to the first rendered home page, in a browser.

Starts ``streamlit run dashboard.py`` on a free localhost port (empty runs folder),
opens it in Debian's headless Chromium and waits for the home page's title. Also
reports whether the server process had loaded TensorFlow by then (it should not:
the home page imports no TensorFlow).

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


def tensorflow_loaded(pid: int) -> bool:
    """True if the process has TensorFlow's shared library mapped."""
    try:
        return "libtensorflow" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def one_start(browser) -> tuple[float, float, bool]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        server = start_server(Path(tmp) / "runs", Path(tmp) / "server.log")
        healthy = time.perf_counter() - started
        try:
            page = browser.new_page()
            page.goto(server.url)
            page.get_by_role("heading", name=HEADING).wait_for(timeout=60_000)
            rendered = time.perf_counter() - started
            loaded = tensorflow_loaded(server.process.pid)
            page.close()
        finally:
            stop_server(server)
    return healthy, rendered, loaded


def main(repeats: int = 3) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        results = [one_start(browser) for _ in range(repeats)]
        browser.close()
    for i, (healthy, rendered, loaded) in enumerate(results, 1):
        print(f"start {i}: server healthy after {healthy:.2f} s, home page rendered after {rendered:.2f} s, "
              f"TensorFlow loaded in the server: {'yes' if loaded else 'no'}")
    print(f"median time from launch to rendered home page: {statistics.median(r[1] for r in results):.2f} s")


if __name__ == "__main__":
    main()
