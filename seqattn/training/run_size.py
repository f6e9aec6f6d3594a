"""How much disk a run will take, estimated before it starts: :func:`estimate_run_bytes`.

Every way to start a run (:func:`seqattn.jobs.control.start`, the CLI's train and sweep)
checks this against the free space of the runs folder's device
(:func:`seqattn.runs.space.check_free_space`), so a run that would fill the disk is
refused before its folder is made rather than failing mid-training.

The estimate, deliberately simple and on the safe side:

- models (a training): each saved ``.keras`` holds the weights and Adam's two moments,
  3 floats of 4 bytes per parameter (:func:`~seqattn.training.budget.parameter_count`), plus
  about 64 KiB of configuration and archive per model (measured: 12.1-12.4 bytes per
  parameter for K=50/150 units and K=100/64 units bidirectional); a checkpoint writes the
  new set beside the old one before renaming, so twice that;
- ``progress.csv``: a row of about 256 bytes per report (about 400 a run, plus one per evaluation);
- ``evals.jsonl``: a line per evaluation, 512 bytes plus 24 per number (the probe's
  attention matrix and tokens, the accuracy of each output step of each model);
- a run of cells (comparison, sweep): a line per cell, 4 KiB plus 24 bytes per loss point
  (its update numbers and each model's loss curve); cells save no models;
- then a margin: x1.5, plus 8 MiB for status rewrites, the worker's log and file system blocks.

This module imports no TensorFlow.
"""

from __future__ import annotations

from typing import Any

from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.training.budget import BYTES_PER_FLOAT, parameter_count
from seqattn.training.session import REPORTS_PER_RUN

MIB = 2**20
SAVED_FLOATS_PER_PARAMETER = 3  # the weight and Adam's two moments
MODEL_FILE_OVERHEAD = 64 * 2**10  # config.json, metadata and the zip's own bytes, per model
PROGRESS_ROW_BYTES = 256
EVAL_LINE_BYTES = 512
CELL_LINE_BYTES = 4 * 2**10
BYTES_PER_NUMBER = 24  # a float in JSON, with its separator
MARGIN_FACTOR = 1.5
MARGIN_BYTES = 8 * MIB


def training_bytes(problem: ProblemConfig, train: Any, model: ModelConfig, models: int = 2) -> float:
    """Bytes a training's files reach: its models (two sets at a checkpoint) and its progress files, no margin."""
    saved = BYTES_PER_FLOAT * SAVED_FLOATS_PER_PARAMETER * parameter_count(problem, model) + models * MODEL_FILE_OVERHEAD
    evaluations = train.updates // train.eval_every + 2
    numbers_per_eval = problem.target_len * problem.n_in + 2 * problem.n_in + models * problem.target_len
    return (2 * saved + (REPORTS_PER_RUN + evaluations) * PROGRESS_ROW_BYTES
            + evaluations * (EVAL_LINE_BYTES + BYTES_PER_NUMBER * numbers_per_eval))


def estimate_run_bytes(problem: ProblemConfig, train: Any, model: ModelConfig | None = None, *,
                       cells: int = 0, loss_points: int = 0, models: int = 2) -> int:
    """Bytes of disk a run is estimated to need, margin included (see the module's docstring).

    Args:
        problem, train, model: the run's settings (``train`` a resolved
            :class:`~seqattn.training.config.TrainConfig`).
        cells: 0 for a training; else the run's cells (a comparison's repeats, a sweep's grid).
        loss_points: for a run of cells, the loss points each cell records per model.
        models: how many models are trained.
    """
    if cells:
        raw = cells * (CELL_LINE_BYTES + BYTES_PER_NUMBER * (models + 1) * loss_points)
    else:
        raw = training_bytes(problem, train, model or ModelConfig(), models)
    return int(MARGIN_FACTOR * raw + MARGIN_BYTES)
