"""Train: configure the problem, train both models in the background, watch them race."""

from __future__ import annotations


import pandas as pd
import streamlit as st

from seqattn import jobs
from seqattn.figures import accuracy_by_position_figure, accuracy_race_figure, loss_race_figure, probe_heatmap
from seqattn.registry import MODEL_KINDS
from seqattn.runs import RunError, evals_of, get_run, read_result, runs_root, validate_run_id
from ui.forms import config_form
from ui.loaders import progress_tail
from ui.shell import link, format_seconds, guarded, page_setup, show_figure

ROOT = str(runs_root())


def start_form(large: bool) -> None:
    st.markdown("Set the problem and the training recipe, then train **both** models on the same data.")
    form = config_form("train", default_protocol="batched")
    if form.error:
        st.error(f"Cannot train with these settings: {form.error}")
    clicked = st.button("Train both models", type="primary", disabled=form.error is not None, shortcut="T",
                        key="train_start", help="Start training both models with these settings (key: t).")
    if clicked and form.problem is not None:
        try:
            run_id = jobs.start(form.problem, form.train, model=form.model, root=ROOT)
        except RunError as exc:
            st.error(str(exc))
            return
        st.query_params["run"] = run_id
        st.rerun()


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
    log_y = st.toggle("Log-scale loss", key=f"log_{key}")
    show_figure(loss_race_figure(history, problem["cardinality"], log_y=log_y), large, key=f"loss_{key}")


def live_view(run_id: str, large: bool) -> None:
    """Polled about once a second while the job runs."""

    @st.fragment(run_every=1.0)
    def tick() -> None:
        try:
            summary = get_run(run_id, ROOT)
        except RunError as exc:
            st.error(str(exc))
            return
        status = jobs.JobStatus.from_summary(summary)
        if not status.active:
            st.rerun()  # full rerun: switch to the summary
        history = progress_tail(run_id, ROOT).read()
        evals = evals_of(run_id, ROOT)
        if status.state == "queued":
            st.progress(0.0, text="Queued: waiting for the running job to finish…")
        elif status.phase != "training":
            st.progress(0.0, text="Starting: loading TensorFlow and compiling both models (a few seconds)…")
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


def summary_view(run_id: str, large: bool) -> None:
    summary = get_run(run_id, ROOT)
    if summary.broken:
        st.error(f"Run `{run_id}` cannot be shown: {summary.broken}.")
        return
    state = summary.state
    if state == "failed":
        st.error(f"Training failed. {summary.error or ''}")
    elif state == "interrupted":
        st.warning(f"This run was interrupted ({summary.error or 'the process stopped'}). Its history so far is below.")
    elif state == "cancelled":
        st.info("This run was cancelled." + (" Its models, as they were, can still be explored." if summary.usable else ""))
    else:
        st.success(f"Done: {summary.update:,} updates in {format_seconds(summary.elapsed)}.")
    history = progress_tail(run_id, ROOT).read()
    evals = evals_of(run_id, ROOT)
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
        if summary.usable:
            result = read_result(run_id, ROOT)
            per_position = {k: v["per_position"] for k, v in result.get("accuracy", {}).items()}
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
        status = jobs.status(run_id, ROOT)
    except (ValueError, RunError) as exc:
        st.error(f"{exc} Showing the training form instead.")
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
