"""A fake trainer for page tests, loaded by every Python process started with this folder on PYTHONPATH.

Where the page, not the training, is under test, a worker need not import
TensorFlow and train: this replaces :func:`seqattn.training.session.train`,
:func:`seqattn.training.setup.build_models` and :func:`seqattn.sweeps.cells.train_cell` with functions that report progress,
evaluations and results of the real shapes, derived from the configs, in a
fraction of a second. Nothing in the production code knows about it.
Imported as ``fake_trainer.sitecustomize`` (by ``launcher.py``), it only lends its fakes.
"""

from __future__ import annotations

import math
import time
import zipfile
from types import SimpleNamespace

import numpy as np

import seqattn.sweeps.cells
import seqattn.training.session
from seqattn.sweeps.cells import CellResult
from seqattn.evaluation.scoring import Accuracy
from seqattn.model.registry import MODEL_NAMES, model_kind
from seqattn.training.progress import Progress
from seqattn.training.session import TrainResult

REPORTS = 8  # progress reports per fake training
FAILING_SEED = 666  # a cell with this seed fails, as a cell whose training raised would
SECONDS_PER_REPORT = 0.05  # long enough for a page to see the run running


class PlaceholderModel:
    """Stands in for a Keras model where only the file's presence matters (a page lists the run as usable)."""

    def save(self, path) -> None:
        # The archive's outline only (a .keras file is a zip with a config.json); Keras cannot load it.
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", '{"note": "fake model written by tests/fake_trainer"}')


def _stopped(stop) -> bool:
    if stop is None:
        return False
    return stop() if callable(stop) else stop.is_set()


def _accuracy(name: str, fraction: float, steps: int) -> float:
    """Attention climbs to 1, the baseline to one half: the shapes pages expect, not numbers anyone pins."""
    ceiling = 1.0 if model_kind(name).attends else 0.5
    return round(ceiling * fraction, 4)


def fake_train(problem, config, *, model=None, names=MODEL_NAMES, on_progress=None, stop=None,
               report_every=None, setup=None, callbacks=()) -> TrainResult:
    """Like :func:`seqattn.training.session.train`, without a model: falling losses, rising accuracy."""
    started = time.monotonic()
    steps, n_in = problem.target_len, problem.n_in
    chance = math.log(problem.cardinality)
    probe = list(range(n_in))
    attention = np.full((steps, n_in), 1.0 / n_in).tolist()
    reports, losses, done = [], [], 0
    for index in range(1, REPORTS + 1):
        if _stopped(stop):
            break
        time.sleep(SECONDS_PER_REPORT)
        update = config.updates * index // REPORTS
        fraction = update / config.updates
        loss = {name: chance * (1 - 0.9 * fraction) * (1 if model_kind(name).attends else 1.2) for name in names}
        losses.extend([[loss[name] for name in names]] * (update - done))
        done = update
        evaluated = index % 2 == 0 or index == REPORTS
        report = Progress(
            update=update, total=config.updates, samples=update * config.batch_size,
            elapsed=time.monotonic() - started, loss=loss, smoothed=dict(loss),
            accuracy={name: _accuracy(name, fraction, steps) for name in names} if evaluated else None,
            per_position={name: [_accuracy(name, fraction, steps)] * steps for name in names} if evaluated else None,
            alignment=round(fraction, 4) if evaluated else None,
            attention=attention if evaluated else None,
            probe=probe if evaluated else None,
            probe_tokens=probe[:steps] + [0] * max(0, steps - n_in) if evaluated else None,
            final=index == REPORTS,
        )
        reports.append(report)
        if on_progress:
            on_progress(report)
    fraction = done / config.updates
    accuracy = {name: Accuracy(_accuracy(name, fraction, steps), (_accuracy(name, fraction, steps),) * steps, 100)
                for name in names}
    return TrainResult(models={name: PlaceholderModel() for name in names},
                       losses=np.asarray(losses, dtype=np.float32).reshape(-1, len(names)),
                       names=tuple(names), reports=reports, accuracy=accuracy, cancelled=done < config.updates,
                       elapsed=time.monotonic() - started, probe=probe)


def _fake_stops(spec) -> dict:
    """Trained to a threshold: attention gets there in a fifth of the cap, the baseline needs
    ``cap * n_in / 4`` updates (so it misses the cap from input length 5 on)."""
    cap = spec.train.updates
    stops = {}
    for name in spec.names:
        needed = cap // 5 if model_kind(name).attends else cap * spec.problem.n_in // 4
        reached = needed if needed <= cap else None
        stops[name] = {"reached": reached, "updates": min(needed, cap), "seconds": SECONDS_PER_REPORT}
    return stops


def fake_train_cell(spec, stop=None, on_progress=None, setups=None) -> CellResult:
    """Like :func:`seqattn.sweeps.cells.train_cell`: a cell's result, its numbers varying with the seed."""
    time.sleep(SECONDS_PER_REPORT)
    base = dict(index=spec.index, repeat=spec.repeat, seed=spec.train.seed, values=dict(spec.values),
                problem=spec.problem.to_dict(), model=spec.model.to_dict(), until=spec.train.until,
                cap=spec.train.updates, seconds=SECONDS_PER_REPORT)
    if spec.train.seed == FAILING_SEED:
        return CellResult(**base, status="failed", error="RuntimeError: this fake cell fails on purpose")
    steps = spec.problem.target_len
    wobble = (spec.train.seed % 7) / 100
    exact = {name: _accuracy(name, 1.0, steps) - wobble for name in spec.names}
    stops = _fake_stops(spec) if spec.train.until is not None else {}
    return CellResult(
        **base, status="done",
        exact_match=exact, per_position={name: [value] * steps for name, value in exact.items()},
        alignment=0.9, loss_updates=[spec.train.updates],
        losses={name: [1.0 - value] for name, value in exact.items()},
        updates_done=max([s["updates"] for s in stops.values()] or [spec.train.updates]), stops=stops,
    )


def fake_setup_for(ctx) -> SimpleNamespace:
    """Like :func:`seqattn.jobs.tasks.setup_for`, without Keras (so a fake worker never loads TensorFlow)."""
    return SimpleNamespace(models={name: PlaceholderModel() for name in ctx.names}, ahead=False)


if __name__ == "sitecustomize":  # a process started with this folder on its path (launcher.py imports the fakes only)
    import seqattn.training.threads

    seqattn.training.session.train = fake_train
    seqattn.sweeps.cells.train_cell = fake_train_cell
    seqattn.training.threads.fit_threads_to_process = lambda threads=None: None
    import seqattn.jobs.tasks  # after the fakes above, which it imports by name

    seqattn.jobs.tasks.setup_for = fake_setup_for
