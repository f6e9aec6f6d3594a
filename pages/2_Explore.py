"""Explore: type a sequence, see both models' answers and where the attention model looks.

Below the answers: step through decoding one output step at a time, compare a
second sequence's attention with the first's, and force a step's attention
elsewhere to see what the model would have said.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from seqattn.figures import (
    MODEL_LABELS,
    attention_difference,
    attention_heatmap,
    attention_step_bars,
    clicked_cell,
    forced_attention_comparison,
    top_tokens_bars,
)
from seqattn.problem.parsing import accepted_forms, example_sequence, parse_sequence
from seqattn.problem.echo import ProblemConfig, make_batch
from seqattn.runs import list_runs, runs_root
from ui.loaders import predictors_for
from ui.shell import link, guarded, page_setup, show_figure
from ui.text import code, plain

ROOT = str(runs_root())
SEQ_KEY = "explore_sequence"  # survives page changes (widget keys do not)
RUN_KEY = "explore_run"
STEP_KEY = "_step"  # the "Output step" slider, 1-based as people count
POSITION_KEY = "_force_position"  # the what-if's input position, 0-based
HEATMAP_KEY = "attention_heatmap"


def pick_run() -> object | None:
    runs = [r for r in list_runs(ROOT) if r.usable]
    if not runs:
        st.info("No finished runs to explore yet. Train one on the **Train** page (it takes seconds).")
        link("train", label="Go to Train")
        return None
    ids = [r.id for r in runs]
    wanted = st.query_params.get("run") or st.session_state.get(RUN_KEY)
    if wanted and wanted not in ids:
        st.warning(f"Run {code(wanted)} is not a finished run here; showing the latest instead.")
        wanted = None
    by_id = {r.id: r for r in runs}
    chosen = st.selectbox("Run", ids, index=ids.index(wanted) if wanted else 0,
                          format_func=lambda i: by_id[i].label(), key="_run_select")
    if chosen != st.session_state.get(RUN_KEY):
        st.session_state[RUN_KEY] = chosen
        for key in ("_seq_widget", "_second_widget", STEP_KEY, POSITION_KEY):
            st.session_state.pop(key, None)
    return by_id[chosen]


def randomize(problem: ProblemConfig) -> None:
    seed = np.random.default_rng().integers(0, 2**31)
    values = make_batch(problem, 1, np.random.default_rng(seed)).inputs[0].tolist()
    st.session_state["_seq_widget"] = ", ".join(map(str, values))


def move_step(delta: int, steps: int) -> None:
    """The ◀ / ▶ buttons and the arrow keys."""
    st.session_state[STEP_KEY] = min(steps, max(1, int(st.session_state.get(STEP_KEY, 1)) + delta))


def select_cell() -> None:
    """A click on a heatmap cell picks its output step (and its input, for the what-if)."""
    cell = clicked_cell(st.session_state.get(HEATMAP_KEY))
    if cell is not None:
        st.session_state[STEP_KEY] = cell[0] + 1
        st.session_state[POSITION_KEY] = cell[1]


def styled_table(explanation, labels):
    from seqattn.explore import answers_table, wrong_cells

    table = answers_table(explanation, labels)
    wrong = wrong_cells(explanation, labels)
    return table.style.apply(
        lambda _: np.where(wrong, "background-color: #F8C9C4; color: #8B0000; font-weight: 600", ""), axis=None
    )


def verdicts(explanation, labels) -> None:
    for col, (name, answer) in zip(st.columns(len(explanation.answers)), explanation.answers.items()):
        col.metric(labels[name], " ".join(map(str, answer.tokens)),
                   "right" if answer.exact else f"{sum(not c for c in answer.correct)} wrong",
                   delta_color="normal" if answer.exact else "inverse")


def output_step(steps: int) -> int:
    """The "Output step" control (slider, ◀ ▶ buttons, arrow keys); returns the 0-based step."""
    st.session_state[STEP_KEY] = min(steps, max(1, int(st.session_state.get(STEP_KEY, 1))))
    back, slider, forward = st.columns([1, 10, 1], vertical_alignment="bottom")
    back.button("◀", key="step_back", shortcut="Left", on_click=move_step, args=(-1, steps),
                help="Previous output step (key: ←)", disabled=steps < 2)
    forward.button("▶", key="step_forward", shortcut="Right", on_click=move_step, args=(1, steps),
                   help="Next output step (key: →)", disabled=steps < 2)
    with slider:
        if steps > 1:
            st.slider("Output step", 1, steps, key=STEP_KEY,
                      help="Which decoding step to look at; also ←/→, or click a heatmap cell.")
        else:
            st.caption("Output step: 1 (the only one)")
    return int(st.session_state[STEP_KEY]) - 1


def second_sequence_view(text: str, first, problem: ProblemConfig, predictors, labels, large: bool) -> None:
    from seqattn.explore import explain

    try:
        second = explain(text, problem, predictors)
    except ValueError as exc:
        st.error(f"Second sequence: {plain(exc)}")
        st.caption("The first sequence's answer above is unchanged.")
        return
    st.subheader("Second sequence")
    verdicts(second, labels)
    attending = first.attending
    fig = attention_difference(first.attention, second.attention, first.inputs, second.inputs,
                               first.answers[attending].tokens, second.answers[attending].tokens, problem.n_out,
                               title="Which attention weights move (second minus first)")
    show_figure(fig, large, key="difference_map")
    st.caption("Right: red where the second sequence's attention is larger, blue where smaller; "
               "outlined, the cells that moved most.")


def what_if_view(explanation, problem: ProblemConfig, predictor, step: int, large: bool) -> None:
    from seqattn.model.what_if import force_attention

    st.subheader("What if it had looked elsewhere?")
    n_in = len(explanation.inputs)
    st.session_state[POSITION_KEY] = min(n_in - 1, max(0, int(st.session_state.get(POSITION_KEY, step % n_in))))
    left, right = st.columns(2)
    position = left.selectbox(
        f"Force output step {step + 1} to look at input position", list(range(n_in)), key=POSITION_KEY,
        format_func=lambda j: f"{j + 1} (token {explanation.inputs[j]})",
        help="Or click a heatmap cell: it picks the output step and the input position.")
    weight = right.slider("Weight on that position", 0.0, 1.0, 1.0, 0.05, key="_force_weight",
                          help="1 puts all the attention there; below 1 the rest keeps its own proportions.")
    what_if = force_attention(predictor, explanation.inputs, step, int(position), float(weight))
    before, after = what_if.original.tokens[0].tolist(), what_if.forced.tokens[0].tolist()
    changed = what_if.changed_steps
    st.metric("Forced attention: the model says", " ".join(map(str, after)),
              f"steps {', '.join(str(t + 1) for t in changed)} changed" if changed else "no step changed",
              delta_color="off")
    fig = forced_attention_comparison(what_if.original.attention[0], what_if.forced.attention[0], explanation.inputs,
                                      before, after, problem.n_out, step, int(position))
    show_figure(fig, large, key="forced_attention")


@guarded
def page() -> None:
    large = page_setup("Explore")
    st.title("Explore")
    run = pick_run()
    if run is None:
        return
    problem = ProblemConfig.from_dict(run.problem)
    default = st.query_params.get("seq") or st.session_state.get(SEQ_KEY)
    try:
        parse_sequence(default or "", problem)
    except ValueError:
        default = ", ".join(map(str, example_sequence(problem)))
    if "_seq_widget" not in st.session_state:
        st.session_state["_seq_widget"] = default
    first_box, second_box = st.columns(2)
    # live: answers follow the typing, without Enter.
    text = first_box.text_input("Input sequence", key="_seq_widget", help=accepted_forms(problem), live=True)
    second_text = second_box.text_input("Second sequence", key="_second_widget", live=True,
                                        placeholder="optional: change a token, see which weights move",
                                        help=accepted_forms(problem))
    st.button("Random sequence", on_click=randomize, args=(problem,), shortcut="N",
              help="A new random input sequence (key: n).")

    from seqattn.explore import explain, export_bundle

    predictors = predictors_for(run.id, ROOT)
    try:
        explanation = explain(text, problem, predictors)
    except ValueError as exc:
        st.error(plain(exc))
        last = st.session_state.get(SEQ_KEY)
        try:
            explanation = explain(last, problem, predictors) if last else None
        except ValueError:
            explanation = None
        if explanation is None:
            return
        st.caption(f"Below: the last valid sequence, {last}.")
    else:
        st.session_state[SEQ_KEY] = ",".join(map(str, explanation.inputs))
        st.query_params["run"] = run.id
        st.query_params["seq"] = st.session_state[SEQ_KEY]

    labels = {name: MODEL_LABELS.get(name, name) for name in explanation.answers}
    verdicts(explanation, labels)
    st.dataframe(styled_table(explanation, labels), width="stretch")
    st.caption("Each model cell: predicted token (its probability). Red: differs from the expected output.")

    if explanation.attention is None:
        st.info("This run has no attention model.")
        return
    step = output_step(explanation.attention.shape[0])
    options = st.columns([2, 2, 3])
    show_expected = options[0].toggle("Show expected alignment", value=False)
    image_format = options[1].radio("Chart download format", ["png", "svg"], horizontal=True)
    heatmap, bars = st.columns([3, 2])
    with heatmap:
        fig = attention_heatmap(
            explanation.attention,
            explanation.inputs,
            explanation.answers[explanation.attending].tokens,
            problem.n_out,
            expected_tokens=explanation.expected,
            show_expected=show_expected,
            title="Where the attention decoder looks",
            highlight_step=step,
            clickable=True,
        )
        show_figure(fig, large, key=HEATMAP_KEY, image_format=image_format, on_select=select_cell)
    with bars:
        show_figure(attention_step_bars(explanation.attention, explanation.inputs, step), large, key="step_bars")
    show_figure(top_tokens_bars(explanation.probabilities, step, explanation.expected), large, key="top_tokens")
    options[2].download_button(
        "Download",
        data=export_bundle(explanation, {"run": run.id, "problem": run.problem, "train": run.train}),
        file_name=f"attention-{run.id}.zip",
        mime="application/zip",
        help="attention.csv (the matrix) and config.json (the run's config and this sequence).",
    )
    if second_text.strip():
        second_sequence_view(second_text, explanation, problem, predictors, labels, large)
    what_if_view(explanation, problem, predictors[explanation.attending], step, large)


page()
