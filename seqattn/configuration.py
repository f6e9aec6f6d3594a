"""What every configuration dataclass shares: range checks and a JSON round trip."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from typing import Any, TypeVar
from collections.abc import Mapping


C = TypeVar("C", bound="DictConfig")


def _numpy() -> Any:
    """NumPy if something has loaded it, else None: a NumPy value exists only then, so this module need not import it."""
    return sys.modules.get("numpy")


def check_int_range(name: str, value: Any, low: int, high: int) -> None:
    """Raise ``ValueError`` unless ``value`` is an int in ``[low, high]``.

    The message names the field, the allowed range and the value received, so a
    user can fix a form or a command line from it alone.
    """
    np = _numpy()
    bools, ints = ((bool, np.bool_), (int, np.integer)) if np is not None else ((bool,), (int,))
    if isinstance(value, bools) or not isinstance(value, ints):
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
            key: value.item() if (np := _numpy()) is not None and isinstance(value, np.generic) else value
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


@dataclass(frozen=True)
class Setting:
    """What a form or a command line needs to know of one config field, written once beside it.

    Attributes:
        name: the field's name; label: the form's label (tests find widgets by it);
        help: one sentence for tooltips and ``--help``; low, high: the allowed
        whole-number range (None where the range is not fixed, e.g. n_out <= n_in);
        default: the field's default; choices: the allowed strings of a
        multiple-choice field (None for any other field); boolean: an on/off field
        (its default may be None: decided by another field).
    """

    name: str
    label: str
    help: str
    low: int | None = None
    high: int | None = None
    default: Any = None
    choices: tuple[str, ...] | None = None
    boolean: bool = False

    @property
    def flag(self) -> str:
        """The command-line option: ``--n-in`` for ``n_in``."""
        return "--" + self.name.replace("_", "-")

    @property
    def help_with_range(self) -> str:
        """The help sentence followed by the range, e.g. ``"... (2 to 1000)."``."""
        if self.low is None or self.high is None:
            return self.help
        return f"{self.help.rstrip('.')} ({self.low:,} to {self.high:,})."


def setting(default: Any, label: str, help: str, low: int | None = None, high: int | None = None,
            choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with its :class:`Setting` (label, help, range or choices) in the field's metadata."""
    if choices is not None and default not in choices:
        raise ValueError(f"the default {default!r} of a setting must be one of its choices {choices}")
    return dataclasses.field(default=default,
                             metadata={"setting": (label, help, low, high, tuple(choices) if choices else None)})


def settings_of(cls: type) -> dict[str, Setting]:
    """Every field of a config dataclass that was declared with :func:`setting`, by name."""
    found = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if "setting" in f.metadata:
            label, help_text, low, high, choices = f.metadata["setting"]
            boolean = isinstance(f.default, bool) or str(f.type).split(" |")[0] == "bool"
            found[f.name] = Setting(f.name, label, help_text, low, high, f.default, choices, boolean)
    return found


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``.

    The message names the field, the choices and the value received.
    """
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")


def check_settings(config: Any) -> None:
    """Check every field that declares a range or choices (call it once defaults are filled in).

    Raises:
        ValueError: from :func:`check_int_range` or :func:`check_choice`, naming the field.
    """
    for name, spec in settings_of(type(config)).items():
        value = getattr(config, name)
        if value is None and spec.default is None:
            continue  # an optional setting left off (e.g. a stop rule)
        if spec.low is not None and spec.high is not None:
            check_int_range(name, value, spec.low, spec.high)
        if spec.choices is not None:
            check_choice(name, value, spec.choices)
