"""One training cell: both models trained on one problem with one seed, as a pure function.

A cell is the unit of every run of many trainings (the tutorial's comparison,
length sweeps). :func:`train_cell` takes a :class:`CellSpec` and returns a
small, picklable :class:`CellResult`; it touches no files, so it can run in
this process, in a worker process, or on any Dask worker.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any
from collections.abc import Callable, Mapping

import numpy as np

from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.model.registry import MODEL_NAMES
from seqattn.training.progress import Progress
from seqattn.training.session import SetupSource, train
from seqattn.training.config import TrainConfig

MAX_LOSS_POINTS = 1000
CELL_STATES = ("done", "cancelled", "failed")


@dataclass(frozen=True)
class CellSpec:
    """What one cell trains.

    Attributes:
        index: position of the cell in its grid (0-based).
        problem, train: the echo problem and the recipe (its ``seed`` is the cell's seed).
        model: the models' settings (size, the attention model's encoder).
        repeat: which seed of its grid point this is (0-based).
        values: the swept settings of this cell, e.g. ``{"n_in": 10}`` (empty for repeats).
        names: the models to train.
    """

    index: int
    problem: ProblemConfig
    train: TrainConfig
    model: ModelConfig = field(default_factory=ModelConfig)
    repeat: int = 0
    values: Mapping[str, int] = field(default_factory=dict)
    names: tuple[str, ...] = MODEL_NAMES


@dataclass
class CellResult:
    """What a cell returns: a few hundred numbers, cheap to pickle and to store as one JSON line.

    Attributes:
        index, repeat, seed, values: identify the cell (as in its :class:`CellSpec`).
        problem: the cell's problem as a dict; model: its model settings as a dict.
        status: ``done``, ``cancelled`` or ``failed``; ``error`` says why it failed.
        exact_match: per model, held-out exact match in [0, 1].
        per_position: per model, accuracy of each output step (target_len floats).
        alignment: the attending model's alignment score (None without one).
        loss_updates: the update number of each loss point (at most ``MAX_LOSS_POINTS``).
        losses: per model, the mean loss over the updates up to each point.
        updates_done: updates trained; seconds: wall time of the cell, build and compile included.
        until: the threshold the models trained to (percent of held-out exact match), None for a
            fixed number of updates (and for cells recorded before thresholds existed).
        cap: the most updates a model could train (the recipe's ``updates``).
        stops: with ``until``, per model: ``reached`` (the update of the first evaluation at or
            above the threshold, None when not reached within ``cap``), ``updates`` trained and
            ``seconds`` of training until it stopped (:class:`~seqattn.training.until.ModelStop`).
    """

    index: int
    repeat: int
    seed: int
    values: dict[str, int]
    problem: dict[str, Any]
    status: str
    error: str | None = None
    exact_match: dict[str, float] = field(default_factory=dict)
    per_position: dict[str, list[float]] = field(default_factory=dict)
    alignment: float | None = None
    loss_updates: list[int] = field(default_factory=list)
    losses: dict[str, list[float]] = field(default_factory=dict)
    updates_done: int = 0
    seconds: float = 0.0
    model: dict[str, Any] = field(default_factory=dict)
    until: int | None = None
    cap: int | None = None
    stops: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN-free: a NaN loss becomes None)."""
        data = asdict(self)
        data["losses"] = {k: [None if not math.isfinite(v) else v for v in vs] for k, vs in self.losses.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CellResult:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: a missing or odd field (the message names it).
        """
        try:
            result = cls(**dict(data))
        except TypeError as exc:
            raise ValueError(f"not a cell result ({exc})") from None
        if result.status not in CELL_STATES:
            raise ValueError(f"unknown cell status {result.status!r}")
        result.losses = {k: [math.nan if v is None else float(v) for v in vs] for k, vs in result.losses.items()}
        return result


def downsample_losses(losses: np.ndarray, max_points: int = MAX_LOSS_POINTS) -> tuple[list[int], np.ndarray]:
    """Average a per-update loss array (updates, n_models) into at most ``max_points`` windows.

    Returns the last update number of each window and the window means
    (points, n_models). With at most ``max_points`` updates nothing changes.
    """
    count = losses.shape[0]
    if count <= max_points:
        return list(range(1, count + 1)), losses
    edges = np.linspace(0, count, max_points + 1).astype(int)
    means = np.stack([losses[a:b].mean(axis=0) for a, b in zip(edges[:-1], edges[1:])])
    return [int(b) for b in edges[1:]], means


def train_cell(
    spec: CellSpec,
    stop: Callable[[], bool] | Any = None,
    on_progress: Callable[[Progress], None] | None = None,
    setups: SetupSource | None = None,
) -> CellResult:
    """Train both models of one cell and return its small result.

    Args:
        spec: the cell.
        stop: a callable or an object with ``is_set()``; when true the cell
            stops after the current update and comes back ``cancelled``.
        on_progress: optional per-report callback (only where the caller shares
            this process).
        setups: where the cell's training setup may come from (e.g. the last cell's of the
            same shapes, reseeded: :mod:`seqattn.speed`); None builds a fresh one. The
            cell's setup is given back to it at the end.

    Returns:
        A :class:`CellResult`; an exception inside training is caught and
        returned as ``status="failed"`` with the reason, so one bad cell never
        takes a sweep down.
    """
    started = time.perf_counter()
    base = dict(index=spec.index, repeat=spec.repeat, seed=spec.train.seed, values=dict(spec.values),
                problem=spec.problem.to_dict(), model=spec.model.to_dict(), until=spec.train.until,
                cap=spec.train.updates)
    check = stop.is_set if hasattr(stop, "is_set") else stop
    try:
        setup = setups.take(spec.problem, spec.train, spec.model, spec.names) if setups is not None else None
        result = train(spec.problem, spec.train, model=spec.model, names=spec.names, on_progress=on_progress,
                       stop=check, setup=setup)
        final = result.reports[-1]
        points, means = downsample_losses(result.losses)
        cell = CellResult(
            **base,
            status="cancelled" if result.cancelled else "done",
            exact_match={k: float(v.exact_match) for k, v in result.accuracy.items()},
            per_position={k: [float(x) for x in v.per_position] for k, v in result.accuracy.items()},
            alignment=final.alignment,
            loss_updates=points,
            losses={name: [float(x) for x in means[:, i]] for i, name in enumerate(result.names)},
            updates_done=result.updates_done,
            stops={name: stop.to_dict() for name, stop in result.stops.items()},
        )
        if setups is not None and result.setup is not None:
            setups.give_back(result.setup)
        clear_session()
    except Exception as exc:  # a failed cell is a result, not a crash
        traceback.print_exc()
        cell = CellResult(**base, status="failed", error=f"{exc.__class__.__name__}: {exc}"[:500])
    cell.seconds = time.perf_counter() - started
    return cell


def clear_session() -> None:
    """Free the graphs of this cell's build before the next cell builds models in this process."""
    # Keras is imported here, not on import: grids and pages use this module without TensorFlow.
    import keras

    keras.backend.clear_session()
