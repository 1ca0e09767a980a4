"""JSON values of ATOL's results as the agent's types: money, times, numbers. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast

from agent.domain.money import Kopecks, Micros

__all__ = [
    "MalformedResult",
    "as_date",
    "as_dict",
    "as_int",
    "as_kopecks",
    "as_micros",
    "as_str",
    "as_time",
    "field",
]


class MalformedResult(ValueError):
    """A result lacks a field the driver needs, or holds a value of the wrong kind."""


def field(obj: object, *path: str) -> object:
    """``obj[path[0]][path[1]]...``, or MalformedResult naming the missing path."""
    value = obj
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise MalformedResult(f"no {'.'.join(path)} in the result")
        value = value[key]
    return value


def as_dict(value: object, what: str) -> dict[str, Any]:
    """A JSON object, or MalformedResult."""
    if not isinstance(value, dict):
        raise MalformedResult(f"{what} is not an object: {value!r}")
    return cast("dict[str, Any]", value)


def as_int(value: object, what: str) -> int:
    """An integer, also from a string of digits (FD numbers, signs)."""
    if isinstance(value, bool):
        raise MalformedResult(f"{what} is not a number: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise MalformedResult(f"{what} is not a whole number: {value!r}")


def as_str(value: object, what: str) -> str:
    """A string; numbers (a serial sent as a number) become their digits."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise MalformedResult(f"{what} is not text: {value!r}")


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedResult(f"{what} is not a number: {value!r}")
    try:
        # str() of a float is its shortest repr: 150.1 -> "150.1", never 150.0999...
        return Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise MalformedResult(f"{what} is not a number: {value!r}") from exc


def as_kopecks(value: object, what: str) -> Kopecks:
    """Roubles as JSON (``150.0``, ``"150.00"``) -> kopecks, rounded half up."""
    cents = (_decimal(value, what) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Kopecks(int(cents))


def as_micros(value: object, what: str) -> Micros:
    """A quantity (``0.5``) -> millionths."""
    micros = (_decimal(value, what) * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Micros(int(micros))


def as_time(value: object, what: str, zone: tzinfo | None) -> datetime:
    """ISO 8601 (``2025-03-14T19:05:00+03:00``; also ``2025.03.14 19:05:00``) -> aware.

    A time without an offset is read in ``zone`` (UTC when None).
    """
    text = as_str(value, what).strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.strptime(text, "%Y.%m.%d %H:%M:%S")  # noqa: DTZ007 zoned below
        except ValueError as exc:
            raise MalformedResult(f"{what} is not a date and time: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or UTC)
    return moment


def as_date(value: object, what: str) -> date:
    """``2027-05-01``, ``2027.05.01`` or an ISO date-time -> the date."""
    text = as_str(value, what).strip()
    for pattern in ("%Y-%m-%d", "%Y.%m.%d"):
        try:
            return datetime.strptime(text[:10], pattern).date()  # noqa: DTZ007 a date only
        except ValueError:
            continue
    raise MalformedResult(f"{what} is not a date: {value!r}")
