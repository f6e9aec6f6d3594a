"""The tutorial's model comparison: train both models several times, compare accuracy."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from collections.abc import Callable, Mapping

import pandas as pd

from seqattn.sweeps.cells import CellResult
from seqattn.sweeps.executors import Backend, local_backend, run_cells
from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.sweeps.grid import SweepConfig, grid_cells, losses_frame, results_frame
from seqattn.training.progress import Progress
from seqattn.training.session import SetupSource
from seqattn.training.config import TrainConfig

# Means over 10 repeats reported by the tutorial (seed problem, tutorial protocol).
TUTORIAL_REFERENCE = {"baseline": 0.231, "attention": 0.957}
TUTORIAL_PROBLEM = ProblemConfig(cardinality=50, n_in=5, n_out=2, pad_target=True)


def is_tutorial_setup(problem: ProblemConfig, config: TrainConfig, model: ModelConfig | None = None) -> bool:
    """True if problem, recipe and models are the tutorial's, so its numbers are comparable.

    The problem's task is part of it: the tutorial's numbers are for its task (the default,
    ``TUTORIAL_PROBLEM.task``) at its sizes, and another task at the same sizes is not comparable.
    """
    return (
        problem.task == TUTORIAL_PROBLEM.task  # said outright: equal configs already imply it
        and problem == TUTORIAL_PROBLEM
        and config.protocol == "tutorial"
        and config.updates == 5000
        and (model or ModelConfig()) == ModelConfig()
        and config.learning_rate == 1e-3
    )


@dataclass
class ComparisonResult:
    """Outcome of :func:`compare`.

    Attributes:
        results: one row per (repeat, model): columns repeat, seed, model, exact_match.
        losses: per-update loss, long format: columns repeat, update, model, loss.
        cancelled: True if a stop request ended it early (finished repeats are kept).
    """

    results: pd.DataFrame
    losses: pd.DataFrame
    cancelled: bool = False

    def summary(self) -> pd.DataFrame:
        """Mean, std, min and max exact match per model (index: model)."""
        return summarize_results(self.results)


def summarize_results(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, std (ddof=0 when one repeat), min, max exact match per model."""
    if results.empty:
        return pd.DataFrame(columns=["mean", "std", "min", "max", "repeats"])
    grouped = results.groupby("model")["exact_match"]
    table = grouped.agg(["mean", "std", "min", "max", "count"]).rename(columns={"count": "repeats"})
    table["std"] = table["std"].fillna(0.0)
    return table


def compare(
    problem: ProblemConfig,
    config: TrainConfig,
    repeats: int,
    *,
    model: ModelConfig | None = None,
    backend: Backend | None = None,
    on_progress: Callable[[int, Progress], None] | None = None,
    on_repeat: Callable[[int, pd.DataFrame], None] | None = None,
    stop: threading.Event | Callable[[], bool] | None = None,
    setups: SetupSource | None = None,
) -> ComparisonResult:
    """Train both models ``repeats`` times with seeds ``config.seed + i``: a sweep of one problem over seeds.

    Args:
        problem, config: as for :func:`seqattn.training.session.train`.
        repeats: how many independent repeats (1..100).
        model: the models' settings (default :class:`ModelConfig`'s).
        backend: where the repeats run (default: one after another in this process).
        on_progress: called with (repeat index, Progress) during each repeat (in-process backends).
        on_repeat: called with (repeat index, that repeat's result rows) as each finishes.
        stop: ends the comparison; finished repeats are kept.
        setups: where each repeat's training setup may come from (see :func:`~seqattn.sweeps.cells.train_cell`).
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or not 1 <= repeats <= 100:
        raise ValueError(f"repeats must be a whole number from 1 to 100; got {repeats!r}.")
    cells = grid_cells(problem, config, SweepConfig(axis=None, seeds=repeats), model=model)
    own = backend is None
    backend = backend or local_backend()

    def report(result: CellResult) -> None:
        if on_repeat is not None:
            on_repeat(result.repeat, repeat_rows(results_frame([result])))

    try:
        results, cancelled = run_cells(
            cells, backend, on_result=report, stop=stop, setups=setups,
            on_progress=(lambda spec, p: on_progress(spec.repeat, p)) if on_progress else None,
        )
    finally:
        if own:
            backend.close()
    losses = losses_frame(results)
    return ComparisonResult(
        results=repeat_rows(results_frame(results)),
        losses=losses[["repeat", "update", "model", "loss"]],
        cancelled=cancelled,
    )


def repeat_rows(results: pd.DataFrame) -> pd.DataFrame:
    """The comparison's view of cell rows: columns repeat, seed, model, exact_match (done cells)."""
    if "status" in results:
        results = results[results["status"] == "done"]
    return results[["repeat", "seed", "model", "exact_match"]].reset_index(drop=True)


def results_table(results: pd.DataFrame, reference: Mapping[str, float] | None) -> pd.DataFrame:
    """The Compare page's table: one row per repeat, then mean ± std, then the tutorial's means.

    Args:
        results: columns repeat, model, exact_match (one row per repeat and model).
        reference: the tutorial's means by model when the setup is comparable, else None.

    Returns:
        Strings ("98.5%"); index "repeat 1".. plus "mean ± std" (and "tutorial (reported)");
        columns the models.
    """
    wide = results.pivot(index="repeat", columns="model", values="exact_match")
    wide.index = [f"repeat {i + 1}" for i in wide.index]
    summary = summarize_results(results)
    rows = {name: f"{summary.loc[name, 'mean']:.1%} ± {summary.loc[name, 'std']:.1%}" for name in summary.index}
    table = wide.map(lambda v: f"{v:.1%}")
    table.loc["mean ± std"] = [rows.get(c, "") for c in table.columns]
    if reference:
        table.loc["tutorial (reported)"] = [f"{reference[c]:.1%}" for c in table.columns]
    return table
