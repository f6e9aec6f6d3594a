"""The Explore page's views of one explanation (:func:`seqattn.explore.explain`): the input boxes' words and
defaults, the state an address asks for, the four tabs (Answer, Step, Two sequences, What if), the answers, the
attention views of one output step, a second input's attention compared with the first's, and the what-if of
forcing a step's attention elsewhere.

Everything here reads the run's task through its :class:`~seqattn.problem.task.Task` (its input label, what it
accepts, how it writes tokens, its padding), so every task works without this module naming one.

Plotly's figure builders (:mod:`seqattn.figures`) are imported by the views that draw them, not with this module:
on a fresh server the page's first lines (and the browser's early load of Plotly's script) go out before them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from seqattn.problem.config import ProblemConfig
from ui.shell import FIT_PREFIX, presenting, show_figure
from ui.text import plain

SEQ_KEY = "explore_sequence"  # the last valid input as typed; survives page changes (widget keys do not)
INPUT_KEY, SECOND_KEY = "_seq_widget", "_second_widget"
POSITION_KEY = "_force_position"  # the what-if's input position, 0-based
STEP_KEY = "step"  # the "Output step" stepper, 1-based as people count
OVERLAY_KEY = "show_expected"  # the "Show expected alignment" toggle
VIEW_KEY = "explore_view"  # the tabs: the open tab's label
HEATMAP_KEY = "attention_heatmap"
WRONG_STYLE = "background-color: #F8C9C4; color: #8B0000; font-weight: 600"
# From this many input positions a heatmap gets the page's whole width (a date's 29 characters).
WIDE_INPUT = 16
# The tabs by their name in the address (?view=step), in order. Their labels are what people see; the address
# keeps the short names, so a renamed tab keeps its links (st.tabs' own bind would store the label).
VIEWS = {"answer": "Answer", "step": "Step", "two": "Two sequences", "whatif": "What if"}
_SCENE_SEEN = "_explore_scene"  # the (talk, scene) of the address the page last applied

# Presentation mode on this page: the answers and the heatmap fit a 1024x768 projector without scrolling.
# A smaller title and metric values, less padding above the page and the tabs.
_COMPACT_CSS = """
<style>
[data-testid="stMain"] [data-testid="stMainBlockContainer"] { padding-top: 0.8rem !important; }
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.6rem; }
[data-testid="stMain"] [data-testid="stHeading"]:has(h1) { display: none; }
[data-testid="stMain"] [data-testid="stMetricLabel"] p { font-size: 0.85rem !important; }
[data-testid="stMain"] [data-testid="stMetricValue"],
[data-testid="stMain"] [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMetricValue"] div { font-size: 1.9rem !important; line-height: 1.15 !important; }
[data-testid="stMain"] [data-testid="stMetricDelta"], [data-testid="stMain"] [data-testid="stMetricDelta"] * {
  font-size: 0.8rem !important; }
[data-testid="stMain"] [data-testid="stMetric"] { padding: 0 !important; }
</style>
"""


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


def apply_address(problem: ProblemConfig) -> None:
    """Put the state the address asks for into the page's controls, before they are drawn.

    Reads ``seq``, ``second``, ``step`` (1-based), ``force`` (1-based input position of the what-if),
    ``overlay`` (``true``: show the expected alignment) and ``view`` (``answer``, ``step``, ``two``,
    ``whatif``). They are the initial state, as a deep link's: a control people have already set keeps its
    value. When a talk opens another scene (the address's ``talk`` and ``scene`` differ from the last ones
    applied), they replace what the page shows instead, and a value the scene leaves out resets its control.
    A value the page cannot use (a step that is no number) is left out; one out of range is reset by its control.
    """
    params = st.query_params
    scene = (params.get("talk"), params.get("scene"))
    replace = scene[0] is not None and scene != st.session_state.get(_SCENE_SEEN)
    st.session_state[_SCENE_SEEN] = scene
    wanted = params.get("seq") or (None if replace else st.session_state.get(SEQ_KEY))
    force = _counted(params.get("force"))
    overlay = params.get("overlay")
    state = {
        INPUT_KEY: default_text(problem, wanted),
        SECOND_KEY: params.get("second"),
        STEP_KEY: _counted(params.get("step")),
        POSITION_KEY: None if force is None else force - 1,
        OVERLAY_KEY: None if overlay is None else overlay.strip().lower() in ("true", "1", "yes", "on"),
        VIEW_KEY: VIEWS.get((params.get("view") or "").strip().lower()),
    }
    for key, value in state.items():
        if replace:
            if value is None:
                st.session_state.pop(key, None)  # the control's own default
            else:
                st.session_state[key] = value
        elif value is not None:
            st.session_state.setdefault(key, value)


def _counted(text: str | None) -> int | None:
    """A 1-based count from the address (``"3"`` -> 3); None if absent, not a whole number or below 1."""
    try:
        number = int((text or "").strip())
    except ValueError:
        return None
    return number if number >= 1 else None


def view_tabs() -> dict[str, Any]:
    """The four tabs, the one the address or the user chose open; returns their containers by short name.

    Every tab's content is drawn on each run (a switch shows it at once); switching writes the tab's short name to
    the address (``?view=step``; none for the first), so a reload or a shared link opens the same tab.
    """

    def follow() -> None:
        short = {label: name for name, label in VIEWS.items()}.get(st.session_state.get(VIEW_KEY), "answer")
        if short == "answer":
            st.query_params.pop("view", None)
        else:
            st.query_params["view"] = short

    containers = st.tabs(list(VIEWS.values()), key=VIEW_KEY, on_change=follow)
    return dict(zip(VIEWS, containers))


def compact_layout() -> None:
    """In presentation mode, this page's tighter spacing: the answers and the heatmap fit a 1024x768 screen."""
    if presenting():
        st.html(_COMPACT_CSS)


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


def token_table(explanation: Any, labels: dict[str, str]) -> None:
    """The table of tokens (input, expected, each model's), wrong cells in red, in an expander.

    Open, except in presentation mode, where the heatmap has the screen and the table waits a click away.
    """
    from seqattn.explore import answers_table, wrong_cells

    wrong = wrong_cells(explanation, labels)
    table = answers_table(explanation, labels).style.apply(lambda _: np.where(wrong, WRONG_STYLE, ""), axis=None)
    with st.expander("Tokens, step by step", expanded=not presenting(), key="token_table"):
        st.dataframe(table, width="stretch")
        st.caption("Each model cell: predicted token (its probability). Red: differs from the expected output.")


def verdicts(explanation: Any, labels: dict[str, str], where: Any = None) -> None:
    """One metric per model, side by side (in ``where``, default here): its answer written as the task writes it
    (``2018-05-09``), right or how many wrong."""
    for col, (name, answer) in zip((where or st).columns(len(explanation.answers)), explanation.answers.items()):
        col.metric(labels[name], explanation.joined(answer.shown),
                   "right" if answer.exact else f"{sum(not c for c in answer.correct)} wrong",
                   delta_color="normal" if answer.exact else "inverse")


def fit_box(name: str) -> Any:
    """A container for a main figure; in presentation mode its figure is kept within the screen's height.

    :func:`ui.shell.fit_charts`' script bounds the figures in containers keyed ``fit_*`` by the viewport.
    """
    return st.container(key=f"{FIT_PREFIX}{name}" if presenting() else f"box_{name}")


def wide(explanation: Any) -> bool:
    """Whether the input is wide enough (a date's characters) for its heatmaps to take the page's whole width."""
    return len(explanation.inputs) >= WIDE_INPUT


def heatmap(explanation: Any, problem: ProblemConfig, step: int, show_expected: bool, image_format: str,
            on_select: Any) -> None:
    """The clickable heatmap of where the attention decoder looks, step ``step`` (0-based) outlined.

    In presentation mode without its title (the tab says what it is): its cells get the height.
    """
    from seqattn.figures import attention_heatmap  # Plotly's figures: imported by the first figure drawn

    attending = explanation.answers[explanation.attending]
    title = None if presenting() else "Where the attention decoder looks"
    fig = attention_heatmap(explanation.attention, explanation.shown_inputs, attending.shown, problem.n_out,
                            expected_tokens=explanation.shown_expected, show_expected=show_expected,
                            title=title, highlight_step=step, clickable=True,
                            expected_alignment=explanation.expected_alignment, pad_positions=explanation.padded)
    with fit_box("heatmap"):
        show_figure(fig, key=HEATMAP_KEY, image_format=image_format, on_select=on_select)


def step_views(explanation: Any, step: int) -> None:
    """Where output step ``step`` (0-based) looks (bars) beside (or, for a wide input, above) its top 5 tokens."""
    from seqattn.figures import attention_step_bars, top_tokens_bars

    bars, tops = (st.container(), st.container()) if wide(explanation) else st.columns(2)
    with bars, fit_box("step_bars"):
        show_figure(attention_step_bars(explanation.attention, explanation.shown_inputs, step,
                                        pad_positions=explanation.padded), key="step_bars")
    with tops, fit_box("top_tokens"):
        show_figure(top_tokens_bars(explanation.probabilities, step, explanation.expected,
                                    output_names=explanation.output_names), key="top_tokens")


def second_sequence(text: str, first: Any, problem: ProblemConfig, predictors: dict, labels: dict[str, str],
                    answers_box: Any = None) -> None:
    """A second input's answers (in ``answers_box``, default here) and which attention weights move from the
    first's; bad input is a message."""
    from seqattn.explore import explain
    from seqattn.figures import attention_difference

    noun = input_noun(problem)
    try:
        second = explain(text, problem, predictors)
    except ValueError as exc:
        st.error(f"Second {noun}: {plain(exc)}")
        st.caption(f"The first {noun}'s answer above is unchanged.")
        return
    verdicts(second, labels, answers_box)
    attending = first.attending
    fig = attention_difference(first.attention, second.attention, first.shown_inputs, second.shown_inputs,
                               first.answers[attending].shown, second.answers[attending].shown, problem.n_out,
                               title="Which attention weights move (second minus first)",
                               first_padded=first.padded, second_padded=second.padded)
    with fit_box("difference_map"):
        show_figure(fig, key="difference_map")
    st.caption(("Below" if wide(first) else "Right") +
               f": red where the second {noun}'s attention is larger, blue where smaller; "
               "outlined, the cells that moved most.")


def heading(text: str) -> None:
    """A tab's subheading; none in presentation mode, where the tab's name says it and its figure needs the room."""
    if not presenting():
        st.subheader(text)


def what_if(explanation: Any, problem: ProblemConfig, predictor: Any, step: int) -> None:
    """Force output step ``step``'s attention onto one input position and show what the model says then.

    Padded positions are not offered: the model never attends to padding.
    """
    from seqattn.figures import forced_attention_comparison
    from seqattn.model.what_if import force_attention, nothing_to_move

    heading("What if it had looked elsewhere?")
    choices = explanation.real_positions
    if nothing_to_move(len(choices)):
        st.info(nothing_to_move(len(choices)))  # no position or weight to pick: the controls would only raise
        return
    current = st.session_state.get(POSITION_KEY)
    if current not in choices:  # none yet, another run's, or a padded cell clicked: the step's own or the last
        current = step if step in choices else choices[min(step, len(choices) - 1)]
    st.session_state[POSITION_KEY] = current
    left, middle, right = st.columns(3, vertical_alignment="bottom")  # one row: the figure gets the height
    position = left.selectbox(
        f"Force output step {step + 1} to look at input position", choices, key=POSITION_KEY,
        format_func=lambda j: f"{j + 1} (token {explanation.shown_inputs[j]})",
        help="Or click a heatmap cell: it picks the output step and the input position.")
    weight = middle.slider("Weight on that position", 0.0, 1.0, 1.0, 0.05, key="_force_weight",
                           help="1 puts all the attention there; below 1 the rest keeps its own proportions.")
    forced = force_attention(predictor, explanation.inputs, step, int(position), float(weight),
                             padded=explanation.padded or None)
    task = problem.task_spec
    before = [task.show_output(problem, t) for t in forced.original.tokens[0].tolist()]
    after = [task.show_output(problem, t) for t in forced.forced.tokens[0].tolist()]
    changed = forced.changed_steps
    right.metric("Forced attention: the model says", explanation.joined(after),
                 f"steps {', '.join(str(t + 1) for t in changed)} changed" if changed else "no step changed",
                 delta_color="off")
    fig = forced_attention_comparison(forced.original.attention[0], forced.forced.attention[0],
                                      explanation.shown_inputs, before, after, problem.n_out, step, int(position),
                                      pad_positions=explanation.padded)
    with fit_box("forced_attention"):
        show_figure(fig, key="forced_attention")
