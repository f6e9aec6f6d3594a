"""The Explore page's views of one explanation (:func:`seqattn.explore.explain`): the answers, a second
sequence's attention compared with the first's, and the what-if of forcing a step's attention elsewhere."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from seqattn.figures import attention_difference, forced_attention_comparison
from seqattn.problem.config import ProblemConfig
from ui.shell import show_figure
from ui.text import plain

POSITION_KEY = "_force_position"  # the what-if's input position, 0-based
WRONG_STYLE = "background-color: #F8C9C4; color: #8B0000; font-weight: 600"


def answers(explanation: Any, labels: dict[str, str]) -> None:
    """Each model's answer (right, or how many steps are wrong), then the table of tokens, wrong cells in red."""
    from seqattn.explore import answers_table, wrong_cells

    verdicts(explanation, labels)
    wrong = wrong_cells(explanation, labels)
    table = answers_table(explanation, labels).style.apply(lambda _: np.where(wrong, WRONG_STYLE, ""), axis=None)
    st.dataframe(table, width="stretch")
    st.caption("Each model cell: predicted token (its probability). Red: differs from the expected output.")


def verdicts(explanation: Any, labels: dict[str, str]) -> None:
    for col, (name, answer) in zip(st.columns(len(explanation.answers)), explanation.answers.items()):
        col.metric(labels[name], " ".join(map(str, answer.tokens)),
                   "right" if answer.exact else f"{sum(not c for c in answer.correct)} wrong",
                   delta_color="normal" if answer.exact else "inverse")


def second_sequence(text: str, first: Any, problem: ProblemConfig, predictors: dict, labels: dict[str, str]) -> None:
    """A second sequence's answers and which attention weights move from the first's; bad input is a message."""
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
    show_figure(fig, key="difference_map")
    st.caption("Right: red where the second sequence's attention is larger, blue where smaller; "
               "outlined, the cells that moved most.")


def what_if(explanation: Any, problem: ProblemConfig, predictor: Any, step: int) -> None:
    """Force output step ``step``'s attention onto one input position and show what the model says then."""
    from seqattn.model.what_if import force_attention, nothing_to_move

    st.subheader("What if it had looked elsewhere?")
    n_in = len(explanation.inputs)
    if nothing_to_move(n_in):
        st.info(nothing_to_move(n_in))  # no position or weight to pick: the controls would only raise
        return
    st.session_state[POSITION_KEY] = min(n_in - 1, max(0, int(st.session_state.get(POSITION_KEY, step % n_in))))
    left, right = st.columns(2)
    position = left.selectbox(
        f"Force output step {step + 1} to look at input position", list(range(n_in)), key=POSITION_KEY,
        format_func=lambda j: f"{j + 1} (token {explanation.inputs[j]})",
        help="Or click a heatmap cell: it picks the output step and the input position.")
    weight = right.slider("Weight on that position", 0.0, 1.0, 1.0, 0.05, key="_force_weight",
                          help="1 puts all the attention there; below 1 the rest keeps its own proportions.")
    forced = force_attention(predictor, explanation.inputs, step, int(position), float(weight))
    before, after = forced.original.tokens[0].tolist(), forced.forced.tokens[0].tolist()
    changed = forced.changed_steps
    st.metric("Forced attention: the model says", " ".join(map(str, after)),
              f"steps {', '.join(str(t + 1) for t in changed)} changed" if changed else "no step changed",
              delta_color="off")
    fig = forced_attention_comparison(forced.original.attention[0], forced.forced.attention[0], explanation.inputs,
                                      before, after, problem.n_out, step, int(position))
    show_figure(fig, key="forced_attention")
