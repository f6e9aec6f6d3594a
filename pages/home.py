"""Home: what the experiment is, in one screen, and the latest run and sweep.

This page imports no TensorFlow and no pandas, so it appears at once; once it is
drawn, the entry point (``dashboard.py``) gets the Explore page ready while the audience reads.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import streamlit as st

from seqattn.runs import list_runs, per_position_accuracy, result_checked, runs_root
from ui.navigation import link, require_entry_point
from ui.shell import format_seconds, show_figure
from ui.text import code, plain

if TYPE_CHECKING:
    from seqattn.problem.task import Task

TITLE = "How attention works in a sequence-to-sequence model"


def tasks_text(default: Task) -> str:
    """One sentence per registered task, from the registry: a new task is listed by itself."""
    from seqattn.problem.registry import TASKS

    said = [f"**{task.label}**{' (the tutorial’s)' if task is default else ''}: "
            f"{task.summary[:1].lower()}{task.summary[1:].rstrip('.')}" for task in TASKS.values()]
    return (f"**The tasks.** Both models learn one of {len(TASKS)} tasks, chosen on the Train page: "
            + "; ".join(said) + ". Each is easy to say and hard for a plain encoder-decoder, which has to "
            "squeeze the whole input into one vector before it answers.")


def introduction() -> None:
    # The title is in the page before the rest of it is imported (NumPy, the tasks, the runs):
    # the first thing a launch shows comes as soon as a one-line page's would.
    st.title(TITLE)
    from seqattn.diagrams import example_pair_svg
    from seqattn.problem.batches import targets_for
    from seqattn.problem.config import ProblemConfig

    problem = ProblemConfig()  # the default task, the tutorial's: its example is drawn below
    default = problem.task_spec
    st.markdown(tasks_text(default))
    example = [12, 20, 36, 40, 12]
    target = targets_for([example], problem)[0].tolist()
    left, right = st.columns([3, 2])
    with left:
        # SVG, not Plotly: part of the page as soon as it arrives (seqattn.diagrams says why).
        st.markdown(f'<div class="example-pair">{example_pair_svg(example, target, problem.n_out)}</div>',
                    unsafe_allow_html=True)
        st.caption(
            f"{default.label}, the default: K = {problem.cardinality} possible integers, input length "
            f"{problem.n_in}, echo the first {problem.n_out}: {example} → {target}."
        )
    with right:
        st.markdown(
            "**Baseline (no attention).** An LSTM encoder reads the input into a single state vector; "
            "an LSTM decoder unrolls that one vector into the output.\n\n"
            "**Attention.** The decoder looks back at *every* encoder state at each output step and "
            "learns where to look: the attention heatmap shows it, one row per output step."
        )
        link("train", label="Train both models")
        link("explore", label="Explore predictions and attention")
        link("compare", label="Compare over repeated runs")
        link("sweep", label="Sweep the input length")


def latest_run() -> None:
    st.subheader("Latest run")
    # Trainings only: a sweep, a comparison or a stray folder never stands in for the latest run.
    runs = list_runs(kind="train")
    if not runs:
        st.info(f"No runs yet in {code(runs_root(), 200)}. Start one on the **Train** page: it takes seconds.")
        return
    latest = runs[0]
    # State and start time are words, not numbers: one line of text that wraps. As four metrics in a
    # row their large values ran into each other on a projector ("cancelled" over the date).
    started = dt.datetime.fromtimestamp(latest.created).strftime("%b %d, %H:%M")
    st.markdown(f"**{plain(latest.state.capitalize())}** · started {started}")
    cols = st.columns(2)
    for col, name in zip(cols, ("baseline", "attention")):
        if name in latest.accuracy:
            col.metric(f"{name.capitalize()} exact match", f"{latest.accuracy[name]:.1%}")
    if latest.state in ("queued", "running"):
        link("train", label=f"Watch run {latest.id} train", query_params={"run": latest.id})
    elif latest.usable:
        link("explore", label=f"Explore run {latest.id}", query_params={"run": latest.id})
    if latest.elapsed:
        st.caption(f"Run {code(latest.id)}: {latest.update} updates in {format_seconds(latest.elapsed)}.")
    per_position = per_position_accuracy(result_checked(latest.id).value) if latest.usable else {}
    if per_position:
        # Below the first screen. It also has the browser load Plotly's script while the audience
        # reads, so Explore's heatmap draws at once after a click on its link.
        from seqattn.figures import accuracy_by_position_figure

        st.markdown("**Held-out accuracy at each output step**")
        figure = accuracy_by_position_figure(per_position, latest.problem.get("n_out"))
        figure.update_layout(height=340)
        show_figure(figure, key="latest_by_position")


def latest_sweep() -> None:
    sweeps = list_runs(kind="sweep")
    if not sweeps:
        return
    latest = sweeps[0]
    planned = latest.extra.get("sweep", {})
    total = latest.cells_total or len(planned.get("values") or [None]) * int(planned.get("seeds", 1))
    st.markdown(f"**Latest sweep** {code(latest.id)}: {latest.cells_done} of {total} cells done · {latest.state}")
    link("sweep", label=f"Open sweep {latest.id}", query_params={"run": latest.id})


require_entry_point()
introduction()
latest_run()
latest_sweep()
