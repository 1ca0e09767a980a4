"""The sections of the agent's ways in: ``[mqtt]``, ``[http]`` and ``[kkmserver]``.

Re-exported by :mod:`agent.config` (``from agent.config import KkmServerConfig`` keeps
working); docs/contract.md "Configuration" and docs/kkmserver.md describe the keys.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from agent.config.values import SECTION, Duration, OptionalPath, check_listen

__all__ = ["HttpConfig", "KkmServerConfig", "MqttConfig"]

_MQTT_SCHEMES = ("mqtt://", "mqtts://")


class MqttConfig(BaseModel):
    """``[mqtt]``: the broker. It may point nowhere: the agent works offline and catches up."""

    model_config = SECTION

    url: str = "mqtt://127.0.0.1:1883"
    username: str = ""
    password: SecretStr = SecretStr("")
    ca: OptionalPath = None
    cert: OptionalPath = None
    key: OptionalPath = None
    client_id: str = ""  # empty: "fiscal-agent-{club}-{agent}" (deploy/mosquitto/: the CN)
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    session_expiry_days: int = Field(default=7, ge=1, le=365)  # queued commands wait this long
    drain_rate: float = Field(default=200.0, gt=0)  # results/s when a backlog drains
    health_interval_s: float = Field(default=30.0, ge=1)

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(_MQTT_SCHEMES) or len(value) <= len("mqtts://"):
            raise PydanticCustomError("mqtt_url", "expected mqtt://host:port or mqtts://host:port")
        return value


class HttpConfig(BaseModel):
    """``[http]``: the local API."""

    model_config = SECTION

    listen: str = "127.0.0.1:8750"

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        return check_listen(value)

    @property
    def host(self) -> str:
        """The address to bind, without brackets."""
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        """The port to bind."""
        return int(self.listen.rpartition(":")[2])


_LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "::1", "localhost"})


class KkmServerConfig(BaseModel):
    """``[kkmserver]``: the KkmServer-compatible ``POST /Execute`` (docs/kkmserver.md).

    Absent from the file, it is off. KkmServer listens on every interface with no password;
    the agent refuses a ``listen`` off the loopback without a ``password``: on a club's LAN
    every customer's PC could otherwise print receipts. ``login`` is compared without regard
    to case, ``password`` exactly; an empty password with the login ``Admin`` accepts every
    request, as KkmServer's default install does (loopback only, see above).
    """

    model_config = SECTION

    listen: str = "127.0.0.1:5893"
    login: str = "Admin"
    password: SecretStr = SecretStr("")
    queue_limit: Duration = timedelta(seconds=30)
    """KkmServer's ``RemoveCommandInterval``: a command that has not reached the register
    this long after it was taken is withdrawn and answered Status 2."""
    shift_already_open_ok: bool = False
    """KkmServer's ``NoErrorOnOpenCloseShift``: OpenShift/CloseShift errors answer Status 0."""

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        return check_listen(value)

    @field_validator("queue_limit")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise PydanticCustomError("queue_limit", "queue_limit must be above zero")
        return value

    @model_validator(mode="after")
    def _password_off_loopback(self) -> KkmServerConfig:
        if self.host not in _LOOPBACK_HOSTS and not self.password.get_secret_value():
            raise PydanticCustomError(
                "kkmserver_open",
                "listen {listen} is reachable from other machines: set a password (every PC on"
                " the club's network could print receipts otherwise), or listen on 127.0.0.1",
                {"listen": self.listen},
            )
        return self

    @property
    def host(self) -> str:
        """The address to bind, without brackets."""
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        """The port to bind."""
        return int(self.listen.rpartition(":")[2])
