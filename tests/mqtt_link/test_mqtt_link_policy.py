"""The MQTT link's pieces that need no broker: protocol fallback, backoff, settings, errors."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
import structlog

from mqtt_link import (
    LinkDown,
    LinkSettings,
    MqttLink,
    Protocol,
    TlsSetupFailed,
    build_ssl_context,
)
from mqtt_link.policy import NextAttempt, Outcome, backoff_delay, next_attempt
from tests.support.processes import free_port

_SECRET = "pw-5e3"  # noqa: S105 - a made-up password for the repr check


@pytest.mark.parametrize(
    ("tried", "outcome", "expected"),
    [
        pytest.param(
            Protocol.V5,
            Outcome.PROTOCOL_REFUSED,
            NextAttempt(Protocol.V311, is_immediate=True),
            id="v5-connack-0x84",
        ),
        pytest.param(
            Protocol.V5,
            Outcome.CLOSED_EARLY,
            NextAttempt(Protocol.V311, is_immediate=True),
            id="v5-closed-before-connack",
        ),
        pytest.param(
            Protocol.V5,
            Outcome.NO_CONNACK,
            NextAttempt(Protocol.V311, is_immediate=True),
            id="v5-swallowed",
        ),
        pytest.param(
            Protocol.V311,
            Outcome.PROTOCOL_REFUSED,
            NextAttempt(Protocol.V5, is_immediate=False),
            id="v311-refused-back-to-v5",
        ),
        pytest.param(
            Protocol.V311,
            Outcome.CLOSED_EARLY,
            NextAttempt(Protocol.V5, is_immediate=False),
            id="v311-closed-back-to-v5",
        ),
        pytest.param(
            Protocol.V5,
            Outcome.REFUSED,
            NextAttempt(Protocol.V5, is_immediate=False),
            id="v5-bad-credentials",
        ),
        pytest.param(
            Protocol.V5,
            Outcome.UNREACHABLE,
            NextAttempt(Protocol.V5, is_immediate=False),
            id="v5-unreachable",
        ),
        pytest.param(
            Protocol.V311,
            Outcome.UNREACHABLE,
            NextAttempt(Protocol.V311, is_immediate=False),
            id="v311-kept-when-unreachable",
        ),
        pytest.param(
            Protocol.V311,
            Outcome.LOST,
            NextAttempt(Protocol.V311, is_immediate=False),
            id="v311-kept-when-lost",
        ),
        pytest.param(
            Protocol.V311,
            Outcome.CONNECTED,
            NextAttempt(Protocol.V311, is_immediate=False),
            id="v311-remembered",
        ),
    ],
)
def test_policy_next_attempt(tried: Protocol, outcome: Outcome, expected: NextAttempt) -> None:
    """Only a refusal of v5 switches to 3.1.1 at once; a refusal of 3.1.1 goes back to v5 after the backoff."""
    assert next_attempt(tried, outcome) == expected


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        pytest.param(Outcome.PROTOCOL_REFUSED, Protocol.V311, id="explicit-0x84-still-switches"),
        pytest.param(Outcome.NO_CONNACK, Protocol.V5, id="hung-broker-keeps-v5"),
        pytest.param(Outcome.CLOSED_EARLY, Protocol.V5, id="closing-broker-keeps-v5"),
    ],
)
def test_policy_next_attempt_once_v5_worked(outcome: Outcome, expected: Protocol) -> None:
    """After v5 worked, only an explicit refusal switches: a hung broker does not talk it down."""
    assert next_attempt(Protocol.V5, outcome, has_v5_worked=True).protocol is expected


def test_policy_backoff_grows_with_jitter_within_bounds() -> None:
    """Delays stay within [min, max], grow with failures, and are not all the same."""
    rng = random.Random(7)
    for failures in range(40):
        ceiling = min(60.0, 0.5 * 2**failures)
        delays = [backoff_delay(failures, min_s=0.5, max_s=60.0, rng=rng) for _ in range(50)]
        assert all(0.5 <= delay <= ceiling for delay in delays)
        if failures >= 1:
            assert len(set(delays)) > 1
    late = [backoff_delay(30, min_s=0.5, max_s=60.0, rng=rng) for _ in range(200)]
    assert max(late) > 30  # the cap is reached, not just approached from below


def test_settings_url_and_defaults() -> None:
    """Ports default by scheme; the password never shows in repr."""
    plain = LinkSettings(url="mqtt://broker.local", client_id="desk-1")
    assert (plain.host, plain.port, plain.is_tls) == ("broker.local", 1883, False)
    assert (plain.keepalive_s, plain.session_expiry_s) == (30, 7 * 24 * 3600)
    assert (plain.backoff_min_s, plain.backoff_max_s) == (0.5, 60.0)
    tls = LinkSettings(url="mqtts://10.0.0.5", client_id="desk-1", username="u", password=_SECRET)
    assert (tls.port, tls.is_tls) == (8883, True)
    assert _SECRET not in repr(tls)
    assert LinkSettings(url="mqtt://h:1999", client_id="c").port == 1999


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"url": "http://h"}, "scheme", id="scheme"),
        pytest.param({"url": "mqtt://"}, "no host", id="no-host"),
        pytest.param({"url": "mqtt://h:99999"}, "out of range", id="port"),
        pytest.param({"client_id": ""}, "client id", id="client-id"),
        pytest.param({"password": "x"}, "username", id="password-alone"),
        pytest.param({"backoff_min_s": 0}, "backoff", id="backoff-zero"),
        pytest.param({"backoff_min_s": 5, "backoff_max_s": 1}, "backoff", id="backoff-order"),
        pytest.param({"keepalive_s": 0}, "keepalive", id="keepalive"),
    ],
)
def test_settings_refuse_nonsense(overrides: dict[str, object], message: str) -> None:
    """Bad settings fail at construction with what is wrong."""
    values: dict[str, object] = {"url": "mqtt://h", "client_id": "c", **overrides}
    with pytest.raises(ValueError, match=message):
        LinkSettings(**values)  # type: ignore[arg-type]


def test_settings_tls_context(tmp_path: Path) -> None:
    """mqtt:// has no TLS context; mqtts:// verifies host names; unusable files fail early."""
    assert build_ssl_context(LinkSettings(url="mqtt://h", client_id="c")) is None
    context = build_ssl_context(LinkSettings(url="mqtts://h", client_id="c"))
    assert context is not None
    assert context.check_hostname
    missing = tmp_path / "missing.pem"
    with pytest.raises(TlsSetupFailed, match=r"missing\.pem"):
        build_ssl_context(LinkSettings(url="mqtts://h", client_id="c", ca_file=missing))
    with pytest.raises(TlsSetupFailed, match="cert_file"):
        build_ssl_context(LinkSettings(url="mqtts://h", client_id="c", key_file=missing))


async def test_link_publish_without_run_is_link_down() -> None:
    """Publishing on a link that never ran raises LinkDown naming the topic; stop() is harmless."""
    link = MqttLink(LinkSettings(url="mqtt://127.0.0.1:1", client_id="c"))
    assert not link.is_connected
    with pytest.raises(LinkDown, match=r"not running; nothing was published to evt/receipt"):
        await link.publish("evt/receipt", b"{}")
    await link.stop()
    with pytest.raises(LinkDown, match="stopped"):
        await link.publish("evt/receipt", b"{}")


async def test_link_keeps_trying_a_broker_that_is_not_there() -> None:
    """No broker: run() does not raise, logs each failed attempt once at warning, and stops on stop()."""
    url = f"mqtt://127.0.0.1:{free_port()}"
    with structlog.testing.capture_logs() as logs:
        link = MqttLink(
            LinkSettings(url=url, client_id="lonely", backoff_min_s=0.02, backoff_max_s=0.05)
        )
        task = asyncio.create_task(link.run())
        with pytest.raises(LinkDown, match="refused"):
            await link.wait_connected(0.5)
        assert not task.done()
        await link.stop()
        await task
    failures = [entry for entry in logs if entry["event"] == "mqtt_connect_failed"]
    assert len(failures) >= 3
    assert {entry["log_level"] for entry in failures} == {"warning"}
    assert all("refused" in entry["reason"].lower() for entry in failures)
    assert [entry["failures"] for entry in failures] == list(range(1, len(failures) + 1))
    assert {entry["log_level"] for entry in logs} <= {"debug", "info", "warning"}
