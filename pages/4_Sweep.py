"""Sweep: both models over a grid of one setting (input length by default) x seeds, on a Dask cluster."""

from __future__ import annotations

import streamlit as st

from seqattn.figures import sweep_figure
from seqattn.jobs import control as jobs
from seqattn.runs import RunSummary, runs_root
from seqattn.sweeps import report
from seqattn.sweeps.grid import (AXES, CELL_XLA, DEFAULT_CAP, DEFAULT_SEEDS, DEFAULT_UNTIL, MAX_CELLS, SweepConfig,
                                 estimate_sweep_seconds, grid_cells, task_axes)
from seqattn.sweeps.records import cells_checked
from ui import backend
from ui.cluster import planned_workers, sweep_scheduler
from ui.forms import chosen_task, config_form
from ui.navigation import link, require_entry_point
from ui.numbers import number_field
from ui.run_view import RunPage, run_page, start_job
from ui.shell import format_seconds, show_figure, show_problem
from ui.text import plain

ROOT = str(runs_root())


def sweep_inputs() -> tuple[SweepConfig | None, int, str | None]:
    """The sweep's own inputs (axis, values, echo-length rule, seeds, threshold): its config, or what is wrong."""
    axes = task_axes(chosen_task("sweep"))  # the settings the form's task reads (its Task box is drawn below)
    left, middle, right, last = st.columns([1, 2, 1, 1])
    axis = left.selectbox("Sweep over", list(axes), format_func=lambda a: axes[a].capitalize(), key="sweep_axis")
    text = middle.text_input("Values", value=report.DEFAULT_VALUES, key="sweep_values",
                             help=f"The {axes[axis]}s to train at, separated by commas. At most {MAX_CELLS} cells "
                                  "(values x seeds) per sweep.")
    seeds, typo = number_field("Seeds per cell", "sweep_seeds", DEFAULT_SEEDS, 1, 100, container=right,
                               help="Trainings at each value, with seeds Seed, Seed+1, … (1 to 100).")
    until, until_typo = number_field("Train until (%)", "sweep_until", DEFAULT_UNTIL, 1, 100, container=last,
                                     help="Each model trains until its held-out exact match reaches this, checked "
                                          "at every evaluation, or until the cap on updates below (1 to 100).")
    rule, halves = "fixed", axis == "n_in" and "n_out" in axes  # only a task that reads both has the choice
    if halves:
        rules = report.N_OUT_RULES
        rule = st.radio("Echo length in each cell", list(rules), format_func=rules.get, horizontal=True, key="sweep_rule")
    st.caption(f"Each value replaces the form's {axes[axis].capitalize()}" +
               (" (and Echo length, when it is half)." if halves else ".") +
               " Every cell trains both models from scratch.")
    until = DEFAULT_UNTIL if until is None else until  # only labels the form while its typo is shown
    if typo or until_typo:
        return None, until, typo or until_typo
    try:
        return report.sweep_from_form(axis, text, seeds, rule), until, None
    except ValueError as exc:
        return None, until, str(exc)


def start_form() -> None:
    st.markdown(
        "Train **both** models at each value of one setting, several seeds each, **until each reaches a threshold "
        "or a cap**: the headline is how many updates each needs, and how well it ends, against the swept setting. "
        "Cells run in parallel on a Dask cluster."
    )
    sweep, until, error = sweep_inputs()
    form = config_form("sweep", default_protocol="batched", swept=report.swept_settings(sweep), xla=CELL_XLA,
                       until=until, cap=DEFAULT_CAP)
    cells = []
    error = error or form.error
    if error is None and form.problem is not None:
        try:
            cells = grid_cells(form.problem, form.train, sweep, model=form.model)
        except ValueError as exc:
            error = str(exc)
    if error:
        st.error(f"Cannot sweep with these settings: {plain(error)}")
    else:
        workers = planned_workers()
        st.info(
            f"**{len(cells)} cells** ({len(sweep.values)} values × {sweep.seeds} seeds), each training both models. "
            f"Estimated run time: **at most about {format_seconds(estimate_sweep_seconds(cells, workers))}** on "
            f"{workers} worker{'s' if workers != 1 else ''}, if every model trains to the cap (a model that reaches "
            f"{until} % stops sooner; an estimate: it varies with the machine's load).",
            icon=":material/timer:",
        )
    if st.button("Run sweep", type="primary", disabled=error is not None, key="sweep_start") and cells:
        start_job(lambda: jobs.start_sweep(form.problem, form.train, sweep, model=form.model, root=ROOT,
                                           scheduler=sweep_scheduler(), launcher=backend.launcher()), "sweep")
    latest = report.latest_finished(ROOT)
    if latest is not None:
        st.subheader(f"Latest sweep ({latest.id}, {latest.state})")
        link("sweep", label=f"Open sweep {latest.id}", query_params={"run": latest.id})
        axis = report.sweep_of(latest).axis
        show_figure(sweep_figure(show_problem(cells_checked(latest.id, ROOT)), axis, chance=report.chance_of(latest),
                                 caption=report.caption_of(latest),
                                 axis_label=AXES[axis]), key="latest_sweep")


def table(frame) -> None:
    config = {c: st.column_config.NumberColumn(c, format="percent") for c in report.percent_columns(frame)}
    config["alignment"] = st.column_config.NumberColumn("alignment", format="%.2f")
    config["seconds"] = st.column_config.NumberColumn("seconds", format="%.1f s")
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)


def show_results(summary: RunSummary, cells, finished: bool) -> None:
    """The headline figure, the per-cell table and its CSV, and (finished) the summary per value."""
    axis = report.sweep_of(summary).axis
    show_figure(sweep_figure(cells, axis, chance=report.chance_of(summary), axis_label=AXES[axis],
                             caption=report.caption_of(summary)), key="sweep_figure")
    if cells.empty:
        st.info("No cell has finished yet: each row appears here as its cell finishes.")
        return
    st.markdown("**Cells**")
    table(report.cell_table(cells, axis, report.task_of(summary.problem)))
    st.download_button("Download CSV", cells.to_csv(index=False), file_name=f"sweep-{summary.id}.csv", mime="text/csv",
                       on_click="ignore", icon=":material/download:", key="sweep_csv")
    if finished and (cells["status"] == "done").any():
        st.markdown(f"**Summary: held-out exact match per {AXES[axis]}, over seeds**")
        table(report.summary_of(cells, axis))


def live(summary: RunSummary, status: jobs.JobStatus) -> None:
    total, cells = report.cells_total(summary), show_problem(cells_checked(summary.id, ROOT))
    failed = report.failed_cells(cells)
    if status.state == "queued":
        text = "Queued: waiting for the running job to finish…"
    elif status.phase != "training":
        text = "Starting: connecting to the Dask cluster…"
    else:
        eta = format_seconds(status.eta) if status.eta is not None else "after the first cell"
        text = f"{status.cells_done} of {total} cells done{f' ({failed} failed)' if failed else ''} · ETA {eta}"
    st.progress(min(1.0, status.cells_done / total), text=text)
    show_results(summary, cells, finished=False)


def finished(summary: RunSummary, status: jobs.JobStatus) -> None:
    total, cells = report.cells_total(summary), show_problem(cells_checked(summary.id, ROOT))
    kept = f"the {summary.cells_done} of {total} cells that finished are kept below."
    if status.state == "done":
        st.success(f"Done: {summary.cells_done} of {total} cells in {format_seconds(summary.elapsed)}.")
        if report.failed_cells(cells):
            st.warning(f"{report.failed_cells(cells)} of them failed: the table says why.")
    elif status.state == "cancelled":
        st.info(f"This sweep was cancelled: {kept}")
    else:
        reason = plain((status.error or "no reason was recorded").rstrip("."))
        ended = "was interrupted" if status.state == "interrupted" else status.state
        st.warning(f"This sweep {ended}: {reason}." + (f" {kept.capitalize()}" if summary.cells_done else ""))
    show_results(summary, cells, finished=True)


require_entry_point()
st.title("Sweep")
run_page(RunPage(kind="sweep", noun="sweep", form=start_form, live=live, finished=finished, new_label="New sweep",
                 stopping="Stopping… finished cells are kept."), ROOT)
