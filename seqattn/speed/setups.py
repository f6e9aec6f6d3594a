"""The training setups the speed machinery hands a job: prepared ahead, or the last job's reused.

:class:`FastSetups` is a :class:`~seqattn.training.session.SetupSource` (the seam through which a
job may get its setup other than by building it). Entry points choose it: the warm process, the
speed worker and the CLI; the core never imports this package.
"""

from __future__ import annotations

import threading
from typing import Any

from seqattn.model.config import ModelConfig
from seqattn.model.registry import MODEL_NAMES, check_names
from seqattn.problem.config import ProblemConfig

from seqattn.speed.warm_start import PreparedTraining, job_key, reseed, shape_key, take
from seqattn.training.setup import TrainingSetup, build_setup


_kept_lock = threading.Lock()
_kept: PreparedTraining | None = None  # the last job's setup in this process, for the next job of its shapes


class FastSetups:
    """This package's :class:`~seqattn.training.session.SetupSource`: what a job can have ready.

    :meth:`take` gives, in this order: the setup prepared ahead for this job in this
    process (:func:`prepare_in_background`, a warm process's; reseeded if only the seed
    differs), the last job's setup of the
    same shapes reseeded for this one (:func:`reseed`: the next seed of a sweep or a
    comparison skips tracing and compiling), or a freshly built one. :meth:`give_back`
    keeps a job's setup for the next. Every way gives the numbers of a cold training, bit
    for bit. The state is the process's, not the object's, so the object pickles to nothing
    and travels with sweep cells to Dask workers.
    """

    def take(self, problem: ProblemConfig, config: Any, model: ModelConfig | None = None,
             names: tuple[str, ...] = MODEL_NAMES) -> PreparedTraining:
        global _kept
        ready = take(problem, config, model, names, reseeding=True)
        if ready is not None:
            return ready
        with _kept_lock:  # a worker with several threads: each job takes the kept one, or builds its own
            kept, _kept = _kept, None
        key = job_key(problem, config, model, check_names(names))
        if kept is not None and shape_key(kept.key) == shape_key(key):
            return reseed(kept, problem, config, model, names)
        del kept  # another shape's models: free them before building this job's
        built = build_setup(problem, config, check_names(names), model)
        return PreparedTraining(built.models, built.step, built.predictors, key=key, ahead=False)

    def give_back(self, setup: TrainingSetup) -> None:
        global _kept
        if getattr(setup, "key", None):  # a setup this source handed out (it knows its job)
            with _kept_lock:
                _kept = setup
