"""The Explore page's views of one explanation (:func:`seqattn.explore.explain`): the input boxes' words and
defaults, the answers, the attention views of one output step, a second input's attention compared with the
first's, and the what-if of forcing a step's attention elsewhere.

Everything here reads the run's task through its :class:`~seqattn.problem.task.Task` (its input label, what it
accepts, how it writes tokens, its padding), so every task works without this module naming one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from seqattn.figures import attention_difference, attention_heatmap, attention_step_bars, forced_attention_comparison
from seqattn.figures import top_tokens_bars
from seqattn.problem.config import ProblemConfig
from ui.shell import show_figure
from ui.text import plain

SEQ_KEY = "explore_sequence"  # the last valid input as typed; survives page changes (widget keys do not)
INPUT_KEY, SECOND_KEY = "_seq_widget", "_second_widget"
POSITION_KEY = "_force_position"  # the what-if's input position, 0-based
HEATMAP_KEY = "attention_heatmap"
WRONG_STYLE = "background-color: #F8C9C4; color: #8B0000; font-weight: 600"
# From this many input positions a heatmap gets the page's whole width (a date's 29 characters).
WIDE_INPUT = 16


def input_noun(problem: ProblemConfig) -> str:
    """What one input is called, from the task's input label: ``"sequence"``, ``"date"``."""
    label = problem.task_spec.input_label
    return label.split(" ", 1)[1] if label.lower().startswith("input ") else "input"


def example_text(problem: ProblemConfig) -> str:
    """The task's example input as typed text."""
    task = problem.task_spec
    return task.typed(problem, task.example(problem))


def default_text(problem: ProblemConfig, wanted: str | None) -> str:
    """``wanted`` (the address's ``seq`` or the last valid input) if the task reads it, else the example."""
    try:
        problem.task_spec.parse(wanted or "", problem)
    except ValueError:
        return example_text(problem)
    return str(wanted)


def randomize(problem: ProblemConfig) -> None:
    """Put a random input of the task in the input box (a random date for a dates run), as typed text."""
    from seqattn.problem.batches import draw_pairs

    inputs, _ = draw_pairs(problem, 1, np.random.default_rng())
    st.session_state[INPUT_KEY] = problem.task_spec.typed(problem, inputs[0].tolist())


def explanation_of(text: str, problem: ProblemConfig, predictors: dict) -> Any:
    """The explanation of what was typed; after a bad input, the message and the last valid input's (or None).

    A valid input is kept in the session and the address's ``seq`` in the task's typed form
    (:func:`seqattn.explore.typed_text`): the task parses it back, commas in a date included.
    """
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
            st.caption(f"Below: the last valid {input_noun(problem)}, {plain(last)}.")
        return explanation
    st.session_state[SEQ_KEY] = explanation.text
    st.query_params["seq"] = st.session_state[SEQ_KEY]
    return explanation


def answers(explanation: Any, labels: dict[str, str]) -> None:
    """Each model's answer (right, or how many steps are wrong), then the table of tokens, wrong cells in red."""
    from seqattn.explore import answers_table, wrong_cells

    verdicts(explanation, labels)
    wrong = wrong_cells(explanation, labels)
    table = answers_table(explanation, labels).style.apply(lambda _: np.where(wrong, WRONG_STYLE, ""), axis=None)
    st.dataframe(table, width="stretch")
    st.caption("Each model cell: predicted token (its probability). Red: differs from the expected output.")


def verdicts(explanation: Any, labels: dict[str, str]) -> None:
    """One metric per model: its answer written as the task writes it (``2018-05-09``), right or how many wrong."""
    for col, (name, answer) in zip(st.columns(len(explanation.answers)), explanation.answers.items()):
        col.metric(labels[name], explanation.joined(answer.shown),
                   "right" if answer.exact else f"{sum(not c for c in answer.correct)} wrong",
                   delta_color="normal" if answer.exact else "inverse")


def heatmap_and_bars(explanation: Any, problem: ProblemConfig, step: int, show_expected: bool, image_format: str,
                     on_select: Any) -> None:
    """The clickable heatmap beside (or, for a wide input, above) the step's attention bars, then its top tokens."""
    wide = len(explanation.inputs) >= WIDE_INPUT
    heatmap, bars = (st.container(), st.container()) if wide else st.columns([3, 2])
    attending = explanation.answers[explanation.attending]
    with heatmap:
        fig = attention_heatmap(explanation.attention, explanation.shown_inputs, attending.shown, problem.n_out,
                                expected_tokens=explanation.shown_expected, show_expected=show_expected,
                                title="Where the attention decoder looks", highlight_step=step, clickable=True,
                                expected_alignment=explanation.expected_alignment, pad_positions=explanation.padded)
        show_figure(fig, key=HEATMAP_KEY, image_format=image_format, on_select=on_select)
    with bars:
        show_figure(attention_step_bars(explanation.attention, explanation.shown_inputs, step,
                                        pad_positions=explanation.padded), key="step_bars")
    show_figure(top_tokens_bars(explanation.probabilities, step, explanation.expected,
                                output_names=explanation.output_names), key="top_tokens")


def second_sequence(text: str, first: Any, problem: ProblemConfig, predictors: dict, labels: dict[str, str]) -> None:
    """A second input's answers and which attention weights move from the first's; bad input is a message."""
    from seqattn.explore import explain

    noun = input_noun(problem)
    try:
        second = explain(text, problem, predictors)
    except ValueError as exc:
        st.error(f"Second {noun}: {plain(exc)}")
        st.caption(f"The first {noun}'s answer above is unchanged.")
        return
    st.subheader(f"Second {noun}")
    verdicts(second, labels)
    attending = first.attending
    fig = attention_difference(first.attention, second.attention, first.shown_inputs, second.shown_inputs,
                               first.answers[attending].shown, second.answers[attending].shown, problem.n_out,
                               title="Which attention weights move (second minus first)",
                               first_padded=first.padded, second_padded=second.padded)
    show_figure(fig, key="difference_map")
    st.caption(("Below" if len(first.inputs) >= WIDE_INPUT else "Right") +
               f": red where the second {noun}'s attention is larger, blue where smaller; "
               "outlined, the cells that moved most.")


def what_if(explanation: Any, problem: ProblemConfig, predictor: Any, step: int) -> None:
    """Force output step ``step``'s attention onto one input position and show what the model says then.

    Padded positions are not offered: the model never attends to padding.
    """
    from seqattn.model.what_if import force_attention, nothing_to_move

    st.subheader("What if it had looked elsewhere?")
    choices = explanation.real_positions
    if nothing_to_move(len(choices)):
        st.info(nothing_to_move(len(choices)))  # no position or weight to pick: the controls would only raise
        return
    current = st.session_state.get(POSITION_KEY)
    if current not in choices:  # none yet, another run's, or a padded cell clicked: the step's own or the last
        current = step if step in choices else choices[min(step, len(choices) - 1)]
    st.session_state[POSITION_KEY] = current
    left, right = st.columns(2)
    position = left.selectbox(
        f"Force output step {step + 1} to look at input position", choices, key=POSITION_KEY,
        format_func=lambda j: f"{j + 1} (token {explanation.shown_inputs[j]})",
        help="Or click a heatmap cell: it picks the output step and the input position.")
    weight = right.slider("Weight on that position", 0.0, 1.0, 1.0, 0.05, key="_force_weight",
                          help="1 puts all the attention there; below 1 the rest keeps its own proportions.")
    forced = force_attention(predictor, explanation.inputs, step, int(position), float(weight),
                             padded=explanation.padded or None)
    task = problem.task_spec
    before = [task.show_output(problem, t) for t in forced.original.tokens[0].tolist()]
    after = [task.show_output(problem, t) for t in forced.forced.tokens[0].tolist()]
    changed = forced.changed_steps
    st.metric("Forced attention: the model says", explanation.joined(after),
              f"steps {', '.join(str(t + 1) for t in changed)} changed" if changed else "no step changed",
              delta_color="off")
    fig = forced_attention_comparison(forced.original.attention[0], forced.forced.attention[0],
                                      explanation.shown_inputs, before, after, problem.n_out, step, int(position),
                                      pad_positions=explanation.padded)
    show_figure(fig, key="forced_attention")
