"""An MQTT client that logs in with a client certificate, for the tests of the shipped broker.

paho on its own thread, MQTT 5 by default so that the broker's reason codes (SUBACK, PUBACK,
CONNACK) are visible; it keeps every message it receives, in order, and what the broker
answered to each subscribe and publish. ``die()`` drops the connection without DISCONNECT,
as a crashed client would, so the broker sends its last will.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

__all__ = ["Identity", "Received", "TlsClient"]

WAIT_S = 10.0


@dataclass(frozen=True)
class Identity:
    """The files a client logs in with: a make-certs.sh bundle, or loose files."""

    ca: Path
    cert: Path | None = None
    key: Path | None = None

    @classmethod
    def bundle(cls, directory: Path) -> Identity:
        """``ca.crt``, ``client.crt`` and ``client.key`` of a make-certs.sh directory."""
        return cls(directory / "ca.crt", directory / "client.crt", directory / "client.key")


@dataclass(frozen=True)
class Received:
    """One message as it arrived."""

    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


class TlsClient:
    """One connection over TLS.

    Args:
        url: ``mqtts://host:port``.
        identity: the CA to verify the broker with, and the client's certificate and key.
        client_id: what the client calls itself in CONNECT.
        persistent: clean start off and a session of an hour, as the agent connects.
        username, password: sent in CONNECT (the shipped broker ignores them).
        will: (topic, payload) of a retained QoS 1 last will.
        protocol: paho's protocol constant, MQTT 5 unless told.
    """

    def __init__(
        self,
        url: str,
        identity: Identity,
        client_id: str,
        *,
        persistent: bool = False,
        username: str | None = None,
        password: str | None = None,
        will: tuple[str, bytes] | None = None,
        protocol: int = mqtt.MQTTv5,
    ) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "localhost"
        self.port = parts.port or 8883
        self.persistent = persistent
        self.protocol = protocol
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=protocol,  # type: ignore[arg-type]
            clean_session=None if protocol == mqtt.MQTTv5 else not persistent,
        )
        self.client.tls_set(
            ca_certs=str(identity.ca),
            certfile=str(identity.cert) if identity.cert else None,
            keyfile=str(identity.key) if identity.key else None,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if will is not None:
            self.client.will_set(will[0], will[1], qos=1, retain=True)
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.connack: ReasonCode | None = None
        self.disconnected = threading.Event()
        self._connected = threading.Event()
        self._subacks: dict[int, list[ReasonCode]] = {}
        self._pubacks: dict[int, ReasonCode] = {}
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish

    # --- connection ---------------------------------------------------------------------

    def try_connect(self) -> str | None:
        """Connect; None once the broker accepted, else why not (TLS error, CONNACK code)."""
        properties = None
        clean_start: bool | int = mqtt.MQTT_CLEAN_START_FIRST_ONLY
        if self.protocol == mqtt.MQTTv5:
            clean_start = not self.persistent
            if self.persistent:
                properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
                properties.SessionExpiryInterval = 3600
        try:
            self.client.connect(
                self.host, self.port, keepalive=5, clean_start=clean_start, properties=properties
            )
        except (OSError, ssl.SSLError) as exc:
            return f"connect failed: {exc!r}"
        sock = self.client.socket()
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.loop_start()
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self._connected.is_set():
                return None
            if self.disconnected.is_set():
                self.client.loop_stop()
                return f"refused: CONNACK {self.connack}" if self.connack else "dropped by broker"
            time.sleep(0.01)
        self.client.loop_stop()
        return "no CONNACK"

    def connect(self) -> TlsClient:
        """Connect or fail the test with the reason."""
        failure = self.try_connect()
        if failure is not None:
            msg = f"could not connect to {self.host}:{self.port}: {failure}"
            raise AssertionError(msg)
        return self

    def is_connected(self) -> bool:
        """Connected and not dropped since."""
        return self._connected.is_set() and not self.disconnected.is_set()

    def close(self) -> None:
        """DISCONNECT (no last will) and stop the thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def die(self) -> None:
        """Drop the TCP connection without DISCONNECT: the broker sends the last will."""
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    # --- traffic ------------------------------------------------------------------------

    def subscribe(self, *topics: str) -> list[ReasonCode]:
        """Subscribe at QoS 1 and return the SUBACK's reason codes, one per topic."""
        result, mid = self.client.subscribe([(topic, 1) for topic in topics])
        assert result == mqtt.MQTT_ERR_SUCCESS, result
        self.wait_for(lambda: mid in self._subacks, what=f"the SUBACK of {topics}")
        with self.lock:
            return self._subacks.pop(mid)

    def publish(self, topic: str, payload: bytes | str, *, retain: bool = False) -> ReasonCode:
        """Publish at QoS 1, wait for the PUBACK and return its reason code."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        self.wait_for(lambda: info.mid in self._pubacks, what=f"the PUBACK on {topic}")
        with self.lock:
            return self._pubacks.pop(info.mid)

    def on(self, topic: str) -> list[Received]:
        """What arrived so far on ``topic``."""
        with self.lock:
            return [m for m in self.messages if m.topic == topic]

    def payloads(self) -> list[bytes]:
        """Every payload received so far, in order."""
        with self.lock:
            return [m.payload for m in self.messages]

    def wait_for(
        self, predicate: Callable[[], object], *, what: str, timeout_s: float = WAIT_S
    ) -> None:
        """Poll ``predicate()`` until true; AssertionError naming ``what``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.01)
        msg = f"timed out after {timeout_s} s waiting for {what}"
        raise AssertionError(msg)

    # --- paho callbacks (paho's thread) -------------------------------------------------

    def _on_connect(
        self, _c: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object
    ) -> None:
        self.connack = rc
        if not rc.is_failure:
            self._connected.set()

    def _on_disconnect(self, *_: object) -> None:
        self.disconnected.set()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append(Received(msg.topic, bytes(msg.payload), bool(msg.retain)))

    def _on_subscribe(
        self, _c: mqtt.Client, _u: object, mid: int, codes: list[ReasonCode], _p: object
    ) -> None:
        with self.lock:
            self._subacks[mid] = codes

    def _on_publish(
        self, _c: mqtt.Client, _u: object, mid: int, code: ReasonCode, _p: object
    ) -> None:
        with self.lock:
            self._pubacks[mid] = code
