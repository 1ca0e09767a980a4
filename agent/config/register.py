"""``[register]`` and the protocol sections: ``[shtrih]`` and ``[atol]``.

``[register] protocol`` picks the driver (:func:`agent.drivers.factory.build_driver`); the
options of one protocol live in its own section. ``[register]`` keeps what every protocol
shares: ``url``, ``tz`` and ``tax_rate_codes``. ``url`` is the Shtrih register's pyserial URL
(required for ``shtrih``); for ``atol`` the driver's web server is ``[atol] url`` (the
default ``http://127.0.0.1:16732``), which ``[register] url`` may give instead.

v1 kept the Shtrih options under ``[register]``; those keys still work there
(:data:`LEGACY_SHTRIH_KEYS`): :func:`move_legacy_keys` moves them into ``[shtrih]`` before
validation, and a key given in both places is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError

from agent.config.values import SECTION, check_http_url, empty_is_none
from agent.contract import VatName

__all__ = [
    "ATOL_DEFAULT_URL",
    "AUTO_ZONE",
    "DEFAULT_TAX_RATE_CODES",
    "LEGACY_SHTRIH_KEYS",
    "PROTOCOLS",
    "AtolConfig",
    "LegacyKeyConflict",
    "RegisterConfig",
    "ShtrihConfig",
    "move_legacy_keys",
]

AUTO_ZONE: Final = "auto"
"""``[register] tz`` value: measure the register's zone at connect (the default)."""
PROTOCOLS: Final = ("shtrih", "atol", "smartone")
ATOL_DEFAULT_URL: Final = "http://127.0.0.1:16732"
"""Where ATOL's driver v10 runs its web server by default."""

DEFAULT_TAX_RATE_CODES: Final[Mapping[VatName, int]] = {
    "vat22": 1,
    "vat10": 2,
    "vat0": 3,
    "none": 4,
    "vat22_122": 5,
    "vat10_110": 6,
    "vat5": 7,
    "vat7": 8,
    "vat5_105": 9,
    "vat7_107": 10,
    "vat20": 11,
    "vat20_120": 12,
}
"""VAT name → row of the register's tax table, the FF46 tax byte (the simulator's default)."""

LEGACY_SHTRIH_KEYS: Final = ("baudrate", "operator_password", "admin_password", "answer_timeout_s")
"""v1's Shtrih keys under ``[register]``: still accepted there, read as ``[shtrih]``'s."""

_COMMAND = re.compile(r"\A(?:0x)?([0-9a-f]{2}|[0-9a-f]{4})\Z")
_BAUD_RATES = (2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


class LegacyKeyConflict(ValueError):
    """A v1 key under ``[register]`` that ``[shtrih]`` gives too (or a section that is no table)."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


def move_legacy_keys(raw: dict[str, Any]) -> tuple[str, ...]:
    """Move v1's Shtrih keys from ``raw["register"]`` into ``raw["shtrih"]``, in place.

    Returns the keys moved (their names under ``[shtrih]``), so that an error about one can
    name the key where the file wrote it. Raises :class:`LegacyKeyConflict` when a key is
    given in both places: which one is meant cannot be guessed.
    """
    register = raw.get("register")
    if not isinstance(register, dict):
        return ()
    present = [key for key in LEGACY_SHTRIH_KEYS if key in register]
    if not present:
        return ()
    shtrih = raw.setdefault("shtrih", {})
    if not isinstance(shtrih, dict):
        raise LegacyKeyConflict("shtrih", "must be a table ([shtrih])")
    for key in present:
        if key in shtrih:
            raise LegacyKeyConflict(
                f"register.{key}",
                f"given in both [register] and [shtrih]; keep it in [shtrih] only (shtrih.{key})",
            )
    for key in present:
        shtrih[key] = register.pop(key)
    return tuple(present)


class RegisterConfig(BaseModel):
    """``[register]``: which register, which protocol, its clock's zone and its tax table."""

    model_config = SECTION

    url: Annotated[str | None, BeforeValidator(empty_is_none), Field(min_length=1)] = None
    """Shtrih: any pyserial URL (``/dev/ttyACM0``, ``/dev/pts/7``,
    ``socket://192.168.1.50:7778``), required. ATOL: the driver's web server, instead of
    ``[atol] url``. SmartOne: the cashbox, instead of ``[smartone] url``."""
    protocol: Literal["shtrih", "atol", "smartone"] = "shtrih"
    tz: str = AUTO_ZONE
    """The register's time zone: an IANA name (``Europe/Moscow``), or ``"auto"`` (the default):
    the register's offset from the host's UTC clock, measured at each connect and rounded to
    a quarter hour. A configured zone wins; health warns when the measurement disagrees."""
    tax_rate_codes: dict[VatName, Annotated[int, Field(ge=1, le=255)]] = Field(
        default_factory=lambda: dict(DEFAULT_TAX_RATE_CODES)
    )
    """VAT name → tax table row (FF46 tax byte); keys given here replace the defaults'."""

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value == AUTO_ZONE:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PydanticCustomError(
                "time_zone",
                'unknown time zone {tz}; use an IANA name such as Europe/Moscow, or "auto"',
                {"tz": value},
            ) from exc
        return value

    @field_validator("tax_rate_codes", mode="before")
    @classmethod
    def _over_defaults(cls, value: object) -> object:
        if isinstance(value, Mapping):
            return {**DEFAULT_TAX_RATE_CODES, **value}
        return value

    @field_validator("tax_rate_codes")
    @classmethod
    def _distinct_rows(cls, value: dict[VatName, int]) -> dict[VatName, int]:
        rows: dict[int, str] = {}
        for name, row in value.items():
            if row in rows:
                raise PydanticCustomError(
                    "tax_rate_codes",
                    "{a} and {b} both map to tax table row {row}",
                    {"a": rows[row], "b": name, "row": row},
                )
            rows[row] = name
        return value

    @property
    def configured_zone(self) -> tzinfo | None:
        """The zone ``tz`` names; None for ``"auto"`` (the driver measures it at connect)."""
        return None if self.tz == AUTO_ZONE else ZoneInfo(self.tz)

    @property
    def zone(self) -> tzinfo:
        """The configured zone; the host's current offset for ``"auto"`` (before a connect)."""
        configured = self.configured_zone
        if configured is not None:
            return configured
        local = datetime.now(UTC).astimezone().tzinfo
        assert local is not None
        return local


class ShtrihConfig(BaseModel):
    """``[shtrih]``: a ШТРИХ-М register on a serial line (v1: these keys were in [register])."""

    model_config = SECTION

    baudrate: int = 115200
    operator_password: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 30
    """Password for receipts and cash; 30 (system administrator) is accepted by every
    command; set 1 to print as cashier 1 (passwords 1..28 are cashiers 1..28)."""
    admin_password: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 30
    """Password for reports and FN commands: 30, the system administrator."""
    answer_timeout_s: dict[str, Annotated[float, Field(gt=0, le=600)]] = Field(default_factory=dict)
    """Per-command answer timeouts overriding the driver's table: ``{"0x41" = 90, "FF46" = 20}``."""

    @field_validator("baudrate")
    @classmethod
    def _standard_baud(cls, value: int) -> int:
        if value not in _BAUD_RATES:
            raise PydanticCustomError(
                "baudrate", "not a baud rate the register supports: {rates}", {"rates": _BAUD_RATES}
            )
        return value

    @field_validator("answer_timeout_s")
    @classmethod
    def _command_codes(cls, value: dict[str, float]) -> dict[str, float]:
        for key in value:
            if not _COMMAND.match(key.lower()):
                raise PydanticCustomError(
                    "command_code",
                    'command codes are hex, "0x41" or "FF46"; got {key}',
                    {"key": key},
                )
        return value

    @property
    def answer_timeouts(self) -> dict[int, float]:
        """``answer_timeout_s`` keyed by command code (``0x41``, ``0xFF46``)."""
        return {
            int(key.lower().removeprefix("0x"), 16): value
            for key, value in self.answer_timeout_s.items()
        }


class AtolConfig(BaseModel):
    """``[atol]``: an ATOL register behind ATOL's driver v10 web server."""

    model_config = SECTION

    url: Annotated[str | None, BeforeValidator(empty_is_none)] = None
    """The web server, ``http://host:port``; unset: ``[register] url``, else
    :data:`ATOL_DEFAULT_URL`."""
    api: Literal["auto", "v2", "v1"] = "auto"
    """``v2``: ``/api/v2/requests``; ``v1``: the older ``/requests``; ``auto``: ask the server."""
    poll_interval_s: Annotated[float, Field(gt=0, le=60)] = 0.5
    """How often a task's result is asked for while it runs (the driver's default)."""
    task_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 120.0
    """How long a task may stay unfinished before the driver reports a timeout."""
    read_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    """The same for a request of reads only (status, FN, documents): they change nothing, so
    a reader gives up sooner (the queue may be held by a blocked task)."""
    request_timeout_s: Annotated[float, Field(gt=0, le=600)] = 10.0
    """One HTTP request's timeout."""
    username: Annotated[str | None, BeforeValidator(empty_is_none)] = None
    password: Annotated[SecretStr | None, BeforeValidator(empty_is_none)] = None
    tax_system: Annotated[str | None, BeforeValidator(empty_is_none)] = None
    """Optional: a taxation type in ATOL's own words, passed to the ATOL driver as is."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return check_http_url(value, "http://127.0.0.1:16732")
