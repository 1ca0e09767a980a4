"""Field layouts the Shtrih command families share, pure.

The 5-byte money field (kopecks, little-endian), the century of the register's two-digit
years, and the generic answer shapes: ``err | operator`` (:class:`OperatorResponse`) and
``err`` alone (:func:`empty_answer`); :func:`enum_or_int` names a byte when an enum knows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar

from agent.drivers.shtrih.wire import Reader

__all__ = [
    "MAX_MONEY",
    "MONEY_BYTES",
    "YEAR_BASE",
    "OperatorResponse",
    "empty_answer",
    "enum_or_int",
    "operator_only",
]

MONEY_BYTES = 5
MAX_MONEY = 0xFF_FF_FF_FF_FF
YEAR_BASE = 2000
_E = TypeVar("_E", bound=IntEnum)


def enum_or_int(enum: type[_E], value: int) -> _E | int:
    """``enum(value)`` when the enum names it, else the plain ``value``."""
    try:
        return enum(value)
    except ValueError:
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorResponse:
    """An answer that carries only the operator number: ``err | operator``."""

    operator: int


_O = TypeVar("_O", bound=OperatorResponse)


def operator_only(cls: type[_O]) -> Callable[[Reader], _O]:
    """A decoder for an ``err | operator`` answer of class ``cls``."""

    def decode(r: Reader) -> _O:
        response = cls(operator=r.uint(1, "operator"))
        r.done()
        return response

    return decode


_EmptyT = TypeVar("_EmptyT")


def empty_answer(cls: Callable[[], _EmptyT]) -> Callable[[Reader], _EmptyT]:
    """A decoder for an answer that is ``err`` only: nothing may follow the error byte."""

    def decode(r: Reader) -> _EmptyT:
        r.done()
        return cls()

    return decode
