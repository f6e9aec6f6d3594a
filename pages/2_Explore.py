"""Explore: type an input (a sequence, or a date), see both models' answers and where the attention model looks.

Below the answers: step through decoding one output step at a time, compare a
second input's attention with the first's, and force a step's attention
elsewhere to see what the model would have said. The run's task decides what
the input box reads and how tokens are written (:mod:`ui.explore_views`).
"""

from __future__ import annotations

import streamlit as st

from seqattn.figures import MODEL_LABELS
from seqattn.problem.config import ProblemConfig
from seqattn.runs import RunSummary, list_runs, runs_root
from ui import explore_views
from ui.explore_views import HEATMAP_KEY, INPUT_KEY, SECOND_KEY, SEQ_KEY
from ui.heatmap_clicks import clicked_cell
from ui.loaders import predictors_for
from ui.navigation import link, require_entry_point
from ui.stepper import stepper
from ui.text import code

ROOT = str(runs_root())
RUN_KEY = "explore_run"
STEP_KEY = "step"  # the "Output step" stepper, 1-based as people count


def pick_run() -> RunSummary | None:
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
    chosen = st.selectbox("Run", list(by_id), index=list(by_id).index(wanted) if wanted else 0,
                          format_func=lambda i: by_id[i].label(), key="_run_select")
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


def attention_views(explanation, problem: ProblemConfig, run: RunSummary) -> int:
    """The output step's stepper, the heatmap, that step's attention bars and top tokens; returns the step (0-based)."""
    from seqattn.explore import export_bundle

    step = stepper("Output step", range(1, explanation.attention.shape[0] + 1), key=STEP_KEY, item="output step",
                   help="Which decoding step to look at; also ←/→, or click a heatmap cell.") - 1
    options = st.columns([2, 2, 3])
    show_expected = options[0].toggle("Show expected alignment", value=False, key="show_expected",
                                      help="Outline the cells a perfect model would look at for this input.")
    image_format = options[1].radio("Chart download format", ["png", "svg"], horizontal=True, key="image_format")
    options[2].download_button(
        "Download", data=export_bundle(explanation, {"run": run.id, "problem": run.problem, "train": run.train}),
        file_name=f"attention-{run.id}.zip", mime="application/zip", key="download_bundle",
        help="attention.csv (the matrix) and config.json (the run's config and this input).")
    explore_views.heatmap_and_bars(explanation, problem, step, show_expected, image_format, select_cell)
    return step


require_entry_point()
st.title("Explore")
run = pick_run()
if run is not None:
    problem = ProblemConfig.from_dict(run.problem)
    task, noun = problem.task_spec, explore_views.input_noun(problem)
    st.query_params["run"] = run.id
    wanted = st.query_params.get("seq") or st.session_state.get(SEQ_KEY)
    st.session_state.setdefault(INPUT_KEY, explore_views.default_text(problem, wanted))
    first_box, second_box = st.columns(2)
    # live: answers follow the typing, without Enter.
    text = first_box.text_input(task.input_label, key=INPUT_KEY, help=task.accepted(problem), live=True)
    second_text = second_box.text_input(f"Second {noun}", key=SECOND_KEY, live=True, help=task.accepted(problem),
                                        placeholder="optional: change a token, see which weights move")
    st.button(f"Random {noun}", on_click=explore_views.randomize, args=(problem,), shortcut="N",
              key="random_sequence", help=f"A new random input {noun} (key: n).")
    predictors = predictors_for(run.id, ROOT)
    explanation = explore_views.explanation_of(text, problem, predictors)
    if explanation is not None:
        labels = {name: MODEL_LABELS.get(name, name) for name in explanation.answers}
        explore_views.answers(explanation, labels)
        if explanation.attention is None:
            st.info("This run has no attention model.")
        else:
            step = attention_views(explanation, problem, run)
            if second_text.strip():
                explore_views.second_sequence(second_text, explanation, problem, predictors, labels)
            explore_views.what_if(explanation, problem, predictors[explanation.attending], step)
