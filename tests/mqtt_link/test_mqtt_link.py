"""MqttLink against a real broker that each test starts (Mosquitto; amqtt where asked).

The peer on the other side is aiomqtt, a separate client library, so the link is not
checked against itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest
import structlog

from mqtt_link import Incoming, LinkDown, LinkSettings, MqttLink, Protocol, Will
from tests.support.broker import Broker, BrokerFactory, require_mosquitto

pytestmark = pytest.mark.broker

REPO = Path(__file__).resolve().parents[4]
_SECRET = "s3cret"  # noqa: S105 - the throwaway test broker's password file
_WRONG = "wrong-one"


def _settings(url: str, client_id: str | None = None, **overrides: object) -> LinkSettings:
    values: dict[str, object] = {
        "url": url,
        "client_id": client_id or f"agent-{uuid.uuid4().hex[:8]}",
        "keepalive_s": 5,
        "backoff_min_s": 0.05,
        "backoff_max_s": 0.2,
        "connect_timeout_s": 1.0,  # amqtt swallows a v5 CONNECT: this is its fallback time
    }
    values.update(overrides)
    return LinkSettings(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def _running(link: MqttLink) -> AsyncIterator[MqttLink]:
    task = asyncio.create_task(link.run(), name="test.mqtt-link")
    try:
        yield link
    finally:
        await link.stop()
        async with asyncio.timeout(3):
            await task


@contextlib.asynccontextmanager
async def _peer(broker: Broker, *subscriptions: str) -> AsyncIterator[aiomqtt.Client]:
    protocol = (
        aiomqtt.ProtocolVersion.V5 if broker.kind == "mosquitto" else aiomqtt.ProtocolVersion.V311
    )
    async with aiomqtt.Client(
        "127.0.0.1", broker.port, identifier=f"peer-{uuid.uuid4().hex[:8]}", protocol=protocol
    ) as client:
        for topic in subscriptions:
            await client.subscribe(topic, qos=1)
        yield client


async def _next(client: aiomqtt.Client, timeout_s: float = 3.0) -> aiomqtt.Message:
    async with asyncio.timeout(timeout_s):
        return await anext(client.messages)


async def _receive(link: MqttLink, timeout_s: float = 3.0) -> Incoming:
    async with asyncio.timeout(timeout_s):
        return await link.receive()


async def _until(predicate: object, timeout_s: float = 3.0) -> None:
    assert callable(predicate)
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("kind", ["mosquitto", "amqtt"])
async def test_link_round_trip(broker_factory: BrokerFactory, kind: str) -> None:
    """Connects (MQTT 5 to Mosquitto, 3.1.1 to amqtt), receives what a peer sends, publishes."""
    broker = broker_factory(kind=kind)
    link = MqttLink(_settings(broker.url, "agent-rt", subscriptions=("cmd/#",)))
    async with _running(link), _peer(broker, "evt/#") as peer:
        await link.wait_connected(5)
        assert link.protocol == (Protocol.V5 if kind == "mosquitto" else Protocol.V311)

        await peer.publish("cmd/receipt", b'{"id": "r1"}', qos=1)
        message = await _receive(link)
        assert (message.topic, message.payload, message.qos) == ("cmd/receipt", b'{"id": "r1"}', 1)
        assert not message.duplicate
        assert not message.retain
        assert message.connection == link.connection
        assert link.ack(message)

        await link.publish("evt/receipt", b'{"id": "r1", "status": "done"}')
        echoed = await _next(peer)
        assert (echoed.topic.value, echoed.payload) == (
            "evt/receipt",
            b'{"id": "r1", "status": "done"}',
        )
    if kind == "mosquitto":  # Mosquitto logs the protocol and clean start of each client
        assert "as agent-rt (p5, c0, k5)" in broker.log_tail(100)


async def test_link_publish_returns_only_after_puback(broker: Broker) -> None:
    """With the broker frozen (SIGSTOP) the publish waits; once it runs again the PUBACK ends it."""
    link = MqttLink(_settings(broker.url))
    async with _running(link):
        await link.wait_connected(3)
        assert broker.proc is not None
        os.kill(broker.proc.pid, signal.SIGSTOP)
        try:
            pending = asyncio.create_task(link.publish("evt/x", b"held"))
            await asyncio.sleep(0.3)
            assert not pending.done(), "publish returned with no PUBACK"
        finally:
            os.kill(broker.proc.pid, signal.SIGCONT)
        async with asyncio.timeout(3):
            await pending


async def test_link_publishes_a_window_of_fifty(broker: Broker) -> None:
    """200 QoS 1 publishes, 50 in flight at a time, all acknowledged and all delivered."""
    link = MqttLink(_settings(broker.url))
    window = asyncio.Semaphore(50)

    async def one(number: int) -> None:
        async with window:
            await link.publish("evt/bulk", str(number).encode())

    async with _running(link), _peer(broker, "evt/bulk") as peer:
        await link.wait_connected(3)
        async with asyncio.timeout(4):
            await asyncio.gather(*(one(number) for number in range(200)))
        got = [int((await _next(peer)).payload) for _ in range(200)]  # type: ignore[arg-type]
    assert sorted(got) == list(range(200))


async def test_link_unacked_delivery_comes_again_after_stop(broker: Broker) -> None:
    """A delivery not acked before stop() comes again (DUP) to the same client id; an acked one does not."""
    require_mosquitto("redelivery of an unacknowledged QoS 1 message on session resume", broker)
    settings = _settings(broker.url, subscriptions=("cmd/#",))
    async with _running(MqttLink(settings)) as link:
        await link.wait_connected(3)
        async with _peer(broker) as peer:
            await peer.publish("cmd/receipt", b"m1", qos=1)
        first = await _receive(link)
        assert (first.payload, first.duplicate) == (b"m1", False)

    async with _running(MqttLink(settings)) as link:
        again = await _receive(link)
        assert (again.payload, again.duplicate) == (b"m1", True)
        assert link.ack(again)

    async with _running(MqttLink(settings)) as link:
        await link.wait_connected(3)
        async with _peer(broker) as peer:
            await peer.publish("cmd/receipt", b"m2", qos=1)
        assert (await _receive(link)).payload == b"m2"


async def test_link_bounce_gets_the_delivery_again_on_a_new_connection(broker: Broker) -> None:
    """bounce() reconnects by itself; the unacked delivery comes again; the old one cannot be acked."""
    require_mosquitto("redelivery of an unacknowledged QoS 1 message on session resume", broker)
    link = MqttLink(_settings(broker.url, subscriptions=("cmd/#",)))
    async with _running(link), _peer(broker) as peer:
        await link.wait_connected(3)
        await peer.publish("cmd/receipt", b"m1", qos=1)
        first = await _receive(link)

        await link.bounce()
        assert not link.is_connected
        with pytest.raises(LinkDown):  # down until the next connection: never "connected" now
            await link.wait_connected(0.01)
        again = await _receive(link)
        assert (again.payload, again.duplicate) == (b"m1", True)
        assert again.connection > first.connection
        assert link.ack(first) is False  # its packet id means nothing on this connection
        assert link.ack(again) is True

        await link.bounce()
        await link.wait_connected(3)
        await peer.publish("cmd/receipt", b"m2", qos=1)
        assert (await _receive(link)).payload == b"m2"


async def test_link_persistent_session_gets_what_came_while_away(broker: Broker) -> None:
    """QoS 1 messages published while the link is stopped arrive, in order, when it is back."""
    require_mosquitto("QoS 1 messages queued for an absent persistent session", broker)
    settings = _settings(broker.url, subscriptions=("cmd/#",))
    sessions: list[bool] = []

    async def record(session_present: bool) -> None:
        sessions.append(session_present)

    first = MqttLink(settings)
    first.add_on_connect(record)
    async with _running(first):
        await first.wait_connected(3)
    async with _peer(broker) as peer:
        for number in range(3):
            await peer.publish("cmd/receipt", f"q{number}".encode(), qos=1)

    second = MqttLink(settings)
    second.add_on_connect(sessions.append)  # a plain function works too
    async with _running(second) as link:
        got = [await _receive(link) for _ in range(3)]  # they may come before the SUBACK
        await link.wait_connected(3)  # returns once the hooks ran
    assert [message.payload for message in got] == [b"q0", b"q1", b"q2"]
    assert sessions == [False, True]


async def test_link_queued_messages_survive_a_broker_restart(broker: Broker) -> None:
    """The test broker keeps sessions and queued QoS 1 messages across stop and start."""
    require_mosquitto("persistence of sessions across a broker restart", broker)
    settings = _settings(broker.url, subscriptions=("cmd/#",))
    async with _running(MqttLink(settings)) as link:
        await link.wait_connected(3)
    async with _peer(broker) as peer:
        await peer.publish("cmd/receipt", b"kept", qos=1)
    await asyncio.to_thread(broker.restart)
    async with _running(MqttLink(settings)) as link:
        assert (await _receive(link)).payload == b"kept"


async def test_link_reconnects_after_a_broker_restart(broker: Broker) -> None:
    """The broker goes away and comes back on its port: publish fails meanwhile, then works."""
    link = MqttLink(_settings(broker.url))
    async with _running(link):
        await link.wait_connected(3)
        before = link.connection
        await link.publish("evt/x", b"before")

        await asyncio.to_thread(broker.stop)
        await _until(lambda: not link.is_connected)
        with pytest.raises(LinkDown, match="evt/x"):
            await link.publish("evt/x", b"during")
        await asyncio.sleep(0.3)  # a few refused attempts; run() goes on

        await asyncio.to_thread(broker.start)
        await link.wait_connected(3)
        await link.publish("evt/x", b"after")
        assert link.connection > before + 1


@pytest.mark.timeout(12)
async def test_link_notices_a_hung_broker_and_stays_on_v5(broker: Broker) -> None:
    """A broker that stops answering (SIGSTOP) is noticed by the keepalive; the link comes back on v5."""
    require_mosquitto("MQTT 5 before and after the broker hangs", broker)
    link = MqttLink(_settings(broker.url, keepalive_s=1))
    async with _running(link):
        await link.wait_connected(3)
        assert broker.proc is not None
        os.kill(broker.proc.pid, signal.SIGSTOP)
        try:
            await _until(lambda: not link.is_connected, timeout_s=4)
            with pytest.raises(LinkDown):  # attempts meanwhile get no CONNACK
                await link.wait_connected(1.5)
        finally:
            os.kill(broker.proc.pid, signal.SIGCONT)
        await link.wait_connected(4)
        assert link.protocol is Protocol.V5
        await link.publish("evt/x", b"back")


async def test_link_publish_in_flight_fails_when_the_connection_drops(broker: Broker) -> None:
    """A publish waiting for its PUBACK raises LinkDown when the broker dies under it."""
    link = MqttLink(_settings(broker.url))
    async with _running(link):
        await link.wait_connected(3)
        assert broker.proc is not None
        os.kill(broker.proc.pid, signal.SIGSTOP)
        pending = asyncio.create_task(link.publish("evt/x", b"lost"))
        await asyncio.sleep(0.1)
        await asyncio.to_thread(broker.kill)
        with pytest.raises(LinkDown, match="not acknowledged"):
            async with asyncio.timeout(3):
                await pending


_WILL_SCRIPT = """
import asyncio, sys
import structlog
from mqtt_link import LinkSettings, MqttLink, Will

structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))

async def main():
    url, client_id, topic = sys.argv[1:4]
    link = MqttLink(LinkSettings(url=url, client_id=client_id, keepalive_s=5,
                                 connect_timeout_s=1.0,
                                 will=Will(topic=topic, payload=b"offline")))
    task = asyncio.create_task(link.run())
    await link.wait_connected(5)
    print("up", flush=True)
    await task

asyncio.run(main())
"""


@pytest.mark.timeout(10)
async def test_link_will_is_published_when_the_agent_dies(broker: Broker) -> None:
    """SIGKILL of a process with a connected link: the broker publishes its retained will."""
    topic = "fiscal/v1/club/desk/health"
    async with _peer(broker, topic) as peer:
        proc = subprocess.Popen(
            [sys.executable, "-c", _WILL_SCRIPT, broker.url, "agent-will", topic],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert proc.stdout is not None
            async with asyncio.timeout(6):
                line = await asyncio.to_thread(proc.stdout.readline)
            assert line.strip() == b"up"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()
        will = await _next(peer)
        assert (will.payload, will.retain) == (b"offline", False)  # live delivery
    async with _peer(broker, topic) as late:
        retained = await _next(late)
        assert (retained.payload, retained.retain) == (b"offline", True)


async def test_link_stop_publishes_final_and_sends_no_will(broker: Broker) -> None:
    """stop(final) publishes the final message, then a clean DISCONNECT: no will follows."""
    topic = "fiscal/v1/club/desk/health"
    link = MqttLink(_settings(broker.url, will=Will(topic=topic, payload=b"offline")))
    async with _peer(broker, topic) as peer:
        task = asyncio.create_task(link.run())
        await link.wait_connected(3)
        await link.stop(final=(topic, b"bye", True))
        await task
        assert (await _next(peer)).payload == b"bye"
        with pytest.raises(TimeoutError):
            await _next(peer, timeout_s=0.5)
    async with _peer(broker, topic) as late:
        assert (await _next(late)).payload == b"bye"


async def test_link_cancelled_run_drops_without_disconnect(broker: Broker) -> None:
    """Cancelling run() (not stop()) closes the socket abruptly, so the broker sends the will."""
    topic = "agents/desk/health"
    link = MqttLink(_settings(broker.url, will=Will(topic=topic, payload=b"offline")))
    async with _peer(broker, topic) as peer:
        task = asyncio.create_task(link.run())
        await link.wait_connected(3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await _next(peer)).payload == b"offline"
    await link.stop()


async def test_link_falls_back_to_3_1_1_when_the_broker_refuses_5(
    broker_factory: BrokerFactory,
) -> None:
    """amqtt does not take a v5 CONNECT: the link uses 3.1.1 and keeps it across reconnects."""
    broker = broker_factory(kind="amqtt")
    with structlog.testing.capture_logs() as logs:
        link = MqttLink(_settings(broker.url))
        async with _running(link):
            await link.wait_connected(5)
            assert link.protocol is Protocol.V311
            await link.bounce()
            await link.wait_connected(5)
            assert link.protocol is Protocol.V311
    switches = [entry for entry in logs if entry["event"] == "mqtt_protocol_switch"]
    assert len(switches) == 1, "the working protocol is remembered across reconnects"
    assert (switches[0]["tried"], switches[0]["next"]) == ("5", "3.1.1")
    connected = [entry["protocol"] for entry in logs if entry["event"] == "mqtt_connected"]
    assert connected == ["3.1.1", "3.1.1"]


async def test_link_tls_with_client_certificate_and_password(broker_factory: BrokerFactory) -> None:
    """mqtts:// with the test CA, a client certificate and a username from the password file."""
    broker = broker_factory(tls=True, users={"agent": _SECRET}, allow_anonymous=False)
    pki = broker.pki
    assert pki is not None
    settings = _settings(
        broker.tls_url,
        username="agent",
        password=_SECRET,
        ca_file=pki.ca_cert,
        cert_file=pki.client_cert,
        key_file=pki.client_key,
        subscriptions=("cmd/#",),
    )
    assert _SECRET not in repr(settings)
    async with _running(MqttLink(settings)) as link:
        await link.wait_connected(3)
        assert link.protocol is Protocol.V5
        await link.publish("cmd/self", b"over tls")
        message = await _receive(link)
        assert message.payload == b"over tls"
        assert link.ack(message)


async def test_link_password_file_refuses_a_wrong_password(broker_factory: BrokerFactory) -> None:
    """A wrong password is refused on the plain listener; the link logs it and keeps trying."""
    broker = broker_factory(users={"agent": _SECRET}, allow_anonymous=False)
    with structlog.testing.capture_logs() as logs:
        link = MqttLink(_settings(broker.url, username="agent", password=_WRONG))
        async with _running(link):
            with pytest.raises(LinkDown, match="refused the connection"):
                await link.wait_connected(0.8)
    failures = [entry for entry in logs if entry["event"] == "mqtt_connect_failed"]
    assert len(failures) >= 2
    assert all(entry["log_level"] == "warning" for entry in failures)
    assert not [entry for entry in logs if entry["log_level"] in {"error", "critical"}]
    assert _WRONG not in repr(logs)

    good = MqttLink(_settings(broker.url, username="agent", password=_SECRET))
    async with _running(good):
        await good.wait_connected(3)


async def test_link_tls_refuses_a_broker_the_ca_did_not_sign(broker_factory: BrokerFactory) -> None:
    """Verifying the broker against another CA fails the handshake; the reason says so."""
    broker = broker_factory(tls=True)
    pki = broker.pki
    assert pki is not None
    settings = _settings(
        broker.tls_url,
        ca_file=pki.other_ca_cert,
        cert_file=pki.client_cert,
        key_file=pki.client_key,
    )
    async with _running(MqttLink(settings)) as link:
        with pytest.raises(LinkDown, match="CERTIFICATE_VERIFY_FAILED"):
            await link.wait_connected(0.8)
