"""Compare: the tutorial's experiment, repeated, with both models' accuracy spread."""

from __future__ import annotations

import streamlit as st

from seqattn.figures import comparison_figure, mean_loss_band_figure
from seqattn.jobs import control as jobs
from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.runs import RunSummary, list_runs, runs_root
from seqattn.sweeps.compare import TUTORIAL_REFERENCE, is_tutorial_setup, repeat_rows, results_table
from seqattn.sweeps.records import cell_losses_checked, cells_checked
from seqattn.training.config import TrainConfig
from ui import backend
from ui.forms import config_form
from ui.navigation import require_entry_point
from ui.numbers import number_field
from ui.run_view import RunPage, run_page, start_job
from ui.shell import format_seconds, show_figure, show_problem
from ui.text import plain

ROOT = str(runs_root())


def start_form() -> None:
    st.markdown(
        "Train both models several times with different seeds and compare their held-out exact match: "
        "the tutorial's experiment (10 repeats, tutorial protocol) takes a few minutes here. The tutorial's reported "
        "numbers are shown beside yours when the task, its settings and the recipe are the tutorial's."
    )
    repeats, error = number_field("Repeats", "compare_repeats", 10, 1, 100, help="Trainings of both models, "
                                  "with seeds Seed, Seed+1, … (1 to 100).")
    form = config_form("compare", default_protocol="tutorial")
    error = error or form.error
    if error:
        st.error(f"Cannot compare with these settings: {plain(error)}")
    clicked = st.button("Run comparison", type="primary", disabled=error is not None, key="compare_start")
    if clicked and form.problem is not None:
        start_job(lambda: jobs.start(form.problem, form.train, model=form.model, kind="compare", root=ROOT,
                                     extra={"repeats": int(repeats)}, launcher=backend.launcher()), "comparison")
    latest = next((r for r in list_runs(ROOT, kind="compare") if r.state == "done"), None)
    if latest is not None:
        st.subheader(f"Latest comparison ({latest.id})")
        show_results(latest)


def tutorial_reference(summary: RunSummary) -> dict | None:
    """The tutorial's accuracies when the run used its setup (None also for settings that no longer read)."""
    try:
        problem = ProblemConfig.from_dict(summary.problem)
        train = TrainConfig.from_dict(summary.train)
        model = ModelConfig.from_dict(summary.model)
    except (TypeError, ValueError):
        return None
    return TUTORIAL_REFERENCE if is_tutorial_setup(problem, train, model) else None


def show_results(summary: RunSummary) -> None:
    reference = tutorial_reference(summary)
    found = cells_checked(summary.id, ROOT)
    results = repeat_rows(show_problem(found))
    if results.empty:
        st.info("No repeat has finished yet.")
        return
    left, right = st.columns([2, 3])
    with left:
        st.dataframe(results_table(results, reference), width="stretch")
        st.download_button("Download CSV", results.to_csv(index=False), file_name=f"comparison-{summary.id}.csv",
                           mime="text/csv", key="compare_csv")
    with right:
        show_figure(comparison_figure(results, reference), key="comparison")
    losses = cell_losses_checked(summary.id, ROOT)
    losses = show_problem(losses) if not found.problem else losses.value  # one warning per damaged cell log
    if not losses.empty:
        show_figure(mean_loss_band_figure(losses), key="loss_bands")


def live(summary: RunSummary, status: jobs.JobStatus) -> None:
    repeats = status.cells_total or int(summary.extra.get("repeats", 1))
    text = "Starting…" if status.phase != "training" else (
        f"{status.cells_done} of {repeats} repeats done · {status.update:,} / {status.total or 0:,} updates · "
        f"ETA {format_seconds(status.eta)}")
    st.progress(status.fraction, text=text)
    show_results(summary)


def finished(summary: RunSummary, status: jobs.JobStatus) -> None:
    if status.state != "done":
        st.warning(f"This comparison ended {plain(status.state)}. {plain(status.error or '')}")
    show_results(summary)


require_entry_point()
st.title("Compare")
run_page(RunPage(kind="compare", noun="comparison", form=start_form, live=live, finished=finished,
                 new_label="New comparison"), ROOT)
