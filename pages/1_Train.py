"""Train: configure the problem, train both models in the background, watch them race."""

from __future__ import annotations

import time


import pandas as pd
import streamlit as st

from seqattn.jobs import control as jobs
from seqattn.figures import accuracy_by_position_figure, accuracy_race_figure, loss_race_figure, probe_heatmap
from seqattn.model.registry import MODEL_KINDS
from seqattn.runs import (
    RunError,
    evals_checked,
    get_run,
    progress_checked,
    per_position_accuracy,
    result_checked,
    run_checked,
    runs_root,
    validate_run_id,
)
from ui import backend
from ui.forms import config_form
from ui.loaders import progress_tail
from ui.shell import link, format_seconds, guarded, page_setup, show_figure
from ui.text import code, plain
from ui.prefetch import start as prefetch_scripts
from ui.warmup import start as start_warmup

ROOT = str(runs_root())
LIVE_SECONDS = 1.0  # the live view's refresh (faster ticks take the CPU the training needs on 2 cores)


def start_form(large: bool) -> None:
    st.markdown("Set the problem and the training recipe, then train **both** models on the same data.")
    form = config_form("train", default_protocol="batched")
    if form.error:
        st.error(f"Cannot train with these settings: {plain(form.error)}")
    clicked = st.button("Train both models", type="primary", disabled=form.error is not None, shortcut="T",
                        key="train_start", help="Start training both models with these settings (key: t).")
    if clicked and form.problem is not None:
        try:
            run_id = jobs.start(form.problem, form.train, model=form.model, root=ROOT, launcher=backend.launcher())
        except RunError as exc:
            st.error(plain(exc))
            return
        st.query_params["run"] = run_id
        st.rerun()
    if form.problem is not None:
        # Where the race will be drawn; drawing it now also loads the browser's chart library before the click.
        st.caption("Both loss curves are drawn here as soon as training starts; the dashed line is chance (ln K).")
        show_figure(loss_race_figure(None, form.problem.cardinality), large, key="loss_preview")


def metrics_row(history: pd.DataFrame, evals: list[dict]) -> None:
    cols = st.columns(len(MODEL_KINDS) + 1)
    last = evals[-1] if evals else None
    for col, kind in zip(cols, MODEL_KINDS):
        value = last["accuracy"].get(kind.name) if last else None
        col.metric(f"{kind.short} exact match (held out)", "–" if value is None else f"{value:.1%}")
    alignment = last.get("alignment") if last else None
    cols[-1].metric("Alignment score", "–" if alignment is None else f"{alignment:.2f}",
                   help="Mean attention that output step t puts on input position t, for the echoed steps. "
                        "1 is a perfect diagonal.")


def loss_chart(history: pd.DataFrame, problem: dict, large: bool, key: str) -> None:
    # One key for the live and the finished view, kept for the session: the scale
    # the speaker chose stays when the run ends.
    log_y = st.toggle("Log-scale loss", key="log_loss", persist_state="session")
    show_figure(loss_race_figure(history, problem["cardinality"], log_y=log_y), large, key=f"loss_{key}")


def live_view(run_id: str, large: bool) -> None:
    """Polled once a second while the job runs."""

    @st.fragment(run_every=LIVE_SECONDS)
    @guarded  # a fragment's reruns do not pass through the page's guard
    def tick() -> None:
        # Every read is tolerant: a damaged file is a warning here and the polling goes on.
        found = run_checked(run_id, ROOT)
        summary = found.value
        if summary is None:
            st.error(f"{plain(found.problem)}. Nothing more can be shown of it; the other runs are unaffected.")
            return
        if summary.broken:
            st.error(f"Run {code(run_id)} cannot be followed: {plain(summary.broken)}. "
                     "The other runs are unaffected.")
            return
        status = jobs.JobStatus.from_summary(summary)
        if not status.active:
            st.rerun()  # full rerun: switch to the summary
        history = show_problem(progress_checked(progress_tail(run_id, ROOT)))
        evals = show_problem(evals_checked(run_id, ROOT))
        if status.state == "queued":
            st.progress(0.0, text="Queued: waiting for the running job to finish…")
        elif status.phase != "training":
            waited = max(0.0, time.time() - summary.created)
            st.progress(0.0, text=f"Starting: loading TensorFlow and compiling both models · "
                                  f"{format_seconds(waited)} so far (10 to 30 s on a 2-core machine, unless the "
                                  "server's warm process had it ready); the first loss point follows")
        else:
            # status.json is rewritten only a few times a second; the history is fresher.
            done = max(status.update, int(history["update"].iloc[-1]) if not history.empty else 0)
            total = status.total or 1
            st.progress(min(1.0, done / total), text=f"{done:,} / {total:,} updates · "
                                                     f"{format_seconds(status.elapsed)} elapsed · "
                                                     f"ETA {format_seconds(status.eta)}")
        metrics_row(history, evals)
        left, right = st.columns([3, 2])
        with left:
            loss_chart(history, summary.problem, large, "live")
        with right:
            if evals and evals[-1].get("attention"):
                show_figure(probe_heatmap(evals[-1], summary.problem, f"Probe attention at update {evals[-1]['update']}"),
                            large, key="probe_live")
            else:
                st.info("The attention heatmap of a probe sequence appears at the first evaluation.")

    if st.button("Cancel", type="secondary"):
        jobs.cancel(run_id, ROOT)
        st.toast("Stopping…")
    tick()


def move_replay(delta: int, updates: list[int]) -> None:
    """The ◀ / ▶ buttons and the arrow keys: the previous or next evaluation."""
    current = st.session_state.get("replay", updates[-1])
    index = updates.index(current) if current in updates else len(updates) - 1
    st.session_state["replay"] = updates[min(len(updates) - 1, max(0, index + delta))]


def replay_control(updates: list[int]) -> int:
    """The replay's "Update" slider with ◀ ▶ (and ←/→); returns the chosen update."""
    if len(updates) < 2:
        return updates[0]
    if st.session_state.get("replay") not in updates:
        st.session_state["replay"] = updates[-1]
    back, slider, forward = st.columns([1, 10, 1], vertical_alignment="bottom")
    back.button("◀", key="replay_back", shortcut="Left", on_click=move_replay, args=(-1, updates),
                help="Previous evaluation (key: ←)")
    forward.button("▶", key="replay_forward", shortcut="Right", on_click=move_replay, args=(1, updates),
                   help="Next evaluation (key: →)")
    with slider:
        return st.select_slider("Update", options=updates, key="replay")


def show_problem(found):
    """The value of a tolerant read, after a calm warning if part of it was damaged."""
    if found.problem:
        st.warning(f"{plain(found.problem)}.", icon=":material/warning:")
    return found.value


def summary_view(run_id: str, large: bool) -> None:
    summary = get_run(run_id, ROOT)
    if summary.broken:
        st.error(f"Run {code(run_id)} cannot be shown: {plain(summary.broken)}. The other runs are unaffected.")
        return
    state = jobs.JobStatus.from_summary(summary, ROOT).state  # "stalled" is the jobs' verdict, not a file's
    kept = (f" Its models as at update {summary.checkpoint:,} (its last evaluation) can still be explored."
            if summary.checkpoint is not None and summary.usable else "")
    if state == "failed":
        st.error(f"Training failed. {plain(summary.error or '')}{kept}")
    elif state == "interrupted":
        st.warning(f"This run was interrupted ({plain(summary.error or 'the process stopped')}). "
                   f"Its history so far is below.{kept}")
    elif state == "stalled":
        st.warning("This run's worker has given no sign of life for a while (frozen or starved of CPU), so its "
                   "slot was given to the next job. Its history so far is below.")
    elif state == "cancelled":
        st.info("This run was cancelled." + (" Its models, as they were, can still be explored." if summary.usable else ""))
    else:
        st.success(f"Done: {summary.update:,} updates in {format_seconds(summary.elapsed)}.")
    history = show_problem(progress_checked(progress_tail(run_id, ROOT)))
    evals = show_problem(evals_checked(run_id, ROOT))
    if summary.accuracy:
        cols = st.columns(len(MODEL_KINDS) + 1)
        for col, kind in zip(cols, MODEL_KINDS):
            if kind.name in summary.accuracy:
                col.metric(f"{kind.short} exact match", f"{summary.accuracy[kind.name]:.1%}")
        cols[-1].metric("Training time", format_seconds(summary.elapsed))
    if summary.usable:
        link("explore", label="Explore this run", query_params={"run": run_id})
    if history.empty:
        st.info("No training progress was recorded for this run.")
        return
    left, right = st.columns([3, 2])
    with left:
        loss_chart(history, summary.problem, large, "done")
    with right:
        result = show_problem(result_checked(run_id, ROOT)) if summary.usable else {}
        per_position = per_position_accuracy(result)
        if per_position:
            show_figure(accuracy_by_position_figure(per_position, summary.problem["n_out"]), large, key="by_position")
    if len(evals) > 1:
        show_figure(accuracy_race_figure(history), large, key="accuracy_race")
    snapshots = [e for e in evals if e.get("attention")]
    if snapshots:
        st.subheader("Replay: the probe's attention over training")
        updates = [e["update"] for e in snapshots]
        chosen = replay_control(updates)
        record = snapshots[updates.index(chosen)]
        show_figure(probe_heatmap(record, summary.problem, f"Probe attention at update {chosen}"), large, key="replay_heatmap")


@guarded
def page() -> None:
    large = page_setup("Train")
    st.title("Train")
    raw = st.query_params.get("run")
    if raw is None:
        start_form(large)
        return
    try:
        run_id = validate_run_id(raw)
    except ValueError:
        st.error(f"The address names {code(raw)}, which is not a run id (expected the form "
                 "20261123-195700-a1b2c3). Showing the training form instead.")
        start_form(large)
        return
    try:
        status = jobs.status(run_id, ROOT)
    except RunError as exc:
        st.error(f"{plain(exc)} Showing the training form instead.")
        start_form(large)
        return
    st.caption(f"Run `{run_id}` · share this page's address to follow it from another tab.")
    if status.active:
        live_view(run_id, large)
    else:
        summary_view(run_id, large)
    if st.button("Train another"):
        del st.query_params["run"]
        st.rerun()


page()
start_warmup()  # after the render: a warm training process for the next click (ui.warmup)
prefetch_scripts()  # and in the browser: the scripts of Explore's widgets (ui.prefetch)
