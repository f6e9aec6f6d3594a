"""Server warm-up: after the home page is drawn, get the Explore page ready in the background.

Explore's first keystroke on a fresh server pays for a few imports (h5py, Plotly,
pandas' Styler), reading the newest run's models and building the figures once.
:func:`start` does all of it once per server process, in a daemon thread, while
the audience reads the home page (the models answer in NumPy, so none of this
imports TensorFlow; :mod:`seqattn.model.inference`). The warm *training* process is
not started here: the entry point (``dashboard.py``) does that.

1. import the model reader (:mod:`seqattn.model.inference`, h5py), and build the Train page's live
   loss chart once (pandas, the figure), so a first click's loss point is drawn when it comes;
2. load the predictors of the run Explore opens by default (the newest usable
   run) through :func:`ui.loaders.preload_predictors`, which
   :func:`ui.loaders.predictors_for` then takes instead of loading again;
3. run one explanation, one forced-attention what-if and build the Explore
   figures once, so the first real keystroke finds everything imported.

It never raises into a page: a problem is one log line and the warm-up gives up
(the page then loads what it needs itself, as it did before). The entry point
calls :func:`start` after the home page is drawn, so it never delays its render,
and nothing here imports anything heavy until the thread runs.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from seqattn.settings import read

_LOG = logging.getLogger("seqattn.ui.warmup")
WARMUP_ENV = "SEQATTN_WARMUP"  # "0" turns the warm-up off (e.g. to measure a cold Explore)
START_DELAY = 0.3  # s: let the server send the home page before the imports take the GIL

_lock = threading.Lock()
_thread: threading.Thread | None = None


@dataclass
class WarmupReport:
    """What the warm-up did (for tests and logs): the run it loaded, seconds per stage, a failure."""

    run_id: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


report = WarmupReport()


def start(root: str | None = None, delay: float = START_DELAY, server_only: bool = True) -> threading.Thread | None:
    """Start the warm-up thread once per process; later calls return the same thread.

    ``root`` is resolved now (the runs root the calling page sees). With
    ``server_only`` nothing starts outside a real ``streamlit run`` server (an
    AppTest, bare mode) or when ``SEQATTN_WARMUP=0``; then None is returned.
    """
    global _thread
    if server_only and not in_server():
        return None
    with _lock:
        if _thread is None:
            try:
                from seqattn.runs import runs_root

                resolved = str(runs_root(root))
                thread = threading.Thread(target=_run, args=(resolved, delay), name="seqattn-warmup", daemon=True)
                thread.start()
            except Exception as exc:  # noqa: BLE001  (no thread to be had: the pages load what they need)
                _LOG.warning("warm-up not started: %s: %s", exc.__class__.__name__, exc)
                return None
            _thread = thread
        return _thread


def in_server() -> bool:
    """True inside a real Streamlit server (not an AppTest's mock runtime), unless SEQATTN_WARMUP is off.

    Raises:
        SettingError: SEQATTN_WARMUP is neither on nor off (``dashboard.py`` reads it where bad values fall back).
    """
    if not read(WARMUP_ENV):
        return False
    try:
        from streamlit.runtime import Runtime

        return Runtime.exists() and type(Runtime.instance()) is Runtime
    except Exception:  # noqa: BLE001
        return False


def _run(root: str | None, delay: float) -> None:
    try:
        if delay > 0:
            time.sleep(delay)
        warm(root, report)
        _LOG.info("warm-up done: run %s, seconds %s", report.run_id, report.seconds)
    except Exception as exc:  # noqa: BLE001  (a warm-up must never take the server down)
        report.error = f"{exc.__class__.__name__}: {exc}"
        _LOG.warning("warm-up gave up: %s (pages load what they need themselves)", report.error)
    finally:
        report.done.set()


def _timed(report: WarmupReport, stage: str, started: float) -> float:
    now = time.perf_counter()
    report.seconds[stage] = round(now - started, 3)
    return now


def warm(root: str | None = None, report: WarmupReport | None = None) -> WarmupReport:
    """Do the warm-up in this thread (raises on a damaged run; :func:`start` catches and logs)."""
    report = report if report is not None else WarmupReport()
    started = time.perf_counter()
    import h5py  # noqa: F401

    import seqattn.model.inference  # noqa: F401
    from seqattn.runs import list_runs, runs_root

    now = _timed(report, "imports", started)
    _first_live_view()
    now = _timed(report, "live view", now)
    root = str(runs_root(root))
    runs = [r for r in list_runs(root) if r.usable]  # Explore's default is the newest usable run
    if not runs:
        _timed(report, "total", started)
        return report
    run = runs[0]
    from ui.loaders import preload_predictors

    predictors = preload_predictors(run.id, root)
    report.run_id = run.id
    now = _timed(report, "load", now)
    _first_explanation(run.problem, predictors)
    _timed(report, "trace", now)
    _timed(report, "total", started)
    return report


def _first_live_view() -> None:
    """The Train page's live view, once, on a tiny history: pandas (its progress table, 0.3 s to import) and
    the loss chart's figure. A click's first loss point is then drawn when it is written, on a fresh server too."""
    import pandas as pd

    from seqattn.figures import loss_race_figure

    history = pd.DataFrame({"update": [1, 2], "loss_attention": [3.9, 3.8], "smoothed_attention": [3.9, 3.85]})
    loss_race_figure(history, 50, log_y=False, revision="warm-up").to_json()


def _first_explanation(problem_dict: dict, predictors: dict) -> None:
    """One keystroke's work on Explore's example sequence: predictions, what-if, figures, answers table."""
    from seqattn.explore import answers_table, explain
    from seqattn.figures import attention_heatmap, attention_step_bars, top_tokens_bars
    from seqattn.problem.parsing import example_sequence
    from seqattn.problem.config import ProblemConfig

    problem = ProblemConfig.from_dict(problem_dict)
    explanation = explain(list(example_sequence(problem)), problem, predictors)
    answers_table(explanation).style.to_html()  # the Styler (and its jinja2 templates) Explore's table uses
    if explanation.attention is None:
        return
    from seqattn.model.what_if import force_attention

    force_attention(predictors[explanation.attending], explanation.inputs, 0, 0, 1.0)
    attention_heatmap(explanation.attention, explanation.inputs, explanation.answers[explanation.attending].tokens,
                      problem.n_out, expected_tokens=explanation.expected, clickable=True)
    attention_step_bars(explanation.attention, explanation.inputs, 0)
    top_tokens_bars(explanation.probabilities, 0, explanation.expected)
