"""KkmServer's lenient reading of a request body, as pure functions (docs/kkmserver.md).

KkmServer ignores ``Content-Type``, drops a byte-order mark, skips text before the first
``{`` and after the object that closes it, matches property names without regard to case,
ignores unknown properties, and converts numeric strings to numbers, numbers to strings and
``0``/``1`` to booleans. :class:`Fields` gives that view of a decoded object; every reading
error is a :class:`FieldError` naming the property, answered as KkmServer answers a bad field
(HTTP 200, Status 2).
"""

from __future__ import annotations

import codecs
import json
from decimal import Decimal, InvalidOperation
from typing import Final

__all__ = ["BodyError", "FieldError", "Fields", "decode_body"]

_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
MAX_NESTING: Final = 32
"""Deeper than any KkmServer request; guards the recursion of :class:`Fields`."""


class BodyError(Exception):
    """The body is not a JSON object (HTTP 400 with KkmServer's parse-error envelope)."""


class FieldError(Exception):
    """A property has a value KkmServer could not bind (Status 2, naming the property)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


def decode_body(raw: bytes, charset: str | None = None) -> dict[str, object]:
    """The body's JSON object, read as leniently as KkmServer reads it."""
    encoding = charset or "utf-8"
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raw, encoding = raw[len(bom) :], name
            break
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise BodyError(f"текст не в кодировке {encoding}") from exc
    start = text.find("{")
    if start < 0:
        raise BodyError("в теле запроса нет JSON-объекта")
    try:
        value, _end = json.JSONDecoder(parse_float=Decimal).raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise BodyError(f"{exc.msg} (позиция {exc.pos})") from exc
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise BodyError(str(exc)[:200]) from exc
    except RecursionError as exc:
        raise BodyError("слишком глубокая вложенность") from exc
    if not isinstance(value, dict):  # pragma: no cover - raw_decode from "{" gives an object
        raise BodyError("тело запроса не JSON-объект")
    return value


class Fields:
    """A JSON object whose property names match without regard to case."""

    def __init__(self, data: dict[str, object], path: str = "", depth: int = 0) -> None:
        if depth > MAX_NESTING:
            raise FieldError(path, "слишком глубокая вложенность")
        self._path = path
        self._depth = depth
        self._data: dict[str, object] = {}
        for key, value in data.items():
            self._data.setdefault(str(key).lower(), value)  # the first spelling wins

    def _name(self, name: str) -> str:
        return f"{self._path}.{name}" if self._path else name

    def has(self, name: str) -> bool:
        """The property is present and not null."""
        return self._data.get(name.lower()) is not None

    def raw(self, name: str) -> object:
        """The value as decoded, None when absent."""
        return self._data.get(name.lower())

    def text(self, name: str, default: str = "") -> str:
        """A string; a number becomes its text, as KkmServer binds it."""
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return value
        if isinstance(value, int | Decimal):
            return str(value)
        raise FieldError(self._name(name), "ожидалась строка")

    def decimal(self, name: str, default: Decimal | None = None) -> Decimal | None:
        """A number; a numeric string (``"150.00"``, ``"150,00"``) becomes a number."""
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise FieldError(self._name(name), "ожидалось число, а не логическое значение")
        if isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, str):
            try:
                number = Decimal(value.strip().replace(",", "."))
            except InvalidOperation as exc:
                raise FieldError(self._name(name), f"не число: {value[:40]!r}") from exc
        else:
            raise FieldError(self._name(name), "ожидалось число")
        if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
            raise FieldError(self._name(name), "число вне допустимого диапазона")
        return number

    def integer(self, name: str, default: int | None = None) -> int | None:
        """A whole number (a numeric string too)."""
        number = self.decimal(name)
        if number is None:
            return default
        if number != number.to_integral_value():
            raise FieldError(self._name(name), "ожидалось целое число")
        return int(number)

    def boolean(self, name: str, *, default: bool = False) -> bool:
        """``true``/``false``; ``0``/``1`` (also as strings) as KkmServer binds them."""
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int | Decimal) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in {"true", "false", "0", "1"}:
            return value.strip().lower() in {"true", "1"}
        raise FieldError(self._name(name), "ожидалось логическое значение (true/false)")

    def obj(self, name: str) -> Fields | None:
        """A nested object, None when absent."""
        value = self.raw(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise FieldError(self._name(name), "ожидался объект")
        return Fields(value, self._name(name), self._depth + 1)

    def objects(self, name: str) -> list[Fields]:
        """An array of objects; null elements are dropped, as KkmServer drops them."""
        value = self.raw(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise FieldError(self._name(name), "ожидался массив")
        items: list[Fields] = []
        for index, element in enumerate(value):
            if element is None:
                continue
            if not isinstance(element, dict):
                raise FieldError(f"{self._name(name)}[{index}]", "ожидался объект")
            items.append(Fields(element, f"{self._name(name)}[{index}]", self._depth + 1))
        return items
