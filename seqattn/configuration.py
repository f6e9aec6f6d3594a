"""What every configuration dataclass shares: range checks and a JSON round trip."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, TypeVar

import numpy as np

C = TypeVar("C", bound="DictConfig")


def check_int_range(name: str, value: Any, low: int, high: int) -> None:
    """Raise ``ValueError`` unless ``value`` is an int in ``[low, high]``.

    The message names the field, the allowed range and the value received, so a
    user can fix a form or a command line from it alone.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number from {low} to {high}; got {value!r}.")
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}; got {value}.")


class DictConfig:
    """Mixin for frozen config dataclasses: ``to_dict`` and ``from_dict``.

    ``KIND`` names the settings in error messages ("unknown problem setting").
    """

    KIND = "configuration"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of the fields (NumPy scalars become Python ones)."""
        return {
            key: value.item() if isinstance(value, np.generic) else value
            for key, value in dataclasses.asdict(self).items()  # type: ignore[call-overload]
        }

    @classmethod
    def from_dict(cls: type[C], data: Mapping[str, Any]) -> C:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown {cls.KIND} setting(s): {', '.join(unknown)}")
        return cls(**dict(data))
