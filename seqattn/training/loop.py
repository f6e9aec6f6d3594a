"""The training loop: updates until done or stopped, telling its callbacks after every update.

Like minGPT's trainer, the loop knows no model and no evaluation: it takes an update
function and a source of batches, and the project adds evaluation, progress reports
and checkpoints as callbacks (:class:`Callback`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol
from collections.abc import Callable, Sequence

import numpy as np

Batch = tuple[np.ndarray, np.ndarray]
StopCheck = threading.Event | Callable[[], bool] | None


@dataclass
class LoopState:
    """Where the loop is, as its callbacks see it.

    Attributes:
        update: updates done so far.
        losses: float32 (updates planned, n_models); rows ``0 .. update - 1`` are filled.
        elapsed: seconds since the loop started.
        cancelled: True once a stop request ended the loop early.
        finished: set by a callback when training is complete before ``updates`` (every model
            reached its goal, say); the loop ends after that update, not cancelled.
    """

    update: int
    losses: np.ndarray
    elapsed: float = 0.0
    cancelled: bool = False
    finished: bool = False


class Callback(Protocol):
    """What the loop calls: ``on_update`` after every update, ``on_end`` once at the end (done or stopped)."""

    def on_update(self, state: LoopState) -> None: ...

    def on_end(self, state: LoopState) -> None: ...


def stop_requested(stop: StopCheck) -> bool:
    """True once ``stop`` (an event, a callable or None) asks the loop to end."""
    if stop is None:
        return False
    if isinstance(stop, threading.Event):
        return stop.is_set()
    return bool(stop())


def run_loop(update: Callable[[np.ndarray, np.ndarray], np.ndarray], next_batch: Callable[[], Batch],
             updates: int, n_models: int, callbacks: Sequence[Callback] = (), stop: StopCheck = None) -> LoopState:
    """Run ``updates`` updates, or fewer if ``stop`` asks first (checked before each update) or a
    callback marks the state ``finished``.

    Args:
        update: one update of every model on a batch, ``update(x, y) -> losses`` (n_models,).
        next_batch: the next (x, y) batch.
        updates: updates planned; n_models: the width of the losses.
        callbacks: told after every update and at the end.
        stop: a ``threading.Event`` or a callable; true ends the loop before the next update.

    Returns:
        The final :class:`LoopState`; its ``losses`` is trimmed to the updates done.
    """
    state = LoopState(update=0, losses=np.zeros((updates, n_models), dtype=np.float32))
    started = time.perf_counter()
    for done in range(1, updates + 1):
        if stop_requested(stop):
            state.cancelled = True
            break
        x, y = next_batch()
        state.losses[done - 1] = update(x, y)
        state.update = done
        state.elapsed = time.perf_counter() - started
        for callback in callbacks:
            callback.on_update(state)
        if state.finished:
            break
    state.elapsed = time.perf_counter() - started
    state.losses = state.losses[: state.update]
    for callback in callbacks:
        callback.on_end(state)
    return state
