"""Compare: the tutorial's experiment, repeated, with both models' accuracy spread."""

from __future__ import annotations

import streamlit as st

from seqattn.jobs import control as jobs
from seqattn.sweeps.compare import TUTORIAL_REFERENCE, is_tutorial_setup, repeat_rows, results_table
from seqattn.figures import comparison_figure, mean_loss_band_figure
from seqattn.problem.echo import ProblemConfig
from seqattn.sweeps.records import cell_losses_checked, cells_checked
from seqattn.runs import (
    RunError,
    RunSummary,
    list_runs,
    run_checked,
    runs_root,
    validate_run_id,
)
from seqattn.model.config import ModelConfig
from seqattn.training.loop import TrainConfig
from ui import backend
from ui.forms import config_form
from ui.shell import format_seconds, guarded, page_setup, show_figure
from ui.text import code, plain

ROOT = str(runs_root())


def start_form() -> None:
    st.markdown(
        "Train both models several times with different seeds and compare their held-out exact match: "
        "the tutorial's experiment (10 repeats, tutorial protocol) takes a few minutes here."
    )
    repeats = st.number_input("Repeats", value=10, step=1, key="compare_repeats")
    form = config_form("compare", default_protocol="tutorial")
    error = form.error
    if error is None and not 1 <= int(repeats) <= 100:
        error = f"repeats must be from 1 to 100; got {int(repeats)}."
    if error:
        st.error(f"Cannot compare with these settings: {plain(error)}")
    if st.button("Run comparison", type="primary", disabled=error is not None) and form.problem is not None:
        try:
            run_id = jobs.start(form.problem, form.train, model=form.model, kind="compare", launcher=backend.launcher(),
                                extra={"repeats": int(repeats)}, root=ROOT)
        except RunError as exc:
            st.error(plain(exc))
            return
        st.query_params["run"] = run_id
        st.rerun()


def warn(problem: str | None) -> None:
    if problem:
        st.warning(f"{plain(problem)}.", icon=":material/warning:")


def tutorial_reference(summary: RunSummary) -> dict | None:
    """The tutorial's accuracies when the run used its setup (None also for settings that no longer read)."""
    try:
        problem = ProblemConfig.from_dict(summary.problem)
        train = TrainConfig.from_dict(summary.train)
        model = ModelConfig.from_dict(summary.model)
    except (TypeError, ValueError):
        return None
    return TUTORIAL_REFERENCE if is_tutorial_setup(problem, train, model) else None


def open_run(run_id: str) -> RunSummary | None:
    """A comparison's summary, or None after saying (calmly) why it cannot be shown."""
    found = run_checked(run_id, ROOT)
    summary = found.value
    if summary is None:
        st.error(f"{plain(found.problem)}. The other runs are unaffected.")
        return None
    if summary.broken:
        st.error(f"Comparison {code(run_id)} cannot be shown: {plain(summary.broken)}. The other runs are unaffected.")
        return None
    return summary


def show_results(run_id: str, large: bool, summary: RunSummary | None = None) -> None:
    summary = summary or open_run(run_id)
    if summary is None:
        return
    reference = tutorial_reference(summary)
    found = cells_checked(run_id, ROOT)
    cells_problem = found.problem
    warn(cells_problem)
    results = repeat_rows(found.value)
    if results.empty:
        st.info("No repeat has finished yet.")
        return
    left, right = st.columns([2, 3])
    with left:
        st.dataframe(results_table(results, reference), width="stretch")
        st.download_button("Download CSV", results.to_csv(index=False), file_name=f"comparison-{run_id}.csv",
                           mime="text/csv")
    with right:
        show_figure(comparison_figure(results, reference), large, key="comparison")
    found = cell_losses_checked(run_id, ROOT)
    if not cells_problem:  # one warning per damaged cell log
        warn(found.problem)
    losses = found.value
    if not losses.empty:
        show_figure(mean_loss_band_figure(losses), large, key="loss_bands")


def live(run_id: str, large: bool) -> None:
    @st.fragment(run_every=1.0)
    @guarded  # a fragment's reruns do not pass through the page's guard
    def tick() -> None:
        summary = open_run(run_id)  # a folder deleted meanwhile: a calm error, the polling goes on
        if summary is None:
            return
        status = jobs.JobStatus.from_summary(summary)
        if not status.active:
            st.rerun()
        repeats = status.cells_total or int(summary.extra.get("repeats", 1))
        text = "Starting…" if status.phase != "training" else (
            f"{status.cells_done} of {repeats} repeats done · {status.update:,} / {status.total or 0:,} updates · "
            f"ETA {format_seconds(status.eta)}")
        st.progress(status.fraction, text=text)
        show_results(run_id, large, summary)

    if st.button("Cancel"):
        jobs.cancel(run_id, ROOT)
    tick()


@guarded
def page() -> None:
    large = page_setup("Compare")
    st.title("Compare")
    raw = st.query_params.get("run")
    if raw is None:
        start_form()
        previous = [r for r in list_runs(ROOT) if r.kind == "compare" and r.state == "done"]
        if previous:
            st.subheader(f"Latest comparison ({previous[0].id})")
            show_results(previous[0].id, large)
        return
    try:
        run_id = validate_run_id(raw)
    except ValueError:
        st.error(f"The address names {code(raw)}, which is not a run id (expected the form "
                 "20261123-195700-a1b2c3). Showing the comparison form instead.")
        start_form()
        return
    summary = open_run(run_id)
    if summary is None:
        start_form()
        return
    status = jobs.JobStatus.from_summary(summary)
    if status.active:
        live(run_id, large)
    else:
        if status.state != "done":
            st.warning(f"This comparison ended {plain(status.state)}. {plain(status.error or '')}")
        show_results(run_id, large, summary)
    if st.button("New comparison"):
        del st.query_params["run"]
        st.rerun()


page()
