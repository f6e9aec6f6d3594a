"""Explore: type a sequence, see both models' answers and where the attention model looks.

Below the answers: step through decoding one output step at a time, compare a
second sequence's attention with the first's, and force a step's attention
elsewhere to see what the model would have said.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from seqattn.figures import MODEL_LABELS, attention_heatmap, attention_step_bars, top_tokens_bars
from seqattn.problem.config import ProblemConfig
from seqattn.problem.batches import make_batch
from seqattn.problem.parsing import accepted_forms, example_sequence, parse_sequence
from seqattn.runs import RunSummary, list_runs, runs_root
from ui import explore_views
from ui.heatmap_clicks import clicked_cell
from ui.loaders import predictors_for
from ui.navigation import link, require_entry_point
from ui.shell import show_figure
from ui.stepper import stepper
from ui.text import code, plain

ROOT = str(runs_root())
SEQ_KEY = "explore_sequence"  # the last valid sequence; survives page changes (widget keys do not)
RUN_KEY = "explore_run"
INPUT_KEY, SECOND_KEY = "_seq_widget", "_second_widget"
STEP_KEY = "step"  # the "Output step" stepper, 1-based as people count
HEATMAP_KEY = "attention_heatmap"


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
    if chosen != st.session_state.get(RUN_KEY):  # another run: its own sequence, step and what-if
        st.session_state[RUN_KEY] = chosen
        for key in (INPUT_KEY, SECOND_KEY, STEP_KEY, explore_views.POSITION_KEY):
            st.session_state.pop(key, None)
    return by_id[chosen]


def randomize(problem: ProblemConfig) -> None:
    values = make_batch(problem, 1, np.random.default_rng()).inputs[0].tolist()
    st.session_state[INPUT_KEY] = ", ".join(map(str, values))


def select_cell() -> None:
    """A click on a heatmap cell picks its output step (and its input, for the what-if)."""
    cell = clicked_cell(st.session_state.get(HEATMAP_KEY))
    if cell is not None:
        st.session_state[STEP_KEY] = cell[0] + 1
        st.session_state[explore_views.POSITION_KEY] = cell[1]


def explanation_of(text: str, problem: ProblemConfig, predictors: dict):
    """The explanation of what was typed; after a bad input, the message and the last valid sequence's (or None)."""
    from seqattn.explore import explain

    try:
        explanation = explain(text, problem, predictors)
    except ValueError as exc:
        st.error(plain(exc))
        last = st.session_state.get(SEQ_KEY)
        try:
            explanation = explain(last, problem, predictors) if last else None
        except ValueError:
            return None
        if explanation is not None:
            st.caption(f"Below: the last valid sequence, {last}.")
        return explanation
    st.session_state[SEQ_KEY] = ",".join(map(str, explanation.inputs))
    st.query_params["seq"] = st.session_state[SEQ_KEY]
    return explanation


def attention_views(explanation, problem: ProblemConfig, run: RunSummary) -> int:
    """The output step's stepper, the heatmap, that step's attention bars and top tokens; returns the step (0-based)."""
    from seqattn.explore import export_bundle

    step = stepper("Output step", range(1, explanation.attention.shape[0] + 1), key=STEP_KEY, item="output step",
                   help="Which decoding step to look at; also ←/→, or click a heatmap cell.") - 1
    options = st.columns([2, 2, 3])
    show_expected = options[0].toggle("Show expected alignment", value=False, key="show_expected")
    image_format = options[1].radio("Chart download format", ["png", "svg"], horizontal=True, key="image_format")
    options[2].download_button(
        "Download", data=export_bundle(explanation, {"run": run.id, "problem": run.problem, "train": run.train}),
        file_name=f"attention-{run.id}.zip", mime="application/zip", key="download_bundle",
        help="attention.csv (the matrix) and config.json (the run's config and this sequence).")
    heatmap, bars = st.columns([3, 2])
    with heatmap:
        fig = attention_heatmap(explanation.attention, explanation.inputs,
                                explanation.answers[explanation.attending].tokens, problem.n_out,
                                expected_tokens=explanation.expected, show_expected=show_expected,
                                title="Where the attention decoder looks", highlight_step=step, clickable=True)
        show_figure(fig, key=HEATMAP_KEY, image_format=image_format, on_select=select_cell)
    with bars:
        show_figure(attention_step_bars(explanation.attention, explanation.inputs, step), key="step_bars")
    show_figure(top_tokens_bars(explanation.probabilities, step, explanation.expected), key="top_tokens")
    return step


require_entry_point()
st.title("Explore")
run = pick_run()
if run is not None:
    problem = ProblemConfig.from_dict(run.problem)
    st.query_params["run"] = run.id
    default = st.query_params.get("seq") or st.session_state.get(SEQ_KEY)
    try:
        parse_sequence(default or "", problem)
    except ValueError:
        default = ", ".join(map(str, example_sequence(problem)))
    st.session_state.setdefault(INPUT_KEY, default)
    first_box, second_box = st.columns(2)
    # live: answers follow the typing, without Enter.
    text = first_box.text_input("Input sequence", key=INPUT_KEY, help=accepted_forms(problem), live=True)
    second_text = second_box.text_input("Second sequence", key=SECOND_KEY, live=True, help=accepted_forms(problem),
                                        placeholder="optional: change a token, see which weights move")
    st.button("Random sequence", on_click=randomize, args=(problem,), shortcut="N", key="random_sequence",
              help="A new random input sequence (key: n).")
    predictors = predictors_for(run.id, ROOT)
    explanation = explanation_of(text, problem, predictors)
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
