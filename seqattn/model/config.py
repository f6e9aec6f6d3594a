"""What the models are, apart from how they are trained: :class:`ModelConfig`.

The recipe (protocol, updates, optimizer) is :class:`seqattn.training.config.TrainConfig`;
this is the architecture's side (its size and the attention model's encoder), so
a sweep or a saved run can vary or record one without the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from seqattn.configuration import DictConfig, check_settings, setting

MAX_UNITS = 1024
# The attention model's encoder: the tutorial's LSTM, or Bahdanau et al. (2015)'s
# bidirectional one (the decoder attends over concatenated forward and backward states).
ENCODERS: tuple[str, ...] = ("unidirectional", "bidirectional")


@dataclass(frozen=True)
class ModelConfig(DictConfig):
    """The models' architecture settings.

    Args:
        units: LSTM and decoder size of both models (1..MAX_UNITS).
        encoder: the attention model's encoder, one of ``ENCODERS``:
            ``unidirectional`` (the tutorial's LSTM) or ``bidirectional`` (a
            forward and a backward LSTM of ``units`` each, states concatenated).
            The baseline is always the tutorial's.
    """

    KIND = "model"

    units: int = setting(150, "Units", "LSTM and decoder size of both models.", 1, MAX_UNITS)
    encoder: str = setting("unidirectional", "Encoder",
                           "The attention model's encoder: unidirectional (the tutorial's LSTM) or bidirectional "
                           "(Bahdanau et al. 2015: forward and backward states side by side); the baseline keeps "
                           "the tutorial's.", choices=ENCODERS)

    def __post_init__(self) -> None:
        check_settings(self)


def model_config_of(meta: Mapping[str, Any]) -> ModelConfig:
    """The :class:`ModelConfig` of a saved run's ``run.json``.

    Runs saved before the model settings had a section of their own kept
    ``units`` among the training settings; those still load. Runs saved before
    the encoder choice have no ``encoder``: they load as ``unidirectional``
    (the only encoder there was).

    Raises:
        ValueError: settings that are not a valid model config.
    """
    if "model" in meta:
        return ModelConfig.from_dict(meta["model"])
    train = meta.get("train") or {}
    return ModelConfig(units=train["units"]) if "units" in train else ModelConfig()
