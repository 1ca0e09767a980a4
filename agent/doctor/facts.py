"""What the doctor gathered about the agent, the register, the disk and the broker.

Plain frozen values with no behaviour: :mod:`agent.doctor.gather` fills them in (from the
running agent's health, or from the register itself), :mod:`agent.doctor.checks` judges them.
A field is None where it could not be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

__all__ = [
    "AgentFacts",
    "BrokerFacts",
    "BrokerOutcome",
    "DiskFacts",
    "Facts",
    "FnFacts",
    "Limits",
    "PortFacts",
    "PortKind",
    "PortOutcome",
    "RegisterFacts",
    "RegisterOutcome",
    "ShiftFacts",
    "Source",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentFacts:
    """The agent service: its local HTTP API, or a process of it that does not answer."""

    url: str  # the health URL asked
    is_answering: bool
    state: str | None = None  # health "state": online, degraded
    version: str | None = None
    pid: int | None = None  # a `fiscal-agent run` of this config found running, not answering
    detail: str | None = None  # why it did not answer


class PortKind(Enum):
    """How the register is attached: a device file, a TCP address, another pyserial URL.

    ATOL: the web server of ATOL's driver v10, an http(s) URL. SmartOne: the cash box's own
    local HTTP API (port 8008).
    """

    DEVICE = "device"
    TCP = "tcp"
    WEB_SERVER = "web_server"
    CASHBOX = "cashbox"
    OTHER = "other"


class PortOutcome(Enum):
    """What the port check found."""

    OK = "ok"
    IN_USE_BY_AGENT = "in_use_by_agent"  # the running agent talks to the register through it
    MISSING = "missing"
    NO_PERMISSION = "no_permission"
    UNREACHABLE = "unreachable"  # TCP: nothing accepts a connection; web server: no answer
    NOT_ATOL = "not_atol"  # an HTTP answer, but not the one ATOL's web server gives
    NOT_SMARTONE = "not_smartone"  # an HTTP answer, but not a SmartOne cash box's JSON
    NOT_CHECKED = "not_checked"  # a URL of a kind the doctor cannot probe


@dataclass(frozen=True, slots=True, kw_only=True)
class PortFacts:
    """The register's port (``[register] url``)."""

    url: str
    kind: PortKind
    outcome: PortOutcome
    user: str | None = None  # the user the doctor runs as (permissions are this user's)
    detail: str | None = None
    version: str | None = None  # ATOL's web server: the driver version it reports


class Source(Enum):
    """Where the register's facts came from."""

    AGENT = "agent"  # the running agent's health (it holds the port)
    PORT = "port"  # the doctor opened the port with the agent's driver


class RegisterOutcome(Enum):
    """Whether the register answered, and if not, why."""

    OK = "ok"
    NO_ANSWER = "no_answer"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an outcome, not a password
    GARBLED = "garbled"  # answers failed their checksum or made no sense
    REFUSED = "refused"  # the register answered a status read with another error
    PORT_FAILED = "port_failed"  # the port could not be opened
    BAD_SETTINGS = "bad_settings"  # the driver cannot be built from [register]
    HELD_BY_AGENT = "held_by_agent"  # an agent process holds the port but does not answer
    NOT_READ = "not_read"  # the port check failed, so the register was not asked


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftFacts:
    """The register's shift, on the register's clock."""

    is_open: bool
    is_expired: bool  # the register itself says: open more than 24 hours, locked
    number: int | None = None
    age: timedelta | None = None  # since the open-shift document, when it was found


@dataclass(frozen=True, slots=True, kw_only=True)
class FnFacts:
    """The fiscal storage: its expiry and what the OFD has not confirmed yet."""

    valid_until: date | None = None
    days_left: int | None = None  # from the register's date
    unsent_docs: int | None = None
    oldest_unsent_age: timedelta | None = None  # on the register's clock


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterFacts:
    """The register: whether it answered, and what it said."""

    outcome: RegisterOutcome
    source: Source | None = None
    detail: str | None = None  # the error's own text, for support
    code: str | None = None  # the error's public code (docs/errors.md), when one was raised
    model: str | None = None
    serial: str | None = None
    has_paper: bool | None = None
    shift: ShiftFacts | None = None
    fn: FnFacts | None = None
    clock_skew_s: float | None = None  # the register's clock minus this host's; + is ahead


@dataclass(frozen=True, slots=True, kw_only=True)
class DiskFacts:
    """Free space where the agent keeps its SQLite file."""

    path: str  # state_dir, or the nearest existing directory above it
    free_bytes: int | None
    detail: str | None = None


class BrokerOutcome(Enum):
    """What connecting to the broker found."""

    OK = "ok"
    CONNECTED_VIA_AGENT = "connected_via_agent"  # the running agent says it is connected
    UNREACHABLE = "unreachable"
    SERVER_CERT_EXPIRED = "server_cert_expired"
    SERVER_CERT_UNTRUSTED = "server_cert_untrusted"
    SERVER_NAME_MISMATCH = "server_name_mismatch"
    CLIENT_CERT_EXPIRED = "client_cert_expired"  # the broker refused ours: expired
    CLIENT_CERT_REFUSED = "client_cert_refused"  # the broker refused ours (or wanted one)
    TLS_FILES = "tls_files"  # [mqtt] ca/cert/key cannot be loaded
    TLS_FAILED = "tls_failed"  # any other handshake failure


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerFacts:
    """The MQTT broker of ``[mqtt] url``."""

    url: str
    host: str
    port: int
    is_tls: bool
    outcome: BrokerOutcome
    detail: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """Everything the checks judge."""

    config_path: str
    agent: AgentFacts
    port: PortFacts
    register: RegisterFacts
    disk: DiskFacts
    broker: BrokerFacts


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Where a check turns from PASS to WARN or FAIL."""

    shift_max_age: timedelta  # [shift] max_age: the guard closes the shift at this age
    shift_lock: timedelta = timedelta(hours=24)  # the FN refuses receipts past it
    fn_warn_days: int = 30
    ofd_warn_age: timedelta = timedelta(days=5)
    ofd_block_age: timedelta = timedelta(days=30)  # the FN blocks the register
    disk_warn_bytes: int = 200 * 1024 * 1024
    disk_fail_bytes: int = 20 * 1024 * 1024
    clock_warn_s: float = 60.0
    clock_fail_s: float = 300.0  # the FN refuses documents this far off
