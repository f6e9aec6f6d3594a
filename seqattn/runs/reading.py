"""A run's records by run id, for pages and the CLI (they never build a path to a run file)."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from seqattn.runs.cell_log import cell_losses, cell_results
from seqattn.runs.layout import PROGRESS_FILE, run_dir
from seqattn.runs.progress import ProgressTail, read_evals

Root = str | os.PathLike[str] | None


def progress_reader(run_id: str, root: Root = None) -> ProgressTail:
    """An incremental reader of a training's progress (keep it to read only what is new)."""
    return ProgressTail(run_dir(run_id, root) / PROGRESS_FILE)


def evals_of(run_id: str, root: Root = None) -> list[dict[str, Any]]:
    """A training's evaluation records, oldest first (see :func:`seqattn.runs.read_evals`)."""
    return read_evals(run_dir(run_id, root))


def cells_of(run_id: str, root: Root = None) -> pd.DataFrame:
    """A comparison's or sweep's finished cells, one row per (cell, model)."""
    return cell_results(run_dir(run_id, root))


def cell_losses_of(run_id: str, root: Root = None) -> pd.DataFrame:
    """Loss curves of a comparison's or sweep's finished cells (cell, repeat, update, model, loss)."""
    return cell_losses(run_dir(run_id, root))
