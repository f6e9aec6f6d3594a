"""Train: configure the problem, train both models in the background, watch them race."""

from __future__ import annotations

import time

import streamlit as st

from seqattn.figures import accuracy_by_position_figure, accuracy_race_figure, loss_race_figure, probe_heatmap
from seqattn.jobs import control as jobs
from seqattn.model.registry import MODEL_KINDS
from seqattn.problem.config import ProblemConfig
from seqattn.runs import RunSummary, evals_checked, per_position_accuracy, progress_checked, result_checked, runs_root
from ui import backend
from ui.forms import config_form
from ui.loaders import progress_tail
from ui.navigation import link, require_entry_point
from ui.run_view import RunPage, run_page, start_button
from ui.shell import format_seconds, show_figure, show_problem
from ui.stepper import stepper
from ui.text import plain

ROOT = str(runs_root())
ENDINGS = {  # how a run that did not finish ended, above its history
    "failed": (st.error, "Training failed. {error}"),
    "interrupted": (st.warning, "This run was interrupted ({error}). Its history so far is below."),
    "stalled": (st.warning, "This run's worker has given no sign of life for a while (frozen or starved of CPU), so "
                            "its slot was given to the next job. Its history so far is below."),
    "cancelled": (st.info, "This run was cancelled."),
}


def start_form() -> None:
    st.markdown("Set the problem and the training recipe, then train **both** models on the same data.")
    form = config_form("train", default_protocol="batched")
    if form.error:
        st.error(f"Cannot train with these settings: {plain(form.error)}")
    elif form.problem is not None:
        backend.form_shows(form.problem, form.train, form.model)  # prepared ahead once the form is still
    start_button(lambda: jobs.start(form.problem, form.train, model=form.model, root=ROOT, launcher=backend.launcher()),
                 "training", "Train both models", "train_start", ROOT,
                 disabled=form.error is not None or form.problem is None,
                 help="Start training both models with these settings (key: t).")
    if form.problem is not None:
        # Where the race will be drawn; drawing it now also loads the browser's chart library before the click.
        size = form.problem.output_size
        st.caption(f"Both loss curves are drawn here as soon as training starts; the dashed line is chance: ln {size}, "
                   f"the loss of a uniform guess among the {size} output tokens.")
        show_figure(loss_race_figure(None, size), key="loss_preview")


def progress_text(summary: RunSummary, status: jobs.JobStatus, done: int) -> str:
    if status.state == "queued":
        return "Queued: waiting for the running job to finish…"
    if status.phase != "training":
        return (f"Starting: loading TensorFlow and compiling both models · "
                f"{format_seconds(max(0.0, time.time() - summary.created))} so far (10 to 30 s on a 2-core machine, "
                "unless the server's warm process had it ready); the first loss point follows")
    return (f"{done:,} / {status.total or 1:,} updates · {format_seconds(status.elapsed)} elapsed · "
            f"ETA {format_seconds(status.eta)}")


def metrics_row(evals: list[dict]) -> None:
    cols = st.columns(len(MODEL_KINDS) + 1)
    last = evals[-1] if evals else None
    for col, kind in zip(cols, MODEL_KINDS):
        value = last["accuracy"].get(kind.name) if last else None
        col.metric(f"{kind.short} exact match (held out)", "–" if value is None else f"{value:.1%}")
    alignment = last.get("alignment") if last else None
    cols[-1].metric("Alignment score", "–" if alignment is None else f"{alignment:.2f}",
                    help="Mean attention each output step puts where the task's answer lies (the input positions a "
                         "perfect alignment reads), over the steps that read the input. 1 is a perfect alignment.")


def loss_chart(history, summary: RunSummary, key: str) -> None:
    # One key for the live and the finished view, kept for the session: the scale chosen stays when the run ends.
    log_y = st.toggle("Log-scale loss", key="log_loss", persist_state="session")
    # The run's id as the figure's revision: the user's zoom survives the live view's refreshes (ui.zoom).
    show_figure(loss_race_figure(history, output_size(summary), log_y=log_y, revision=summary.id), key=f"loss_{key}")


def output_size(summary: RunSummary) -> int:
    """The run's output vocabulary (chance is ln of it); a problem that no longer reads falls back to its K."""
    try:
        return ProblemConfig.from_dict(summary.problem).output_size
    except (TypeError, ValueError):
        return int(summary.problem.get("cardinality") or 1)


def live(summary: RunSummary, status: jobs.JobStatus) -> None:
    history = show_problem(progress_checked(progress_tail(summary.id, ROOT)))
    evals = show_problem(evals_checked(summary.id, ROOT))
    # status.json is rewritten only a few times a second; the history is fresher.
    done = max(status.update, int(history["update"].iloc[-1]) if not history.empty else 0)
    training = status.state != "queued" and status.phase == "training"
    st.progress(min(1.0, done / (status.total or 1)) if training else 0.0, text=progress_text(summary, status, done))
    metrics_row(evals)
    left, right = st.columns([3, 2])
    with left:
        loss_chart(history, summary, "live")
    with right:
        if evals and evals[-1].get("attention"):
            show_figure(probe_heatmap(evals[-1], summary.problem, f"Probe attention at update {evals[-1]['update']}"),
                        key="probe_live")
        else:
            st.info("The attention heatmap of a probe sequence appears at the first evaluation.")


def ending(summary: RunSummary, status: jobs.JobStatus) -> None:
    """Done, or how the run ended (and whether its models can still be explored)."""
    if status.state not in ENDINGS:
        st.success(f"Done: {summary.update:,} updates in {format_seconds(summary.elapsed)}.")
        return
    show, text = ENDINGS[status.state]
    if summary.usable and status.state == "cancelled":
        text += " Its models, as they were, can still be explored."
    elif summary.usable and summary.checkpoint is not None and status.state in ("failed", "interrupted"):
        text += f" Its models as at update {summary.checkpoint:,} (its last evaluation) can still be explored."
    show(text.format(error=plain(summary.error or ("the process stopped" if status.state == "interrupted" else ""))))


def finished(summary: RunSummary, status: jobs.JobStatus) -> None:
    ending(summary, status)
    history = show_problem(progress_checked(progress_tail(summary.id, ROOT)))
    evals = show_problem(evals_checked(summary.id, ROOT))
    if summary.accuracy:
        cols = st.columns(len(MODEL_KINDS) + 1)
        for col, kind in zip(cols, MODEL_KINDS):
            if kind.name in summary.accuracy:
                col.metric(f"{kind.short} exact match", f"{summary.accuracy[kind.name]:.1%}")
        cols[-1].metric("Training time", format_seconds(summary.elapsed))
    if summary.usable:
        link("explore", label="Explore this run", query_params={"run": summary.id})
    if history.empty:
        st.info("No training progress was recorded for this run.")
        return
    left, right = st.columns([3, 2])
    with left:
        loss_chart(history, summary, "done")
    with right:
        per_position = per_position_accuracy(show_problem(result_checked(summary.id, ROOT)) if summary.usable else {})
        if per_position:
            show_figure(accuracy_by_position_figure(per_position, summary.problem.get("n_out")), key="by_position")
    if len(evals) > 1:
        show_figure(accuracy_race_figure(history), key="accuracy_race")
    snapshots = {e["update"]: e for e in evals if e.get("attention")}
    if snapshots:
        st.subheader("Replay: the probe's attention over training")
        chosen = stepper("Update", list(snapshots), key="replay", item="evaluation", start=-1,
                         help="Which evaluation's probe attention to show; also ←/→.")
        show_figure(probe_heatmap(snapshots[chosen], summary.problem, f"Probe attention at update {chosen}"),
                    key="replay_heatmap")


require_entry_point()
st.title("Train")
run_page(RunPage(kind="train", noun="training", form=start_form, live=live, finished=finished,
                 new_label="Train another"), ROOT)
