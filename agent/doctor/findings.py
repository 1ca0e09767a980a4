"""What a check says: a status, a one-line finding and advice, as messages still to translate.

A :class:`Msg` is an English msgid with its parameters; :mod:`agent.doctor.render` translates
it (``agent/doctor/locale/*.po``) and fills the parameters in the chosen language. Messages are
made only with :func:`msg` and :func:`nmsg` and string literals, so a test can find every
msgid in the source and hold the catalogs to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from types import MappingProxyType
from typing import TypeAlias

__all__ = [
    "CheckId",
    "Finding",
    "Msg",
    "Param",
    "Size",
    "Status",
    "msg",
    "nmsg",
]


class Status(Enum):
    """A check's verdict; SKIP: its facts could not be read because of another check's FAIL."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class CheckId(Enum):
    """The checks, in the order they are shown."""

    AGENT = "agent"
    PORT = "port"
    REGISTER = "register"
    FN = "fn"
    OFD = "ofd"
    SHIFT = "shift"
    PAPER = "paper"
    CLOCK = "clock"
    DISK = "disk"
    BROKER = "broker"


@dataclass(frozen=True, slots=True)
class Size:
    """A number of bytes, shown as MB or GB in the reader's language."""

    bytes: int


@dataclass(frozen=True, slots=True)
class Msg:
    """An English msgid with ``{name}`` parameters; ``plural`` and ``count`` pick a plural form."""

    text: str
    params: Mapping[str, Param] = field(default_factory=lambda: MappingProxyType({}))
    plural: str | None = None
    count: int | None = None


Param: TypeAlias = str | int | date | timedelta | Size | Msg
"""What a message's parameter may be: each kind is shown in the reader's language."""


def msg(text: str, /, **params: Param) -> Msg:
    """A message; ``text`` must be a string literal (the catalog test reads the source)."""
    return Msg(text, MappingProxyType(params))


def nmsg(singular: str, plural: str, count: int, /, **params: Param) -> Msg:
    """A message with a plural form chosen by ``count`` (also passed as ``{count}``)."""
    return Msg(singular, MappingProxyType({"count": count, **params}), plural, count)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One check's result: ``code`` is stable (for scripts and support), the texts are not."""

    check: CheckId
    status: Status
    code: str
    finding: Msg
    advice: tuple[Msg, ...] = ()
