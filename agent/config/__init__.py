"""The agent's configuration: one TOML file, every key overridable from the environment.

``load_config(path, env)`` reads the file, applies ``FISCAL_AGENT_<SECTION>_<KEY>`` variables
(``FISCAL_AGENT_REGISTER_URL``, ``FISCAL_AGENT_CLUB``), and validates the result into a frozen
:class:`AgentConfig`. Anything wrong stops the start with a :class:`ConfigError` that names
the dotted key and the reason: a missing file, bad TOML (with its line), an unknown key, a
bad value. See ``examples/agent.toml`` for a complete commented file.

Environment values are strings, converted like the TOML value would be. The two tables
(``register.answer_timeout_s``, ``register.tax_rate_codes``) take a TOML inline table:
``FISCAL_AGENT_REGISTER_TAX_RATE_CODES='{vat22 = 1, vat10 = 2}'``. An unknown
``FISCAL_AGENT_*`` variable is an error too (a typo must not go unnoticed), except
``FISCAL_AGENT_CONFIG``, which the command line may use for the file's path.

Durations are written ``"23h30m"``, ``"15m"``, ``"90s"`` (or an integer of seconds).

The sections of the ways in (``[mqtt]``, ``[http]``, ``[kkmserver]``) live in
:mod:`agent.config.adapters`, the value types every section shares in
:mod:`agent.config.values`; both are re-exported here.
"""

from __future__ import annotations

import re
import tomllib
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from agent.config.adapters import HttpConfig, KkmServerConfig, MqttConfig
from agent.config.values import SECTION as _SECTION
from agent.config.values import Duration, empty_is_none, parse_duration
from agent.contract import TaxSystemName, VatName
from agent.domain.late import DEFAULT_LATE_POLICY, LatePolicy, parse_late_policy

__all__ = [
    "AUTO_ZONE",
    "DEFAULT_TAX_RATE_CODES",
    "ENV_PREFIX",
    "AgentConfig",
    "CashierConfig",
    "ConfigError",
    "DoctorConfig",
    "HttpConfig",
    "KkmServerConfig",
    "LogConfig",
    "MqttConfig",
    "OutboxConfig",
    "RegisterConfig",
    "ShiftConfig",
    "TaxConfig",
    "WorkerConfig",
    "env_names",
    "load_config",
    "parse_duration",
]

ENV_PREFIX: Final = "FISCAL_AGENT_"
AUTO_ZONE: Final = "auto"
"""``[register] tz`` value: measure the register's zone at connect (the default)."""
RESERVED_ENV: Final = frozenset({"FISCAL_AGENT_CONFIG"})
"""Variables with the prefix that are not config keys (the CLI's default config path)."""

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

MAX_SHIFT_AGE: Final = timedelta(hours=24)
"""The FN locks a shift older than 24 hours."""
DATABASE_FILE: Final = "agent.sqlite3"

_NAME = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
_HHMM = re.compile(r"\A([01]\d|2[0-3]):([0-5]\d)\Z")
_COMMAND = re.compile(r"\A(?:0x)?([0-9a-f]{2}|[0-9a-f]{4})\Z")
_INN = re.compile(r"\A\d{10}(\d{2})?\Z")
_BAUD_RATES = (2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


class ConfigError(Exception):
    """The configuration cannot be used; the agent does not start.

    ``key`` is the dotted key (``register.url``) or ``config`` for the file as a whole,
    ``source`` the environment variable the value came from, if it did.
    """

    def __init__(self, key: str, reason: str, *, source: str | None = None) -> None:
        self.key = key
        self.reason = reason
        self.source = source
        where = f"{key} (from {source})" if source else key
        super().__init__(f"{where}: {reason}")


def _parse_hhmm(value: object) -> object:
    if isinstance(value, str):
        match = _HHMM.match(value.strip())
        if not match:
            raise PydanticCustomError("time", 'expected a time of day "HH:MM", such as "04:30"')
        return time(int(match.group(1)), int(match.group(2)))
    return value


# docs/contract.md names a section [register]; pydantic warns because its metaclass (an ABCMeta)
# has a ``register`` method. Instances read the field as usual, so the warning is noise.
warnings.filterwarnings(
    "ignore", message='Field name "register" in "AgentConfig"', category=UserWarning
)


class RegisterConfig(BaseModel):
    """``[register]``: the fiscal register and how to talk to it."""

    model_config = _SECTION

    url: Annotated[str, Field(min_length=1)]
    """Any pyserial URL: ``/dev/ttyACM0``, ``/dev/pts/7``, ``socket://192.168.1.50:7778``."""
    protocol: Literal["shtrih"] = "shtrih"
    tz: str = AUTO_ZONE
    """The register's time zone: an IANA name (``Europe/Moscow``), or ``"auto"`` (the default):
    the register's offset from the host's UTC clock, measured at each connect and rounded to
    a quarter hour. A configured zone wins; health warns when the measurement disagrees."""
    baudrate: int = 115200
    operator_password: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 30
    """Password for receipts and cash; 30 (system administrator) is accepted by every
    command; set 1 to print as cashier 1 (passwords 1..28 are cashiers 1..28)."""
    admin_password: Annotated[int, Field(ge=0, le=0xFFFFFFFF)] = 30
    """Password for reports and FN commands: 30, the system administrator."""
    answer_timeout_s: dict[str, Annotated[float, Field(gt=0, le=600)]] = Field(default_factory=dict)
    """Per-command answer timeouts overriding the driver's table: ``{"0x41" = 90, "FF46" = 20}``."""
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

    @property
    def answer_timeouts(self) -> dict[int, float]:
        """``answer_timeout_s`` keyed by command code (``0x41``, ``0xFF46``)."""
        return {
            int(key.lower().removeprefix("0x"), 16): value
            for key, value in self.answer_timeout_s.items()
        }


MIN_GUARD_MARGIN = timedelta(minutes=1)
"""The smallest ``[shift] guard_margin`` accepted."""


class ShiftConfig(BaseModel):
    """``[shift]``: the 24-hour guard, on the register's clock.

    Before a receipt (and when idle) the guard closes the shift (Z report) and opens a new
    one once the shift is ``min(max_age, 24h - guard_margin)`` old, on the register's clock;
    or earlier, at ``quiet_hour``, once the shift is at least an hour old. So no receipt starts
    within ``guard_margin`` of the FN's 24-hour lock. ``guard_margin`` is at least a minute:
    the register's clock is read to the minute where the FN reports it.
    """

    model_config = _SECTION

    max_age: Duration = timedelta(hours=23, minutes=30)
    quiet_hour: Annotated[time | None, BeforeValidator(_parse_hhmm)] = None
    guard_margin: Duration = timedelta(minutes=15)

    @model_validator(mode="after")
    def _within_a_day(self) -> ShiftConfig:
        if not timedelta(0) < self.max_age <= MAX_SHIFT_AGE:
            raise PydanticCustomError("max_age", "max_age must be above 0 and at most 24h")
        if self.guard_margin >= self.max_age:
            raise PydanticCustomError("guard_margin", "guard_margin must be less than max_age")
        if self.guard_margin < MIN_GUARD_MARGIN:
            raise PydanticCustomError(
                "guard_margin",
                "guard_margin must be at least 1m: a receipt must never start in the FN's last"
                " minute before the 24-hour lock",
            )
        return self


class TaxConfig(BaseModel):
    """``[tax]``: the tax system (tag 1055) for each category. Required: no safe default."""

    model_config = _SECTION

    top_up: TaxSystemName
    service: TaxSystemName
    goods: TaxSystemName


def _late_policy(value: object) -> object:
    if isinstance(value, str):
        try:
            return parse_late_policy(value)
        except ValueError as exc:
            raise PydanticCustomError("late", str(exc)) from exc
    return value


class ReceiptsConfig(BaseModel):
    """``[receipts]``: how receipts printed after their payment are issued (docs/corrections.md).

    ``late = "other_shift"`` (default): a receipt whose ``paid_at`` is before the open shift
    was opened is printed as a correction receipt naming the payment's date; ``"never"``:
    always an ordinary receipt; ``"after:<duration>"`` (``"after:2h"``): a correction once
    the register's clock is more than the duration past ``paid_at``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    late: Annotated[LatePolicy, BeforeValidator(_late_policy)] = DEFAULT_LATE_POLICY


class CashierConfig(BaseModel):
    """``[cashier]``: the person on receipts that do not name one (tags 1021 / 1203)."""

    model_config = _SECTION

    name: Annotated[str, Field(min_length=1, max_length=64)] = "Administrator"
    inn: str | None = None

    @field_validator("inn")
    @classmethod
    def _inn_digits(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not _INN.match(value):
            raise PydanticCustomError("inn", "an INN is 10 or 12 digits")
        return value


class OutboxConfig(BaseModel):
    """``[outbox]``: the bound of the durable queue (see agent.outbox.store)."""

    model_config = _SECTION

    max_pending: Annotated[int, Field(ge=1)] = 10_000
    """New requests are refused once this many wait for the register."""
    retention_days: Annotated[int, Field(ge=1)] = 90
    """Final rows are pruned only when older than this AND delivered to the cloud."""

    @property
    def retention(self) -> timedelta:
        """``retention_days`` as a timedelta."""
        return timedelta(days=self.retention_days)


class WorkerConfig(BaseModel):
    """``[worker]``: retries of transient faults (RETRY errors) with backoff and jitter.

    Conditions the worker waits out (paper, link down) do not count as attempts. With no
    work, the worker checks the shift guard and refreshes health every ``idle_check_s``.
    """

    model_config = _SECTION

    retry_initial_s: Annotated[float, Field(gt=0)] = 1.0
    retry_max_s: Annotated[float, Field(gt=0)] = 60.0
    retry_attempts: Annotated[int, Field(ge=1)] = 10
    idle_check_s: Annotated[float, Field(gt=0, le=3600)] = 30.0

    @model_validator(mode="after")
    def _ordered(self) -> WorkerConfig:
        if self.retry_max_s < self.retry_initial_s:
            raise PydanticCustomError("retry_max_s", "retry_max_s must be at least retry_initial_s")
        return self


class LogConfig(BaseModel):
    """``[log]``: JSON lines under systemd, coloured key=value on a terminal (``auto``)."""

    model_config = _SECTION

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console", "auto"] = "auto"


class DoctorConfig(BaseModel):
    """``[doctor]``: the language of ``fiscal-agent doctor`` when ``--lang`` is not given.

    Unset, the doctor speaks the locale's language (``LANG``) if it is Russian or English,
    else English.
    """

    model_config = _SECTION

    lang: Annotated[Literal["ru", "en"] | None, BeforeValidator(empty_is_none)] = None


class AgentConfig(BaseModel):
    """The whole agent configuration (docs/contract.md "Configuration", plus what the agent needs).

    docs/contract.md example::

        club = "club-1"
        agent = "desk-1"
        state_dir = "/var/lib/fiscal-agent"
        [register]
        url = "/dev/ttyACM0"
        protocol = "shtrih"
        [mqtt]
        url = "mqtt://127.0.0.1:1883"
        username = ""
        [http]
        listen = "127.0.0.1:8750"
        [shift]
        max_age = "23h30m"
        [tax]
        top_up = "usn_income"
        service = "usn_income"
        goods = "usn_income"
        [cashier]
        name = "Administrator"
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    club: str
    agent: str
    state_dir: Path = Path("/var/lib/fiscal-agent")
    register: RegisterConfig
    mqtt: MqttConfig = MqttConfig()
    http: HttpConfig = HttpConfig()
    kkmserver: KkmServerConfig | None = None  # absent: no KkmServer-compatible API
    shift: ShiftConfig = ShiftConfig()
    tax: TaxConfig
    cashier: CashierConfig = CashierConfig()
    receipts: ReceiptsConfig = ReceiptsConfig()
    outbox: OutboxConfig = OutboxConfig()
    worker: WorkerConfig = WorkerConfig()
    log: LogConfig = LogConfig()
    doctor: DoctorConfig = DoctorConfig()

    @field_validator("club", "agent")
    @classmethod
    def _topic_safe(cls, value: str) -> str:
        if not _NAME.match(value):
            raise PydanticCustomError("name", "1..64 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @property
    def database_path(self) -> Path:
        """The SQLite file of the outbox and the sync queue."""
        return self.state_dir / DATABASE_FILE

    @property
    def topic_prefix(self) -> str:
        """``fiscal/v1/{club}/{agent}/``."""
        return f"fiscal/v1/{self.club}/{self.agent}/"


def env_names() -> dict[str, tuple[str, ...]]:
    """Every environment variable that overrides a key, with the key's path."""
    names: dict[str, tuple[str, ...]] = {}
    for name, field in AgentConfig.model_fields.items():
        section = field.annotation
        optional = [arg for arg in get_args(section) if arg is not type(None)]
        if len(optional) == 1:  # an optional section such as [kkmserver]
            section = optional[0]
        if isinstance(section, type) and issubclass(section, BaseModel):
            for key in section.model_fields:
                names[f"{ENV_PREFIX}{name}_{key}".upper()] = (name, key)
        else:
            names[f"{ENV_PREFIX}{name}".upper()] = (name,)
    return names


_TABLE_KEYS = frozenset({("register", "answer_timeout_s"), ("register", "tax_rate_codes")})


def load_config(path: Path, env: Mapping[str, str]) -> AgentConfig:
    """Read ``path``, apply ``FISCAL_AGENT_*`` overrides from ``env``, validate.

    Raises:
        ConfigError: naming the key and the reason; nothing is started with a bad config.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("config", f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("config", f"{path} is not UTF-8 text") from exc
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"{path} is not valid TOML: {exc}") from exc
    sources = _apply_env(raw, env)
    try:
        return AgentConfig.model_validate(raw)
    except ValidationError as exc:
        raise _config_error(exc, sources) from exc


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """Write the overrides into ``raw``; return dotted key → variable for error messages."""
    names = env_names()
    sources: dict[str, str] = {}
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX) or var in RESERVED_ENV:
            continue
        path = names.get(var)
        if path is None:
            raise ConfigError(var, "unknown key: no configuration key has this variable name")
        dotted = ".".join(path)
        value: object = env[var]
        if path in _TABLE_KEYS:
            value = _inline_table(dotted, env[var], var)
        target = raw
        for part in path[:-1]:
            section = target.setdefault(part, {})
            if not isinstance(section, dict):
                raise ConfigError(part, "must be a table ([section])", source=var)
            target = section
        target[path[-1]] = value
        sources[dotted] = var
    return sources


def _inline_table(dotted: str, text: str, var: str) -> dict[str, Any]:
    try:
        table = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            dotted, f"expected a TOML inline table such as {{vat22 = 1}}: {exc}", source=var
        ) from exc
    if not isinstance(table, dict):
        raise ConfigError(dotted, "expected a TOML inline table such as {vat22 = 1}", source=var)
    return table


def _config_error(exc: ValidationError, sources: Mapping[str, str]) -> ConfigError:
    first = exc.errors(include_url=False)[0]
    parts = [str(part) for part in first["loc"] if part != "[key]"]
    key = ".".join(parts) or "config"
    if first["type"] == "extra_forbidden":
        reason = "unknown key"
    elif first["type"] == "missing":
        reason = "missing: this key is required"
    else:
        reason = first["msg"]
    source = next(
        (var for dotted, var in sources.items() if key == dotted or key.startswith(f"{dotted}.")),
        None,
    )
    return ConfigError(key, reason, source=source)


DEFAULT_CONFIG_PATH: Final = Path("/etc/fiscal-agent/agent.toml")
"""Where deploy/install.sh puts the agent's settings."""
CONFIG_PATH_ENV: Final = "FISCAL_AGENT_CONFIG"


def config_path(given: Path | None, env: Mapping[str, str]) -> Path:
    """``--config`` when given, else ``$FISCAL_AGENT_CONFIG``, else /etc/fiscal-agent/agent.toml."""
    return given or Path(env.get(CONFIG_PATH_ENV) or DEFAULT_CONFIG_PATH)
