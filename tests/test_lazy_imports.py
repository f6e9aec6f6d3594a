"""The home page renders without pandas or TensorFlow: those imports wait until a page needs them.

Each check runs in a fresh interpreter, since this test process has long imported
everything. The list of modules comes from ``dashboard.py`` itself, so a new
import on the home page is checked too.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqattn.runs import RunError, read_progress
from seqattn.runs.layout import PROGRESS_FILE
from seqattn.runs.progress import final_reported
from tests.test_damaged_runs import fake_done_run

PROJECT = Path(__file__).resolve().parent.parent
# pandas costs about 0.3 s at launch; TensorFlow seconds. Plotly stays: Streamlit imports it itself.
HEAVY = ("pandas", "tensorflow", "keras")


def home_page_imports() -> list[str]:
    """The modules ``dashboard.py`` imports at its top level."""
    tree = ast.parse((PROJECT / "dashboard.py").read_text())
    modules = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            modules.append(node.module)
    return modules


def loaded_after(code: str, runs_dir: Path) -> dict[str, bool]:
    """Run ``code`` in a fresh interpreter; which of HEAVY it left in ``sys.modules``."""
    probe = code + f"\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))\n"
    env = dict(os.environ, SEQATTN_RUNS_DIR=str(runs_dir), SEQATTN_WARMUP="0", PYTHONPATH=str(PROJECT))
    done = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_home_page_imports_are_known():
    modules = home_page_imports()
    assert "streamlit" in modules and "seqattn.runs" in modules and "ui.shell" in modules, modules


def test_the_home_page_imports_no_figure_builders_before_its_first_screen(tmp_path):
    """seqattn.figures costs about 0.2 s on a fresh server: only the latest run's chart, below, needs it."""
    assert "seqattn.figures" not in home_page_imports()
    probe = "\n".join(f"import {module}" for module in home_page_imports())
    probe += "\nimport sys\nassert 'seqattn.figures' not in sys.modules, 'imported before the first screen'\n"
    loaded_after(probe, tmp_path / "runs")


def test_importing_the_home_page_modules_loads_no_pandas_or_tensorflow(tmp_path):
    code = "\n".join(f"import {module}" for module in home_page_imports())
    loaded = loaded_after(code, tmp_path / "runs")
    assert not any(loaded.values()), f"imported at launch: {[m for m, yes in loaded.items() if yes]}"


def test_drawing_the_home_page_with_a_finished_run_loads_no_pandas_or_tensorflow(tmp_path):
    root = tmp_path / "runs"
    run_id = fake_done_run(root)
    code = (
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('dashboard.py', default_timeout=120).run()\n"
        "assert not at.exception, [e.value for e in at.exception]\n"
        "metrics = {m.label: m.value for m in at.metric}\n"
        "assert any(m.value.startswith('**Done** · started') for m in at.markdown), [m.value for m in at.markdown]\n"
        "assert metrics.get('Attention exact match') == '50.0%', metrics\n"
        f"assert any({run_id!r} in c.value for c in at.caption), [c.value for c in at.caption]\n"
    )
    loaded = loaded_after(code, root)
    assert not any(loaded.values()), f"imported by the home page: {[m for m, yes in loaded.items() if yes]}"


def test_the_runs_package_loads_no_numpy_or_psutil(tmp_path):
    """Every page imports seqattn.runs before its first element: NumPy (about 0.07 s) and psutil wait for the
    first run that is read."""
    probe = ("import seqattn.runs, sys\n"
             "assert 'numpy' not in sys.modules and 'psutil' not in sys.modules, "
             "sorted(m for m in sys.modules if m.startswith('seqattn'))\n")
    loaded_after(probe, tmp_path / "runs")


def test_explore_builds_its_heatmap_without_pandas(saved_run):
    """A fresh server's Explore sends its heatmap before the tokens table: the run's models read, one input
    explained and the heatmap built, pandas (about 0.3 s) is still not imported, nor TensorFlow."""
    root, run_id = saved_run
    code = (
        "from seqattn.explore import explain\n"
        "from seqattn.figures import attention_heatmap\n"
        "from seqattn.problem.config import ProblemConfig\n"
        "from seqattn.runs import get_run, load_predictors\n"
        "from ui.explore_views import example_text\n"
        f"run = get_run({run_id!r})\n"
        "problem = ProblemConfig.from_dict(run.problem)\n"
        f"explanation = explain(example_text(problem), problem, load_predictors({run_id!r}))\n"
        "answer = explanation.answers[explanation.attending]\n"
        "attention_heatmap(explanation.attention, explanation.shown_inputs, answer.shown, problem.n_out,\n"
        "                  clickable=True)\n"
    )
    loaded = loaded_after(code, root)
    assert not any(loaded.values()), f"imported before the heatmap: {[m for m, yes in loaded.items() if yes]}"


HEADER = "# seqattn progress v2\nupdate,total,samples,elapsed,loss_a,smoothed_a,accuracy_a,alignment,final\n"


@pytest.mark.parametrize("rows", [
    "",  # header only
    "1,2,4,0.1,0.5,0.5,,,0\n",  # a report, not the final one
    "1,2,4,0.1,0.5,0.5,,,0\n2,2,8,0.2,0.4,0.4,0.9,,1\n",  # the final report
    "1,2,4,0.1,0.5,0.5,,,0\n2,2,8,0.2,0.4,0.4,0.9,,1\n3,2,8,0.2",  # a partial line is not read
    "1,2,4,0.1,0.5,0.5,,,1\nnot,a,row\n2,2,8,0.2,0.4,0.4,0.9,,1\n",  # a corrupt row
    "1,2,4,0.1,0.5,0.5,,,1\n\n,2,8,0.2,0.4,0.4,0.9,,1\n",  # a blank row and one without an update
    "\n\n",  # blank lines only
])
def test_final_reported_agrees_with_read_progress(tmp_path, rows):
    """The run listing's pandas-free check says what the full reader says: final row or not, or which line is bad."""
    (tmp_path / PROGRESS_FILE).write_text(HEADER + rows)
    try:
        history = read_progress(tmp_path)
        expected: bool | str = not history.empty and bool(history["final"].iloc[-1])
    except RunError as exc:
        expected = str(exc)
    try:
        got: bool | str = final_reported(tmp_path)
    except RunError as exc:
        got = str(exc)
    assert got == expected


def test_final_reported_without_a_progress_file(tmp_path):
    assert final_reported(tmp_path) is False
    (tmp_path / PROGRESS_FILE).write_text("# seqattn progress v9\nupdate\n")
    with pytest.raises(RunError, match="newer seqattn"):
        final_reported(tmp_path)


def test_the_home_title_is_drawn_before_numpy_and_the_jobs_code_are_imported(tmp_path):
    """A launch shows the home title as soon as a one-line page would (bench/page_floors.py): NumPy, the tasks
    and the warm pool's jobs code are imported after it; the rest of the page still draws."""
    code = (
        "import sys\n"
        "import streamlit as st\n"
        "seen = {}\n"
        "title = st.title\n"
        "def recording_title(body, *args, **kwargs):\n"
        "    seen.setdefault(body, sorted(m for m in ('numpy', 'seqattn.jobs', 'seqattn.problem.registry')\n"
        "                                 if m in sys.modules))\n"
        "    return title(body, *args, **kwargs)\n"
        "st.title = recording_title\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('dashboard.py', default_timeout=120).run()\n"
        "assert not at.exception, [e.value for e in at.exception]\n"
        "assert any('Both models learn one of' in m.value for m in at.markdown), [m.value for m in at.markdown]\n"
        "assert seen == {'How attention works in a sequence-to-sequence model': []}, seen\n"
        "assert 'numpy' in sys.modules, 'the example below the title needs NumPy'\n"
    )
    loaded_after(code, tmp_path / "runs")
