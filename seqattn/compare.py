"""The tutorial's model comparison: train both models several times, compare accuracy."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from seqattn.problem import ProblemConfig
from seqattn.training import Progress, TrainConfig, train

# Means over 10 repeats reported by the tutorial (seed problem, tutorial protocol).
TUTORIAL_REFERENCE = {"baseline": 0.231, "attention": 0.957}
TUTORIAL_PROBLEM = ProblemConfig(cardinality=50, n_in=5, n_out=2, pad_target=True)


def is_tutorial_setup(problem: ProblemConfig, config: TrainConfig) -> bool:
    """True if problem and recipe are the tutorial's, so its numbers are comparable."""
    return (
        problem == TUTORIAL_PROBLEM
        and config.protocol == "tutorial"
        and config.updates == 5000
        and config.units == 150
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
    on_progress: Callable[[int, Progress], None] | None = None,
    on_repeat: Callable[[int, pd.DataFrame], None] | None = None,
    stop: threading.Event | Callable[[], bool] | None = None,
) -> ComparisonResult:
    """Train both models ``repeats`` times with seeds ``config.seed + i``.

    Args:
        problem, config: as for :func:`seqattn.training.train`.
        repeats: how many independent repeats (1..100).
        on_progress: called with (repeat index, Progress) during each repeat.
        on_repeat: called with (repeat index, that repeat's result rows) after each.
        stop: ends the comparison after the current update; finished repeats are kept.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or not 1 <= repeats <= 100:
        raise ValueError(f"repeats must be a whole number from 1 to 100; got {repeats!r}.")
    rows: list[dict[str, Any]] = []
    losses: list[pd.DataFrame] = []
    cancelled = False
    for repeat in range(repeats):
        run_config = dataclasses.replace(config, seed=config.seed + repeat)
        callback = (lambda p, r=repeat: on_progress(r, p)) if on_progress else None
        result = train(problem, run_config, on_progress=callback, stop=stop)
        if result.cancelled:
            cancelled = True
            break
        new_rows = [
            {"repeat": repeat, "seed": run_config.seed, "model": name, "exact_match": acc.exact_match}
            for name, acc in result.accuracy.items()
        ]
        rows.extend(new_rows)
        updates = np.arange(1, result.updates_done + 1)
        for column, name in enumerate(result.names):
            losses.append(pd.DataFrame({"repeat": repeat, "update": updates, "model": name, "loss": result.losses[:, column]}))
        if on_repeat is not None:
            on_repeat(repeat, pd.DataFrame(new_rows))
        # Free this repeat's graphs before the next one builds fresh models.
        import keras

        keras.backend.clear_session()
    return ComparisonResult(
        results=pd.DataFrame(rows, columns=["repeat", "seed", "model", "exact_match"]),
        losses=pd.concat(losses, ignore_index=True) if losses else pd.DataFrame(columns=["repeat", "update", "model", "loss"]),
        cancelled=cancelled,
    )
