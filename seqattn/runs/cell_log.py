"""The finished cells of a run of many trainings (comparison, sweep): ``cells.jsonl``.

The job that drives the cells appends each one as a single JSON line the
moment it finishes, so a page reading the file sees whole cells only and a
cancel or a crash keeps every finished cell. Comparisons saved before cells
existed (``results.csv`` and ``losses.csv``) read through the same functions.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqattn.sweeps.cells import CellResult
from seqattn.runs.files import append_line, read_json_lines, update_status
from seqattn.runs.layout import CELLS_FILE, LEGACY_LOSSES_FILE, LEGACY_RESULTS_FILE, RunError
from seqattn.sweeps.grid import losses_frame, results_frame

# pandas is imported when first used: the home page must render without pandas.
if TYPE_CHECKING:
    import pandas as pd


def append_cell(directory: Path, result: CellResult) -> None:
    """Record one finished cell."""
    append_line(directory / CELLS_FILE, json.dumps(result.to_dict(), allow_nan=False))


# Parsed cells by file, kept until the file changes: live pages read every second
# and a large sweep's log holds hundreds of loss curves.
_PARSED: dict[Path, tuple[tuple[int, int], list[CellResult]]] = {}


def read_cells(directory: Path) -> list[CellResult]:
    """Every complete cell of a run, in grid order (a last line still being written is skipped).

    Raises:
        RunError: an unreadable file or a corrupt line (the message says which).
    """
    path = directory / CELLS_FILE
    try:
        info = path.stat()
        signature = (info.st_mtime_ns, info.st_size)
    except OSError:
        signature = None
    cached = _PARSED.get(path)
    if signature is not None and cached is not None and cached[0] == signature:
        return list(cached[1])
    cells = sorted(read_json_lines(path, CellResult.from_dict), key=lambda c: c.index)
    if signature is not None:
        _PARSED[path] = (signature, cells)
    return list(cells)


def cell_results(directory: Path) -> pd.DataFrame:
    """One row per (cell, model) (see :func:`seqattn.sweeps.grid.results_frame`), old comparisons included."""
    import pandas as pd

    legacy = directory / LEGACY_RESULTS_FILE
    if not (directory / CELLS_FILE).exists() and legacy.exists():
        try:
            frame = pd.read_csv(legacy)
        except pd.errors.EmptyDataError:
            return results_frame([])
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise RunError(f"{LEGACY_RESULTS_FILE} is unreadable ({exc.__class__.__name__})") from None
        return frame.assign(cell=frame["repeat"], status="done")
    return results_frame(read_cells(directory))


def cell_losses(directory: Path) -> pd.DataFrame:
    """Loss curves of the finished cells: columns cell, repeat, update, model, loss."""
    import pandas as pd

    legacy = directory / LEGACY_LOSSES_FILE
    if not (directory / CELLS_FILE).exists() and legacy.exists():
        try:
            frame = pd.read_csv(legacy)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise RunError(f"{LEGACY_LOSSES_FILE} is unreadable ({exc.__class__.__name__})") from None
        return frame.assign(cell=frame["repeat"])
    return losses_frame(read_cells(directory))


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

    def on_result(self, result: CellResult) -> None:
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
