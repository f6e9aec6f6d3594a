"""What the Sweep page shows of a sweep, computed without Streamlit: the grid typed in its form, the
settings a sweep sets per cell, its chance line, and its per-cell and per-value tables.

The page reads its widgets, calls these and lays out what they return.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from seqattn.configuration import settings_of
from seqattn.model.config import ModelConfig
from seqattn.model.registry import MODEL_NAMES, attending_names, model_kind
from seqattn.problem.config import ProblemConfig
from seqattn.problem.parsing import parse_whole_numbers
from seqattn.problem.registry import DEFAULT_TASK, task_named
from seqattn.problem.task import Task
from seqattn.runs import ACTIVE_STATES, RunSummary, list_runs
from seqattn.sweeps.grid import (AXES, DEFAULT_LENGTHS, SweepConfig, cell_settings, chance_exact_match, summary_table,
                                 threshold_table)

# pandas is imported when first used: the home page must render without pandas.
if TYPE_CHECKING:
    import pandas as pd

DEFAULT_VALUES = ", ".join(map(str, DEFAULT_LENGTHS))
N_OUT_RULES = {"fixed": "Fixed: the Echo length below", "half": "Half of each input length"}


def sweep_from_form(axis: str, values: str, seeds: Any, n_out_rule: str = "fixed") -> SweepConfig:
    """The sweep typed in the form: the swept setting, its values as typed (``5, 10, 15``), seeds per cell.

    Raises:
        ValueError: the values do not parse (the message says what is accepted) or make no valid grid.
    """
    parsed = tuple(parse_whole_numbers(values, AXES.get(axis, "value"), example=DEFAULT_VALUES))
    try:
        return SweepConfig(axis=axis, values=parsed, seeds=int(seeds), n_out_rule=n_out_rule)
    except (TypeError, OverflowError) as exc:
        raise ValueError(str(exc)) from None


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


def sweep_of(summary: RunSummary) -> SweepConfig:
    """The grid a sweep run was started with."""
    return SweepConfig.from_dict(summary.extra["sweep"])


def cells_total(summary: RunSummary) -> int:
    """How many cells the sweep has (as its job counted them, else as its grid says)."""
    return summary.cells_total or sweep_of(summary).cell_count


def task_of(problem: Mapping[str, Any]) -> Task:
    """The task of a run's problem dict (``run.json``); the default task for a run saved before tasks or a bad name."""
    try:
        return task_named(problem.get("task", DEFAULT_TASK))
    except ValueError:
        return task_named(DEFAULT_TASK)


def varied(sweep: SweepConfig) -> set[str]:
    """The settings a sweep changes from cell to cell (the axis, and the echo length when it is half of n_in)."""
    return {sweep.axis} | ({"n_out"} if sweep.axis == "n_in" and sweep.n_out_rule == "half" else set())


def chance_of(summary: RunSummary) -> float | None:
    """Guessing's exact match when every cell shares it, else None (no single line).

    Each cell's chance is its task's (:func:`~seqattn.sweeps.grid.chance_exact_match`): the
    tutorial's task's does not move with the input length, a task whose target is as long as
    its input does. A problem that no longer reads gives None.
    """
    sweep = sweep_of(summary)
    try:
        problem = ProblemConfig.from_dict(summary.problem)
        chances = {chance_exact_match(cell_settings(problem, ModelConfig(), sweep, value)[0])
                   for value in sweep.values or (None,)}
    except (TypeError, ValueError):
        return None
    return chances.pop() if len(chances) == 1 else None


def fixed_settings(problem: Mapping[str, Any], sweep: SweepConfig) -> str:
    """The problem every cell shares, in words: the task, then each setting it reads that the sweep does not vary.

    A task with no settings of its own says what it is (:meth:`~seqattn.problem.task.Task.describe`).
    A problem dict that no longer reads gives its K alone.
    """
    try:
        config = ProblemConfig.from_dict(problem)
    except (TypeError, ValueError):
        return f"K = {problem.get('cardinality')}"
    task = config.task_spec
    if not task.settings:
        return task.describe(config)
    specs, skip = settings_of(ProblemConfig), varied(sweep)
    words = {"cardinality": f"K = {config.cardinality}",
             "pad_target": "" if config.pad_target else f"{specs['pad_target'].label.lower()} off"}
    parts = [words.get(name, f"{specs[name].label.lower()} {getattr(config, name)}")
             for name in task.settings if name not in skip]
    return ", ".join([f"{task.label} task"] + [part for part in parts if part])


def caption_of(summary: RunSummary) -> str:
    """What a sweep measured, in one line for its figure: threshold, cap, protocol, seeds, fixed settings."""
    train, sweep, problem = summary.train or {}, sweep_of(summary), summary.problem
    first = int(train.get("seed", 0))
    seeds = f"seed {first}" if sweep.seeds == 1 else f"seeds {first}-{first + sweep.seeds - 1}"
    recipe = (f"{train.get('protocol', 'batched')} protocol, batch {train.get('batch_size')}, "
              f"{train.get('eval_size', 1000):,} held-out pairs every {train.get('eval_every')} updates, {seeds}")
    fixed = fixed_settings(problem, sweep)
    if train.get("until") is None:
        return f"{int(train.get('updates', 0)):,} updates per model; {recipe}; {fixed}"
    return (f"Each model trained until {train['until']} % held-out exact match or {int(train['updates']):,} updates "
            f"(the cap); {recipe}; {fixed}")


def latest_finished(root: Any = None) -> RunSummary | None:
    """The newest sweep that has ended with at least one finished cell, if any."""
    ended = [r for r in list_runs(root, kind="sweep") if r.state not in ACTIVE_STATES and r.cells_done]
    return ended[0] if ended else None


def failed_cells(cells: pd.DataFrame) -> int:
    """How many cells failed (each cell has one row per model)."""
    return int(cells.loc[cells["status"] == "failed", "cell"].nunique()) if not cells.empty else 0


def cell_table(cells: pd.DataFrame, axis: str, task: Task | None = None) -> pd.DataFrame:
    """One row per cell: its value, seed and status, each model's exact match (and updates to the
    threshold), alignment, seconds, and the error of a failed cell.

    Swept along the input length, a ``task`` that reads the echo length (default: the default
    task) also gets each cell's echo length; other tasks fix it.
    """
    import pandas as pd

    per_cell = cells.groupby("cell", sort=True)
    table = pd.DataFrame({AXES[axis]: per_cell[axis].first(), "seed": per_cell["seed"].first()})
    if axis == "n_in" and "n_out" in (task or task_named(DEFAULT_TASK)).settings:
        table["echo length"] = per_cell["n_out"].first()
    table["status"] = per_cell["status"].first()  # early: a wide table scrolls, and this is read first
    for name in MODEL_NAMES:
        rows = cells[cells["model"] == name].set_index("cell")
        table[model_kind(name).label] = rows["exact_match"]
        if "until" in rows and rows["until"].notna().any():
            table[f"{model_kind(name).short} updates to threshold"] = [
                f"{reached:,.0f}" if reached == reached else f"not within {cap:,.0f}"
                for reached, cap in zip(rows["reached"], rows["cap"], strict=True)]
    table["alignment"] = per_cell["alignment"].max()
    table["seconds"] = per_cell["seconds"].first()
    errors = per_cell["error"].first()
    if errors.notna().any():  # failed cells say why
        table["error"] = errors.fillna("")
    return table.reset_index(drop=True)


def summary_of(cells: pd.DataFrame, axis: str) -> pd.DataFrame:
    """Mean (and min, max) exact match per value and model, the mean alignment, the seeds that finished;
    trained to a threshold, also each model's updates to it (mean, and the range over seeds)."""
    import pandas as pd

    stats = summary_table(cells, axis)
    table = pd.DataFrame(index=pd.Index(sorted(stats[axis].unique()), name=AXES[axis]))
    speed = threshold_table(cells, axis)
    for name in MODEL_NAMES if not speed.empty else ():
        rows = speed[speed["model"] == name].set_index(axis)
        table[f"{model_kind(name).short} updates to threshold"] = [
            f"{r.updates_mean:,.0f} ({r.updates_min:,.0f}-{r.updates_max:,.0f})" if r.reached == r.seeds else
            f"not within {r.cap:,.0f} ({r.seeds} of {r.seeds} seeds)" if r.reached == 0 else
            f"at least {r.updates_mean:,.0f} ({r.seeds - r.reached} of {r.seeds} not within {r.cap:,.0f})"
            for r in rows.reindex(table.index).itertuples()]
    for name in MODEL_NAMES:
        rows = stats[stats["model"] == name].set_index(axis)
        short = model_kind(name).short
        for column in ("mean", "min", "max"):
            table[f"{short} {column}"] = rows[column]
    attending = stats[stats["model"].isin(attending_names())].groupby(axis)
    table["alignment"] = attending["alignment"].mean()
    table["seeds"] = stats.groupby(axis)["seeds"].min()
    return table.reset_index()


def percent_columns(table: pd.DataFrame) -> list[str]:
    """The columns of :func:`cell_table` or :func:`summary_of` that hold exact match (a fraction, shown in %)."""
    labels = {model_kind(name).label for name in MODEL_NAMES}
    return [c for c in table.columns if c in labels or str(c).endswith((" mean", " min", " max"))]
