"""A comparison's or sweep's finished cells, read back from its run as :class:`CellResult` s and tables.

The run's files are :mod:`seqattn.runs`' business (it appends and scans the JSON lines);
what a line means is this package's, so storage knows nothing of cells.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from seqattn.runs import Checked, RunError, checked, run_dir
from seqattn.runs.files import describe_bad_lines, os_reason, read_json_lines, read_regular_bytes, scan_json_lines
from seqattn.runs.layout import CELLS_FILE, LEGACY_LOSSES_FILE, LEGACY_RESULTS_FILE
from seqattn.sweeps.cells import CellResult
from seqattn.sweeps.grid import losses_frame, results_frame

Root = Any

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
    legacy = directory / LEGACY_RESULTS_FILE
    if not (directory / CELLS_FILE).exists() and legacy.exists():
        try:
            frame = pd.read_csv(io.BytesIO(read_regular_bytes(legacy)))  # never a FIFO: it would block the page
        except pd.errors.EmptyDataError:
            return results_frame([])
        except OSError as exc:
            raise RunError(f"{LEGACY_RESULTS_FILE} cannot be read ({os_reason(exc)})") from None
        except (ValueError, pd.errors.ParserError) as exc:
            raise RunError(f"{LEGACY_RESULTS_FILE} is unreadable ({exc.__class__.__name__})") from None
        return frame.assign(cell=frame["repeat"], status="done")
    return results_frame(read_cells(directory))


def cell_losses(directory: Path) -> pd.DataFrame:
    """Loss curves of the finished cells: columns cell, repeat, update, model, loss."""
    legacy = directory / LEGACY_LOSSES_FILE
    if not (directory / CELLS_FILE).exists() and legacy.exists():
        try:
            frame = pd.read_csv(io.BytesIO(read_regular_bytes(legacy)))
        except OSError as exc:
            raise RunError(f"{LEGACY_LOSSES_FILE} cannot be read ({os_reason(exc)})") from None
        except (ValueError, pd.errors.ParserError) as exc:
            raise RunError(f"{LEGACY_LOSSES_FILE} is unreadable ({exc.__class__.__name__})") from None
        return frame.assign(cell=frame["repeat"])
    return losses_frame(read_cells(directory))


def cells_of(run_id: str, root: Root = None) -> pd.DataFrame:
    """A comparison's or sweep's finished cells, one row per (cell, model)."""
    return cell_results(run_dir(run_id, root))


def cell_losses_of(run_id: str, root: Root = None) -> pd.DataFrame:
    """Loss curves of a comparison's or sweep's finished cells (cell, repeat, update, model, loss)."""
    return cell_losses(run_dir(run_id, root))


def _cell_log_checked(run_id: str, root: Root, frame: Callable[[list[Any]], pd.DataFrame],
                      legacy: Callable[[], pd.DataFrame], still_works: str) -> Checked[pd.DataFrame]:
    path = run_dir(run_id, root) / CELLS_FILE
    if not path.exists():  # not started, or a comparison saved before cells.jsonl
        return checked(legacy, frame([]), still_works)
    try:
        cells, problems = scan_json_lines(path, CellResult.from_dict)
    except RunError as exc:
        return Checked(frame([]), f"{exc}; {still_works}")
    value = frame(sorted(cells, key=lambda c: c.index))
    if problems:
        return Checked(value, f"{describe_bad_lines(CELLS_FILE, problems)}: skipped; the other cells are shown")
    return Checked(value)


def cells_checked(run_id: str, root: Root = None) -> Checked[pd.DataFrame]:
    """A comparison's or sweep's finished cells; corrupt lines are skipped and reported."""
    return _cell_log_checked(run_id, root, results_frame, lambda: cells_of(run_id, root),
                             "its finished cells cannot be shown; the run's settings and status are unaffected")


def cell_losses_checked(run_id: str, root: Root = None) -> Checked[pd.DataFrame]:
    """Loss curves of finished cells; corrupt lines are skipped and reported."""
    return _cell_log_checked(run_id, root, losses_frame, lambda: cell_losses_of(run_id, root),
                             "the loss curves cannot be shown; the results table is unaffected")
