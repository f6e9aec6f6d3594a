"""Explore: type an input (a sequence, or a date), see both models' answers and where the attention model looks.

The input box and both answers sit above four tabs, so every tab follows the same input: **Answer** (the
attention heatmap, the tokens table), **Step** (one output step at a time: where it looks, its top tokens),
**Two sequences** (a second input's attention compared with the first's) and **What if** (force a step's
attention elsewhere and see what the model would have said). The address opens a state
(``?run=<id>&seq=...&second=...&step=3&force=2&overlay=true&view=step``: :func:`ui.explore_views.apply_address`).
The run's task decides what the input box reads and how tokens are written (:mod:`ui.explore_views`).
"""

from __future__ import annotations

import streamlit as st

from ui import prefetch

# First, before the page's imports and, on a fresh server's deep link, before the entry point's frame: the
# browser fetches Plotly's chart script (4.7 MB, from a server that is busy with this run) while this run
# imports, reads the models and builds the heatmap, so the heatmap is drawn soon after it arrives.
prefetch.load_now(("PlotlyChart",))

from seqattn.model.registry import MODEL_LABELS  # not from seqattn.figures: Plotly loads later
from seqattn.problem.config import ProblemConfig
from seqattn.runs import RunSummary, list_runs, runs_root
from ui import explore_views
from ui.explore_views import HEATMAP_KEY, INPUT_KEY, OVERLAY_KEY, SECOND_KEY, STEP_KEY
from ui.heatmap_clicks import clicked_cell
from ui.loaders import predictors_for
from ui.navigation import link, require_entry_point
from ui.shell import SETTINGS_PREFIX
from ui.stepper import stepper
from ui.text import code

ROOT = str(runs_root())
RUN_KEY = "explore_run"  # the run shown last (the box's key is dropped when the page is left)
RUN_BOX = "_run_select"


def pick_run(row) -> RunSummary | None:
    """The run to explore: the address's, else the last one explored, else the latest; its box goes in ``row``."""
    runs = [r for r in list_runs(ROOT) if r.usable]
    if not runs:
        st.info("No finished runs to explore yet. Train one on the **Train** page (it takes seconds).")
        link("train", label="Go to Train")
        return None
    by_id = {r.id: r for r in runs}
    wanted = st.query_params.get("run") or st.session_state.get(RUN_KEY)
    if wanted and wanted not in by_id:
        st.warning(f"Run {code(wanted)} is not a finished run here; showing the latest instead.")
        wanted = None
    # Another run in the address than the one shown (a deep link, a talk's scene) moves the box to it.
    if wanted != st.session_state.get(RUN_KEY) or st.session_state.get(RUN_BOX) not in by_id:
        st.session_state[RUN_BOX] = wanted or runs[0].id
    with row, st.container(key=f"{SETTINGS_PREFIX}run"):  # a setting: hidden in the projector's clean view
        chosen = st.selectbox("Run", list(by_id), format_func=lambda i: by_id[i].label(), key=RUN_BOX)
    if chosen != st.session_state.get(RUN_KEY):  # another run: its own input, step and what-if
        st.session_state[RUN_KEY] = chosen
        for key in (INPUT_KEY, SECOND_KEY, STEP_KEY, explore_views.POSITION_KEY):
            st.session_state.pop(key, None)
    return by_id[chosen]


def select_cell() -> None:
    """A click on a heatmap cell picks its output step (and its input, for the what-if)."""
    cell = clicked_cell(st.session_state.get(HEATMAP_KEY))
    if cell is not None:
        st.session_state[STEP_KEY] = cell[0] + 1
        st.session_state[explore_views.POSITION_KEY] = cell[1]


def answer_tab(explanation, problem: ProblemConfig, run: RunSummary, labels: dict[str, str], step: int) -> None:
    """The heatmap, then its options and the tokens table.

    The heatmap is sent first, before the download's bundle and the table (pandas: 0.3 s on a fresh server),
    so a cold Explore shows it sooner; the containers keep the order on the page.
    """
    from seqattn.explore import export_bundle

    figure = st.container()
    # A setting: hidden in the projector's clean view; the heatmap first on a projector.
    settings = st.container(key=f"{SETTINGS_PREFIX}heatmap", horizontal=True, vertical_alignment="center",
                            gap="large")
    with settings:  # drawn before the heatmap, which reads them
        show_expected = st.toggle("Show expected alignment", key=OVERLAY_KEY,
                                  help="Outline the cells a perfect model would look at for this input.")
        image_format = st.radio("Chart download format", ["png", "svg"], horizontal=True, key="image_format")
    with figure:
        explore_views.heatmap(explanation, problem, step, show_expected, image_format, select_cell)
    with settings:
        st.download_button(
            "Download", key="download_bundle", file_name=f"attention-{run.id}.zip", mime="application/zip",
            data=export_bundle(explanation, {"run": run.id, "problem": run.problem, "train": run.train}),
            help="attention.csv (the matrix) and config.json (the run's config and this input).")
    explore_views.token_table(explanation, labels)


def tabs(explanation, problem: ProblemConfig, run: RunSummary, labels: dict[str, str], predictors: dict) -> None:
    """The four tabs; the Step tab's stepper comes first, as every other tab shows its output step.

    Then the Answer tab (the heatmap, the page's main figure), then the Step tab's figures and the others.
    """
    tab = explore_views.view_tabs()
    with tab["step"]:
        step = stepper("Output step", range(1, explanation.attention.shape[0] + 1), key=STEP_KEY,
                       item="output step", help="Which decoding step to look at; also ←/→, or click a heatmap cell.") - 1
    with tab["answer"]:
        answer_tab(explanation, problem, run, labels, step)
    with tab["step"]:  # below its stepper
        explore_views.step_views(explanation, step)
    with tab["two"]:
        noun = explore_views.input_noun(problem)
        box, answers = st.columns([2, 3], vertical_alignment="bottom")  # the second input beside its answers
        second_text = box.text_input(f"Second {noun}", key=SECOND_KEY, live=True,
                                     help=problem.task_spec.accepted(problem),
                                     placeholder="optional: change a token, see which weights move")
        if second_text.strip():
            explore_views.second_sequence(second_text, explanation, problem, predictors, labels, answers)
        else:
            st.caption(f"Type a second {noun}, e.g. the first with one token changed: both heatmaps and their "
                       "difference appear here.")
    with tab["whatif"]:
        explore_views.what_if(explanation, problem, predictors[explanation.attending], step)


require_entry_point()
explore_views.compact_layout()
st.title("Explore")  # hidden in presentation mode (compact_layout): the rows below then fit a 1024x768 projector
# The input, then both answers beside the run: above the tabs, so every tab follows the same input.
input_box, random_box = st.columns(2, vertical_alignment="bottom")
answers_box, run_box = st.columns([2, 1], vertical_alignment="bottom")
run = pick_run(run_box)
if run is not None:
    problem = ProblemConfig.from_dict(run.problem)
    task, noun = problem.task_spec, explore_views.input_noun(problem)
    st.query_params["run"] = run.id
    explore_views.apply_address(problem)  # ?seq=, ?second=, ?step=, ... (or a talk's scene)
    # live: answers follow the typing, without Enter.
    text = input_box.text_input(task.input_label, key=INPUT_KEY, help=task.accepted(problem), live=True)
    random_box.button(f"Random {noun}", on_click=explore_views.randomize, args=(problem,), shortcut="N",
                      key="random_sequence", help=f"A new random input {noun} (key: n).")
    predictors = predictors_for(run.id, ROOT)
    explanation = explore_views.explanation_of(text, problem, predictors)
    if explanation is not None:
        labels = {name: MODEL_LABELS.get(name, name) for name in explanation.answers}
        explore_views.verdicts(explanation, labels, answers_box)
        if explanation.attention is None:
            st.info("This run has no attention model.")
            explore_views.token_table(explanation, labels)
        else:
            tabs(explanation, problem, run, labels, predictors)
