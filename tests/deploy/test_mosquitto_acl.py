"""The broker as shipped: deploy/mosquitto/ under a real Mosquitto, certificates from its script.

One broker for the module, run with the shipped mosquitto.conf (paths and port replaced) and
the shipped acl plus the blocks make-certs.sh printed for the CRMs and the support tool.
Every client logs in with a certificate make-certs.sh made. "Cannot read" is checked by
delivery, never by the SUBACK alone (Mosquitto 2.0 grants any subscription and filters each
message by the read rules): a fence message the reader may see is published after the
broker acknowledged the one it must not see; Mosquitto routes a message before it
acknowledges it, so once the fence arrived the forbidden one would have arrived before it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from tests.support.broker import find_mosquitto
from tests.support.payloads import receipt
from tests.support.pki import has_openssl, make_pki
from tests.support.processes import Agent
from tests.support.shipped_broker import ShippedBroker, make_certs
from tests.support.tls_client import Identity, TlsClient

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]

NOT_AUTHORIZED = 0x87


def topic(club: str, agent: str, rest: str) -> str:
    return f"fiscal/v1/{club}/{agent}/{rest}"


A_CMD = topic("club-1", "desk-1", "cmd/receipt")
A_EVT = topic("club-1", "desk-1", "evt/receipt")
A_HEALTH = topic("club-1", "desk-1", "health")
B_CMD = topic("club-1", "desk-2", "cmd/receipt")
B_EVT = topic("club-1", "desk-2", "evt/receipt")
B_HEALTH = topic("club-1", "desk-2", "health")
C_CMD = topic("club-2", "desk-1", "cmd/receipt")


@dataclass(frozen=True)
class Site:
    """The running broker and the identities make-certs.sh made for it."""

    broker: ShippedBroker
    pki: Path
    foreign: Identity  # a client certificate from a CA the broker does not trust

    def agent(self, club: str, agent: str) -> Identity:
        return Identity.bundle(self.pki / "agents" / club / agent)

    def client(self, cn: str) -> Identity:
        return Identity.bundle(self.pki / "clients" / cn)

    def connect(self, identity: Identity, client_id: str = "", **kwargs: Any) -> TlsClient:
        return TlsClient(
            self.broker.url, identity, client_id or f"t-{uuid.uuid4().hex[:8]}", **kwargs
        ).connect()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if find_mosquitto() is None or not has_openssl():
        pytest.skip("the shipped broker needs Mosquitto and the openssl command")
    root = tmp_path_factory.mktemp("shipped")
    pki = root / "pki"
    make_certs(pki, "server", "localhost", "127.0.0.1")
    for club, agent in [("club-1", "desk-1"), ("club-1", "desk-2"), ("club-2", "desk-1")]:
        make_certs(pki, "agent", club, agent)
    make_certs(pki, "agent", "club-1", "desk-9")
    make_certs(pki, "revoke", "club-1/desk-9")
    blocks = "".join(
        make_certs(pki, *args).stdout
        for args in [("crm", "club-1"), ("crm", "club-2"), ("support", "alice")]
    )
    make_certs(pki, "cloud")  # its block is in the shipped acl already
    other = make_pki(root / "other-ca")
    broker = ShippedBroker(root / "broker", pki=pki, acl_blocks=blocks).start()
    try:
        yield Site(
            broker, pki, Identity(pki / "ca" / "ca.crt", other.client_cert, other.client_key)
        )
    finally:
        broker.stop()


def fresh() -> str:
    """A payload no earlier test sent."""
    return f'{{"id": "{uuid.uuid4().hex}"}}'


def test_agent_reads_its_commands_and_writes_its_events_and_health(site: Site) -> None:
    """The CRM's command reaches the agent; its result and retained health reach CRM and cloud."""
    agent = site.connect(site.agent("club-1", "desk-1"))
    crm = site.connect(site.client("crm:club-1"))
    cloud = site.connect(site.client("cloud"))
    try:
        assert not any(c.is_failure for c in agent.subscribe(topic("club-1", "desk-1", "cmd/#")))
        crm.subscribe(topic("club-1", "+", "evt/#"), topic("club-1", "+", "health"))
        cloud.subscribe("fiscal/v1/#")

        command, result, health = fresh(), fresh(), fresh()
        assert crm.publish(A_CMD, command).is_failure is False
        agent.wait_for(lambda: agent.on(A_CMD), what="the command at the agent")
        assert agent.on(A_CMD)[0].payload == command.encode()

        assert agent.publish(A_EVT, result).is_failure is False
        assert agent.publish(A_HEALTH, health, retain=True).is_failure is False
        for reader in (crm, cloud):
            reader.wait_for(lambda r=reader: r.on(A_HEALTH), what="the agent's health")
            assert [m.payload for m in reader.on(A_EVT)] == [result.encode()]
            assert reader.on(A_HEALTH)[-1].payload == health.encode()
        # The cloud keeps the CRM's own command stream, to match payments against documents.
        assert [m.payload for m in cloud.on(A_CMD)] == [command.encode()]
    finally:
        for client in (agent, crm, cloud):
            client.close()

    # Retained: a support tool that comes later reads the health as it stands.
    support = site.connect(site.client("support:alice"))
    try:
        support.subscribe(A_HEALTH)
        support.wait_for(lambda: support.on(A_HEALTH), what="the retained health")
        assert support.on(A_HEALTH)[0].payload == health.encode()
        assert support.on(A_HEALTH)[0].retain
    finally:
        support.close()


def test_agent_cannot_read_another_agents_commands(site: Site) -> None:
    """A subscribes to B's commands and to everything: B's command reaches B and never A."""
    a = site.connect(site.agent("club-1", "desk-1"))
    b = site.connect(site.agent("club-1", "desk-2"))
    crm = site.connect(site.client("crm:club-1"))
    try:
        codes = a.subscribe(topic("club-1", "desk-2", "cmd/#"), "fiscal/v1/#", "#")
        b.subscribe(topic("club-1", "desk-2", "cmd/#"))
        # Mosquitto 2.0 grants any subscription; a failure code would be as good. What counts
        # is that nothing is delivered.
        assert len(codes) == 3

        secret, fence = fresh(), fresh()
        crm.publish(B_CMD, secret)
        crm.publish(A_CMD, fence)
        b.wait_for(lambda: b.on(B_CMD), what="B's command at B")
        a.wait_for(lambda: a.on(A_CMD), what="the fence at A")
        assert secret.encode() not in a.payloads()
        # Once per matching subscription (Mosquitto delivers overlaps separately).
        assert set(a.payloads()) == {fence.encode()}, "A sees its own command and nothing else"
    finally:
        for client in (a, b, crm):
            client.close()


def test_agent_cannot_publish_another_agents_health_or_events(site: Site) -> None:
    """A's fake health and result for B are refused: B's retained health stands, nobody sees them."""
    b = site.connect(site.agent("club-1", "desk-2"))
    real = fresh()
    assert b.publish(B_HEALTH, real, retain=True).is_failure is False
    b.close()

    watcher = site.connect(site.client("support:alice"))
    crm = site.connect(site.client("crm:club-1"))
    a = site.connect(site.agent("club-1", "desk-1"))
    try:
        watcher.subscribe(topic("club-1", "+", "health"))
        crm.subscribe(topic("club-1", "+", "evt/#"))
        watcher.wait_for(lambda: watcher.on(B_HEALTH), what="B's retained health")

        fake, fence = fresh(), fresh()
        assert a.publish(B_HEALTH, fake, retain=True).value == NOT_AUTHORIZED
        assert a.publish(B_EVT, fake).value == NOT_AUTHORIZED
        assert a.publish(topic("club-1", "desk-2", "cmd/receipt"), fake).value == NOT_AUTHORIZED
        a.publish(A_HEALTH, fence, retain=True)
        a.publish(A_EVT, fence)
        watcher.wait_for(lambda: watcher.on(A_HEALTH), what="the fence on A's health")
        crm.wait_for(lambda: crm.on(A_EVT), what="the fence on A's results")
        assert fake.encode() not in watcher.payloads()
        assert fake.encode() not in crm.payloads()
    finally:
        for client in (watcher, crm, a):
            client.close()

    later = site.connect(site.client("support:alice"))
    try:
        later.subscribe(B_HEALTH)
        later.wait_for(lambda: later.on(B_HEALTH), what="B's retained health")
        assert [m.payload for m in later.on(B_HEALTH)] == [real.encode()]
    finally:
        later.close()


@pytest.mark.parametrize(
    ("who", "logged"),
    [
        ("no certificate", "peer did not return a certificate"),
        ("another CA's certificate", "certificate verify failed"),
        ("the broker's own certificate", "certificate verify failed"),  # serverAuth only
        ("revoked", "certificate verify failed"),  # on the CRL
    ],
)
def test_only_a_valid_client_certificate_connects(site: Site, who: str, logged: str) -> None:
    """No certificate, a foreign CA's, the server's (not for clients), a revoked one: refused
    in the TLS handshake, before any MQTT."""
    ca = site.pki / "ca" / "ca.crt"
    server = site.pki / "servers" / "localhost"
    identity = {
        "no certificate": Identity(ca),
        "another CA's certificate": site.foreign,
        "the broker's own certificate": Identity(ca, server / "server.crt", server / "server.key"),
        "revoked": site.agent("club-1", "desk-9"),
    }[who]
    log = site.broker.log_file
    seen = log.read_text(errors="replace").count(logged)
    client = TlsClient(site.broker.url, identity, "fiscal-agent-club-1-desk-1")
    failure = client.try_connect()
    assert failure is not None, f"{who}: the broker let it in"
    client.wait_for(
        lambda: log.read_text(errors="replace").count(logged) > seen,
        what=f"the broker's log to say {logged!r}",
    )
    # The same call with a valid certificate gets in: the refusal is the certificate's.
    site.connect(site.agent("club-1", "desk-1")).close()


def test_claiming_another_client_id_or_username_gives_only_ones_own_rights(site: Site) -> None:
    """A with B's client id, username and password: not B's session, B's commands, or B's topics.

    B's queued command waits for B through A's attempt, and B, online, is not knocked off.
    """
    b_id = "fiscal-agent-club-1-desk-2"
    b = site.connect(site.agent("club-1", "desk-2"), b_id, persistent=True)
    b.subscribe(topic("club-1", "desk-2", "cmd/#"))
    b.close()  # away, with a session that queues its commands

    crm = site.connect(site.client("crm:club-1"))
    queued, fence = fresh(), fresh()
    crm.publish(B_CMD, queued)

    impostor = site.connect(
        site.agent("club-1", "desk-1"),
        b_id,
        persistent=True,
        username="club-1/desk-2",
        password="anything",  # noqa: S106 - ignored: the certificate's CN is the username
    )
    try:
        impostor.subscribe(topic("club-1", "desk-2", "cmd/#"), topic("club-1", "desk-1", "cmd/#"))
        crm.publish(A_CMD, fence)
        impostor.wait_for(lambda: impostor.on(A_CMD), what="the fence at the impostor")
        assert impostor.payloads() == [fence.encode()], "B's queued command went to A"
        assert impostor.publish(B_HEALTH, fresh(), retain=True).value == NOT_AUTHORIZED
    finally:
        impostor.close()

    b = site.connect(site.agent("club-1", "desk-2"), b_id, persistent=True)
    try:
        b.wait_for(lambda: b.on(B_CMD), what="B's queued command")
        assert [m.payload for m in b.on(B_CMD)] == [queued.encode()]

        # B online; A claims B's client id again: B stays connected.
        again = site.connect(site.agent("club-1", "desk-1"), b_id)
        crm.publish(B_CMD, fence)
        b.wait_for(lambda: len(b.on(B_CMD)) == 2, what="a command after A's claim")
        assert b.is_connected()
        again.close()
    finally:
        b.close()
        crm.close()


def test_last_will_reaches_health_and_no_will_lands_elsewhere(site: Site) -> None:
    """A dies without DISCONNECT: its will is A's retained health; a will aimed at B never lands."""
    watcher = site.connect(site.client("support:alice"))
    try:
        watcher.subscribe(topic("club-1", "+", "health"))
        b = site.connect(site.agent("club-1", "desk-2"))
        b_health = fresh()
        b.publish(B_HEALTH, b_health, retain=True)
        b.close()

        will = fresh()
        a = site.connect(site.agent("club-1", "desk-1"), will=(A_HEALTH, will.encode()))
        a.die()
        watcher.wait_for(
            lambda: any(m.payload == will.encode() for m in watcher.on(A_HEALTH)),
            what="A's last will",
        )

        forged = fresh()
        a = site.connect(site.agent("club-1", "desk-1"), will=(B_HEALTH, forged.encode()))
        a.die()
        fence = fresh()
        a = site.connect(site.agent("club-1", "desk-1"))  # after the dead one's will went out
        a.publish(A_HEALTH, fence, retain=True)
        a.close()
        watcher.wait_for(
            lambda: any(m.payload == fence.encode() for m in watcher.on(A_HEALTH)),
            what="the fence",
        )
        assert forged.encode() not in watcher.payloads()
    finally:
        watcher.close()

    later = site.connect(site.client("support:alice"))
    try:
        later.subscribe(B_HEALTH)
        later.wait_for(lambda: later.on(B_HEALTH), what="B's retained health")
        assert [m.payload for m in later.on(B_HEALTH)] == [b_health.encode()]
    finally:
        later.close()


def test_a_crm_commands_only_its_own_club(site: Site) -> None:
    """club-1's CRM cannot command club-2, read club-2's results, or speak for an agent."""
    crm1 = site.connect(site.client("crm:club-1"))
    crm2 = site.connect(site.client("crm:club-2"))
    c = site.connect(site.agent("club-2", "desk-1"))
    a = site.connect(site.agent("club-1", "desk-1"))
    try:
        c.subscribe(topic("club-2", "desk-1", "cmd/#"))
        a.subscribe(topic("club-1", "desk-1", "cmd/#"))
        crm1.subscribe("fiscal/v1/#")
        crm2.subscribe(topic("club-2", "+", "evt/#"))

        foreign, fence = fresh(), fresh()
        assert crm1.publish(C_CMD, foreign).value == NOT_AUTHORIZED
        assert crm1.publish(A_EVT, foreign).value == NOT_AUTHORIZED  # results are the agent's
        assert crm1.publish(A_HEALTH, foreign, retain=True).value == NOT_AUTHORIZED
        crm2.publish(C_CMD, fence)
        c.wait_for(lambda: c.on(C_CMD), what="club-2's own CRM's command")
        assert c.payloads() == [fence.encode()]

        club2_result, club1_result = fresh(), fresh()
        c.publish(topic("club-2", "desk-1", "evt/receipt"), club2_result)
        a.publish(A_EVT, club1_result)
        crm2.wait_for(crm2.payloads, what="club-2's result at club-2's CRM")
        crm1.wait_for(lambda: crm1.on(A_EVT), what="club-1's result at club-1's CRM")
        assert club2_result.encode() not in crm1.payloads(), "club-1's CRM read club-2's result"
        events = [m.payload for m in crm1.messages if "/evt/" in m.topic]
        assert events == [club1_result.encode()]  # (it also gets club-1's retained health)
    finally:
        for client in (crm1, crm2, c, a):
            client.close()


def test_cloud_reads_everything_and_writes_only_receipt_and_shift(site: Site) -> None:
    """The cloud reads every club (also through a shared subscription) and may reissue a receipt
    or ask for an X report, but moves no cash."""
    cloud = site.connect(site.client("cloud"))
    a = site.connect(site.agent("club-1", "desk-1"))
    c = site.connect(site.agent("club-2", "desk-1"))
    try:
        cloud.subscribe("$share/cloud/fiscal/v1/+/+/evt/#")
        a.subscribe(topic("club-1", "desk-1", "cmd/#"))

        reissue, x_report, cash = fresh(), fresh(), fresh()
        assert cloud.publish(A_CMD, reissue).is_failure is False
        assert cloud.publish(topic("club-1", "desk-1", "cmd/shift"), x_report).is_failure is False
        assert cloud.publish(topic("club-1", "desk-1", "cmd/cash"), cash).value == NOT_AUTHORIZED
        assert cloud.publish(A_EVT, cash).value == NOT_AUTHORIZED
        a.wait_for(lambda: len(a.payloads()) == 2, what="the cloud's receipt and shift commands")
        assert a.payloads() == [reissue.encode(), x_report.encode()]

        one, two = fresh(), fresh()
        a.publish(A_EVT, one)
        c.publish(topic("club-2", "desk-1", "evt/shift"), two)
        cloud.wait_for(lambda: len(cloud.payloads()) == 2, what="both clubs' events")
        assert sorted(cloud.payloads()) == sorted([one.encode(), two.encode()])
    finally:
        for client in (cloud, a, c):
            client.close()


def test_support_reads_health_and_nothing_else(site: Site) -> None:
    """A support tool sees health, not commands or results, and writes nothing."""
    support = site.connect(site.client("support:alice"))
    crm = site.connect(site.client("crm:club-1"))
    a = site.connect(site.agent("club-1", "desk-1"))
    try:
        support.subscribe("fiscal/v1/#")
        command, result, health = fresh(), fresh(), fresh()
        crm.publish(A_CMD, command)
        a.publish(A_EVT, result)
        a.publish(A_HEALTH, health, retain=True)
        support.wait_for(
            lambda: any(m.payload == health.encode() for m in support.on(A_HEALTH)),
            what="the health",
        )
        assert command.encode() not in support.payloads()
        assert result.encode() not in support.payloads()
        assert support.publish(A_CMD, fresh()).value == NOT_AUTHORIZED
        assert support.publish(A_HEALTH, fresh(), retain=True).value == NOT_AUTHORIZED
    finally:
        for client in (support, crm, a):
            client.close()


def test_size_limit_passes_what_the_agent_reports_as_too_large(site: Site) -> None:
    """Just over the agent's 1,000,000-byte limit still reaches the agent (which answers
    too_large on evt/rejected); over 1 MiB the broker drops it and the next one goes on.

    The CRM speaks MQTT 3.1.1 here: Mosquitto 2.0 answers an MQTT 5 sender of an oversize
    message with a PUBACK reason paho cannot parse (mosquitto.conf, message_size_limit).
    """
    agent = site.connect(site.agent("club-1", "desk-1"))
    crm = site.connect(site.client("crm:club-1"), protocol=mqtt.MQTTv311)
    try:
        agent.subscribe(topic("club-1", "desk-1", "cmd/#"))
        reported, dropped, fence = b"x" * 1_000_001, b"y" * (1024 * 1024 + 1), fresh()
        for payload in (reported, dropped, fence):
            crm.publish(A_CMD, payload)
        agent.wait_for(lambda: len(agent.on(A_CMD)) >= 2, what="the fence")
        assert agent.payloads() == [reported, fence.encode()]
    finally:
        agent.close()
        crm.close()


@pytest.mark.sim
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_agent_process_connects_with_its_certificate(
    site: Site, start_sim: Any, tmp_path: Path
) -> None:
    """fiscal-agent with its make-certs.sh bundle: online health, a CRM's payment printed."""
    bundle = site.pki / "agents" / "club-1" / "desk-1"
    sim = start_sim()
    agent = Agent(
        workdir=tmp_path / "agent",
        register_url=sim.url,
        settings={
            "mqtt": {
                "url": site.broker.url,
                "ca": str(bundle / "ca.crt"),
                "cert": str(bundle / "client.crt"),
                "key": str(bundle / "client.key"),
                "keepalive_s": 5,
            }
        },
    )
    agent.workdir.mkdir()
    crm = site.connect(site.client("crm:club-1"))
    try:
        crm.subscribe(A_HEALTH, A_EVT)
        agent.start()
        crm.wait_for(
            lambda: any(m.json().get("state") in {"online", "degraded"} for m in crm.on(A_HEALTH)),
            what="the agent's health",
            timeout_s=30,
        )
        request_id = f"tls-{uuid.uuid4().hex[:8]}"
        crm.publish(A_CMD, json.dumps(receipt(request_id, 15_000)))
        crm.wait_for(
            lambda: any(
                m.json().get("id") == request_id and m.json().get("status") == "done"
                for m in crm.on(A_EVT)
            ),
            what="the receipt's result",
            timeout_s=30,
        )
    finally:
        agent.stop()
        crm.close()
    assert any(doc.get("mark") == request_id for doc in sim.tape() if doc["type"] == "receipt")
