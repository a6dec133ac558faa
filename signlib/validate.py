"""Checks for config dataclasses: every bad value is a one-line error that names its field.

Every model and stage config is a frozen dataclass whose ``__post_init__`` calls these helpers, so
a wrong value fails where the config is built, before any work starts. The error is an
:class:`InvalidValue`, which carries the field name: :mod:`signlib.config` prefixes it with the
``params.yaml`` path of the section (``params: signspark.model.unet.heads: 0 must be an integer
>= 1``), while library users see the class name (``UNetConfig: heads=0 must be an integer >= 1``).

:func:`from_data` marks a field that the data decides (a layout, a frame rate, a length limit):
it keeps its default in the library, is never read from ``params.yaml``, and the stage that
builds the model fills it in from the corpus.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterable

from signlib.errors import SignlibError


class InvalidValue(SignlibError):
    """A config field with a value outside what it accepts; ``key`` names the field."""

    def __init__(self, owner: str, key: str, value: Any, requirement: str):
        self.owner, self.key, self.value, self.requirement = owner, key, value, requirement
        super().__init__(f"{owner}: {key}={value!r} {requirement}")


def _owner(obj) -> str:
    return type(obj).__name__


def require(obj, key: str, ok: bool, requirement: str) -> None:
    """Raise :class:`InvalidValue` for ``obj.key`` unless ``ok``."""
    if not ok:
        raise InvalidValue(_owner(obj), key, getattr(obj, key), requirement)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def integers(obj, keys: Iterable[str], low: int = 1) -> None:
    """Each ``obj.<key>`` is an integer ``>= low`` (sizes, counts, steps)."""
    for key in keys:
        value = getattr(obj, key)
        require(obj, key, _is_int(value) and value >= low, f"must be an integer >= {low}")


def numbers(obj, keys: Iterable[str], low: float = 0.0, high: float = math.inf, high_open: bool = False) -> None:
    """Each ``obj.<key>`` is a finite number in ``[low, high]`` (``[low, high)`` with ``high_open``)."""
    for key in keys:
        value = getattr(obj, key)
        inside = _is_number(value) and value >= low and (value < high if high_open else value <= high)
        bound = f"[{low:g}, {high:g}{')' if high_open else ']'}"
        require(obj, key, inside, f"must be a number in {bound}")


def choice(obj, key: str, choices: Iterable[str]) -> None:
    """``obj.<key>`` is one of ``choices`` (a solver, an encoder, a policy name...)."""
    choices = tuple(choices)
    require(obj, key, getattr(obj, key) in choices, f"is not one of {', '.join(choices)}")


def flag(obj, keys: Iterable[str]) -> None:
    """Each ``obj.<key>`` is ``True`` or ``False``."""
    for key in keys:
        require(obj, key, isinstance(getattr(obj, key), bool), "must be true or false")


def from_data(default: Any) -> Any:
    """A dataclass field the data decides: not a ``params.yaml`` key (see the module docstring)."""
    return dataclasses.field(default=default, metadata={"from_data": True})


def is_from_data(field: dataclasses.Field) -> bool:
    return bool(field.metadata.get("from_data"))
