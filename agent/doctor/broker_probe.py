"""Can this computer reach the broker of ``[mqtt] url``: TCP, and for mqtts:// TLS.

For ``mqtts://`` the handshake uses the TLS context the agent itself builds from ``[mqtt] ca``,
``cert`` and ``key`` (:func:`mqtt_link.settings.build_ssl_context`), so an expired
or untrusted certificate shows here as it would stop the agent. A broker that refuses the
client's certificate says so with a TLS alert; under TLS 1.3 the alert comes after the
client's side of the handshake is done, so the probe waits a moment for it. No MQTT packet
is sent: a CONNECT under the agent's client id would throw the running agent off the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
from typing import Final
from urllib.parse import urlsplit

from agent.adapters.mqtt.service import link_settings
from agent.config import AgentConfig
from agent.doctor.facts import BrokerFacts, BrokerOutcome
from mqtt_link.errors import TlsSetupFailed
from mqtt_link.settings import DEFAULT_PORTS, build_ssl_context

__all__ = [
    "BROKER_ALERT_WAIT_S",
    "BROKER_TIMEOUT_S",
    "broker_address",
    "classify_tls_error",
    "os_reason",
    "probe_broker",
]

BROKER_TIMEOUT_S: Final = 5.0
"""How long the TCP connect and the TLS handshake may take, each."""
BROKER_ALERT_WAIT_S: Final = 1.0
"""How long to wait after the handshake for the broker's verdict on our certificate."""

_X509_CERT_HAS_EXPIRED: Final = 10
_X509_CERT_NOT_YET_VALID: Final = 9
_X509_HOSTNAME_MISMATCH: Final = 62
_X509_IP_MISMATCH: Final = 64
_EXPIRED_CODES: Final = frozenset({_X509_CERT_HAS_EXPIRED, _X509_CERT_NOT_YET_VALID})
_NAME_CODES: Final = frozenset({_X509_HOSTNAME_MISMATCH, _X509_IP_MISMATCH})
_CLIENT_CERT_REFUSALS: Final = (
    "UNKNOWN_CA",
    "BAD_CERTIFICATE",
    "CERTIFICATE_REQUIRED",
    "UNSUPPORTED_CERTIFICATE",
    "CERTIFICATE_REVOKED",
    "CERTIFICATE_UNKNOWN",
    "ACCESS_DENIED",
)


def os_reason(exc: OSError) -> str:
    """An OS error in words: "Connection refused", "Name or service not known", ..."""
    if isinstance(exc, socket.gaierror) or not exc.errno or exc.errno < 0:
        return exc.strerror or str(exc)
    return os.strerror(exc.errno)


def classify_tls_error(exc: ssl.SSLError) -> tuple[BrokerOutcome, str]:
    """An SSL error of the handshake (or the alert after it) as a finding and its detail."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        detail = exc.verify_message or str(exc)
        if code in _EXPIRED_CODES:
            return BrokerOutcome.SERVER_CERT_EXPIRED, detail
        if code in _NAME_CODES:
            return BrokerOutcome.SERVER_NAME_MISMATCH, detail
        return BrokerOutcome.SERVER_CERT_UNTRUSTED, detail
    reason = (exc.reason or "").upper()
    detail = exc.reason or str(exc)
    if "CERTIFICATE_EXPIRED" in reason:
        return BrokerOutcome.CLIENT_CERT_EXPIRED, detail
    if any(refusal in reason for refusal in _CLIENT_CERT_REFUSALS):
        return BrokerOutcome.CLIENT_CERT_REFUSED, detail
    return BrokerOutcome.TLS_FAILED, detail


def broker_address(url: str) -> tuple[str, int, bool]:
    """Host, port (the scheme's default when the URL names none) and whether it is TLS."""
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme, DEFAULT_PORTS["mqtt"])
    return parts.hostname or "", port, parts.scheme == "mqtts"


async def probe_broker(config: AgentConfig) -> BrokerFacts:
    """Connect to the broker (TCP, and TLS for mqtts://) and say what stood in the way."""
    url = config.mqtt.url
    host, port, is_tls = broker_address(url)

    def facts(outcome: BrokerOutcome, detail: str | None = None) -> BrokerFacts:
        return BrokerFacts(
            url=url, host=host, port=port, is_tls=is_tls, outcome=outcome, detail=detail
        )

    context: ssl.SSLContext | None = None
    if is_tls:
        try:
            context = build_ssl_context(link_settings(config, boot=0))
        except TlsSetupFailed as exc:
            where = f"{exc.path}: " if exc.path else ""
            return facts(BrokerOutcome.TLS_FILES, f"{where}{exc.reason}")
    return facts(*await _connect(host, port, context))


async def _connect(
    host: str, port: int, context: ssl.SSLContext | None
) -> tuple[BrokerOutcome, str | None]:
    try:
        async with asyncio.timeout(BROKER_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=context, server_hostname=host if context else None
            )
    except ssl.SSLError as exc:
        return classify_tls_error(exc)
    except TimeoutError:
        return BrokerOutcome.UNREACHABLE, f"no answer within {BROKER_TIMEOUT_S:g} s"
    except OSError as exc:
        return BrokerOutcome.UNREACHABLE, os_reason(exc)
    try:
        if context is not None:
            await _await_verdict(reader)
    except ssl.SSLError as exc:
        return classify_tls_error(exc)
    except OSError as exc:
        return BrokerOutcome.TLS_FAILED, os_reason(exc)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    return BrokerOutcome.OK, None


async def _await_verdict(reader: asyncio.StreamReader) -> None:
    """Wait a moment for the broker's alert on our certificate; silence means it took it.

    Raises:
        ssl.SSLError: the broker's alert.
        ConnectionError: the broker hung up without one.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(BROKER_ALERT_WAIT_S):
            data = await reader.read(1)  # an MQTT broker says nothing before CONNECT
            if not data:
                raise ConnectionResetError("the server closed the connection after the handshake")
