"""What a training reports: :class:`Progress`, and the callback that makes it from the loop's losses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from seqattn.training.loop import LoopState

SMOOTHING = 0.98
# The final report and every evaluation report carry these from the evaluation callbacks.
Evaluation = Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class Progress:
    """One progress report.

    Attributes:
        update: updates done so far (each model).
        total: updates planned.
        samples: pairs seen so far by each model.
        elapsed: seconds of training so far.
        loss: per model, mean loss over the updates since the previous report.
        smoothed: per model, exponential moving average of the per-update loss.
        accuracy: per model exact match on the held-out set, when this report
            carries an evaluation, else None.
        per_position: per model accuracy of each output step (length target_len), or None.
        alignment: attention model's alignment score, or None (see :func:`alignment_score`).
        attention: attention model's probe matrix (target_len, n_in) as lists, or None.
        probe: the probe input (n_in ints) and probe_tokens the attention model's
            prediction for it (target_len ints), with ``attention``; else None.
        final: True for the last report of a run (done or cancelled).
    """

    update: int
    total: int
    samples: int
    elapsed: float
    loss: dict[str, float]
    smoothed: dict[str, float]
    accuracy: dict[str, float] | None = None
    per_position: dict[str, list[float]] | None = None
    alignment: float | None = None
    attention: list[list[float]] | None = None
    probe: list[int] | None = None
    probe_tokens: list[int] | None = None
    final: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _mean_of_known(window: np.ndarray) -> np.ndarray:
    """Column means of (updates, n_models) losses over the non-NaN entries (NaN where a column has none)."""
    known = ~np.isnan(window)
    if known.all():
        return window.mean(axis=0)  # float32 means, as every run before a model could stop
    counts = known.sum(axis=0)
    sums = np.where(known, window, 0.0).sum(axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _finite(names: Sequence[str], values: np.ndarray) -> dict[str, float]:
    """Per model, the finite values (a model that stopped training has no loss)."""
    return {n: float(v) for n, v in zip(names, values) if np.isfinite(v)}


class ProgressReporter:
    """A loop callback: a :class:`Progress` every ``report_every`` updates, at every evaluation and at the end.

    Args:
        names: the models, in the order of the loop's loss columns.
        total: updates planned; batch_size: pairs per update (for ``samples``).
        eval_every: updates between evaluations (the last update always evaluates).
        evaluations: called at an evaluation; each returns fields of :class:`Progress`
            (``accuracy``, ``per_position``, ``alignment``, ``attention``, ...).
        on_progress: where each report goes; report_every: updates between loss reports.
    """

    def __init__(self, names: Sequence[str], total: int, batch_size: int, eval_every: int,
                 evaluations: Sequence[Evaluation], on_progress: Callable[[Progress], None] | None,
                 report_every: int) -> None:
        self.names = tuple(names)
        self.total = total
        self.batch_size = batch_size
        self.eval_every = eval_every
        self.evaluations = list(evaluations)
        self.on_progress = on_progress
        self.report_every = report_every
        self.reports: list[Progress] = []
        self._smoothed = np.full(len(self.names), np.nan)
        self._last_report = 0

    def on_update(self, state: LoopState) -> None:
        loss = state.losses[state.update - 1]
        self._smoothed = np.where(np.isnan(self._smoothed), loss,
                                  SMOOTHING * self._smoothed + (1 - SMOOTHING) * loss)
        evaluate = state.update % self.eval_every == 0 and state.update < self.total
        if evaluate or state.update % self.report_every == 0:
            self._report(state, final=False, with_eval=evaluate)

    def on_end(self, state: LoopState) -> None:
        self._report(state, final=True, with_eval=True)

    def _report(self, state: LoopState, final: bool, with_eval: bool) -> None:
        done, losses = state.update, state.losses
        window = losses[self._last_report:done] if done > self._last_report else losses[max(done - 1, 0):done]
        extra: dict[str, Any] = {}
        if with_eval:
            for evaluation in self.evaluations:
                extra.update(evaluation())
        progress = Progress(
            update=done,
            total=self.total,
            samples=done * self.batch_size,
            elapsed=state.elapsed,
            loss=_finite(self.names, _mean_of_known(window)) if len(window) else {},
            smoothed=_finite(self.names, self._smoothed) if done else {},
            final=final,
            **extra,
        )
        self._last_report = done
        self.reports.append(progress)
        if self.on_progress is not None:
            self.on_progress(progress)
