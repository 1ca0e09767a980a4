"""A plain MQTT client, as a CRM or a support tool would use: paho, nothing of the agent's.

It subscribes to everything under one agent's prefix and keeps every message it receives,
per topic, in arrival order; it publishes at QoS 1 and waits for the broker's PUBACK.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

__all__ = ["PREFIX", "PlainClient", "Received"]

PREFIX = "fiscal/v1/club-1/desk-1/"


@dataclass(frozen=True)
class Received:
    """One message as it arrived."""

    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class PlainClient:
    """A paho client on its own thread; ``messages`` grows as messages arrive."""

    url: str
    client_id: str
    subscribe: tuple[str, ...] = (PREFIX + "#",)
    persistent: bool = False  # a session the broker keeps (and queues for) while we are away
    messages: dict[str, list[Received]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv311,
            clean_session=not self.persistent,
        )
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self._subscribed = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()

    def connect(self) -> PlainClient:
        """Connect, subscribe, and return once the subscription is confirmed."""
        parts = urlsplit(self.url)
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=10)
        sock = self.client.socket()
        if sock is not None:  # as the agent's link does: no Nagle stalls on small packets
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            msg = f"no SUBACK from {self.url}"
            raise TimeoutError(msg)
        return self

    def close(self) -> None:
        """Disconnect and stop the thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        for topic in self.subscribe:
            client.subscribe(topic, qos=1)

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages[msg.topic].append(Received(msg.topic, bytes(msg.payload), msg.retain))

    def publish(self, topic: str, payload: bytes | str | dict[str, Any], *, qos: int = 1) -> None:
        """Publish and wait for the broker's acknowledgement."""
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        info = self.client.publish(topic, payload, qos=qos)
        info.wait_for_publish(timeout=10)

    def received(self, suffix: str) -> list[Received]:
        """What arrived so far on ``PREFIX + suffix``."""
        with self.lock:
            return list(self.messages.get(PREFIX + suffix, []))

    def by_id(self, suffix: str) -> dict[str, list[dict[str, Any]]]:
        """Messages on ``PREFIX + suffix`` grouped by their ``id``."""
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for message in self.received(suffix):
            body = message.json()
            grouped[str(body.get("id"))].append(body)
        return grouped

    def all_done(self, ids: list[str] | set[str]) -> bool:
        """Every id has a ``done`` result on evt/receipt."""
        results = self.by_id("evt/receipt")
        return all(any(a["status"] == "done" for a in results.get(i, [])) for i in ids)

    def wait_for(self, predicate: Any, *, timeout_s: float, what: str) -> None:
        """Poll ``predicate()`` until true; TimeoutError naming ``what``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        msg = f"timed out after {timeout_s} s waiting for {what}"
        raise TimeoutError(msg)


def wait_agent_subscribed(url: str, *, timeout_s: float = 30) -> None:
    """Return once the agent's health is on the broker: it is connected and subscribed then.

    A CRM's commands wait at the broker only for a session that exists: before the agent's
    first connect (on a 3.1.1 broker, after its MQTT 5 attempt timed out) they are dropped.
    """
    watcher = PlainClient(url, "wait-agent", subscribe=(PREFIX + "health",)).connect()
    try:
        watcher.wait_for(
            lambda: any(m.json().get("state") != "offline" for m in watcher.received("health")),
            timeout_s=timeout_s,
            what="the agent's health on the broker",
        )
    finally:
        watcher.close()
