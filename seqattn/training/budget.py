"""What a job will cost before it starts, and the budget it must fit: :func:`check_budget`.

Every way to start training (the Train, Compare and Sweep pages, the command
line, :mod:`seqattn.jobs.control`) asks :func:`check_budget` first, so a job that would
swap the machine to death or run for hours is refused with a message naming
what to reduce, and nothing starts.

- Time: :func:`seqattn.training.cost.estimate_cell_seconds` (the measured cost per update
  plus a fixed cost per training), against ``$SEQATTN_TIME_BUDGET_S`` (default
  :data:`seqattn.training.cost.MAX_CELL_SECONDS`).
- Memory: the peak resident memory of one training process, fitted on measured
  peaks by ``bench/job_memory.py`` (TensorFlow's baseline, plus the parameters
  with their gradients and Adam moments, plus the activations kept for the
  backward pass, of which the attention energies ``batch x decoder steps x
  input steps x units`` dominate large problems), against
  ``$SEQATTN_MEMORY_BUDGET_GB`` (default half the machine's physical memory).

A running worker also stops itself when its memory reaches the budget
(:mod:`seqattn.jobs.worker`), in case the estimate was short.

This module imports no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psutil

from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.settings import read
from seqattn.training.cost import MAX_CELL_SECONDS, estimate_cell_seconds

MEMORY_BUDGET_ENV = "SEQATTN_MEMORY_BUDGET_GB"
TIME_BUDGET_ENV = "SEQATTN_TIME_BUDGET_S"
# Without $SEQATTN_MEMORY_BUDGET_GB a job may use this fraction of physical memory.
DEFAULT_MEMORY_FRACTION = 0.5
GIB = 2**30
MIB = 2**20
BYTES_PER_FLOAT = 4

# Memory model of one training process (both models), in bytes: a baseline plus a
# factor times each term of :func:`memory_terms`, fitted on the peak RSS measured by
# ``bench/job_memory.py --fit`` (figures in its docstring), rounded up a little.
MEMORY_BASELINE = 1.1 * GIB  # Python, NumPy, pandas, TensorFlow, Keras, XLA: a tiny job's peak
MEMORY_FACTORS: dict[str, float] = {
    "parameters": 9.0,  # weights, gradients, Adam's two moments, XLA's copies (fit: 8.8)
    "sequence": 10.0,  # LSTM states and gates, one-hot data, softmax outputs at every step (fit: 10.2)
    "attention": 1.2,  # the attention energies (B, T_out, n_in, U), kept for the gradient (fit: 1.14)
    "steps": 9.0,  # MiB of compiled graph per step, the decoder's being unrolled (fit: 8.4)
}


@dataclass(frozen=True)
class JobEstimate:
    """The estimated cost of one training (both models) in one process.

    Attributes:
        seconds: wall seconds (building, compiling, updates, evaluations).
        peak_bytes: peak resident memory of the training process.
    """

    seconds: float
    peak_bytes: float

    @property
    def peak_gib(self) -> float:
        return self.peak_bytes / GIB

    def describe(self) -> str:
        """``Estimated: ~12 s, ~0.8 GiB peak memory`` (what the forms show)."""
        return f"Estimated: ~{format_duration(self.seconds)}, ~{self.peak_gib:.1f} GiB peak memory"


def format_duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.5 h``: the rough size of a duration."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def parameter_count(problem: ProblemConfig, model: ModelConfig) -> int:
    """Trainable parameters of the baseline and the attention model together (counted from their layers)."""
    k_in, k, u = problem.input_size, problem.output_size, model.units
    lstm = 4 * u * (k_in + u + 1)  # an LSTM over one-hot inputs
    baseline = lstm + 4 * u * (2 * u + 1) + u * k + k
    directions = 2 if model.encoder == "bidirectional" else 1
    d = directions * u  # the encoder states the decoder attends over
    decoder = (u * u + d * u + 2 * u + d * u  # W_a, U_a, b_a, V_a, W_s
               + 3 * (k * u + u * u + d * u + u)  # reset, update, proposal
               + k * k + u * k + d * k + k)  # output
    return baseline + directions * lstm + decoder


def memory_terms(problem: ProblemConfig, train: Any, model: ModelConfig) -> dict[str, float]:
    """The memory model's features, in bytes (``bench/job_memory.py`` fits their factors).

    - ``parameters``: the weights of both models.
    - ``sequence``: ``batch x (encoder + decoder steps) x (units + K)`` floats.
    - ``attention``: ``batch x decoder steps x input steps x units`` floats (the
      attention energies of every decoder step, kept for the backward pass).
    - ``steps``: encoder plus decoder steps, in MiB: the compiled update's graph
      grows with them (the decoder's steps are unrolled, short encoders too).
    """
    batch = train.batch_size
    encoder_steps = problem.n_in * (2 if model.encoder == "bidirectional" else 1)
    return {
        "parameters": float(BYTES_PER_FLOAT * parameter_count(problem, model)),
        "sequence": float(BYTES_PER_FLOAT * batch * (encoder_steps + problem.target_len)
                          * (model.units + (problem.input_size + problem.output_size) / 2)),
        "attention": float(BYTES_PER_FLOAT * batch * problem.target_len * problem.n_in * model.units),
        "steps": float((encoder_steps + problem.target_len) * MIB),
    }


def estimate_peak_bytes(problem: ProblemConfig, train: Any, model: ModelConfig | None = None) -> float:
    """Estimated peak resident memory of a process training both models (memory model above)."""
    terms = memory_terms(problem, train, model or ModelConfig())
    return MEMORY_BASELINE + sum(MEMORY_FACTORS[name] * value for name, value in terms.items())


def estimate_job(problem: ProblemConfig, train: Any, model: ModelConfig | None = None) -> JobEstimate:
    """Estimated seconds and peak memory of one training of both models.

    A comparison or a sweep runs such trainings one per cell; each cell must fit.
    """

    model = model or ModelConfig()
    return JobEstimate(seconds=estimate_cell_seconds(problem, train, model),
                       peak_bytes=estimate_peak_bytes(problem, train, model))


def physical_memory_bytes() -> float:
    """The machine's physical memory (psutil)."""
    return float(psutil.virtual_memory().total)


def memory_budget_bytes() -> float:
    """Peak memory one job may use: ``$SEQATTN_MEMORY_BUDGET_GB`` GiB, else half the physical memory.

    Raises:
        SettingError: the variable holds a value that is not accepted (e.g. ``abc``, ``-1``, ``nan``).
    """
    gib = read(MEMORY_BUDGET_ENV)
    if gib is not None:
        return float(gib) * GIB
    return DEFAULT_MEMORY_FRACTION * physical_memory_bytes()


def time_budget_seconds() -> float:
    """Seconds one training may be estimated at: ``$SEQATTN_TIME_BUDGET_S``, else ``MAX_CELL_SECONDS``.

    Raises:
        SettingError: the variable holds a value that is not accepted.
    """
    seconds = read(TIME_BUDGET_ENV)
    return float(seconds) if seconds is not None else MAX_CELL_SECONDS


def _largest_memory_term(problem: ProblemConfig, train: Any, model: ModelConfig) -> str:
    terms = memory_terms(problem, train, model)
    weighted = {name: MEMORY_FACTORS[name] * value for name, value in terms.items()}
    largest = max(weighted, key=weighted.__getitem__)
    return {
        "parameters": "fewer units or a smaller cardinality",
        "sequence": "a smaller batch size, fewer units, shorter sequences or a smaller cardinality",
        "attention": "a smaller batch size, fewer units or shorter sequences (input and echo length)",
        "steps": "shorter sequences (input and echo length)",
    }[largest]


def _duration_words(seconds: float) -> str:
    return f"{seconds:.0f} seconds" if seconds < 90 else f"{seconds / 60:.0f} minutes"


def budget_problem(problem: ProblemConfig, train: Any, model: ModelConfig | None = None, *,
                   estimate: JobEstimate | None = None, subject: str = "this training", where: str = "",
                   per: str = "training") -> str | None:
    """The refusal message of a training over the budget, or None if it fits.

    ``subject`` and ``where`` start the message (``"one cell"``, ``" at n_in = 40"``);
    ``per`` names the unit the time budget applies to (``"cell"``).
    """
    model = model or ModelConfig()
    estimate = estimate or estimate_job(problem, train, model)
    memory, seconds = memory_budget_bytes(), time_budget_seconds()
    if estimate.peak_bytes > memory:
        return (f"{subject}{where} would need about {estimate.peak_gib:.1f} GiB of memory; the budget is "
                f"{memory / GIB:.1f} GiB. Use {_largest_memory_term(problem, train, model)} "
                f"(or set {MEMORY_BUDGET_ENV} on a machine with more memory).")
    if estimate.seconds > seconds:
        return (f"{subject}{where} is estimated at {_duration_words(estimate.seconds)}; at most "
                f"{_duration_words(seconds)} per {per}. Use fewer updates, smaller batches or fewer units "
                f"(or set {TIME_BUDGET_ENV}).")
    return None


def room_problem(problem: ProblemConfig, train: Any, model: ModelConfig | None, *, others_bytes: float,
                 others: str, subject: str = "this training") -> str | None:
    """The refusal message of a training that does not fit the budget beside our other live processes, or None.

    ``others_bytes`` is what those processes hold now (their resident memory) and
    ``others`` says what they are (``1 running job, 2 queued jobs``); the budget is for
    all of them and this training's estimated peak together.
    """
    model = model or ModelConfig()
    estimate, memory = estimate_job(problem, train, model), memory_budget_bytes()
    if estimate.peak_bytes + others_bytes <= memory:
        return None
    return (f"{subject} would need about {estimate.peak_gib:.1f} GiB of memory, and our other processes ({others}) "
            f"use {others_bytes / GIB:.1f} GiB of the {memory / GIB:.1f} GiB budget. Start it again once they have "
            f"finished, or use {_largest_memory_term(problem, train, model)} (or set {MEMORY_BUDGET_ENV}).")


def check_budget(problem: ProblemConfig, train: Any, model: ModelConfig | None = None) -> JobEstimate:
    """Refuse a training whose estimate is over the memory or time budget; returns the estimate.

    Raises:
        ValueError: over budget; the message says by how much and what to reduce.
    """
    model = model or ModelConfig()
    estimate = estimate_job(problem, train, model)
    message = budget_problem(problem, train, model, estimate=estimate)
    if message is not None:
        raise ValueError(message)
    return estimate


def process_tree_rss(pid: int | None = None, *, file_pages: bool = True) -> int:
    """Resident memory of a process and all its children, in bytes (0 if it is gone).

    ``file_pages=False`` leaves out the resident pages of mapped files (TensorFlow's libraries):
    every process of ours shares them and the kernel can drop and re-read them, so what a job
    holds against the budget is the rest (its heap, tensors and compiled programs).
    """
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            info = process.memory_info()
            total += info.rss if file_pages else info.rss - info.shared
        except psutil.Error:
            continue
    return total
