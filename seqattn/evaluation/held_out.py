"""Evaluation during training: held-out scores and the attention probe, as callables a progress reporter calls.

Each returns fields of a progress report (:class:`seqattn.training.progress.Progress`):
:class:`HeldOutScores` the exact match, per-step accuracy and alignment score of every model on
a fixed held-out set; :class:`AttentionProbe` the attending model's attention on one input.
Predictors are anything that maps int inputs (batch, n_in) to a prediction with ``tokens``
(batch, steps) and ``attention`` (batch, steps, n_in) or None.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping

import numpy as np

from seqattn.evaluation.scoring import Accuracy, alignment_score, score

# Held-out inputs are scored this many at a time, so their one-hot encodings stay small.
EVAL_SLICE = 1000


class HeldOutScores:
    """Scores every model on a fixed held-out set; the latest scores stay in :attr:`accuracy`.

    Args:
        predictors: a predictor per model name.
        inputs: int (n, n_in) held-out inputs; targets: int (n, steps) their targets.
        expected: the task's expected alignment of the inputs, float (n, steps, n_in), or an int
            ``n_out`` for the echo task's diagonal (see :func:`~seqattn.evaluation.scoring.alignment_score`).

    A model that stopped training can be :meth:`freeze` d: its weights no longer change, so
    its last scores are reported again instead of predicting the held-out set once more.
    :attr:`evaluations` counts the calls (a callback can tell whether scores are new).
    """

    def __init__(self, predictors: Mapping[str, Any], inputs: np.ndarray, targets: np.ndarray,
                 expected: np.ndarray | int) -> None:
        self.predictors = predictors
        self.inputs = inputs
        self.targets = targets
        self.expected = expected
        self.accuracy: dict[str, Accuracy] = {}
        self.evaluations = 0
        self._frozen: set[str] = set()
        self._alignment: dict[str, float] = {}

    def freeze(self, name: str) -> None:
        """Keep ``name``'s latest scores from now on (call it once the model has been scored)."""
        self._frozen.add(name)

    def __call__(self) -> dict[str, Any]:
        """``accuracy`` and ``per_position`` per model, and ``alignment`` where a model attends."""
        out: dict[str, Any] = {"accuracy": {}, "per_position": {}}
        for name, predictor in self.predictors.items():
            if name not in self._frozen or name not in self.accuracy:
                slices = [predictor(self.inputs[i : i + EVAL_SLICE]) for i in range(0, len(self.inputs), EVAL_SLICE)]
                self.accuracy[name] = score(np.concatenate([p.tokens for p in slices]), self.targets)
                if slices[0].attention is not None:
                    attention = np.concatenate([p.attention for p in slices])
                    self._alignment[name] = alignment_score(attention, self.expected)
            acc = self.accuracy[name]
            out["accuracy"][name] = acc.exact_match
            out["per_position"][name] = list(acc.per_position)
            if name in self._alignment:
                out["alignment"] = self._alignment[name]
        self.evaluations += 1
        return out


class AttentionProbe:
    """The attending models' attention on one probe input, to watch an alignment form.

    Args:
        predictors: a predictor per model name (models without attention are skipped).
        probe: int (n_in,), the probe input.
    """

    def __init__(self, predictors: Mapping[str, Any], probe: np.ndarray) -> None:
        self.predictors = predictors
        self.probe = np.asarray(probe).reshape(1, -1)

    def __call__(self) -> dict[str, Any]:
        """``attention`` (steps, n_in) lists, ``probe`` and ``probe_tokens``; empty without an attending model."""
        out: dict[str, Any] = {}
        for predictor in self.predictors.values():
            if not getattr(predictor, "with_attention", True):
                continue  # no attention to show: spare it a prediction of another shape
            prediction = predictor(self.probe)
            if prediction.attention is None:
                continue
            out["attention"] = prediction.attention[0].round(5).tolist()
            out["probe"] = self.probe[0].tolist()
            out["probe_tokens"] = prediction.tokens[0].tolist()
        return out


def evaluate(predictor: Any, inputs: np.ndarray, targets: np.ndarray, batch_size: int = EVAL_SLICE) -> Accuracy:
    """Exact-match and per-step accuracy of ``predictor`` on int inputs (n, n_in) against targets (n, steps).

    Inputs are scored ``batch_size`` at a time (never one prediction per pair).
    """
    predicted = np.concatenate([predictor(inputs[i : i + batch_size]).tokens for i in range(0, len(inputs), batch_size)])
    return score(predicted, targets)
