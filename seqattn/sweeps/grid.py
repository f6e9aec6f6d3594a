"""Sweeps: a grid of independent cells (a setting x seeds), each training both models.

A :class:`SweepConfig` names one swept setting (``n_in`` by default, the input
length) and its values, and how many seeds each value gets. With ``axis=None``
it is plain repeats of one problem (the tutorial's comparison). :func:`grid_cells`
turns it into :class:`~seqattn.sweeps.cells.CellSpec` s; :mod:`seqattn.sweeps.executors` runs them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from collections.abc import Mapping, Sequence

import numpy as np

from seqattn.training.budget import budget_problem
from seqattn.training.cost import estimate_cell_seconds
from seqattn.sweeps.cells import CellResult, CellSpec
from seqattn.configuration import DictConfig, check_int_range, settings_of
from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.problem.task import Task
from seqattn.model.registry import MODEL_NAMES, attending_names
from seqattn.training.config import TrainConfig

# pandas is imported when first used: the home page must render without pandas.
if TYPE_CHECKING:
    import pandas as pd

AXES: dict[str, str] = {"n_in": "input length", "n_out": "echo length", "cardinality": "cardinality", "units": "units"}
# Model settings: every task has them, so any task's sweep may vary them.
MODEL_AXES = ("units",)


def task_axes(task: Task) -> dict[str, str]:
    """The axes a sweep of ``task`` may vary (its own settings among :data:`AXES`, and the model's), with names.

    The task's settings are the ones it reads; the others it fixes itself, so sweeping one
    would train the same cell again and again.
    """
    return {axis: name for axis, name in AXES.items() if axis in task.settings or axis in MODEL_AXES}


def check_axis(axis: str, task: Task) -> None:
    """Raise ``ValueError`` (a message for the user) if ``task`` does not read the setting ``axis``."""
    allowed = task_axes(task)
    if axis in AXES and axis not in allowed:
        raise ValueError(f"the {task.label} task does not read the {AXES[axis]} (it fixes it), so a sweep cannot "
                         f"vary it; sweep over {' or '.join(allowed.values())} instead.")


def axis_range(axis: str, task: Task | None = None) -> tuple[int, int]:
    """The values a swept setting (a key of :data:`AXES`) may take, from its own setting's range.

    The echo length has no fixed range of its own (it is at most the input length): 1 to the
    longest input, the grid check then holds each cell to its input length.

    Raises:
        ValueError: ``task`` is given and does not read ``axis`` (:func:`check_axis`).
    """
    if task is not None:
        check_axis(axis, task)
    spec = {**settings_of(ProblemConfig), **settings_of(ModelConfig)}[axis]
    return (spec.low if spec.low is not None else 1,
            spec.high if spec.high is not None else settings_of(ProblemConfig)["n_in"].high)


N_OUT_RULES = ("fixed", "half")
MAX_CELLS = 200
MAX_SEEDS = 100
# The default sweep, chosen by measurement (docs/experiments.md): it finishes in about 6 minutes on
# 2 cores and shows where the baseline stops keeping up. Each model trains until DEFAULT_UNTIL %
# held-out exact match or DEFAULT_CAP updates; at the seed's size (n_in 5) the baseline needs
# about 600, so the cap leaves it room.
DEFAULT_LENGTHS = (5, 10, 15, 20)
DEFAULT_SEEDS = 3
DEFAULT_UNTIL = 95
DEFAULT_CAP = 2000
# Sweep cells train without XLA unless asked: on a single-threaded worker, at the batched protocol's
# 500 updates, compiling costs more than it saves (measured by bench/sweep_xla.py, docs/performance.md).
# The Train page keeps XLA: its warm process compiles ahead of the click.
CELL_XLA = False

@dataclass(frozen=True)
class SweepConfig(DictConfig):
    """Which setting a sweep varies, over which values, with how many seeds.

    Args:
        axis: ``n_in``, ``n_out``, ``cardinality`` or ``units``; None for plain
            repeats (one problem, ``seeds`` trainings).
        values: the axis's values (1 to 200 distinct whole numbers).
        seeds: trainings per value, with seeds ``train.seed + 0 .. seeds - 1``.
        n_out_rule: with ``axis="n_in"``: ``fixed`` keeps the problem's n_out,
            ``half`` echoes half of each input length (at least 1).

    A sweep config knows no task: :func:`cell_settings` (so :func:`grid_cells`) refuses an axis
    the problem's task does not read.
    """

    KIND = "sweep"

    axis: str | None = "n_in"
    values: tuple[int, ...] = DEFAULT_LENGTHS
    seeds: int = 3
    n_out_rule: Literal["fixed", "half"] = "fixed"

    def __post_init__(self) -> None:
        if self.axis is not None and self.axis not in AXES:
            raise ValueError(f"axis must be one of {', '.join(AXES)}; got {self.axis!r}.")
        values = tuple(self.values) if isinstance(self.values, (list, tuple)) else self.values
        if self.axis is None:
            values = ()
        elif not isinstance(values, tuple) or not values:
            raise ValueError(f"give at least one value of {self.axis}; got {self.values!r}.")
        low, high = axis_range(self.axis) if self.axis is not None else (1, 1)
        for value in values:
            check_int_range(f"each {self.axis} value", value, low, high)
        if len(set(values)) != len(values):
            raise ValueError(f"the values of {self.axis} repeat: {', '.join(map(str, values))}.")
        object.__setattr__(self, "values", tuple(int(v) for v in values))
        check_int_range("seeds", self.seeds, 1, MAX_SEEDS)
        if self.n_out_rule not in N_OUT_RULES:
            raise ValueError(f"n_out_rule must be one of {', '.join(N_OUT_RULES)}; got {self.n_out_rule!r}.")
        cells = max(1, len(self.values)) * self.seeds
        if cells > MAX_CELLS:
            raise ValueError(
                f"this grid has {cells} cells ({max(1, len(self.values))} values x {self.seeds} seeds); "
                f"at most {MAX_CELLS} run in one sweep. Use fewer values or seeds."
            )

    @property
    def cell_count(self) -> int:
        return max(1, len(self.values)) * self.seeds


def cell_settings(problem: ProblemConfig, model: ModelConfig, sweep: SweepConfig, value: int | None
                  ) -> tuple[ProblemConfig, ModelConfig]:
    """The problem and model settings of the cells at one axis ``value``.

    Raises:
        ValueError: the problem's task does not read the swept setting (:func:`check_axis`), or
            the value makes an invalid problem or model (message names it).
    """
    if sweep.axis is None or value is None:
        return problem, model
    check_axis(sweep.axis, problem.task_spec)
    try:
        if sweep.axis == "units":
            return problem, dataclasses.replace(model, units=value)
        changes: dict[str, Any] = {sweep.axis: value}
        if sweep.axis == "n_in":
            n_out = max(1, value // 2) if sweep.n_out_rule == "half" else problem.n_out
            changes["n_out"] = n_out
        return dataclasses.replace(problem, **changes), model
    except ValueError as exc:
        raise ValueError(f"{sweep.axis} = {value} does not make a valid cell: {exc}") from None


def grid_cells(problem: ProblemConfig, train: TrainConfig, sweep: SweepConfig,
               names: Sequence[str] = MODEL_NAMES, model: ModelConfig | None = None) -> list[CellSpec]:
    """Every cell of a sweep, value-major: value 1 seed 0, value 1 seed 1, ...

    ``model`` holds the models' settings (default :class:`ModelConfig`'s), the
    encoder included; a ``units`` sweep replaces its size per value.

    Raises:
        ValueError: a value makes an invalid cell, or a cell is over the budget of
            :func:`seqattn.training.budget.check_budget` (its time, ``MAX_CELL_SECONDS`` unless
            ``$SEQATTN_TIME_BUDGET_S`` says otherwise, or its peak memory; nothing starts).
    """
    cells = []
    for value in sweep.values or (None,):
        cell_problem, cell_model = cell_settings(problem, model or ModelConfig(), sweep, value)
        where = f" at {sweep.axis} = {value}" if value is not None else ""
        refusal = budget_problem(cell_problem, train, cell_model, subject="one cell", where=where, per="cell")
        if refusal is not None:
            raise ValueError(refusal)
        for repeat in range(sweep.seeds):
            seeded = dataclasses.replace(train, seed=train.seed + repeat)
            values = {} if value is None else {sweep.axis: value}
            if sweep.axis == "n_in":
                values["n_out"] = cell_problem.n_out
            cells.append(CellSpec(index=len(cells), problem=cell_problem, train=seeded, model=cell_model,
                                  repeat=repeat, values=values, names=tuple(names)))
    return cells


def estimate_sweep_seconds(cells: Sequence[CellSpec], workers: int = 1) -> float:
    """Estimated wall seconds of a grid on ``workers`` parallel workers (longest cells first)."""
    loads = [0.0] * max(1, workers)
    for seconds in sorted((estimate_cell_seconds(c.problem, c.train, c.model) for c in cells), reverse=True):
        loads[loads.index(min(loads))] += seconds
    return max(loads)


RESULT_COLUMNS = ("cell", "repeat", "seed", "cardinality", "n_in", "n_out", "units", "model", "exact_match",
                  "alignment", "updates", "seconds", "status", "error", "until", "cap", "reached", "model_updates",
                  "model_seconds")


def results_frame(results: Sequence[CellResult]) -> pd.DataFrame:
    """One row per (cell, model): columns ``RESULT_COLUMNS`` plus the swept settings.

    ``alignment`` is set on the attending model's rows only. A failed cell gives
    one row per model with NaN exact match and its ``error``. ``updates`` and ``seconds``
    are the cell's; with a threshold (``until``, percent), ``reached`` is the update at which
    the model first reached it (NaN: not within ``cap``), ``model_updates`` and
    ``model_seconds`` how long that model trained.
    """
    import pandas as pd

    rows = []
    for result in sorted(results, key=lambda r: r.index):
        models = list(result.exact_match) or list(MODEL_NAMES)
        for model in models:
            row = {
                "cell": result.index, "repeat": result.repeat, "seed": result.seed,
                "cardinality": result.problem.get("cardinality"), "n_in": result.problem.get("n_in"),
                "n_out": result.problem.get("n_out"), "units": result.model.get("units"), "model": model,
                "exact_match": result.exact_match.get(model, np.nan),
                "alignment": result.alignment if model in attending_names() and result.alignment is not None else np.nan,
                "updates": result.updates_done, "seconds": round(result.seconds, 3),
                "status": result.status, "error": result.error,
                "until": result.until, "cap": result.cap,
                **_stop_columns(result.stops.get(model), result),
            }
            row.update(result.values)  # the swept settings, as the cell recorded them
            rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    return frame


def _stop_columns(stop: Mapping[str, Any] | None, result: CellResult) -> dict[str, Any]:
    """``reached``, ``model_updates``, ``model_seconds`` of one model of a cell (its stop, else the cell's)."""
    if stop is None:
        return {"reached": np.nan, "model_updates": result.updates_done, "model_seconds": round(result.seconds, 3)}
    reached = stop.get("reached")
    return {"reached": np.nan if reached is None else reached, "model_updates": stop.get("updates"),
            "model_seconds": stop.get("seconds")}


def losses_frame(results: Sequence[CellResult]) -> pd.DataFrame:
    """Loss curves, long format: columns cell, repeat, update, model, loss."""
    import pandas as pd

    frames = [
        pd.DataFrame({"cell": r.index, "repeat": r.repeat, "update": r.loss_updates, "model": name, "loss": values})
        for r in sorted(results, key=lambda r: r.index) if r.status == "done"
        for name, values in r.losses.items()
    ]
    if not frames:
        return pd.DataFrame(columns=["cell", "repeat", "update", "model", "loss"])
    return pd.concat(frames, ignore_index=True)


def summary_table(results: pd.DataFrame, axis: str | None) -> pd.DataFrame:
    """Mean, min, max exact match (and mean alignment) per axis value and model, over done cells.

    Args:
        results: a :func:`results_frame`.
        axis: the swept column, or None for repeats (one row per model).
    """
    import pandas as pd

    done = results[results["status"] == "done"] if "status" in results else results
    keys = ([axis] if axis else []) + ["model"]
    if done.empty:
        return pd.DataFrame(columns=keys + ["mean", "min", "max", "seeds", "alignment"])
    grouped = done.groupby(keys)
    table = grouped["exact_match"].agg(["mean", "min", "max", "count"]).rename(columns={"count": "seeds"})
    table["alignment"] = grouped["alignment"].mean()
    return table.reset_index()


def threshold_table(results: pd.DataFrame, axis: str | None) -> pd.DataFrame:
    """Per axis value and model, over done cells trained to a threshold: how fast and how well.

    Columns: ``axis`` (absent for repeats), ``model``, ``seeds``, ``reached`` (seeds that reached
    the threshold), ``updates_mean``, ``updates_min``, ``updates_max`` (updates to the threshold,
    a seed that missed it counted at its cap: then the mean is a lower bound), ``cap``,
    ``exact_match`` (mean at the end), ``seconds`` (mean wall seconds the model trained).
    """
    import pandas as pd

    keys = ([axis] if axis else []) + ["model"]
    columns = keys + ["seeds", "reached", "updates_mean", "updates_min", "updates_max", "cap", "exact_match", "seconds"]
    done = results[(results["status"] == "done") & results["until"].notna()] if "until" in results else results.iloc[:0]
    if done.empty:
        return pd.DataFrame(columns=columns)
    done = done.assign(to_threshold=done["reached"].fillna(done["cap"]), hit=done["reached"].notna())
    grouped = done.groupby(keys)
    table = pd.DataFrame({
        "seeds": grouped["cell"].count(), "reached": grouped["hit"].sum().astype(int),
        "updates_mean": grouped["to_threshold"].mean(), "updates_min": grouped["to_threshold"].min(),
        "updates_max": grouped["to_threshold"].max(), "cap": grouped["cap"].max(),
        "exact_match": grouped["exact_match"].mean(), "seconds": grouped["model_seconds"].mean(),
    })
    return table.reset_index()[columns]


def format_threshold_table(table: pd.DataFrame, axis: str | None) -> list[str]:
    """:func:`threshold_table` as aligned text lines (the CLI and the benchmarks print them)."""
    lines = []
    for row in table.itertuples():
        where = f"{AXES.get(axis, axis)} {getattr(row, axis):>4}  " if axis else ""
        missed = row.seeds - row.reached
        if row.reached == 0:
            updates = f"not within {row.cap:,.0f} ({row.seeds} of {row.seeds} seeds)"
        else:
            updates = (f"{row.updates_mean:,.0f} (min {row.updates_min:,.0f}, max {row.updates_max:,.0f})"
                       + (f", {missed} of {row.seeds} not within {row.cap:,.0f}" if missed else ""))
        lines.append(f"{where}{row.model:10} updates to threshold {updates:<42} exact match at the end "
                     f"{row.exact_match:6.1%}  {row.seconds:6.1f} s")
    return lines


def chance_exact_match(problem: ProblemConfig | Mapping[str, Any]) -> float:
    """Exact match of guessing (the task's :meth:`~seqattn.problem.task.Task.chance`; Echo: (1/K)^n_out)."""
    config = ProblemConfig.from_dict(problem) if isinstance(problem, Mapping) else problem
    return config.task_spec.chance(config)
