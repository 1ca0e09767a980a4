"""The cloud's configuration: ``fiscal-cloud run --config cloud.toml`` (docs/contract.md).

One TOML file with the sections ``[mqtt]``, ``[store]``, ``[http]``, ``[auth]`` and ``[ofd]``;
every key can be overridden by ``FISCAL_CLOUD_<SECTION>_<KEY>`` (``FISCAL_CLOUD_STORE_URL``).
An unknown key or variable is an error, so a typo never goes unnoticed. The idea is the
agent's (its own config module); the code is the cloud's, which imports only the contract.

Access: with ``[auth]`` tokens every route but ``/healthz`` needs a bearer token; without them
the cloud serves only on a loopback address (:meth:`CloudConfig.check_access`).
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from cloud.fiscal_links import OfdTemplateInvalid, check_ofd_template

__all__ = [
    "CONFIG_PATH_ENV",
    "ENV_PREFIX",
    "AuthConfig",
    "CloudConfig",
    "ConfigError",
    "HttpConfig",
    "MqttConfig",
    "OfdConfig",
    "StoreConfig",
    "load_config",
]

ENV_PREFIX: Final = "FISCAL_CLOUD_"
CONFIG_PATH_ENV: Final = "FISCAL_CLOUD_CONFIG"
"""Not a key: the command line may read the file's path from it."""

_SECTION = ConfigDict(extra="forbid", frozen=True)
_LISTEN = re.compile(r"\A(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):(\d{1,5})\Z")
_MIN_TOKEN = 16


class ConfigError(Exception):
    """The configuration cannot be used: ``key`` names what, ``source`` the variable if any."""

    public_code = "config_invalid"

    def __init__(self, key: str, reason: str, *, source: str | None = None) -> None:
        self.key = key
        self.reason = reason
        self.source = source
        where = f" (from {source})" if source else ""
        super().__init__(f"{key}{where}: {reason}")


def _none_if_empty(value: object) -> object:
    return None if value == "" else value


def _check_listen(value: str) -> str:
    match = _LISTEN.match(value)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise ValueError('expected "host:port", such as "127.0.0.1:8760" or "[::1]:8760"')
    return value


def _listen_host(listen: str) -> str:
    return listen.rpartition(":")[0].strip("[]")


def _listen_port(listen: str) -> int:
    return int(listen.rpartition(":")[2])


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MqttConfig(BaseModel):
    """``[mqtt]``: the broker the agents publish to; with no ``url``, the cloud's own."""

    model_config = _SECTION

    url: str | None = None
    shared: bool = False
    """Several cloud instances: subscribe with ``$share/fiscal-cloud/...`` (MQTT 5) so they
    split the load. Off (one instance): plain subscriptions, whose persistent session the
    broker keeps across its own restarts; Mosquitto 2.0 does not restore an offline session's
    shared subscription and drops what arrives meanwhile (README, Known gaps)."""

    local_listen: str | None = "127.0.0.1:1883"
    """With no ``url``: where the cloud's own broker listens (cloud/local_broker.py), loopback
    only. Empty: no broker at all; the API serves what the store holds."""
    local_broker: Literal["auto", "mosquitto", "amqtt"] = "auto"
    """Which broker of its own: Mosquitto where the machine has it, else amqtt (``auto``)."""
    local_dir: str | None = None
    """Mosquitto's config and persistence; default: beside the SQLite store, else
    /var/lib/fiscal-cloud/broker."""

    @field_validator("url", mode="before")
    @classmethod
    def _scheme(cls, value: object) -> object:
        value = _none_if_empty(value)
        if isinstance(value, str) and not value.startswith(("mqtt://", "mqtts://")):
            raise ValueError('expected "mqtt://host:port" or "mqtts://host:port"')
        return value

    @field_validator("local_listen", mode="before")
    @classmethod
    def _loopback_listen(cls, value: object) -> object:
        value = _none_if_empty(value)
        if isinstance(value, str):
            _check_listen(value)
            if not _is_loopback(_listen_host(value)):
                raise ValueError(
                    "the cloud's own broker lets anyone in without a password, so it listens "
                    "on a loopback address only; for agents on other machines run the shipped "
                    "broker (deploy/mosquitto) and set [mqtt] url"
                )
        return value

    @field_validator("local_dir", mode="before")
    @classmethod
    def _dir(cls, value: object) -> object:
        return _none_if_empty(value)

    @property
    def local_host(self) -> str:
        """The own broker's address, without brackets."""
        assert self.local_listen is not None
        return _listen_host(self.local_listen)

    @property
    def local_port(self) -> int:
        """The own broker's port."""
        assert self.local_listen is not None
        return _listen_port(self.local_listen)


class StoreConfig(BaseModel):
    """``[store]``: ``sqlite:///path`` (the default) or ``postgresql://user@host/db``."""

    model_config = _SECTION

    url: str = "sqlite:////var/lib/fiscal-cloud/cloud.db"

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError('expected "sqlite:///path" or "postgresql://user@host/db"')
        return value


class HttpConfig(BaseModel):
    """``[http]``: where the API listens."""

    model_config = _SECTION

    listen: str = "127.0.0.1:8760"

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        return _check_listen(value)

    @property
    def host(self) -> str:
        """The address to bind, without brackets."""
        return _listen_host(self.listen)

    @property
    def port(self) -> int:
        """The port to bind."""
        return _listen_port(self.listen)

    @property
    def loopback(self) -> bool:
        """True when only this machine can reach the address."""
        return _is_loopback(self.host)


class AuthConfig(BaseModel):
    """``[auth]``: the bearer tokens of the two roles (docs/contract.md, access)."""

    model_config = _SECTION

    crm_token: str | None = None
    support_token: str | None = None

    @field_validator("crm_token", "support_token", mode="before")
    @classmethod
    def _long_enough(cls, value: object) -> object:
        value = _none_if_empty(value)
        if isinstance(value, str) and len(value) < _MIN_TOKEN:
            raise ValueError(f"a token must be at least {_MIN_TOKEN} characters")
        return value

    @property
    def enabled(self) -> bool:
        """True when at least one token is set: every route but /healthz needs one."""
        return self.crm_token is not None or self.support_token is not None


class OfdConfig(BaseModel):
    """``[ofd]``: the link to a receipt at the OFD, with the QR string's fields."""

    model_config = _SECTION

    url_template: str | None = None

    @field_validator("url_template", mode="before")
    @classmethod
    def _valid(cls, value: object) -> object:
        value = _none_if_empty(value)
        if isinstance(value, str):
            try:
                check_ofd_template(value)
            except OfdTemplateInvalid as exc:
                raise ValueError(str(exc)) from exc
        return value


class CloudConfig(BaseModel):
    """The whole ``cloud.toml``."""

    model_config = _SECTION

    mqtt: MqttConfig = MqttConfig()
    store: StoreConfig = StoreConfig()
    http: HttpConfig = HttpConfig()
    auth: AuthConfig = AuthConfig()
    ofd: OfdConfig = OfdConfig()

    def check_access(self) -> None:
        """Refuse a non-loopback address without tokens.

        Raises:
            ConfigError: ``[http] listen`` is reachable from other machines and ``[auth]``
                sets no token.
        """
        if not self.auth.enabled and not self.http.loopback:
            raise ConfigError(
                "http.listen",
                f"{self.http.listen} is reachable from other machines: set [auth] crm_token "
                "and support_token, or listen on 127.0.0.1",
            )


def env_names() -> dict[str, tuple[str, str]]:
    """Every environment variable that overrides a key, with its (section, key)."""
    names: dict[str, tuple[str, str]] = {}
    for section, field in CloudConfig.model_fields.items():
        model = field.annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseModel)
        for key in model.model_fields:
            names[f"{ENV_PREFIX}{section}_{key}".upper()] = (section, key)
    return names


def load_config(path: Path | None, env: Mapping[str, str]) -> CloudConfig:
    """Read ``path`` (None: defaults only), apply ``FISCAL_CLOUD_*`` from ``env``, validate.

    Raises:
        ConfigError: naming the key and the reason.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError("config", f"cannot read {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError("config", f"{path} is not UTF-8 text") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("config", f"{path} is not valid TOML: {exc}") from exc
    names = env_names()
    sources: dict[str, str] = {}
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX) or var == CONFIG_PATH_ENV:
            continue
        target = names.get(var)
        if target is None:
            raise ConfigError(var, "unknown key: no configuration key has this variable name")
        section, key = target
        table = raw.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(section, "must be a table ([section])", source=var)
        table[key] = env[var]
        sources[f"{section}.{key}"] = var
    try:
        return CloudConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        key = ".".join(str(part) for part in first["loc"]) or "config"
        reason = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        reason = reason.removeprefix("Value error, ")
        raise ConfigError(key, reason, source=sources.get(key)) from exc
