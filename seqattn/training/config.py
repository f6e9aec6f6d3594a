"""How to train (the recipe): :class:`TrainConfig`, its protocols and their defaults."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal
from collections.abc import Mapping

from seqattn.configuration import DictConfig, check_settings, setting

Protocol = Literal["tutorial", "batched"]
PROTOCOLS: tuple[Protocol, ...] = ("tutorial", "batched")

# Defaults per protocol: (updates, batch_size, learning_rate, eval_every).
# "tutorial" is the seed's recipe; "batched" was tuned (bench/train_speed.py) so
# the attention model passes 95 % exact match on the seed problem in seconds.
PROTOCOL_DEFAULTS: dict[str, tuple[int, int, float, int]] = {
    "tutorial": (5000, 1, 1e-3, 250),
    "batched": (500, 32, 5e-3, 50),
}
# XLA per protocol: it pays for the tutorial's tiny one-pair updates (1.75 ms vs 2.69 ms,
# docs/performance.md) but not for batched ones once compiling counts: a batched update is at
# most 15-20 % faster with it, while compiling a new shape costs 2-20 s and holds about 0.15 GiB
# more in a waiting warm process (bench/demo_latency.py, bench/idle_memory.py, bench/sweep_xla.py).
PROTOCOL_XLA: dict[str, bool] = {"tutorial": True, "batched": False}
MAX_UPDATES = 1_000_000
MAX_BATCH = 4096


@dataclass(frozen=True)
class TrainConfig(DictConfig):
    """How to train (the recipe): protocol, optimizer and evaluation cadence.

    The models' own settings (their size, the encoder) are a :class:`~seqattn.model.config.ModelConfig`.

    Leave ``updates``, ``batch_size``, ``learning_rate``, ``eval_every`` or ``jit_compile``
    as ``None`` to take the protocol's default (``PROTOCOL_DEFAULTS``, ``PROTOCOL_XLA``).

    Args:
        protocol: ``"tutorial"`` (one fresh pair per update, batch size 1) or
            ``"batched"`` (a fresh batch per update).
        updates: optimizer updates per model (1..1,000,000).
        batch_size: pairs per update (1 for the tutorial protocol).
        learning_rate: Adam's step size, in (0, 1].
        seed: seeds the data stream, the weights and the held-out set.
        eval_every: evaluate on the held-out set every this many updates.
        eval_size: held-out pairs per evaluation (1..100,000).
        jit_compile: compile the update with XLA (None: the protocol's choice, ``PROTOCOL_XLA``).
        until: train each model until its held-out exact match reaches this many percent
            (1..100), checked at every evaluation; ``updates`` is then the cap. None trains
            every model for ``updates`` updates.
    """

    KIND = "training"

    protocol: Protocol = setting("tutorial", "Protocol",
                                 "tutorial: one fresh pair per update; batched: a fresh batch per update.")
    updates: int | None = setting(None, "Updates", "Optimizer updates per model.", 1, MAX_UPDATES)
    batch_size: int | None = setting(None, "Batch size", "Pairs per update (1 with the tutorial protocol).", 1, MAX_BATCH)
    learning_rate: float | None = setting(None, "Learning rate", "Adam's step size, above 0 and at most 1.")
    seed: int = setting(0, "Seed", "Seeds the data stream, the weights and the held-out set.", 0, 2**31 - 1)
    eval_every: int | None = setting(None, "Evaluate every", "Updates between held-out evaluations.", 1, MAX_UPDATES)
    eval_size: int = setting(1000, "Held-out pairs", "Held-out pairs per evaluation.", 1, 100_000)
    jit_compile: bool | None = setting(None, "XLA", "Compile the update with XLA: seconds up front, then faster "
                                         "updates of small models and short sequences.")
    until: int | None = setting(None, "Until", "Stop each model once its held-out exact match reaches this "
                                "percentage, checked at every evaluation, Updates being the cap; off: every model "
                                "trains for Updates.", 1, 100)

    @property
    def threshold(self) -> float | None:
        """``until`` as a fraction of exact match (0.95 for 95), or None."""
        return None if self.until is None else self.until / 100

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """As :meth:`DictConfig.from_dict`; a ``units`` key (runs saved before
        :class:`ModelConfig` existed) belongs to the model and is left out here."""
        return super().from_dict({k: v for k, v in data.items() if k != "units"})

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}; got {self.protocol!r}.")
        updates, batch_size, learning_rate, eval_every = PROTOCOL_DEFAULTS[self.protocol]
        for name, default in (
            ("updates", updates),
            ("batch_size", batch_size),
            ("learning_rate", learning_rate),
            ("eval_every", eval_every),
        ):
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        if self.jit_compile is None:
            object.__setattr__(self, "jit_compile", PROTOCOL_XLA[self.protocol])
        if not isinstance(self.jit_compile, bool):
            raise ValueError(f"jit_compile must be true or false; got {self.jit_compile!r}.")
        check_settings(self)
        if self.protocol == "tutorial" and self.batch_size != 1:
            raise ValueError(
                f"batch_size must be 1 with the tutorial protocol (one pair per update); got {self.batch_size}. "
                "Choose the batched protocol for larger batches."
            )
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or not 0 < lr <= 1:
            raise ValueError(f"learning_rate must be a number above 0 and at most 1; got {lr!r}.")
        object.__setattr__(self, "learning_rate", float(lr))
