"""One connection to the broker: a paho client driven by the asyncio loop, CONNECT to close.

Each connection attempt gets a fresh paho ``Client``, so nothing of an old connection (its
unacknowledged publishes, the packet ids of its deliveries) can leak into the next: paho
would resend the publishes we already reported as failed, and an acknowledgement with an
old packet id would acknowledge someone else's message.

paho runs on the asyncio loop's thread: the socket is watched with ``add_reader`` and
``add_writer``, and ``loop_misc`` (keepalive pings) runs on a timer. Only the blocking part
of ``connect()`` (DNS, TCP connect, TLS handshake) runs in a worker thread, while no one else
touches that client.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

import paho.mqtt.client as paho
import structlog
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from mqtt_link.errors import LinkDown, PublishRefused
from mqtt_link.incoming import Incoming
from mqtt_link.policy import UNSUPPORTED_PROTOCOL_VERSION, Outcome, Protocol
from mqtt_link.settings import LinkSettings

__all__ = ["CLOSE_TIMEOUT_S", "MISC_INTERVAL_S", "ConnectFailed", "Connection"]

MISC_INTERVAL_S = 1.0
"""How often paho's ``loop_misc`` runs: it sends PINGREQ and notices a silent broker."""
CLOSE_TIMEOUT_S = 2.0
"""How long a clean DISCONNECT may take before the socket is closed anyway."""
_SSL_READS_MAX = 1000  # bytes decrypted ahead of the socket's readiness; bounded to be safe
_PLAIN_READS_MAX = 256  # packets read in one wake of a plain socket; then the loop runs others
_PEEK_NOW: int = int(socket.MSG_PEEK | socket.MSG_DONTWAIT)  # once: | of two flags is an enum call

_T = TypeVar("_T")


class ConnectFailed(Exception):
    """A connection attempt did not get as far as a ready link (internal to the link)."""

    def __init__(self, outcome: Outcome, reason: str) -> None:
        self.outcome = outcome
        self.reason = reason
        super().__init__(reason)


def _fail(future: asyncio.Future[_T], exc: BaseException) -> None:
    """Fail ``future`` unless it is done; nobody awaiting it is not an error to log."""
    if not future.done():
        future.set_exception(exc)
        future.exception()  # retrieved: a future nobody awaits any more stays quiet


async def _first(*futures: asyncio.Future[Any]) -> None:
    """Wait until one of ``futures`` is done; cancels none of them."""
    await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)


def _has_bytes(sock: object) -> bool:
    """Whether a plain socket has bytes to read now (a peek that never blocks)."""
    try:
        return bool(sock.recv(1, _PEEK_NOW))  # type: ignore[attr-defined]
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True  # let paho's own read meet the error and report the loss


def _close_abandoned_sockets(trace: TracebackType | None) -> None:
    """Close the sockets a failed ``connect()`` left open.

    paho 2.2 does not close the TCP socket, nor its TLS wrapper, when the TLS handshake
    fails; the garbage collector would, with a ResourceWarning, one per attempt for as long
    as the broker's certificate is not trusted.
    """
    while trace is not None:
        for value in list(trace.tb_frame.f_locals.values()):
            if isinstance(value, socket.socket) and value.fileno() != -1:
                value.close()
        trace = trace.tb_next


def _describe_disconnect(flags: paho.DisconnectFlags, code: ReasonCode, is_closing: bool) -> str:
    name = code.getName()
    if flags.is_disconnect_packet_from_server:
        return f"the broker disconnected us: {name}"
    if is_closing:
        return "disconnected"
    if name == "Keep alive timeout":
        return "the broker did not answer within the keepalive"
    if name == "Unspecified error":
        return "the connection was lost"
    return f"the connection was lost: {name}"


def _describe_os_error(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return exc.strerror or str(exc) or type(exc).__name__


class Connection:
    """One paho client on the running loop; made by the link for each connection attempt."""

    def __init__(
        self,
        *,
        settings: LinkSettings,
        protocol: Protocol,
        number: int,
        ssl_context: ssl.SSLContext | None,
        deliver: Callable[[Incoming], None],
        on_lost: Callable[[Connection, str], None],
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self.settings = settings
        self.protocol = protocol
        self.number = number
        self._loop = asyncio.get_running_loop()
        self._deliver = deliver
        self._on_lost = on_lost
        self._log = log
        self._fd: int | None = None
        self._misc: asyncio.TimerHandle | None = None
        self._is_in_thread = False
        self._started: asyncio.Future[None] | None = None
        self._is_closing = False
        self._connack: asyncio.Future[bool] = self._loop.create_future()
        self._aborted: asyncio.Future[None] = self._loop.create_future()
        self._subacks: dict[int, asyncio.Future[list[ReasonCode]]] = {}
        self._publishes: dict[int, tuple[asyncio.Future[None], str]] = {}
        self._lost = asyncio.Event()
        self.lost_reason: str | None = None
        self.is_open = False
        """CONNACK accepted and not lost yet: acknowledgements can be sent."""
        self.is_up = False
        """Open, subscribed, and not closing: publishes are taken."""
        self.was_bounced = False
        self._client = self._build_client(ssl_context)

    def _build_client(self, ssl_context: ssl.SSLContext | None) -> paho.Client:
        settings = self.settings
        is_v5 = self.protocol is Protocol.V5
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=None if is_v5 else False,
            protocol=paho.MQTTv5 if is_v5 else paho.MQTTv311,
            reconnect_on_failure=False,
            manual_ack=True,
        )
        client.connect_timeout = settings.connect_timeout_s
        if settings.username is not None:
            client.username_pw_set(settings.username, settings.password)
        if ssl_context is not None:
            client.tls_set_context(ssl_context)
        if settings.will is not None:
            will = settings.will
            client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        return client

    # --- opening ------------------------------------------------------------------------

    async def open(self) -> bool:
        """Connect, wait for the CONNACK, subscribe; returns the CONNACK's session present.

        Raises:
            ConnectFailed: with the outcome the reconnect policy decides on.
        """
        try:
            await self._connect_socket()
            session_present = await self._until(
                self._connack, what="CONNACK", outcome=Outcome.NO_CONNACK
            )
            await self._subscribe()
        except BaseException:
            self.abort("the connection attempt failed")
            raise
        self.is_up = True
        return session_present

    async def _connect_socket(self) -> None:
        self._is_in_thread = True
        started = self._started = self._loop.run_in_executor(None, self._blocking_connect)
        try:
            async with asyncio.timeout(self.settings.connect_timeout_s + 1.0):
                await _first(started, self._aborted)
        except TimeoutError:
            pass
        if not started.done():  # abort() closes what the thread may still open
            if self._aborted.done():
                raise ConnectFailed(Outcome.ABORTED, "the link is stopping")
            raise ConnectFailed(Outcome.UNREACHABLE, "no TCP or TLS connection in time")
        self._is_in_thread = False
        try:
            started.result()
        except OSError as exc:
            raise ConnectFailed(Outcome.UNREACHABLE, _describe_os_error(exc)) from exc
        if self._aborted.done():
            raise ConnectFailed(Outcome.ABORTED, "the link is stopping")
        self._register()

    def _blocking_connect(self) -> None:
        """Run paho's ``connect()`` (DNS, TCP, TLS handshake, CONNECT) in a worker thread."""
        settings = self.settings
        try:
            if self.protocol is Protocol.V5:
                properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
                properties.SessionExpiryInterval = settings.session_expiry_s
                rc = self._client.connect(
                    settings.host,
                    settings.port,
                    settings.keepalive_s,
                    clean_start=False,
                    properties=properties,
                )
            else:
                rc = self._client.connect(settings.host, settings.port, settings.keepalive_s)
        except OSError as exc:
            _close_abandoned_sockets(exc.__traceback__)
            raise
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"CONNECT not sent: {paho.error_string(rc)}")

    def _close_late_socket(self, started: asyncio.Future[None]) -> None:
        """A connect abandoned in its thread finished after all: close what it opened."""
        if started.cancelled() or started.exception() is not None:
            return
        sock = self._client.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _register(self) -> None:
        client = self._client
        sock = client.socket()
        assert sock is not None  # connect() returned without an error
        # Small MQTT packets must leave at once: with Nagle's algorithm a PUBACK or a result
        # waits for the peer's delayed ACK (about 40 ms on Linux) on every exchange.
        if isinstance(sock, socket.socket):  # TLS sockets are socket.socket too
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._fd = sock.fileno()
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        self._loop.add_reader(self._fd, self._on_readable)
        if client.want_write():
            self._loop.add_writer(self._fd, self._on_writable)
        self._misc = self._loop.call_later(MISC_INTERVAL_S, self._tick)

    async def _until(self, future: asyncio.Future[_T], *, what: str, outcome: Outcome) -> _T:
        """The result of ``future``, unless the attempt is aborted or times out first."""
        timeout_s = self.settings.connect_timeout_s
        try:
            async with asyncio.timeout(timeout_s):
                await _first(future, self._aborted)
        except TimeoutError:
            pass
        if self._aborted.done():
            raise ConnectFailed(Outcome.ABORTED, "the link is stopping")
        if not future.done():
            raise ConnectFailed(outcome, f"no {what} within {timeout_s:g} s")
        return future.result()

    async def _subscribe(self) -> None:
        filters = self.settings.subscriptions
        if self.protocol is not Protocol.V5 and self.settings.subscriptions_v311 is not None:
            filters = self.settings.subscriptions_v311
        if not filters:
            return
        rc, mid = self._client.subscribe([(topic, 1) for topic in filters])
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            raise ConnectFailed(Outcome.LOST, f"SUBSCRIBE not sent: {paho.error_string(rc)}")
        suback: asyncio.Future[list[ReasonCode]] = self._loop.create_future()
        self._subacks[mid] = suback
        codes = await self._until(suback, what="SUBACK", outcome=Outcome.LOST)
        for topic, code in zip(filters, codes, strict=False):
            if code.is_failure:
                self._log.warning("mqtt_subscribe_refused", topic=topic, reason=code.getName())

    # --- traffic ------------------------------------------------------------------------

    def publish(
        self, topic: str, payload: bytes, *, qos: int, retain: bool
    ) -> asyncio.Future[None]:
        """Send a PUBLISH; the future is done when the broker acknowledged it.

        Raises:
            LinkDown: the connection is not open (also set on the future if it drops).
        """
        if not self.is_open or self._is_closing:
            raise LinkDown(self.settings.url, self.lost_reason or "not connected", topic=topic)
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise LinkDown(self.settings.url, paho.error_string(info.rc), topic=topic)
        done: asyncio.Future[None] = self._loop.create_future()
        if info.is_published():
            done.set_result(None)
        else:
            self._publishes[info.mid] = (done, topic)
        return done

    def ack(self, mid: int, qos: int) -> bool:
        """Acknowledge delivery ``mid``; False when the connection is no longer open."""
        if not self.is_open:
            return False
        return self._client.ack(mid, qos) == MQTTErrorCode.MQTT_ERR_SUCCESS

    # --- closing ------------------------------------------------------------------------

    async def close(self) -> None:
        """A clean DISCONNECT (the broker drops the will and keeps the session)."""
        if self.lost_reason is not None:
            return
        self._is_closing = True
        self.is_up = False
        if self._client.disconnect() != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self.abort("disconnected")
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self._lost.wait()
        except TimeoutError:
            self.abort("disconnected (the DISCONNECT did not go out in time)")

    def abort(self, reason: str) -> None:
        """Close the socket now, without DISCONNECT (the broker sends the will)."""
        if not self._aborted.done():
            self._aborted.set_result(None)
        if self.lost_reason is not None:
            return
        self._unregister()
        client = self._client
        client.on_socket_close = None
        client.on_disconnect = None
        client.on_message = None
        if self._is_in_thread and self._started is not None:
            self._started.add_done_callback(self._close_late_socket)
        else:
            sock = client.socket()
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self._closed(reason)

    async def wait_lost(self) -> str:
        """Wait until the connection is gone; returns why."""
        await self._lost.wait()
        assert self.lost_reason is not None
        return self.lost_reason

    def _closed(self, reason: str) -> None:
        if self.lost_reason is not None:
            return
        self.lost_reason = reason
        self.is_up = False
        self.is_open = False
        self._unregister()
        _fail(self._connack, ConnectFailed(Outcome.CLOSED_EARLY, reason))
        for suback in self._subacks.values():
            _fail(suback, ConnectFailed(Outcome.LOST, reason))
        self._subacks.clear()
        for done, topic in self._publishes.values():
            _fail(done, LinkDown(self.settings.url, reason, topic=topic, was_sent=True))
        self._publishes.clear()
        self._lost.set()
        self._on_lost(self, reason)

    def _unregister(self) -> None:
        if self._misc is not None:
            self._misc.cancel()
            self._misc = None
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(RuntimeError):  # the loop closed under a late __del__
                self._loop.remove_reader(fd)
                self._loop.remove_writer(fd)

    # --- the loop's side ----------------------------------------------------------------

    def _on_readable(self) -> None:
        client = self._client
        client.loop_read()
        sock = client.socket()
        if not isinstance(sock, ssl.SSLSocket):
            # paho reads one packet a call: take what else has arrived now, so a backlog
            # costs one loop wake per burst rather than one per message.
            for _ in range(_PLAIN_READS_MAX):
                if client.socket() is not sock or not _has_bytes(sock):
                    return
                if client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    return
            return
        tls: ssl.SSLSocket = sock
        # TLS may have decrypted more than paho took; the fd will not signal it again.
        for _ in range(_SSL_READS_MAX):
            if client.socket() is not tls or not tls.pending():
                return
            client.loop_read()

    def _on_writable(self) -> None:
        self._client.loop_write()

    def _tick(self) -> None:
        self._misc = None
        if self.lost_reason is not None:
            return
        self._client.loop_misc()
        if self.lost_reason is None:
            self._misc = self._loop.call_later(MISC_INTERVAL_S, self._tick)

    # --- paho's callbacks (CallbackAPIVersion.VERSION2), all on the loop's thread --------

    def _on_connect(
        self,
        _client: paho.Client,
        _userdata: object,
        flags: paho.ConnectFlags,
        code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if self._connack.done():
            return
        if code.is_failure:
            outcome = (
                Outcome.PROTOCOL_REFUSED
                if code.value == UNSUPPORTED_PROTOCOL_VERSION
                else Outcome.REFUSED
            )
            reason = f"the broker refused the connection: {code.getName()}"
            _fail(self._connack, ConnectFailed(outcome, reason))
            return
        self.is_open = True
        self._connack.set_result(flags.session_present)

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: object,
        flags: paho.DisconnectFlags,
        code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._closed(_describe_disconnect(flags, code, self._is_closing))

    def _on_message(
        self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage
    ) -> None:
        self._deliver(
            Incoming(
                topic=message.topic,
                payload=bytes(message.payload),
                mid=message.mid,
                qos=message.qos,
                retain=bool(message.retain),
                duplicate=bool(message.dup),
                connection=self.number,
            )
        )

    def _on_publish(
        self,
        _client: paho.Client,
        _userdata: object,
        mid: int,
        code: ReasonCode,
        _properties: Properties,
    ) -> None:
        entry = self._publishes.pop(mid, None)
        if entry is None:
            return
        done, topic = entry
        if done.done():  # the publisher was cancelled
            return
        if code.is_failure:
            _fail(done, PublishRefused(self.settings.url, topic, code.value, code.getName()))
        else:
            done.set_result(None)

    def _on_subscribe(
        self,
        _client: paho.Client,
        _userdata: object,
        mid: int,
        codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        suback = self._subacks.pop(mid, None)
        if suback is not None and not suback.done():
            suback.set_result(list(codes))

    def _on_socket_close(self, _client: paho.Client, _userdata: object, _sock: object) -> None:
        self._unregister()

    def _on_register_write(self, _client: paho.Client, _userdata: object, _sock: object) -> None:
        if self._fd is not None:
            self._loop.add_writer(self._fd, self._on_writable)

    def _on_unregister_write(self, _client: paho.Client, _userdata: object, _sock: object) -> None:
        if self._fd is not None:
            self._loop.remove_writer(self._fd)
