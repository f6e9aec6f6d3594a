"""Compare: the tutorial's experiment, repeated, with both models' accuracy spread."""

from __future__ import annotations

import streamlit as st

from seqattn import jobs
from seqattn.compare import TUTORIAL_REFERENCE, is_tutorial_setup, repeat_rows, results_table
from seqattn.figures import comparison_figure, mean_loss_band_figure
from seqattn.problem import ProblemConfig
from seqattn.runs import RunError, cell_losses_of, cells_of, get_run, list_runs, runs_root, validate_run_id
from seqattn.model_config import ModelConfig
from seqattn.training import TrainConfig
from ui.forms import config_form
from ui.shell import format_seconds, guarded, page_setup, show_figure

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
        st.error(f"Cannot compare with these settings: {error}")
    if st.button("Run comparison", type="primary", disabled=error is not None) and form.problem is not None:
        try:
            run_id = jobs.start(form.problem, form.train, model=form.model, kind="compare",
                                extra={"repeats": int(repeats)}, root=ROOT)
        except RunError as exc:
            st.error(str(exc))
            return
        st.query_params["run"] = run_id
        st.rerun()


def show_results(run_id: str, large: bool) -> None:
    summary = get_run(run_id, ROOT)
    problem = ProblemConfig.from_dict(summary.problem)
    train = TrainConfig.from_dict(summary.train)
    model = ModelConfig.from_dict(summary.model)
    reference = TUTORIAL_REFERENCE if is_tutorial_setup(problem, train, model) else None
    results = repeat_rows(cells_of(run_id, ROOT))
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
    losses = cell_losses_of(run_id, ROOT)
    if not losses.empty:
        show_figure(mean_loss_band_figure(losses), large, key="loss_bands")


def live(run_id: str, large: bool) -> None:
    @st.fragment(run_every=1.0)
    def tick() -> None:
        summary = get_run(run_id, ROOT)
        status = jobs.JobStatus.from_summary(summary)
        if not status.active:
            st.rerun()
        repeats = status.cells_total or int(summary.extra.get("repeats", 1))
        text = "Starting…" if status.phase != "training" else (
            f"{status.cells_done} of {repeats} repeats done · {status.update:,} / {status.total or 0:,} updates · "
            f"ETA {format_seconds(status.eta)}")
        st.progress(status.fraction, text=text)
        show_results(run_id, large)

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
        status = jobs.status(run_id, ROOT)
    except (ValueError, RunError) as exc:
        st.error(str(exc))
        start_form()
        return
    if status.active:
        live(run_id, large)
    else:
        if status.state != "done":
            st.warning(f"This comparison ended {status.state}. {status.error or ''}")
        show_results(run_id, large)
    if st.button("New comparison"):
        del st.query_params["run"]
        st.rerun()


page()
