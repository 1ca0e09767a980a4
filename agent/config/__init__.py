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
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args

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
from agent.config.country import country_defaults, country_mismatch, rate_keys_mismatch
from agent.config.register import (
    ATOL_DEFAULT_URL,
    AUTO_ZONE,
    DEFAULT_TAX_RATE_CODES,
    LEGACY_SHTRIH_KEYS,
    AtolConfig,
    LegacyKeyConflict,
    RegisterConfig,
    ShtrihConfig,
    move_legacy_keys,
)
from agent.config.smartone import SMARTONE_DEFAULT_URL, SmartOneConfig
from agent.config.values import SECTION as _SECTION
from agent.config.values import Duration, empty_is_none, parse_duration
from agent.contract import TaxSystemName
from agent.domain.country import CountryProfile, country_profile
from agent.domain.late import DEFAULT_LATE_POLICY, LatePolicy, parse_late_policy

__all__ = [
    "ATOL_DEFAULT_URL",
    "AUTO_ZONE",
    "DEFAULT_TAX_RATE_CODES",
    "ENV_PREFIX",
    "LEGACY_SHTRIH_KEYS",
    "SMARTONE_DEFAULT_URL",
    "AgentConfig",
    "AtolConfig",
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
    "ShtrihConfig",
    "SmartOneConfig",
    "TaxConfig",
    "WorkerConfig",
    "env_names",
    "load_config",
    "parse_duration",
]

ENV_PREFIX: Final = "FISCAL_AGENT_"
RESERVED_ENV: Final = frozenset({"FISCAL_AGENT_CONFIG"})
"""Variables with the prefix that are not config keys (the CLI's default config path)."""

MAX_SHIFT_AGE: Final = timedelta(hours=24)
"""The FN locks a shift older than 24 hours."""
DATABASE_FILE: Final = "agent.sqlite3"

_NAME = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
_HHMM = re.compile(r"\A([01]\d|2[0-3]):([0-5]\d)\Z")
_INN = re.compile(r"\A\d{10}(\d{2})?\Z")


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
    """``[tax]``: the tax system (tag 1055) for each category.

    Required in Russia (no safe default); refused where receipts carry no tax system
    (``country = "AZ"``, docs/country-profiles.md).
    """

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


def _keyed_error(key: str, reason: str) -> PydanticCustomError:
    """An error of the model as a whole that names the dotted key it is about."""
    return PydanticCustomError("config_key", "{reason}", {"config_key": key, "reason": reason})


class AgentConfig(BaseModel):
    """The whole agent configuration (docs/contract.md "Configuration", plus what the agent needs).

    docs/contract.md example::

        club = "club-1"
        agent = "desk-1"
        state_dir = "/var/lib/fiscal-agent"
        country = "RU"
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
    country: Literal["RU", "AZ"] = "RU"
    """Where the agent fiscalises: its VAT rates, requisites and protocols
    (:mod:`agent.domain.country`, docs/country-profiles.md)."""
    register: RegisterConfig
    shtrih: ShtrihConfig = ShtrihConfig()
    atol: AtolConfig = AtolConfig()
    smartone: SmartOneConfig = SmartOneConfig()
    mqtt: MqttConfig = MqttConfig()
    http: HttpConfig = HttpConfig()
    kkmserver: KkmServerConfig | None = None  # absent: no KkmServer-compatible API
    shift: ShiftConfig = ShiftConfig()
    tax: TaxConfig | None = None  # required in Russia, refused where there is no tag 1055
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

    @model_validator(mode="before")
    @classmethod
    def _v1_register_keys(cls, data: object) -> object:
        """v1's Shtrih keys under [register] are read as [shtrih]'s (load_config did it too)."""
        if isinstance(data, dict) and isinstance(data.get("register"), dict):
            data = {**data, "register": dict(data["register"])}
            if isinstance(data.get("shtrih"), dict):
                data["shtrih"] = dict(data["shtrih"])
            try:
                move_legacy_keys(data)
            except LegacyKeyConflict as exc:
                raise _keyed_error(exc.key, exc.reason) from exc
        return data

    @model_validator(mode="before")
    @classmethod
    def _country_rates(cls, data: object) -> object:
        """The tax rate codes the file gives name only rates of the country; its defaults.

        Checked on the keys as written: ``tax_rate_codes`` is filled with the Russian
        defaults after this, and those are the Shtrih table's rows, not the file's choice.
        """
        if not isinstance(data, dict):
            return data
        problem = rate_keys_mismatch(data)
        if problem is not None:
            raise _keyed_error(*problem)
        return country_defaults(data)

    @model_validator(mode="after")
    def _country_fits(self) -> AgentConfig:
        """``[tax]``, ``[register] protocol``, ``[cashier] inn`` and ``[receipts] late`` fit it."""
        problem = country_mismatch(
            self.profile,
            protocol=self.register.protocol,
            has_tax=self.tax is not None,
            cashier_inn=self.cashier.inn,
            late=self.receipts.late,
        )
        if problem is not None:
            raise _keyed_error(*problem)
        return self

    @model_validator(mode="after")
    def _register_url(self) -> AgentConfig:
        register = self.register
        if register.protocol == "shtrih" and register.url is None:
            raise _keyed_error(
                "register.url", "missing: the Shtrih register's port (a pyserial URL) is required"
            )
        if (
            register.protocol == "atol"
            and register.url is not None
            and self.atol.url is not None
            and register.url != self.atol.url
        ):
            raise _keyed_error(
                "register.url", "register.url and atol.url name two web servers; give it once"
            )
        if register.protocol == "smartone":
            if self.smartone.merchant_id is None:
                raise _keyed_error(
                    "smartone.merchant_id",
                    "missing: the SmartOne cashbox's merchant id (32 hex characters) is required",
                )
            if (
                register.url is not None
                and self.smartone.url is not None
                and register.url != self.smartone.url
            ):
                raise _keyed_error(
                    "register.url", "register.url and smartone.url name two cashboxes; give it once"
                )
        return self

    @property
    def smartone_url(self) -> str:
        """The SmartOne cashbox: ``[smartone] url``, else ``[register] url``, else the default."""
        return self.smartone.url or self.register.url or SMARTONE_DEFAULT_URL

    @property
    def profile(self) -> CountryProfile:
        """The profile of ``country``."""
        return country_profile(self.country)

    @property
    def atol_url(self) -> str:
        """The ATOL web server: ``[atol] url``, else ``[register] url``, else the default."""
        return self.atol.url or self.register.url or ATOL_DEFAULT_URL

    @property
    def register_address(self) -> str:
        """Where the register is, for logs and health: the port, or the ATOL web server."""
        if self.register.protocol == "atol":
            return self.atol_url
        if self.register.protocol == "smartone":
            return self.smartone_url
        assert self.register.url is not None  # required for shtrih (validated)
        return self.register.url

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
    for key in LEGACY_SHTRIH_KEYS:  # v1's names: FISCAL_AGENT_REGISTER_BAUDRATE still works
        names[f"{ENV_PREFIX}register_{key}".upper()] = ("register", key)
    return names


_TABLE_KEYS = frozenset(
    {
        ("register", "answer_timeout_s"),
        ("shtrih", "answer_timeout_s"),
        ("register", "tax_rate_codes"),
    }
)


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
        moved = move_legacy_keys(raw)
    except LegacyKeyConflict as exc:
        raise ConfigError(exc.key, exc.reason, source=sources.get(exc.key)) from exc
    for key in moved:  # an error about a moved key names it where the file wrote it
        if f"register.{key}" in sources:
            sources[f"shtrih.{key}"] = sources.pop(f"register.{key}")
    try:
        return AgentConfig.model_validate(raw)
    except ValidationError as exc:
        error = _config_error(exc, sources)
        section, _, rest = error.key.partition(".")
        if section == "shtrih" and rest.split(".")[0] in moved:
            raise ConfigError(f"register.{rest}", error.reason, source=error.source) from exc
        raise error from exc


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
    if first["type"] == "config_key":
        key = str((first.get("ctx") or {}).get("config_key", key))
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
