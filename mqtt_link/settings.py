"""How the MQTT link connects: the broker's URL, the client's identity, TLS and timings."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from mqtt_link.errors import TlsSetupFailed
from mqtt_link.policy import Protocol

__all__ = [
    "DEFAULT_PORTS",
    "LinkSettings",
    "Will",
    "build_ssl_context",
]

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
"""The IANA ports of MQTT and MQTT over TLS, used when the URL names none."""

SESSION_EXPIRY_MAX_S = 0xFFFF_FFFF
"""The largest Session Expiry Interval MQTT 5 can carry (it means: never expires)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Will:
    """The message the broker publishes for us when the connection dies without DISCONNECT."""

    topic: str
    payload: bytes
    retain: bool = True
    qos: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkSettings:
    """Everything the link needs to reach the broker (``[mqtt]`` of the config).

    ``url`` is ``mqtt://host[:port]`` or ``mqtts://host[:port]`` (ports 1883 and 8883 by
    default). ``mqtts`` verifies the broker against ``ca_file``, or the system's CAs when it is
    None; ``cert_file`` and ``key_file`` authenticate the client by certificate.

    ``connect_timeout_s`` bounds each step of an attempt (TCP and TLS, the CONNACK, the
    SUBACK); it is also how long a v5 CONNECT waits for its CONNACK before the link tries
    3.1.1 (a broker may swallow a v5 CONNECT without an answer, see ``policy.py``).

    ``subscriptions_v311`` replaces ``subscriptions`` on a 3.1.1 connection when it is not
    None: shared subscriptions (``$share/group/filter``) are MQTT 5's, so a 3.1.1 connection
    subscribes to the plain filters instead.

    ``first_protocol`` is what the link tries first (then the policy of ``policy.py``): a
    client that needs nothing of MQTT 5 may start with 3.1.1, whose packets paho reads in
    half the time (no properties to decode on every PUBLISH).
    """

    url: str
    client_id: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 24 * 3600
    will: Will | None = None
    subscriptions: tuple[str, ...] = ()
    subscriptions_v311: tuple[str, ...] | None = None
    first_protocol: Protocol = Protocol.V5
    backoff_min_s: float = 0.5
    backoff_max_s: float = 60.0
    connect_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in DEFAULT_PORTS:
            raise ValueError(f"MQTT url {self.url!r}: the scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise ValueError(f"MQTT url {self.url!r} names no host")
        _ = parts.port  # raises ValueError for a port that is not a number in 0..65535
        if not self.client_id:
            raise ValueError("the MQTT client id must not be empty")
        if self.password is not None and self.username is None:
            raise ValueError("an MQTT password needs a username")
        if self.keepalive_s <= 0:
            raise ValueError(f"keepalive_s must be positive, not {self.keepalive_s}")
        if not 0 <= self.session_expiry_s <= SESSION_EXPIRY_MAX_S:
            raise ValueError(f"session_expiry_s {self.session_expiry_s} is out of range")
        if not 0 < self.backoff_min_s <= self.backoff_max_s:
            raise ValueError(
                f"need 0 < backoff_min_s <= backoff_max_s, not "
                f"{self.backoff_min_s} and {self.backoff_max_s}"
            )
        if self.connect_timeout_s <= 0:
            raise ValueError(f"connect_timeout_s must be positive, not {self.connect_timeout_s}")

    @property
    def host(self) -> str:
        """The broker's host name or address."""
        host = urlsplit(self.url).hostname
        assert host is not None  # checked in __post_init__
        return host

    @property
    def port(self) -> int:
        """The broker's port: the URL's, or the scheme's default."""
        parts = urlsplit(self.url)
        return parts.port or DEFAULT_PORTS[parts.scheme]

    @property
    def is_tls(self) -> bool:
        """Whether the link runs over TLS (``mqtts://``)."""
        return urlsplit(self.url).scheme == "mqtts"


def build_ssl_context(settings: LinkSettings) -> ssl.SSLContext | None:
    """The TLS context of an ``mqtts://`` link (None for ``mqtt://``).

    It verifies the broker's certificate and host name against ``ca_file`` or the system's
    CAs, and presents ``cert_file``/``key_file`` when they are set.

    Raises:
        TlsSetupFailed: a file is missing or is not a usable CA, certificate or key.
    """
    if not settings.is_tls:
        return None
    try:
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
    except (OSError, ssl.SSLError) as exc:
        raise TlsSetupFailed(settings.ca_file, str(exc)) from exc
    if settings.cert_file is not None:
        try:
            context.load_cert_chain(settings.cert_file, settings.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise TlsSetupFailed(settings.cert_file, str(exc)) from exc
    elif settings.key_file is not None:
        raise TlsSetupFailed(settings.key_file, "a client key needs its certificate (cert_file)")
    return context
