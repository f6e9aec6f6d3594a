"""The finished cells of a run of many trainings (comparison, sweep): ``cells.jsonl``.

The job that drives the cells appends each one as a single JSON line the
moment it finishes, so a page reading the file sees whole cells only and a
cancel or a crash keeps every finished cell. A cell is any object with
``to_dict()``, ``index`` and ``status`` (:class:`seqattn.sweeps.cells.CellResult`);
what its fields mean is :mod:`seqattn.sweeps.records`' business, not storage's.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Protocol

from seqattn.runs.files import append_line, update_status
from seqattn.runs.layout import CELLS_FILE


class CellRecord(Protocol):
    """What the log needs of a finished cell."""

    index: int
    status: str

    def to_dict(self) -> dict[str, Any]: ...


def append_cell(directory: Path, result: CellRecord) -> None:
    """Record one finished cell."""
    append_line(directory / CELLS_FILE, json.dumps(result.to_dict(), allow_nan=False))


class CellLogWriter:
    """Records a run of cells as it goes: each finished cell, and progress per cell in status.json.

    ``update`` in the status is the sum over cells of their updates done (a
    finished cell counts whole), so the progress bar never assumes the cells
    run one after another.
    """

    def __init__(self, directory: Path, cells_total: int, updates_per_cell: int, status_interval: float = 0.25) -> None:
        self.directory = directory
        self.cells_total = cells_total
        self.updates_per_cell = updates_per_cell
        self.status_interval = status_interval
        self.done: dict[int, int] = {}
        self.failed = 0
        self.running: dict[int, int] = {}
        self._started = time.monotonic()
        self._last_status = 0.0
        update_status(directory, cells_total=cells_total, cells_done=0, cells_failed=0,
                      total=cells_total * updates_per_cell, update=0)

    def on_result(self, result: CellRecord) -> None:
        """A cell finished (or failed): append it and update the counters at once."""
        append_cell(self.directory, result)
        self.running.pop(result.index, None)
        self.done[result.index] = self.updates_per_cell
        self.failed += result.status == "failed"
        self._write_status(force=True)

    def on_progress(self, index: int, update: int) -> None:
        """A running cell reached ``update`` (in-process backends report this)."""
        self.running[index] = update
        self._write_status(force=False)

    def _write_status(self, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_status < self.status_interval:
            return
        self._last_status = now
        update = sum(self.done.values()) + sum(self.running.values())
        elapsed = now - self._started
        total = self.cells_total * self.updates_per_cell
        eta = round(elapsed / update * (total - update), 1) if update else None
        fields: dict[str, Any] = dict(cells_done=len(self.done), cells_failed=self.failed, update=update,
                                      elapsed=round(elapsed, 2), eta=eta, phase="training")
        update_status(self.directory, **fields)
