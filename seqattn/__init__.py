"""seqattn: an LSTM encoder-decoder with and without Bahdanau attention on the echo problem.

``import seqattn`` is light: it does not import TensorFlow, so a page that only
lists runs renders at once. The Keras layer :class:`AttentionDecoder` is still
registered for ``keras.models.load_model`` as soon as Keras is imported, either
already (below) or later (through a one-shot import hook).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
from typing import Any

__version__ = "0.1.0"

# Quiet TensorFlow's C++ start-up chatter (CUDA probing on a CPU-only machine)
# unless the user chose a level; this only has effect before TensorFlow loads.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Reuse XLA programs compiled by earlier processes (seqattn.speed.xla_cache); also
# only effective before TensorFlow loads.
importlib.import_module("seqattn.speed.xla_cache").enable()

_LAZY = {
    "AttentionDecoder": "seqattn.model.attention",
    "build_baseline": "seqattn.model.builders",
    "build_attention": "seqattn.model.builders",
    "Predictor": "seqattn.model.builders",
    "ProblemConfig": "seqattn.problem.echo",
    "parse_sequence": "seqattn.problem.parsing",
    "evaluate": "seqattn.evaluation.scoring",
    "TrainConfig": "seqattn.training.loop",
    "train": "seqattn.training.loop",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seqattn' has no attribute {name!r}")


class _RegisterLayerAfterKeras(importlib.abc.MetaPathFinder):
    """Import ``seqattn.model.attention`` right after the first real ``import keras`` completes.

    A mere lookup (``importlib.util.find_spec("keras")``, which TensorFlow does)
    also reaches ``find_spec``; the finder therefore stays installed until the
    wrapped module actually executes.
    """

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "keras":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module
        finder = self

        def exec_then_register(module: Any) -> None:
            if finder in sys.meta_path:
                sys.meta_path.remove(finder)
            exec_module(module)
            importlib.import_module("seqattn.model.attention")

        spec.loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec


if "keras" in sys.modules:
    importlib.import_module("seqattn.model.attention")
elif not any(isinstance(f, _RegisterLayerAfterKeras) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterLayerAfterKeras())
