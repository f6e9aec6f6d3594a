"""How long a training takes: a cost model fitted on the reference machine, for planning and budgets.

Estimates only (pages and the CLI say so); ``bench/sweep_scaling.py --calibrate`` refits them.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.training.config import TrainConfig

# A cell (or a training) estimated above this many seconds on the reference machine is
# refused (:mod:`seqattn.training.budget`, unless $SEQATTN_TIME_BUDGET_S says otherwise).
MAX_CELL_SECONDS = 1800.0


@dataclass(frozen=True)
class CostModel:
    """Seconds of one cell on a single-threaded sweep worker, fitted on the 2-core reference machine
    by ``bench/sweep_scaling.py --calibrate`` (once with XLA, once without).

    One update of both models costs a part per time step (encoder plus decoder steps) and a
    part proportional to the LSTM work; each cell also pays a fixed cost that grows with its
    steps (build, tracing, with XLA compiling, evaluations). Estimates are for planning; the
    pages say they are estimates.
    """

    update_floor: float
    update_fixed: float
    update_per_step: float
    update_per_work: float
    cell_floor: float
    cell_fixed: float
    cell_per_step: float


XLA_COSTS = CostModel(update_floor=1.0e-3, update_fixed=-1.0e-2, update_per_step=1.5e-3, update_per_work=8.4e-10,
                      cell_floor=4.0, cell_fixed=-2.3, cell_per_step=0.89)
GRAPH_COSTS = CostModel(update_floor=1.0e-3, update_fixed=1.1e-3, update_per_step=3.3e-4, update_per_work=1.0e-9,
                        cell_floor=1.5, cell_fixed=1.3, cell_per_step=0.19)


def cost_model(train: TrainConfig) -> CostModel:
    """The cost model of a recipe: with or without XLA."""
    return XLA_COSTS if train.jit_compile else GRAPH_COSTS


def _cost_steps(problem: ProblemConfig, model: ModelConfig) -> float:
    """Time steps of the cost model: encoder plus decoder steps of the models.

    The fit counts ``n_in + target_len`` for the pair of models, so each model's
    encoder is half of ``n_in``; a bidirectional encoder runs a second LSTM over
    the input, about twice the attention model's encoder: half an ``n_in`` more.
    """
    steps = float(problem.n_in + problem.target_len)
    if model.encoder == "bidirectional":
        steps += 0.5 * problem.n_in
    return steps


def estimate_update_seconds(problem: ProblemConfig, train: TrainConfig, model: ModelConfig | None = None) -> float:
    """Estimated seconds for one update of both models (:class:`CostModel`)."""
    model = model or ModelConfig()
    costs = cost_model(train)
    steps = _cost_steps(problem, model)
    work = train.batch_size * steps * model.units * (model.units + (problem.input_size + problem.output_size) / 2)
    return max(costs.update_floor, costs.update_fixed + costs.update_per_step * steps + costs.update_per_work * work)


def estimate_cell_seconds(problem: ProblemConfig, train: TrainConfig, model: ModelConfig | None = None) -> float:
    """Estimated wall seconds of one cell: its fixed cost plus its updates."""
    costs = cost_model(train)
    steps = _cost_steps(problem, model or ModelConfig())
    fixed = max(costs.cell_floor, costs.cell_fixed + costs.cell_per_step * steps)
    return fixed + train.updates * estimate_update_seconds(problem, train, model)
