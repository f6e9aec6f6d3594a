"""Explore: type a sequence, see both models' answers and where the attention model looks."""

from __future__ import annotations

import numpy as np
import streamlit as st

from seqattn.figures import MODEL_LABELS, attention_heatmap
from seqattn.parsing import accepted_forms, example_sequence, parse_sequence
from seqattn.problem import ProblemConfig, make_batch
from seqattn.runs import list_runs, runs_root
from ui.loaders import predictors_for
from ui.shell import link, guarded, page_setup, show_figure

ROOT = str(runs_root())
SEQ_KEY = "explore_sequence"  # survives page changes (widget keys do not)
RUN_KEY = "explore_run"


def pick_run() -> object | None:
    runs = [r for r in list_runs(ROOT) if r.usable]
    if not runs:
        st.info("No finished runs to explore yet. Train one on the **Train** page (it takes seconds).")
        link("train", label="Go to Train")
        return None
    ids = [r.id for r in runs]
    wanted = st.query_params.get("run") or st.session_state.get(RUN_KEY)
    if wanted and wanted not in ids:
        st.warning(f"Run `{str(wanted)[:40]}` is not a finished run here; showing the latest instead.")
        wanted = None
    by_id = {r.id: r for r in runs}
    chosen = st.selectbox("Run", ids, index=ids.index(wanted) if wanted else 0,
                          format_func=lambda i: by_id[i].label(), key="_run_select")
    if chosen != st.session_state.get(RUN_KEY):
        st.session_state[RUN_KEY] = chosen
        st.session_state.pop("_seq_widget", None)
    return by_id[chosen]


def randomize(problem: ProblemConfig) -> None:
    seed = np.random.default_rng().integers(0, 2**31)
    values = make_batch(problem, 1, np.random.default_rng(seed)).inputs[0].tolist()
    st.session_state["_seq_widget"] = ", ".join(map(str, values))


def styled_table(explanation, labels):
    from seqattn.explore import answers_table, wrong_cells

    table = answers_table(explanation, labels)
    wrong = wrong_cells(explanation, labels)
    return table.style.apply(
        lambda _: np.where(wrong, "background-color: #F8C9C4; color: #8B0000; font-weight: 600", ""), axis=None
    )


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
    left, right = st.columns([4, 1])
    with left:
        text = st.text_input("Input sequence", key="_seq_widget", max_chars=None,
                             help=accepted_forms(problem))
    with right:
        st.write("")
        st.button("Random sequence", on_click=randomize, args=(problem,))

    from seqattn.explore import explain, export_bundle

    predictors = predictors_for(run.id, ROOT)
    try:
        explanation = explain(text, problem, predictors)
    except ValueError as exc:
        st.error(str(exc))
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
    verdicts = st.columns(len(explanation.answers))
    for col, (name, answer) in zip(verdicts, explanation.answers.items()):
        col.metric(labels[name], " ".join(map(str, answer.tokens)),
                   "right" if answer.exact else f"{sum(not c for c in answer.correct)} wrong",
                   delta_color="normal" if answer.exact else "inverse")
    st.dataframe(styled_table(explanation, labels), width="stretch")
    st.caption("Each model cell: predicted token (its probability). Red: differs from the expected output.")

    if explanation.attention is None:
        st.info("This run has no attention model.")
        return
    options = st.columns([2, 2, 3])
    show_expected = options[0].toggle("Show expected alignment", value=False)
    image_format = options[1].radio("Chart download format", ["png", "svg"], horizontal=True)
    fig = attention_heatmap(
        explanation.attention,
        explanation.inputs,
        explanation.answers[explanation.attending].tokens,
        problem.n_out,
        expected_tokens=explanation.expected,
        show_expected=show_expected,
        title="Where the attention decoder looks",
    )
    show_figure(fig, large, key="attention_heatmap", image_format=image_format)
    options[2].download_button(
        "Download",
        data=export_bundle(explanation, {"run": run.id, "problem": run.problem, "train": run.train}),
        file_name=f"attention-{run.id}.zip",
        mime="application/zip",
        help="attention.csv (the matrix) and config.json (the run's config and this sequence).",
    )


page()
