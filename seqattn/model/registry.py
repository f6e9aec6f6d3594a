"""The model kinds of the experiment: one place that says which models exist.

Everything that loops over models (training, progress files, figures, the CLI,
the pages) takes the names, labels and colours from here, so adding a model
kind means adding a :class:`ModelKind` below and its builder in
:mod:`seqattn.model.builders`, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelKind:
    """One model of the experiment.

    Attributes:
        name: identifier used in files, URLs and the CLI (``baseline``).
        label: what a reader sees in legends and tables.
        short: a one-word label for metric tiles.
        color: the model's colour in every figure (Okabe-Ito, colour-blind safe).
        attends: True if the model has an attention decoder (heatmaps, alignment).
        builder: name of its builder function in :mod:`seqattn.model.builders`.
    """

    name: str
    label: str
    short: str
    color: str
    attends: bool
    builder: str


MODEL_KINDS: tuple[ModelKind, ...] = (
    ModelKind("baseline", "Baseline (no attention)", "Baseline", "#E69F00", False, "build_baseline"),
    ModelKind("attention", "Attention", "Attention", "#0072B2", True, "build_attention"),
)
MODEL_NAMES: tuple[str, ...] = tuple(kind.name for kind in MODEL_KINDS)
MODEL_LABELS: dict[str, str] = {kind.name: kind.label for kind in MODEL_KINDS}  # legends, tables, captions
_BY_NAME = {kind.name: kind for kind in MODEL_KINDS}


def model_kind(name: str) -> ModelKind:
    """The registered kind called ``name``.

    Raises:
        ValueError: naming the registered kinds, if ``name`` is not one.
    """
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise ValueError(f"model must be one of {', '.join(MODEL_NAMES)}; got {name!r}.") from None


def check_names(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate a non-empty selection of model names; returns them as a tuple, in the given order.

    Raises:
        ValueError: empty, or an unknown name.
    """
    chosen = tuple(names)
    if not chosen:
        raise ValueError(f"choose at least one model from {', '.join(MODEL_NAMES)}.")
    for name in chosen:
        model_kind(name)
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"each model may be named once; got {', '.join(chosen)}.")
    return chosen


def attending_names(names: tuple[str, ...] | list[str] = MODEL_NAMES) -> tuple[str, ...]:
    """The names among ``names`` whose models attend (have an attention heatmap)."""
    return tuple(n for n in names if n in _BY_NAME and _BY_NAME[n].attends)
