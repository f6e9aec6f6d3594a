"""End to end, in a real browser: the walk-through a speaker does on the projector.

A real ``streamlit run dashboard.py`` server (tests/e2e_server.py) with an empty
temporary runs root, driven by Debian's Chromium through Playwright. The tests
in this module run in order and share one server, one browser and the speaker's tab:

1. home page;
2. Train: a tiny config, "Train both models", the live loss chart gains points
   while training runs, then "Done";
3. Explore: follow "Explore this run", type a sequence, see both answers and the
   attention heatmap, type a bad one, reload and get the last valid one back;
4. Home again (the latest run, with its accuracies), then the Compare page;
5. a second, longer job started in the UI, followed live from another browser
   session by its Train URL, then cancelled there;
6. Sweep: a bad value refused, then a tiny grid (input lengths 3 and 4, one
   seed, each model to 95 % within a cap of 40 updates) run on the server's local Dask
   cluster until both cells are done; the figure draws both panels;
7. Tasks: a Reverse run trained from the form and explored (its expected alignment is the
   anti-diagonal), and a date typed into a small Dates run the CLI trained meanwhile.

Along the way: the sidebar lists the pages as Home, Train, Explore, Compare,
Sweep, and the deep links /Train?run=<id> and /Explore?run=<id>&seq=... open
the same state in another browser, and as the first visit of a fresh server.

Screenshots go to docs/screenshots/. Chromium must be at /usr/bin/chromium
(Playwright cannot download its own browser here); without it these tests fail.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from e2e_server import (HEATMAP_JS, LOSS_POINTS_JS, PROJECT, Server, start_server, stop_server, tensorflow_loaded,
                        venv_python)
from seqattn.figures.style import PAD_COLOR
from seqattn.runs import list_runs
from seqattn.sweeps.cluster import WORKERS_ENV

pytestmark = pytest.mark.timeout(300)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
INSTALL_HINT = (
    f"The end-to-end tests drive Debian's Chromium at {CHROMIUM}, which is missing. Install it with:\n"
    "    apt-get update && apt-get install -y --no-install-recommends chromium"
)
VIEWPORT = {"width": 1400, "height": 900}
SCREENSHOTS = PROJECT / "docs" / "screenshots"
expect.set_options(timeout=15_000)  # ms: a rerun on a busy 2-core machine

APP_TIMEOUT = 60_000  # ms: first render of a page, TensorFlow import and model loading in the server
COMPILE_TIMEOUT = 90_000  # ms: a worker loads TensorFlow and compiles both models (slow on a busy machine)
TICK_TIMEOUT = 20_000  # ms: the live fragment refreshes about once a second
TRAIN_TIMEOUT = 120_000  # ms: a whole tiny run

# Tiny problem, trained long enough after compiling that the live chart refreshes
# several times (150 to 700 updates per second on 2 cores, depending on load).
TINY = {"Cardinality": "10", "Input length": "5", "Echo length": "2", "Units": "16", "Batch size": "16"}
SHORT_UPDATES = 3000  # 4 s to 20 s of live training: the chart must gain points twice while it runs
LONG_UPDATES = 100_000  # the job the test cancels




# -- fixtures -----------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(INSTALL_HINT, pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def server(request, tmp_path_factory) -> Iterator[Server]:
    """``streamlit run dashboard.py`` on a free port, with an empty temporary runs root."""
    base = tmp_path_factory.mktemp("e2e")
    failed_before = request.session.testsfailed
    # A one-worker Dask cluster for the sweep: its two tiny cells run one after the other, which spares
    # the machine a second TensorFlow process while the other test files run beside this one.
    server = start_server(base / "runs", base / "streamlit.log", env_overrides={WORKERS_ENV: "1"})
    try:
        yield server
    finally:
        stop_server(server)  # the server's process group: its training workers too
        if request.session.testsfailed > failed_before:
            print(f"\n--- streamlit log (tail) ---\n{server.log_tail(3000)}")


class Session:
    """One viewer: a browser context and its page, with page errors collected."""

    def __init__(self, browser: Browser) -> None:
        self.context: BrowserContext = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        self.context.set_default_timeout(APP_TIMEOUT)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def speaker(browser: Browser, server: Server) -> Iterator[Session]:
    """The speaker's tab, shared by the ordered tests below."""
    session = Session(browser)
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(scope="module")
def walk() -> dict[str, Any]:
    """What one step of the walk-through hands to the next (run ids, URLs)."""
    return {}


# -- helpers ------------------------------------------------------------------
IDLE_JS = """
() => !document.querySelector('[data-testid="stElementContainer"][data-stale="true"]')
      && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')
      && !document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"]')
"""

# Streamlit scrolls an inner container, not the document: how tall the page really is.
CONTENT_HEIGHT_JS = """
() => {
  let height = window.innerHeight;
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (/(auto|scroll)/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1) {
      height = Math.max(height, el.scrollHeight + el.getBoundingClientRect().top);
    }
  }
  return Math.ceil(height);
}
"""


def wait_idle(page: Page, timeout: float = APP_TIMEOUT) -> None:
    """Until the script run is over: nothing stale (greyed out), no spinner. A live page idles between ticks."""
    page.wait_for_function(IDLE_JS, timeout=timeout, polling=50)


BUSY_JS = """
() => ({stale: document.querySelectorAll('[data-testid="stElementContainer"][data-stale="true"]').length,
        running: !!document.querySelector('[data-testid="stStatusWidgetRunningIcon"]'),
        loading: document.querySelectorAll('[data-testid="stSpinner"], [data-testid="stSkeleton"]').length})
"""


def settle(page: Page, timeout: float = 20_000) -> None:
    """Wait for the script run to end; if it has not within ``timeout`` ms, print what is still busy and go on.

    Once in several CI runs a presentation-mode page at 1024x768 stayed busy for over a minute on a loaded
    machine (never reproduced on a quiet one, nor under load by hand): the checks after this one still
    measure the page as drawn, and the printed state says what kept it busy, for the next look.
    """
    try:
        wait_idle(page, timeout=timeout)
    except PlaywrightTimeoutError:
        print(f"\npage still busy after {timeout / 1000:.0f} s at {page.url}: {page.evaluate(BUSY_JS)}")


def screenshot(page: Page, name: str, full_page: bool = True) -> None:
    """Save docs/screenshots/<name>; full_page grows the viewport to the app's content height."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(VIEWPORT["width"] // 2, 5)  # no hover toolbar or tooltip in the picture
    wait_idle(page)
    if full_page:
        height = min(4000, page.evaluate(CONTENT_HEIGHT_JS))
        page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], height)})
    try:
        wait_idle(page)
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        page.screenshot(path=str(SCREENSHOTS / name), animations="disabled")
    finally:
        page.set_viewport_size(VIEWPORT)


def assert_no_traceback(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert "Traceback" not in page.locator("body").inner_text()


def set_number(page: Page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    expect(field).to_have_value(value)


def fill_train_form(page: Page, updates: int) -> None:
    expect(page.get_by_role("button", name="Train both models")).to_be_visible()
    page.get_by_text("Batched (fast)", exact=True).click()
    for label, value in {**TINY, "Updates": str(updates)}.items():
        set_number(page, label, value)
    expect(page.get_by_role("button", name="Train both models")).to_be_enabled()


def start_training(page: Page, server: Server, updates: int) -> str:
    """Fill the Train form, click "Train both models"; returns the new run's id (from the URL)."""
    fill_train_form(page, updates)
    page.get_by_role("button", name="Train both models").click()
    page.wait_for_url(re.compile(r"/Train\?run="), timeout=APP_TIMEOUT)
    run_id = re.search(r"[?&]run=([^&#]+)", page.url).group(1)
    # The form's values reached the job.
    meta = json.loads((server.runs_dir / run_id / "run.json").read_text())
    assert meta["problem"] == {"cardinality": 10, "n_in": 5, "n_out": 2, "pad_target": True, "task": "echo"}, meta
    assert {k: meta["train"][k] for k in ("protocol", "updates", "batch_size")} == {
        "protocol": "batched", "updates": updates, "batch_size": 16}, meta
    assert meta["model"] == {"units": 16, "encoder": "unidirectional"}, meta
    return run_id


def loss_points(page: Page) -> int:
    return page.evaluate(LOSS_POINTS_JS)


def wait_for_more_points(page: Page, than: int, timeout: float) -> int:
    """Wait until the live view (progress bar shown) has a loss chart with more than ``than`` points."""
    page.wait_for_function(
        f"(than) => document.querySelector('[data-testid=\"stProgress\"]') && ({LOSS_POINTS_JS})() > than",
        arg=than,
        timeout=timeout,
        polling=100,
    )
    return loss_points(page)


def progress_text(page: Page) -> str:
    return page.get_by_test_id("stProgress").inner_text()


def sequence_ints(text: str) -> list[int]:
    return [int(t) for t in re.split(r"[,\s]+", text.strip()) if t]


def run_state(server: Server, run_id: str) -> str:
    return json.loads((server.runs_dir / run_id / "status.json").read_text())["state"]


PAGE_TITLES = ["Home", "Train", "Explore", "Compare", "Sweep"]
# The sidebar navigation's page titles, as read (its Material icons are hidden from assistive technology).
NAV_TITLES_JS = """
() => Array.from(document.querySelectorAll('[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]'))
  .map(link => {
    const copy = link.cloneNode(true);
    copy.querySelectorAll('[data-testid="stIconMaterial"]').forEach(icon => icon.remove());
    return copy.textContent.trim();
  })
"""


def expect_navigation(page: Page, current: str) -> None:
    """The sidebar lists every page by its title, in order, and marks ``current`` as the page shown."""
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name=current, exact=True)).to_have_attribute("aria-current", "page")
    assert page.evaluate(NAV_TITLES_JS) == PAGE_TITLES


# The cells the heatmap's "expected" overlay outlines, as "step:position" (1-based), from each square's centre.
EXPECTED_CELLS_JS = """
() => {
  for (const el of document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')) {
    const trace = (el._fullData || []).find(t => t.name === 'expected');
    if (!trace) continue;
    const cells = [];
    for (let i = 0; i + 4 < trace.x.length; i += 6) {
      cells.push(`${Math.round((trace.y[i] + trace.y[i + 2]) / 2)}:${Math.round((trace.x[i] + trace.x[i + 1]) / 2)}`);
    }
    return cells.sort().join('|');
  }
  return null;
}
"""


def expect_heatmap_of(page: Page, tokens: list[int]) -> None:
    """The attention heatmap's columns are labelled with ``tokens`` (position: token)."""
    ticks = "|".join(f"{i}: {t}" for i, t in enumerate(tokens, start=1))
    page.wait_for_function(f"(ticks) => {{ const h = ({HEATMAP_JS})(); return h && h.ticks.join('|') === ticks; }}",
                           arg=ticks)


# -- the walk-through ---------------------------------------------------------
def test_chromium_is_installed() -> None:
    # Fail, never skip: a missing browser must not pass for a green run.
    assert CHROMIUM.exists(), INSTALL_HINT


def test_home_page(speaker: Session, server: Server) -> None:
    page = speaker.page
    page.goto(server.url + "/")
    expect(page.get_by_role("heading", name="How attention works in a sequence-to-sequence model")).to_be_visible()
    expect(page.get_by_text("No runs yet")).to_be_visible()
    # The example of the echo task is drawn (an SVG diagram, there as soon as the page is).
    expect(page.get_by_role("img", name=re.compile(r"^Echo task example: input \[12, 20, 36, 40, 12\]"))).to_be_visible()
    expect_navigation(page, "Home")  # titles, not file names
    # While the home page is read, the browser loads the other pages' element scripts (ui.prefetch).
    page.wait_for_function(
        "() => ['DataFrame', 'PlotlyChart', 'TextInput'].every(name => performance.getEntriesByType('resource')"
        ".some(r => r.name.includes('/static/js/' + name + '.') && r.name.endsWith('.js')))",
        timeout=APP_TIMEOUT, polling=200)
    assert_no_traceback(page)


def test_a_number_the_form_cannot_hold_gets_a_message(speaker: Session, server: Server) -> None:
    # Issue 24, item 13: the browser's number input showed its range message but kept the previous value
    # (or read 1e3 as 1), and the button still started a run with it. Now the button is disabled.
    page = speaker.page
    page.goto(server.url + "/Train")
    field = page.get_by_label("Cardinality", exact=True)
    button = page.get_by_role("button", name="Train both models")
    expect(button).to_be_enabled()
    for value, problem in (("1e20", "'1e20' is not a whole number"),
                           ("100000000000000000000", "100000000000000000000 is outside the allowed range"),
                           ("1e3", "'1e3' is not a whole number")):
        field.fill(value)
        field.press("Enter")
        message = page.get_by_test_id("stAlertContainer").filter(has_text="Cannot train with these settings")
        expect(message).to_contain_text(f"Cardinality: {problem}")
        expect(message).to_contain_text("type a whole number from 2 to 1,000.")
        expect(button).to_be_disabled()
    set_number(page, "Cardinality", "50")
    expect(button).to_be_enabled()
    assert list_runs(server.runs_dir) == [], "nothing was started"
    assert_no_traceback(page)
    page.goto(server.url + "/")  # the walk-through starts on the home page
    expect(page.get_by_role("heading", name="How attention works in a sequence-to-sequence model")).to_be_visible()


def test_train_live_then_done(speaker: Session, server: Server, walk: dict[str, Any]) -> None:
    page = speaker.page
    # The speaker clicks the page link on the home page, as in the talk.
    page.get_by_role("link", name="Train both models").click()
    page.wait_for_url(re.compile(r"/Train$"))
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible()

    started = time.monotonic()
    run_id = start_training(page, server, SHORT_UPDATES)
    walk["run"] = run_id
    expect(page.get_by_text(run_id).first).to_be_visible()  # the caption with the shareable run id

    # The live fragment: the chart appears, then gains points at least twice while training runs
    # (wait_for_more_points only counts while the progress bar of the live view is shown).
    first = wait_for_more_points(page, 0, COMPILE_TIMEOUT)
    seen = [(first, progress_text(page))]
    count = wait_for_more_points(page, first, TICK_TIMEOUT)
    seen.append((count, progress_text(page)))
    screenshot(page, "train.png")  # mid-training: progress bar, live loss chart, probe heatmap
    count = wait_for_more_points(page, count, TICK_TIMEOUT)
    seen.append((count, progress_text(page)))
    print(f"\nlive loss chart points / progress: {seen}")
    assert all(re.search(rf"[\d,]+ / {SHORT_UPDATES:,} updates", text) for _, text in seen[1:]), seen

    # The run ends by itself: the page switches to the summary.
    done = page.get_by_text(re.compile(r"^Done: "))
    expect(done).to_be_visible(timeout=TRAIN_TIMEOUT)
    expect(done).to_contain_text(f"{SHORT_UPDATES:,} updates")
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(page.get_by_test_id("stMetric").filter(has_text="Attention exact match")).to_be_visible()
    # "Done" is text and shows first; the Plotly chart below it mounts a moment later.
    page.wait_for_function(f"() => ({LOSS_POINTS_JS})() > 0", timeout=APP_TIMEOUT, polling=100)
    assert loss_points(page) > 0, "the summary shows the loss chart"
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg').length >= 3")
    assert run_state(server, run_id) == "done"
    status = json.loads((server.runs_dir / run_id / "status.json").read_text())
    assert status["prepared"] is False, status  # the first warm process had prepared the form's defaults
    assert_no_traceback(page)
    screenshot(page, "train_done.png")
    print(f"training page walk-through: {time.monotonic() - started:.1f} s")


def test_explore_the_run(speaker: Session, server: Server, walk: dict[str, Any]) -> None:
    assert "run" in walk, "needs the run trained by test_train_live_then_done"
    run_id = walk["run"]
    page = speaker.page
    page.get_by_role("link", name="Explore this run").click()
    page.wait_for_url(re.compile(rf"/Explore\?run={run_id}"))
    box = page.get_by_label("Input sequence", exact=True)
    expect(box).to_be_visible(timeout=APP_TIMEOUT)

    # A valid sequence: both answers, the answers table and a heatmap with one row per output step.
    box.fill("1, 2, 3, 4, 5")
    box.press("Enter")
    page.wait_for_url(re.compile(r"[?&]seq=1%2C2%2C3%2C4%2C5"))
    page.wait_for_function(
        f"() => {{ const h = ({HEATMAP_JS})(); return h && h.ticks.join('|') === '1: 1|2: 2|3: 3|4: 4|5: 5'; }}"
    )
    heatmap = page.evaluate(HEATMAP_JS)
    assert heatmap["rows"] == 5 and heatmap["cols"] == 5, heatmap  # padded target: n_in = 5 output steps
    metrics = page.get_by_test_id("stMetric")
    expect(metrics.filter(has_text="Baseline (no attention)")).to_be_visible()
    expect(metrics.filter(has_text=re.compile(r"^Attention"))).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    for metric in (metrics.filter(has_text="Baseline (no attention)"), metrics.filter(has_text=re.compile(r"^Attention"))):
        tokens = metric.get_by_test_id("stMetricValue").inner_text()
        assert re.fullmatch(r"\d+( \d+){4}", tokens.strip()), tokens  # five predicted tokens
    assert_no_traceback(page)
    screenshot(page, "explore.png")
    expect(page.get_by_role("button", name="Download", exact=True)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download", exact=True).click()
    assert download.value.suggested_filename == f"attention-{run_id}.zip"
    wait_idle(page)

    # A bad sequence: a calm message, the last valid sequence stays shown, no traceback.
    box.fill("1 2 x")
    box.press("Enter")
    error = page.get_by_test_id("stAlertContainer").filter(has_text="not a whole number")
    expect(error).to_be_visible()
    expect(page.get_by_text("the last valid sequence")).to_be_visible()
    assert_no_traceback(page)

    # Reload the address: the same (last valid) sequence comes back.
    page.reload()
    box = page.get_by_label("Input sequence", exact=True)
    expect(box).to_be_visible(timeout=APP_TIMEOUT)
    expect(box).not_to_have_value("")
    assert sequence_ints(box.input_value()) == [1, 2, 3, 4, 5], box.input_value()
    assert re.search(r"[?&]seq=1%2C2%2C3%2C4%2C5", page.url), page.url
    page.wait_for_function(
        f"() => {{ const h = ({HEATMAP_JS})(); return h && h.ticks.join('|') === '1: 1|2: 2|3: 3|4: 4|5: 5'; }}"
    )
    assert_no_traceback(page)


# Pixel centre of a heatmap cell (output step, input position; 0-based) in the first heatmap.
CELL_CENTRE_JS = """
([step, position]) => {
  for (const el of document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')) {
    if (!(el._fullData || []).some(t => t.type === 'heatmap')) continue;
    const layout = el._fullLayout, box = el.getBoundingClientRect();
    return {x: box.left + layout.xaxis._offset + layout.xaxis.l2p(position + 1),
            y: box.top + layout.yaxis._offset + layout.yaxis.l2p(step + 1)};
  }
  return null;
}
"""

# Heatmap panels named "difference" anywhere on the page (the second sequence's map).
DIFFERENCE_JS = """
() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'))
  .some(el => (el._fullData || []).some(t => t.type === 'heatmap' && t.name === 'difference'))
"""


def output_step(page: Page) -> Locator:
    """The value shown on the "Output step" slider's thumb."""
    return page.get_by_test_id("stSlider").filter(has_text="Output step").get_by_test_id("stSliderThumbValue")


def test_explore_deeper_typing_keys_clicks_and_a_second_sequence(speaker: Session, server: Server,
                                                                 walk: dict[str, Any]) -> None:
    assert "run" in walk, "needs the run trained by test_train_live_then_done"
    page = speaker.page
    box = page.get_by_label("Input sequence", exact=True)
    expect(box).to_be_visible(timeout=APP_TIMEOUT)

    # Type as you go: character by character, no Enter; the heatmap follows.
    box.click()
    box.press("Control+a")
    box.press_sequentially("5 4 3 2 1", delay=60)
    page.wait_for_function(
        f"() => {{ const h = ({HEATMAP_JS})(); return h && h.ticks.join('|') === '1: 5|2: 4|3: 3|4: 2|5: 1'; }}"
    )
    expect(box).to_have_value("5 4 3 2 1")
    assert_no_traceback(page)

    # Presenter keys, with the focus out of the text boxes.
    page.get_by_role("heading", name="Explore", exact=True).click()
    expect(output_step(page)).to_have_text("1")
    page.keyboard.press("ArrowRight")
    expect(output_step(page)).to_have_text("2")
    wait_idle(page)

    # A click on a heatmap cell picks its output step (and the what-if's input position).
    page.get_by_test_id("stPlotlyChart").first.scroll_into_view_if_needed()
    wait_idle(page)
    centre = page.evaluate(CELL_CENTRE_JS, [3, 1])
    page.mouse.click(centre["x"], centre["y"])
    expect(output_step(page)).to_have_text("4")
    # The click's script run ends before the tab is clicked. Once, on a loaded machine, a tab clicked during that
    # run left the what-if box at its old position (likely the browser sending the box's old value with the tab's
    # rerun); a speaker's second click comes later than a test's.
    wait_idle(page)
    page.get_by_role("tab", name="What if").click()
    expect(page.get_by_text("Force output step 4 to look at input position")).to_be_visible()
    expect(page.get_by_role("combobox", name="Force output step 4 to look at input position")).to_have_value("2 (token 4)")
    wait_idle(page)

    # A second sequence: the difference map appears.
    page.get_by_role("tab", name="Two sequences").click()
    second = page.get_by_label("Second sequence", exact=True)
    second.click()
    second.press_sequentially("5 4 3 2 0", delay=30)
    page.wait_for_function(DIFFERENCE_JS)
    assert_no_traceback(page)
    screenshot(page, "explore_deeper.png")

    page.get_by_role("heading", name="Explore", exact=True).click()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("new random sequence")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    page.keyboard.press("p")
    toggle = page.get_by_test_id("stSidebar").get_by_role("switch", name="Presentation mode")
    expect(toggle).to_be_checked()
    page.get_by_role("tab", name="Answer").click()  # the focus out of the boxes (the title is hidden when presenting)
    page.keyboard.press("p")
    expect(toggle).not_to_be_checked()
    wait_idle(page)

    page.keyboard.press("n")
    wait_idle(page)
    expect(box).not_to_have_value("5 4 3 2 1")
    assert_no_traceback(page)
    # Every answer above came from NumPy (seqattn.model.inference): the dashboard's server never loaded TensorFlow.
    assert not tensorflow_loaded(server.process.pid)


# Presentation mode's legibility: metric values at least the normal 36 px, no metric label
# cut off with an ellipsis, the sidebar's "Presentation mode" on one line.
PROJECTOR_JS = """
() => {
  const values = Array.from(document.querySelectorAll('[data-testid="stMetricValue"]'))
    .map(el => parseFloat(getComputedStyle(el.querySelector('p') || el).fontSize));
  const cut = Array.from(document.querySelectorAll('[data-testid="stMetricLabel"] *'))
    .filter(el => el.children.length === 0 && el.scrollWidth > el.clientWidth + 1).map(el => el.textContent);
  const label = Array.from(document.querySelectorAll('[data-testid="stSidebar"] label'))
    .find(el => el.textContent.includes('Presentation mode'));
  const text = label && Array.from(label.querySelectorAll('p')).find(p => p.textContent.includes('Presentation'));
  const lineHeight = text ? parseFloat(getComputedStyle(text).lineHeight) : 0;
  return {values, cut, sidebarLines: text ? Math.round(text.getBoundingClientRect().height / lineHeight) : 0};
}
"""


# Text of the main area that is cut off or runs past its box (page links, metrics, paragraphs), and
# metrics or page links whose text (where it is drawn, overflow included) overlaps another's.
CLIPPED_JS = """
() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const texts = main.querySelectorAll('[data-testid="stPageLink"] *, [data-testid="stMetric"] *, '
                                      + '[data-testid="stMarkdownContainer"] p');
  const cut = Array.from(texts).filter(el => el.children.length === 0 && el.textContent.trim()
                                             && el.scrollWidth > el.clientWidth + 1).map(el => el.textContent);
  const boxes = Array.from(main.querySelectorAll('[data-testid="stMetric"], [data-testid="stPageLink"] a'))
    .map(el => {
      const range = document.createRange();
      range.selectNodeContents(el);
      return [el.textContent.trim(), range.getBoundingClientRect()];
    });
  const overlapping = [];
  boxes.forEach(([a, p], i) => boxes.slice(i + 1).forEach(([b, q]) => {
    if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1) {
      overlapping.push([a, b]);
    }
  }));
  return {cut, overlapping};
}
"""


@pytest.mark.parametrize("width, height", [(1024, 768), (1920, 1080)])
def test_presentation_mode_on_a_projector(browser: Browser, server: Server, walk: dict[str, Any],
                                          width: int, height: int) -> None:
    assert "run" in walk, "needs the run trained by test_train_live_then_done"
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(APP_TIMEOUT)
    page = context.new_page()
    try:
        # Home's latest run: nothing drawn over its neighbour or cut off (issue 24, item 14).
        page.goto(server.url + "/?present=true")
        expect(page.get_by_role("link", name=f"Explore run {walk['run']}")).to_be_visible()
        expect(page.get_by_test_id("stMetricValue").first).to_be_visible()
        wait_idle(page)
        clipped = page.evaluate(CLIPPED_JS)
        assert clipped == {"cut": [], "overlapping": []}, clipped
        page.mouse.move(width // 2, 5)
        page.get_by_role("heading", name="Latest run").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"presentation_home_{width}x{height}.png"), animations="disabled")
        for name, path in (("train", f"/Train?run={walk['run']}"), ("explore", f"/Explore?run={walk['run']}&seq=1,2,3,4,5")):
            page.goto(server.url + path + "&present=true")
            toggle = page.get_by_test_id("stSidebar").get_by_role("switch", name="Presentation mode")
            expect(toggle).to_be_checked()
            expect(page.get_by_test_id("stMetricValue").first).to_be_visible()
            settle(page)
            legibility = page.evaluate(PROJECTOR_JS)
            assert legibility["values"] and min(legibility["values"]) >= 36, legibility
            assert legibility["cut"] == [], legibility
            assert legibility["sidebarLines"] == 1, legibility
            assert_no_traceback(page)
            page.mouse.move(width // 2, 5)
            page.screenshot(path=str(SCREENSHOTS / f"presentation_{name}_{width}x{height}.png"), animations="disabled")
        # A reload (or a bookmark) keeps the mode: it is in the address.
        page.reload()
        expect(page.get_by_test_id("stSidebar").get_by_role("switch", name="Presentation mode")).to_be_checked()
        assert "present=true" in page.url
    finally:
        context.close()


def test_home_and_compare_after_a_run(speaker: Session, server: Server, walk: dict[str, Any]) -> None:
    assert "run" in walk, "needs the run trained by test_train_live_then_done"
    page = speaker.page
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name="Home", exact=True).click()
    expect(page.get_by_role("heading", name="Latest run")).to_be_visible()
    expect(page.get_by_role("link", name=f"Explore run {walk['run']}")).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart").locator(".main-svg").first).to_be_visible()
    assert_no_traceback(page)
    screenshot(page, "home.png")

    nav.get_by_role("link", name="Compare").click()
    page.wait_for_url(re.compile(r"/Compare$"))
    expect(page.get_by_role("button", name="Run comparison")).to_be_visible()
    expect(page.get_by_label("Repeats", exact=True)).to_be_visible()
    assert_no_traceback(page)
    screenshot(page, "compare.png")


# The live loss chart's x range; with a range, the user's zoom set as a drag would (Plotly.relayout) first.
# "same": still the chart zoomed (Streamlit mounts a new one when the figure changes).
LOSS_ZOOM_JS = """
async (range) => {
  for (const el of document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')) {
    const title = (((el._fullLayout || {}).yaxis || {}).title || {}).text || '';
    if (!/loss/i.test(title)) continue;
    if (range) { window.__zoomedLossChart = el; await Plotly.relayout(el, {'xaxis.range': range}); }
    return {range: Array.from(el._fullLayout.xaxis.range), same: el === window.__zoomedLossChart};
  }
  return null;
}
"""


def test_follow_a_running_job_from_another_tab_and_cancel_it(
    speaker: Session, server: Server, browser: Browser, walk: dict[str, Any]
) -> None:
    page = speaker.page
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Train").click()
    page.wait_for_url(re.compile(r"/Train$"))
    run_id = start_training(page, server, LONG_UPDATES)

    # Someone else opens the shared address in their own browser session.
    viewer = Session(browser)
    try:
        other = viewer.page
        other.goto(f"{server.url}/Train?run={run_id}")
        expect(other.get_by_text(run_id).first).to_be_visible()
        progress = other.get_by_test_id("stProgress")
        expect(progress).to_be_visible()
        updating = re.compile(rf"([\d,]+) / {LONG_UPDATES:,} updates")
        expect(progress).to_contain_text(updating, timeout=COMPILE_TIMEOUT)
        first = wait_for_more_points(other, 0, TICK_TIMEOUT)
        text = progress_text(other)
        done_before = int(updating.search(text).group(1).replace(",", ""))
        # Live: both the chart and the progress text move on.
        count = wait_for_more_points(other, first, TICK_TIMEOUT)
        # The viewer zooms into the live loss chart; two refreshes later (each draws a new chart) the zoom is kept.
        full = other.evaluate(LOSS_ZOOM_JS, None)["range"]
        zoom = [full[0], full[0] + (full[1] - full[0]) / 2]
        assert other.evaluate(LOSS_ZOOM_JS, zoom)["range"] == pytest.approx(zoom)
        count = wait_for_more_points(other, count, TICK_TIMEOUT)
        wait_for_more_points(other, count, TICK_TIMEOUT)
        kept = other.evaluate(LOSS_ZOOM_JS, None)
        assert kept["range"] == pytest.approx(zoom) and not kept["same"], (kept, zoom)
        other.wait_for_function(
            """([before, total]) => {
                const bar = document.querySelector('[data-testid="stProgress"]');
                const m = bar && bar.innerText.match(/([\\d,]+) \\/ ([\\d,]+) updates/);
                return m && Number(m[2].replace(/,/g, '')) === total && Number(m[1].replace(/,/g, '')) > before;
            }""",
            arg=[done_before, LONG_UPDATES],
            timeout=TICK_TIMEOUT,
        )
        assert run_state(server, run_id) == "running"

        # The speaker wants another run now: "Train another" says a run is training and offers a choice.
        page.get_by_role("button", name="Train another").click()
        busy = page.get_by_test_id("stAlertContainer").filter(has_text=f"A training is running ({run_id}")
        expect(busy).to_contain_text("cancel first, or queue after")
        expect(page.get_by_role("button", name="Train both models")).to_have_count(0)  # nothing starts silently
        expect(page.get_by_role("button", name="Queue after it")).to_be_visible()
        set_number(page, "Updates", str(SHORT_UPDATES))
        page.get_by_role("button", name="Cancel it and train").click()
        page.wait_for_url(re.compile(r"/Train\?run=(?!" + run_id + ")"), timeout=APP_TIMEOUT)
        next_id = re.search(r"[?&]run=([^&#]+)", page.url).group(1)

        # The viewer's tab sees the first run end as cancelled, its live view gone.
        expect(other.get_by_text("This run was cancelled.")).to_be_visible(timeout=TICK_TIMEOUT)
        expect(other.get_by_test_id("stProgress")).to_have_count(0)
        expect(other.get_by_role("button", name="Cancel")).to_have_count(0)
        assert_no_traceback(other)
        assert not viewer.errors, viewer.errors
    finally:
        viewer.close()

    status = json.loads((server.runs_dir / run_id / "status.json").read_text())
    assert status["state"] == "cancelled", status
    assert status["update"] < LONG_UPDATES, status
    # The server's warm process had this job ready: the same settings as the walk-through's first
    # run (only longer), which the process that followed that run prepared (seqattn.speed.warm_pool).
    assert status["prepared"] is True, status
    # Cancelled, not lost: its models as they were can still be explored.
    assert next(r for r in list_runs(server.runs_dir) if r.id == run_id).usable
    # The new run started once the first had stopped, from the preparation the open form asked for.
    expect(page.get_by_text(re.compile(r"^Done: "))).to_be_visible(timeout=TRAIN_TIMEOUT)
    started = json.loads((server.runs_dir / next_id / "status.json").read_text())
    assert started["state"] == "done" and started["prepared"] is True, started
    assert json.loads((server.runs_dir / next_id / "run.json").read_text())["train"]["updates"] == SHORT_UPDATES
    assert_no_traceback(page)
    assert not speaker.errors, speaker.errors


# Points drawn per model in the sweep figure: the mean line of each model, by trace name.
SWEEP_FIGURE_JS = """
() => {
  for (const el of document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')) {
    const layout = el._fullLayout || {};
    const bottom = layout.xaxis3 || layout.xaxis || {};  // three panels share x: its title is on the lowest
    if (((bottom.title || {}).text || '') !== 'input length') continue;
    const lines = {}, panels = new Set();
    for (const trace of el._fullData || []) {
      if (!trace.x || trace.x[0] === null || trace.x[0] === undefined) continue;  // legend-only entries
      panels.add(trace.yaxis);
      if (trace.showlegend) lines[trace.name] = Array.from(trace.x).map(Number);
    }
    return {lines, panels: Array.from(panels).sort(), log: (layout.yaxis || {}).type === 'log',
            svg: !!el.querySelector(".scatterlayer .trace path")};
  }
  return null;
}
"""

# The rows of the sweep's per-cell table, as the data grid exposes them to assistive technology.
GRID_ROWS_JS = """
(which) => {
  const grid = document.querySelectorAll('[data-testid="stDataFrame"]')[which];
  if (!grid) return null;
  return Array.from(grid.querySelectorAll('table tr')).map(
    row => Array.from(row.querySelectorAll('th, td')).map(cell => cell.innerText.trim()));
}
"""
SWEEP_FORM = {"Values": "3, 4", "Seeds per cell": "1", "Cardinality": "6", "Units": "8", "Cap on updates": "40",
              "Batch size": "8"}
SWEEP_TIMEOUT = 180_000  # ms: a local Dask cluster starts, then two tiny cells train on it


def test_sweep_over_input_length(speaker: Session, server: Server) -> None:
    page = speaker.page
    if not page.url.startswith(server.url):  # run alone (-k sweep)
        page.goto(server.url + "/")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Sweep").click()
    page.wait_for_url(re.compile(r"/Sweep$"))
    expect(page.get_by_role("heading", name="Sweep", exact=True)).to_be_visible()
    button = page.get_by_role("button", name="Run sweep")
    expect(button).to_be_enabled()
    expect(page.get_by_text("12 cells")).to_be_visible()  # the default grid's estimate

    # Bad values: a calm message and no way to start.
    values = page.get_by_label("Values", exact=True)
    values.fill("3, x")
    values.press("Enter")
    expect(page.get_by_test_id("stAlertContainer").filter(has_text="is not a whole number")).to_be_visible()
    expect(button).to_be_disabled()

    for label, value in SWEEP_FORM.items():
        set_number(page, label, value)
    expect(button).to_be_enabled()
    estimate = page.get_by_test_id("stAlertContainer").filter(has_text="Estimated run time")
    expect(estimate).to_contain_text("2 cells")

    started = time.monotonic()
    button.click()
    page.wait_for_url(re.compile(r"/Sweep\?run="), timeout=APP_TIMEOUT)
    run_id = re.search(r"[?&]run=([^&#]+)", page.url).group(1)
    meta = json.loads((server.runs_dir / run_id / "run.json").read_text())
    assert meta["kind"] == "sweep" and meta["sweep"]["values"] == [3, 4] and meta["sweep"]["seeds"] == 1, meta
    assert meta["scheduler"].startswith("tcp://"), "the server's own cluster runs the cells"
    assert {k: meta["train"][k] for k in ("updates", "batch_size", "jit_compile", "until")} == {
        "updates": 40, "batch_size": 8, "jit_compile": False, "until": 95}, meta
    assert meta["model"] == {"units": 8, "encoder": "unidirectional"}, meta
    expect(page.get_by_test_id("stProgress")).to_be_visible()

    # Both cells done: the table lists them, the figure draws both models at both lengths.
    page.wait_for_function(
        f"""() => {{
            const rows = ({GRID_ROWS_JS})(0);
            return rows && rows.filter(r => r.includes('done')).length === 2;
        }}""",
        timeout=SWEEP_TIMEOUT,
        polling=250,
    )
    expect(page.get_by_text("Done: 2 of 2 cells")).to_be_visible(timeout=TICK_TIMEOUT)
    # The figure mounts after the text around it; wait for it to draw both models.
    page.wait_for_function(
        f"() => {{ const f = ({SWEEP_FIGURE_JS})(); return f && f.svg && Object.keys(f.lines).length >= 2; }}",
        timeout=APP_TIMEOUT,
        polling=100,
    )
    figure = page.evaluate(SWEEP_FIGURE_JS)
    assert figure and figure["svg"], figure
    assert figure["lines"].get("Baseline (no attention)") == [3, 4], figure
    assert figure["lines"].get("Attention") == [3, 4], figure
    # Both panels of the headline (and the alignment under them): updates to 95 % on a log axis,
    # exact match at the end.
    assert figure["panels"] == ["y", "y2", "y3"] and figure["log"], figure
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    assert run_state(server, run_id) == "done"
    assert_no_traceback(page)
    screenshot(page, "sweep.png")
    print(f"sweep walk-through: {time.monotonic() - started:.1f} s")
    assert not speaker.errors, speaker.errors


REVERSE_FORM = {"Cardinality": "6", "Input length": "4", "Units": "16", "Updates": "400", "Batch size": "16"}
DATE = "wednesday 9 may 2018"


def start_dates_run(server: Server) -> subprocess.Popen:
    """A small Dates run trained by the CLI into the server's runs folder, beside the browser's work."""
    return subprocess.Popen([venv_python(), "-m", "seqattn", "train", "--task", "dates", "--units", "16", "--updates",
                             "150", "--eval-every", "50", "--eval-size", "100", "--no-jit", "--quiet", "--out",
                             str(server.runs_dir)], cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_tasks_train_a_reverse_run_and_type_a_date(speaker: Session, server: Server) -> None:
    """Another task from the form (Reverse: trained, explored, its anti-diagonal overlaid) and a date typed by hand."""
    page = speaker.page
    page.goto(server.url + "/Train")
    expect(page.get_by_role("button", name="Train both models")).to_be_visible()
    page.get_by_role("combobox", name="Task").click()
    page.get_by_role("option", name="Reverse", exact=True).click()
    expect(page.get_by_label("Echo length", exact=True)).to_have_count(0)  # Reverse's output is its input's length
    page.get_by_text("Batched (fast)", exact=True).click()
    for label, value in REVERSE_FORM.items():
        set_number(page, label, value)
    page.get_by_role("button", name="Train both models").click()
    page.wait_for_url(re.compile(r"/Train\?run="), timeout=APP_TIMEOUT)
    run_id = re.search(r"[?&]run=([^&#]+)", page.url).group(1)
    dates = start_dates_run(server)  # queued behind the Reverse run, trained while the speaker explores
    meta = json.loads((server.runs_dir / run_id / "run.json").read_text())
    assert meta["problem"] == {"cardinality": 6, "n_in": 4, "n_out": 4, "pad_target": True, "task": "reverse"}, meta
    expect(page.get_by_text(re.compile(r"^Done: "))).to_be_visible(timeout=TRAIN_TIMEOUT)
    page.get_by_role("link", name="Explore this run").click()
    box = page.get_by_label("Input sequence", exact=True)
    box.fill("1, 2, 3, 5")
    box.press("Enter")
    expect_heatmap_of(page, [1, 2, 3, 5])
    page.get_by_text("Show expected alignment", exact=True).click()
    # The expected overlay of Reverse is the anti-diagonal: output step t on input position n_in + 1 - t.
    page.wait_for_function(f"() => ({EXPECTED_CELLS_JS})() === '1:4|2:3|3:2|4:1'", timeout=APP_TIMEOUT, polling=100)
    assert_no_traceback(page)

    out, err = dates.communicate(timeout=TRAIN_TIMEOUT / 1000)
    assert dates.returncode == 0, err[-2000:]
    dates_id = Path(out.strip().splitlines()[-1]).name
    page.goto(f"{server.url}/Explore?run={dates_id}")
    box = page.get_by_label("Input date", exact=True)
    box.fill(DATE)
    box.press("Enter")
    page.wait_for_function(f"() => {{ const h = ({HEATMAP_JS})(); return h && h.ticks[0] === 'w' && h.rows === 10; }}")
    ticks = page.evaluate(HEATMAP_JS)["ticks"]
    shown = [re.sub("<[^>]+>", "", tick) for tick in ticks]  # the padding's labels are greyed with markup
    assert shown[:len(DATE)] == [c if c != " " else "␣" for c in DATE], ticks
    # Padded to the task's width; the padding's labels are dimmed.
    assert len(ticks) == 29 and set(shown[len(DATE):]) == {"·"} and PAD_COLOR in ticks[-1], ticks
    assert_no_traceback(page)
    box.fill("30 february 2018")
    box.press("Enter")
    expect(page.get_by_test_id("stAlert").filter(has_text="february")).to_be_visible()
    assert_no_traceback(page)
    assert not speaker.errors, speaker.errors


TALK = "attention-in-a-few-scenes"
TALK_TIMEOUT = 300  # s: `talk prepare --quick` trains the talk's four runs, one job process after the other


def scene_counter(page: Page) -> Locator:
    return page.get_by_test_id("stSidebar").get_by_text(re.compile(r"^scene \d+ of \d+$"))


def test_a_talk_steps_through_its_scenes_with_a_clicker(browser: Browser, server: Server) -> None:
    """The shipped talk on tiny prepared runs: PageDown twice moves two scenes on, each opening its page and state."""
    prepared = subprocess.run([venv_python(), "-m", "seqattn", "talk", "prepare", TALK, "--quick", "--runs-dir",
                               str(server.runs_dir)], cwd=PROJECT, capture_output=True, text=True, timeout=TALK_TIMEOUT)
    assert prepared.returncode == 0, prepared.stderr[-2000:]
    viewer = Session(browser)
    try:
        page = viewer.page
        page.goto(f"{server.url}/?talk={TALK}&scene=1")
        expect(scene_counter(page)).to_have_text("scene 1 of 10", timeout=APP_TIMEOUT)
        page.wait_for_url(re.compile(r"/Train\?"), timeout=APP_TIMEOUT)  # scene 1: the race, on Train
        wait_idle(page)
        page.keyboard.press("PageDown")
        expect(scene_counter(page)).to_have_text("scene 2 of 10")
        wait_idle(page)
        page.keyboard.press("PageDown")
        expect(scene_counter(page)).to_have_text("scene 3 of 10")
        page.wait_for_url(re.compile(r"/Explore\?"))
        expect(page.get_by_label("Input sequence", exact=True)).to_have_value(re.compile(r"^12, ?20, ?36, ?40, ?12$"))
        expect_heatmap_of(page, [12, 20, 36, 40, 12])
        assert re.search(r"[?&]scene=3", page.url) and re.search(r"[?&]view=step", page.url), page.url
        assert_no_traceback(page)
        assert not viewer.errors, viewer.errors
    finally:
        viewer.close()


ANSWERS_AND_HEATMAP_VISIBLE_JS = """
() => {
  const inView = el => { const r = el.getBoundingClientRect();
                         return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight + 1; };
  const metrics = Array.from(document.querySelectorAll('[data-testid="stMetric"]')).filter(inView);
  const heatmap = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
    .find(el => (el.querySelector('.js-plotly-plot')._fullData || []).some(t => t.type === 'heatmap'));
  return metrics.length >= 2 && heatmap && inView(heatmap);
}
"""


def test_explore_on_a_small_projector_and_in_the_dark(browser: Browser, server: Server, walk: dict[str, Any]) -> None:
    """At 1024x768 in presentation mode the Answer tab shows both answers and the heatmap without scrolling;
    the same page in the dark theme (the viewer's system setting) for the README."""
    assert "run" in walk, "needs the run trained by test_train_live_then_done"
    address = f"{server.url}/Explore?run={walk['run']}&seq=4,0,3,1,2&view=answer&present=true"
    for scheme, size in (("light", {"width": 1024, "height": 768}), ("dark", VIEWPORT)):
        context = browser.new_context(viewport=size, color_scheme=scheme)
        try:
            page = context.new_page()
            page.goto(address)
            expect_heatmap_of(page, [4, 0, 3, 1, 2])
            settle(page)  # the rare busy page settle() describes: seen here too, once in three full runs
            if scheme == "light":
                page.wait_for_function(ANSWERS_AND_HEATMAP_VISIBLE_JS, timeout=APP_TIMEOUT, polling=200)
            else:
                background = page.evaluate("() => getComputedStyle(document.querySelector('.stApp')).backgroundColor")
                assert background == "rgb(14, 17, 23)", background  # the dark theme's background
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.mouse.move(VIEWPORT["width"] // 2, 5)
                page.screenshot(path=str(SCREENSHOTS / "explore_dark.png"), animations="disabled")
            assert_no_traceback(page)
        finally:
            context.close()


def test_deep_links_open_the_same_state_as_a_fresh_servers_first_visits(browser: Browser, server: Server,
                                                                        walk: dict[str, Any], tmp_path_factory) -> None:
    """Bookmarked deep links open the same state in another browser, even as a new server's very first visits.

    The page files live in pages/, which Streamlit also reads as its legacy page list until the entry point has
    declared the pages once: the first request must still get the entry point's frame and navigation.
    """
    assert "run" in walk, "needs the run trained by test_train_live_then_done"
    run_id = walk["run"]
    base = tmp_path_factory.mktemp("e2e_fresh")
    # The same runs, a server of its own; no warm processes (nothing is trained here).
    fresh = start_server(server.runs_dir, base / "streamlit.log", env_overrides={"SEQATTN_WARMUP": "0",
                                                                                   "SEQATTN_WARM_WORKER": "0"})
    viewer = Session(browser)
    try:
        page = viewer.page
        page.goto(f"{fresh.url}/Train?run={run_id}")
        expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=APP_TIMEOUT)
        expect(page.get_by_text(run_id).first).to_be_visible()  # the caption with the shareable run id
        expect(page.get_by_text(re.compile(r"^Done: "))).to_contain_text(f"{SHORT_UPDATES:,} updates")
        expect(page.get_by_role("link", name="Explore this run")).to_be_visible()
        expect_navigation(page, "Train")
        assert_no_traceback(page)

        page.goto(f"{fresh.url}/Explore?run={run_id}&seq=4,0,3,1,2&present=true")
        expect(page.get_by_label("Input sequence", exact=True)).to_have_value("4,0,3,1,2", timeout=APP_TIMEOUT)
        expect(page.get_by_role("combobox", name="Run")).to_have_value(re.compile(rf"^{run_id} "))  # that run
        expect_heatmap_of(page, [4, 0, 3, 1, 2])
        expect_navigation(page, "Explore")
        assert re.search(rf"[?&]run={run_id}", page.url) and re.search(r"[?&]seq=4%2C0%2C3%2C1%2C2", page.url), page.url
        # The frame the entry point draws: presentation mode (from the address) and the presenter keys.
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_role("switch", name="Presentation mode")).to_be_checked()
        expect(sidebar.get_by_role("button", name="Keys")).to_be_visible()
        assert_no_traceback(page)
        assert not viewer.errors, viewer.errors
    finally:
        viewer.close()
        stop_server(fresh)
