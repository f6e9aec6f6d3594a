"""Sweep: both models over a grid of one setting (input length by default) x seeds, on a Dask cluster."""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd
import streamlit as st

from seqattn.jobs import control as jobs
from seqattn.configuration import settings_of
from seqattn.figures import sweep_figure
from seqattn.problem.echo import ProblemConfig
from seqattn.model.config import ModelConfig
from seqattn.model.registry import MODEL_NAMES, attending_names, model_kind
from seqattn.sweeps.records import cells_checked
from seqattn.runs import ACTIVE_STATES, RunError, RunSummary, get_run, list_runs, runs_root, validate_run_id
from seqattn.sweeps.grid import (
    AXES,
    CELL_XLA,
    DEFAULT_LENGTHS,
    MAX_CELLS,
    SweepConfig,
    chance_exact_match,
    estimate_sweep_seconds,
    grid_cells,
    summary_table,
)
from ui import backend
from ui.cluster import planned_workers, sweep_scheduler
from ui.forms import config_form
from ui.shell import format_seconds, guarded, link, page_setup, show_figure
from ui.text import code, plain

ROOT = str(runs_root())
DEFAULT_VALUES = ", ".join(map(str, DEFAULT_LENGTHS))
RULES = {"fixed": "Fixed: the Echo length below", "half": "Half of each input length"}
MAX_VALUES_CHARS = 2000
ACCEPTED = f"Type distinct whole numbers separated by commas, e.g. {DEFAULT_VALUES}."


def parse_values(text: str, axis: str) -> tuple[int, ...]:
    """The swept values typed as ``5, 10, 15``.

    Raises:
        ValueError: empty, not whole numbers, or a repeated value (the message says what is accepted).
    """
    if len(text) > MAX_VALUES_CHARS:
        raise ValueError(f"the values are too long ({len(text):,} characters). {ACCEPTED}")
    tokens = [t for t in re.split(r"[\s,;]+", text.strip()) if t]
    if not tokens:
        raise ValueError(f"give at least one {AXES[axis]}. {ACCEPTED}")
    for token in tokens:
        if not re.fullmatch(r"[+-]?\d+", token):
            raise ValueError(f"{code(token)} is not a whole number. {ACCEPTED}")
    values = tuple(int(t) for t in tokens)
    repeated = [str(v) for v, n in Counter(values).items() if n > 1]
    if repeated:
        raise ValueError(f"{', '.join(repeated)} appear{'s' if len(repeated) == 1 else ''} more than once; "
                         f"give each value once. {ACCEPTED}")
    return values


def sweep_inputs() -> tuple[SweepConfig | None, str | None]:
    """The sweep's own inputs (axis, values, echo-length rule, seeds): its config, or what is wrong."""
    left, middle, right = st.columns([1, 2, 1])
    axis = left.selectbox("Sweep over", list(AXES), format_func=lambda a: AXES[a].capitalize(), key="sweep_axis")
    text = middle.text_input("Values", value=DEFAULT_VALUES, key="sweep_values",
                             help=f"The {AXES[axis]}s to train at, separated by commas. At most {MAX_CELLS} cells "
                                  "(values x seeds) per sweep.")
    seeds = right.number_input("Seeds per cell", value=3, step=1, key="sweep_seeds",
                               help="Trainings at each value, with seeds Seed, Seed+1, … (1 to 100).")
    rule = "fixed"
    if axis == "n_in":
        label = st.radio("Echo length in each cell", list(RULES.values()), horizontal=True, key="sweep_rule")
        rule = next(k for k, v in RULES.items() if v == label)
    st.caption(f"Each value replaces the form's {AXES[axis].capitalize()}" +
               (" (and Echo length, when it is half)." if axis == "n_in" else ".") +
               " Every cell trains both models from scratch.")
    try:
        return SweepConfig(axis=axis, values=parse_values(text, axis), seeds=int(seeds), n_out_rule=rule), None
    except (ValueError, TypeError, OverflowError) as exc:
        return None, str(exc)


def swept_settings(sweep: SweepConfig | None) -> dict[str, int]:
    """The form fields a sweep sets per cell, at their largest allowed value (what validation should see).

    A value beyond a field's range is left to the grid check, which names the value.
    """
    if sweep is None or sweep.axis is None:
        return {}
    limits = {**settings_of(ProblemConfig), **settings_of(ModelConfig)}
    largest = min(max(sweep.values), limits[sweep.axis].high or max(sweep.values))
    fields = {sweep.axis: largest}
    if sweep.axis == "n_in" and sweep.n_out_rule == "half":
        fields["n_out"] = max(1, largest // 2)
    return fields


def start_form() -> None:
    st.markdown(
        "Train **both** models at each value of one setting, several seeds each, and see where attention pulls "
        "ahead: the headline is held-out exact match against input length. Cells run in parallel on a Dask cluster."
    )
    sweep, error = sweep_inputs()
    form = config_form("sweep", default_protocol="batched", swept=swept_settings(sweep), xla=CELL_XLA)
    cells = []
    if error is None and form.error is not None:
        error = form.error
    if error is None and form.problem is not None:
        try:
            cells = grid_cells(form.problem, form.train, sweep, model=form.model)
        except ValueError as exc:
            error = str(exc)
    if error:
        st.error(f"Cannot sweep with these settings: {error}")  # already plain: values are shown with code()
    else:
        workers = planned_workers()
        st.info(
            f"**{len(cells)} cells** ({len(sweep.values)} values × {sweep.seeds} seeds), each training both models. "
            f"Estimated run time: **about {format_seconds(estimate_sweep_seconds(cells, workers))}** on "
            f"{workers} worker{'s' if workers != 1 else ''} (an estimate: it varies with the machine's load).",
            icon=":material/timer:",
        )
    if st.button("Run sweep", type="primary", disabled=error is not None) and sweep is not None and cells:
        try:
            run_id = jobs.start_sweep(form.problem, form.train, sweep, model=form.model, scheduler=sweep_scheduler(),
                                      launcher=backend.launcher(),
                                      root=ROOT)
        except (ValueError, RunError, OSError, TimeoutError) as exc:
            st.error(f"Could not start the sweep: {plain(exc)}")
            return
        st.query_params["run"] = run_id
        st.rerun()


def sweep_of(summary: RunSummary) -> SweepConfig:
    return SweepConfig.from_dict(summary.extra["sweep"])


def chance_of(summary: RunSummary, sweep: SweepConfig) -> float | None:
    """Guessing's exact match when every cell shares it (K and n_out fixed), else None (no single line)."""
    if sweep.axis in ("n_out", "cardinality") or (sweep.axis == "n_in" and sweep.n_out_rule == "half"):
        return None
    return chance_exact_match(summary.problem)


def cell_table(cells: pd.DataFrame, axis: str) -> pd.DataFrame:
    """One row per cell: its value and seed, each model's exact match, alignment, seconds, status, error."""
    per_cell = cells.groupby("cell", sort=True)
    table = pd.DataFrame({AXES[axis]: per_cell[axis].first(), "seed": per_cell["seed"].first()})
    if axis == "n_in":
        table["echo length"] = per_cell["n_out"].first()
    for name in MODEL_NAMES:
        rows = cells[cells["model"] == name].set_index("cell")
        table[model_kind(name).label] = rows["exact_match"]
    table["alignment"] = per_cell["alignment"].max()
    table["seconds"] = per_cell["seconds"].first()
    table["status"] = per_cell["status"].first()
    errors = per_cell["error"].first()
    if errors.notna().any():  # failed cells say why
        table["error"] = errors.fillna("")
    return table.reset_index(drop=True)


def summary_of(cells: pd.DataFrame, axis: str) -> pd.DataFrame:
    """Mean (and min, max) exact match per value and model, the mean alignment, the seeds that finished."""
    stats = summary_table(cells, axis)
    table = pd.DataFrame(index=pd.Index(sorted(stats[axis].unique()), name=AXES[axis]))
    for name in MODEL_NAMES:
        rows = stats[stats["model"] == name].set_index(axis)
        short = model_kind(name).short
        for column in ("mean", "min", "max"):
            table[f"{short} {column}"] = rows[column]
    attending = stats[stats["model"].isin(attending_names())].groupby(axis)
    table["alignment"] = attending["alignment"].mean()
    table["seeds"] = stats.groupby(axis)["seeds"].min()
    return table.reset_index()


def percent_columns(table: pd.DataFrame) -> dict:
    config = {c: st.column_config.NumberColumn(c, format="percent") for c in table.columns
              if c in {model_kind(n).label for n in MODEL_NAMES} or c.endswith((" mean", " min", " max"))}
    config["alignment"] = st.column_config.NumberColumn("alignment", format="%.2f")
    config["seconds"] = st.column_config.NumberColumn("seconds", format="%.1f s")
    return config


def show_results(run_id: str, summary: RunSummary, cells: pd.DataFrame, large: bool, finished: bool) -> None:
    """The headline figure, the per-cell table and its CSV, and (finished) the summary per value."""
    sweep = sweep_of(summary)
    show_figure(sweep_figure(cells, sweep.axis, chance=chance_of(summary, sweep), axis_label=AXES[sweep.axis]),
                large, key="sweep_figure")
    if cells.empty:
        st.info("No cell has finished yet: each row appears here as its cell finishes.")
        return
    table = cell_table(cells, sweep.axis)
    st.markdown("**Cells**")
    st.dataframe(table, hide_index=True, width="stretch", column_config=percent_columns(table))
    st.download_button("Download CSV", cells.to_csv(index=False), file_name=f"sweep-{run_id}.csv", mime="text/csv",
                       on_click="ignore", icon=":material/download:", key="sweep_csv")
    if finished and (cells["status"] == "done").any():
        st.markdown(f"**Summary: held-out exact match per {AXES[sweep.axis]}, over seeds**")
        table = summary_of(cells, sweep.axis)
        st.dataframe(table, hide_index=True, width="stretch", column_config=percent_columns(table))


def failed_cells(cells: pd.DataFrame) -> int:
    return int(cells.loc[cells["status"] == "failed", "cell"].nunique()) if not cells.empty else 0


def progress_text(status: jobs.JobStatus, total: int, failed: int) -> str:
    if status.state == "queued":
        return "Queued: waiting for the running job to finish…"
    if status.phase != "training":
        return "Starting: connecting to the Dask cluster…"
    eta = format_seconds(status.eta) if status.eta is not None else "after the first cell"
    return f"{status.cells_done} of {total} cells done{f' ({failed} failed)' if failed else ''} · ETA {eta}"


def live(run_id: str, large: bool) -> None:
    if st.button("Cancel", icon=":material/stop:"):
        jobs.cancel(run_id, ROOT)
        st.toast("Stopping… finished cells are kept.")

    @st.fragment(run_every=1.0)
    @guarded  # a fragment's reruns do not pass through the page's guard
    def tick() -> None:
        try:
            summary = get_run(run_id, ROOT)
        except RunError:  # deleted or moved while it ran: say so calmly, keep polling
            st.error(f"The sweep folder {code(run_id)} is no longer in {code(ROOT, 200)} (deleted or moved). "
                     "The other runs are unaffected.")
            return
        if summary.broken:
            st.error(f"Sweep {code(run_id)} cannot be followed: {plain(summary.broken)}. The other runs are unaffected.")
            return
        status = jobs.JobStatus.from_summary(summary)
        if not status.active:
            st.rerun()  # full rerun: the finished view
        total = status.cells_total or sweep_of(summary).cell_count
        cells = read_cells(run_id)
        st.progress(min(1.0, status.cells_done / total), text=progress_text(status, total, failed_cells(cells)))
        show_results(run_id, summary, cells, large, finished=False)

    tick()


def read_cells(run_id: str) -> pd.DataFrame:
    """The sweep's finished cells; a damaged cell log is a warning (its readable cells are kept)."""
    found = cells_checked(run_id, ROOT)
    if found.problem:
        st.warning(f"{plain(found.problem)}.", icon=":material/warning:")
    return found.value


def finished(run_id: str, summary: RunSummary, large: bool) -> None:
    total = summary.cells_total or sweep_of(summary).cell_count
    cells = read_cells(run_id)
    if summary.state == "done":
        st.success(f"Done: {summary.cells_done} of {total} cells in {format_seconds(summary.elapsed)}.")
        if failed_cells(cells):
            st.warning(f"{failed_cells(cells)} of them failed: the table says why.")
    elif summary.state == "cancelled":
        st.info(f"This sweep was cancelled: the {summary.cells_done} of {total} cells that finished are kept below.")
    else:
        st.warning(f"This sweep ended {summary.state}: {plain(summary.error or 'no reason was recorded')}. "
                   f"The {summary.cells_done} of {total} cells that finished are kept below.")
    show_results(run_id, summary, cells, large, finished=True)


def open_run(raw: str) -> RunSummary | None:
    """The sweep named in the address, or None after saying (as plain text) why it cannot be shown."""
    try:
        summary = get_run(validate_run_id(raw), ROOT)
    except ValueError:
        st.error(f"The address names {code(raw)}, which is not a run id (expected the form 20261123-195700-a1b2c3). "
                 "Showing the sweep form instead.")
        return None
    except RunError:
        st.error(f"There is no run {code(raw)} in {code(ROOT, 200)}. Showing the sweep form instead.")
        return None
    if summary.broken or summary.kind != "sweep":
        reason = plain(summary.broken) if summary.broken else f"it is a {plain(summary.kind)} run, not a sweep"
        st.error(f"Run {code(raw)} cannot be shown here: {reason}. Showing the sweep form instead.")
        return None
    return summary


def latest_sweep(large: bool) -> None:
    previous = [r for r in list_runs(ROOT, kind="sweep") if r.state not in ACTIVE_STATES and r.cells_done]
    if previous:
        latest = previous[0]
        st.subheader(f"Latest sweep ({latest.id}, {latest.state})")
        link("sweep", label=f"Open sweep {latest.id}", query_params={"run": latest.id})
        sweep = sweep_of(latest)
        show_figure(sweep_figure(read_cells(latest.id), sweep.axis, chance=chance_of(latest, sweep),
                                 axis_label=AXES[sweep.axis]), large, key="latest_sweep")


@guarded
def page() -> None:
    large = page_setup("Sweep")
    st.title("Sweep")
    raw = st.query_params.get("run")
    summary = None if raw is None else open_run(raw)
    if summary is None:
        start_form()
        latest_sweep(large)
        return
    st.caption(f"Sweep `{summary.id}` · share this page's address to follow it from another tab.")
    if summary.state in ACTIVE_STATES:
        live(summary.id, large)
    else:
        finished(summary.id, summary, large)
    if st.button("New sweep"):
        del st.query_params["run"]
        st.rerun()


page()
