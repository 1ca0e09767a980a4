"""Value types every config section shares: durations, optional paths, ``host:port``.

Used by the section models in :mod:`agent.config` and :mod:`agent.config.adapters`; a bad
value raises a pydantic error that :func:`agent.config.load_config` turns into a
:class:`agent.config.ConfigError` naming the dotted key.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Final

from pydantic import BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

__all__ = [
    "SECTION",
    "Duration",
    "OptionalPath",
    "check_http_url",
    "check_listen",
    "empty_is_none",
    "parse_duration",
]

_DURATION = re.compile(r"\A(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?\Z")
_HTTP_URL = re.compile(r"\Ahttps?://[^\s/]+(/\S*)?\Z")
_LISTEN = re.compile(r"\A(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):(\d{1,5})\Z")

SECTION: Final = ConfigDict(extra="forbid", frozen=True)
"""Every section: an unknown key is an error, and the model is frozen."""


def parse_duration(value: object) -> timedelta:
    """``"23h30m"``, ``"15m"``, ``"90s"`` or an integer of seconds as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise PydanticCustomError("duration", "a duration must not be negative")
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match and any(match.groups()):
            hours, minutes, seconds = (int(part or 0) for part in match.groups())
            return timedelta(hours=hours, minutes=minutes, seconds=seconds)
    raise PydanticCustomError("duration", 'expected a duration such as "23h30m", "15m" or "90s"')


def empty_is_none(value: object) -> object:
    """An empty string (as an environment variable gives it) means "not set"."""
    return None if value == "" else value


def check_listen(value: str) -> str:
    """``host:port`` (``[::1]:8750`` for IPv6) with a port in 1..65535."""
    match = _LISTEN.match(value)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise PydanticCustomError(
            "listen", 'expected "host:port", such as "127.0.0.1:8750" or "[::1]:8750"'
        )
    return value


def check_http_url(value: str | None, example: str) -> str | None:
    """An http(s) URL (or unset); the error shows ``example`` as one that would do."""
    if value is not None and not _HTTP_URL.match(value):
        raise PydanticCustomError(
            "url",
            f'expected an http(s) URL such as "{example}"; got {{url}}',
            {"url": value},
        )
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
OptionalPath = Annotated[Path | None, BeforeValidator(empty_is_none)]
