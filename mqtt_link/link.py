"""MqttLink: one connection to the broker (agent's or cloud's), kept up by itself while it runs.

An asyncio front for paho-mqtt 2.x (``CallbackAPIVersion.VERSION2``). paho is driven from
the asyncio loop (``add_reader``/``add_writer`` and a ``loop_misc`` timer, as paho's own
external-loop example does), not from paho's thread (``loop_start``): every callback then
runs on the loop's thread, so deliveries, acknowledgements and publish futures need no locks
and no ``call_soon_threadsafe`` hop per message, their order is the socket's order, and a
connection's whole life is plain asyncio code that tests can drive. Only the blocking part
of ``connect()`` (DNS, TCP, TLS handshake) runs in a worker thread, so a broker that does
not answer never blocks the loop.

- MQTT 5 first, with clean start off and a Session Expiry Interval, so the broker keeps the
  session and queues QoS 1 messages while the agent is away; a broker that refuses 5 gets
  3.1.1 with clean session off, and the protocol that worked is kept (``policy.py``).
- Deliveries are acknowledged only by ``ack()``: the intake commits first, then acks
  (docs/design.md). A delivery's ``connection`` says which connection it came on; acking it
  on another connection does nothing, and the broker delivers it again (``duplicate``) on
  the next one. Deliveries still queued when their connection drops stay queued: the
  intake's id key stops the redelivered copies.
- It reconnects by itself with jittered exponential backoff and never raises out of
  ``run()`` for the broker's sake: the agent prints with the broker gone for days.

Use: ``group.create_task(link.run(), name=...)``, then ``publish``, ``messages()``/``ack``;
``await link.stop(final=...)`` ends ``run()``. A stopped link stays stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import random
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog

from mqtt_link._connection import ConnectFailed, Connection
from mqtt_link.errors import LinkClosed, LinkDown, MqttError
from mqtt_link.incoming import Incoming
from mqtt_link.policy import Outcome, Protocol, backoff_delay, next_attempt
from mqtt_link.settings import LinkSettings, build_ssl_context

__all__ = [
    "FINAL_PUBLISH_TIMEOUT_S",
    "STOP_TIMEOUT_S",
    "MqttLink",
    "OnConnect",
]

FINAL_PUBLISH_TIMEOUT_S = 2.0
"""How long ``stop()`` waits for the broker to acknowledge its final message."""
STOP_TIMEOUT_S = 5.0
"""How long ``stop()`` waits for ``run()`` to end after the DISCONNECT."""

OnConnect = Callable[[bool], Awaitable[None] | None]
"""Run after every successful connect with the CONNACK's session-present flag."""


class MqttLink:
    """The connection to the broker: connect, subscribe, publish, deliver, reconnect.

    Args:
        settings: the broker, identity, will, subscriptions and timings.
        ssl_context: for ``mqtts://``; built from ``settings`` when not given.
        log: the agent's logger; the link binds the URL and client id to it.
        rng: the backoff's jitter (seeded in tests).
    """

    def __init__(
        self,
        settings: LinkSettings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        log: structlog.typing.FilteringBoundLogger | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if ssl_context is not None and not settings.is_tls:
            raise ValueError(f"an SSL context for {settings.url}, which is not mqtts://")
        self.settings = settings
        self._ssl_context = ssl_context or build_ssl_context(settings)
        base = log if log is not None else structlog.get_logger("fiscal-agent")
        self._log: structlog.typing.FilteringBoundLogger = base.bind(
            mqtt=settings.url, client_id=settings.client_id
        )
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._queue: asyncio.Queue[Incoming | None] = asyncio.Queue()
        self._hooks: list[OnConnect] = []
        self._conn: Connection | None = None
        self._protocol = settings.first_protocol
        self._has_v5_worked = False
        self._attempts = 0
        self._failures = 0
        self._bounces = 0
        self._last_failure = "not connected yet"
        self._connected = asyncio.Event()
        self._stopping = asyncio.Event()
        self._run_done = asyncio.Event()
        self._is_running = False
        self._is_closed = False

    # --- state --------------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        """Connected and subscribed: ``publish`` is taken."""
        return self._conn is not None and self._conn.is_up

    @property
    def protocol(self) -> Protocol:
        """The protocol of the current connection, or of the next attempt: "5" or "3.1.1"."""
        return self._protocol

    @property
    def connection(self) -> int:
        """The number of the current connection attempt (0 before the first)."""
        return self._attempts

    async def wait_connected(self, timeout_s: float) -> None:
        """Wait until the link is connected, subscribed, and its on-connect callbacks ran.

        Raises:
            LinkDown: not connected within ``timeout_s``; says why the last attempt failed.
        """
        try:
            async with asyncio.timeout(timeout_s):
                await self._connected.wait()
        except TimeoutError as exc:
            raise LinkDown(
                self.settings.url, f"not connected within {timeout_s:g} s: {self._down_reason()}"
            ) from exc

    def add_on_connect(self, callback: OnConnect) -> None:
        """Run ``callback(session_present)`` after every successful connect, in order.

        Callbacks run one after another in the link's task once the subscriptions are
        confirmed (a callback may publish, e.g. the retained health). Keep them short; an
        exception is logged and does not stop the link.
        """
        self._hooks.append(callback)

    # --- the background task ------------------------------------------------------------

    async def run(self) -> None:
        """Connect, and reconnect whenever the connection is lost, until ``stop()``.

        It raises nothing for the broker's sake: every failure is logged (at most at
        warning level) with its reason, and the next attempt follows after the backoff.
        Cancelling it drops the connection without DISCONNECT (the broker sends the will);
        call ``stop()`` for a clean end.
        """
        if self._is_running:
            raise RuntimeError("MqttLink.run() is already running")
        self._is_running = True
        self._run_done.clear()
        try:
            while not self._stopping.is_set():
                try:
                    delay = await self._connect_and_serve()
                except Exception:  # noqa: BLE001 - the top of the task loop (docs/style.md §4)
                    self._failures += 1
                    delay = self._backoff(self._failures)
                    self._log.warning("mqtt_link_error", retry_in_s=round(delay, 3), exc_info=True)
                if delay > 0 and not self._stopping.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await self._stopping.wait()
        finally:
            self._is_running = False
            if self._conn is not None:
                self._conn.abort("the link's task ended")
            self._run_done.set()

    async def _connect_and_serve(self) -> float:
        """One connection attempt and, if it works, its life; returns the delay to the next."""
        self._attempts += 1
        protocol = self._protocol
        conn = Connection(
            settings=self.settings,
            protocol=protocol,
            number=self._attempts,
            ssl_context=self._ssl_context,
            deliver=self._deliver,
            on_lost=self._on_lost,
            log=self._log,
        )
        self._conn = conn
        try:
            session_present = await conn.open()
        except ConnectFailed as exc:
            return self._after_failure(protocol, exc)
        self._failures = 0
        self._has_v5_worked |= protocol is Protocol.V5
        self._log.info(
            "mqtt_connected",
            protocol=protocol.value,
            session_present=session_present,
            connection=conn.number,
        )
        await self._run_hooks(session_present)
        if conn.is_up:  # wait_connected() returns once the hooks ran (e.g. health published)
            self._connected.set()
        reason = await conn.wait_lost()
        self._connected.clear()  # however it ended (a bounce or stop closes it without on_lost)
        if self._stopping.is_set():
            return 0.0
        if conn.was_bounced:
            self._bounces += 1
            delay = self._backoff(self._bounces)
            self._log.info("mqtt_bounced", connection=conn.number, retry_in_s=round(delay, 3))
            return delay
        delay = self._backoff(1)
        self._log.warning(
            "mqtt_connection_lost",
            reason=reason,
            connection=conn.number,
            retry_in_s=round(delay, 3),
        )
        return delay

    def _after_failure(self, protocol: Protocol, exc: ConnectFailed) -> float:
        self._last_failure = exc.reason
        if exc.outcome is Outcome.ABORTED or self._stopping.is_set():
            return 0.0
        then = next_attempt(protocol, exc.outcome, has_v5_worked=self._has_v5_worked)
        if then.protocol is not protocol:
            self._log.info(
                "mqtt_protocol_switch",
                tried=protocol.value,
                next=then.protocol.value,
                reason=exc.reason,
            )
        self._protocol = then.protocol
        if then.is_immediate:
            return 0.0
        self._failures += 1
        delay = self._backoff(self._failures + 1)
        self._log.warning(
            "mqtt_connect_failed",
            reason=exc.reason,
            protocol=protocol.value,
            failures=self._failures,
            retry_in_s=round(delay, 3),
        )
        return delay

    def _backoff(self, failures: int) -> float:
        return backoff_delay(
            failures,
            min_s=self.settings.backoff_min_s,
            max_s=self.settings.backoff_max_s,
            rng=self._rng,
        )

    async def _run_hooks(self, session_present: bool) -> None:
        for hook in list(self._hooks):
            try:
                result = hook(session_present)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # noqa: BLE001 - a hook's failure is its own; the link goes on
                name = getattr(hook, "__qualname__", repr(hook))
                self._log.warning("mqtt_on_connect_failed", hook=name, exc_info=True)

    def _on_lost(self, conn: Connection, reason: str) -> None:
        if conn is self._conn:
            self._connected.clear()
            self._last_failure = reason

    def _deliver(self, message: Incoming) -> None:
        if not self._is_closed:
            self._queue.put_nowait(message)

    def _down_reason(self) -> str:
        if self._is_closed or self._stopping.is_set():
            return "the link is stopped"
        if not self._is_running:
            return "the link is not running"
        return self._last_failure

    # --- traffic ------------------------------------------------------------------------

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish and return once the broker acknowledged it (PUBACK at QoS 1).

        Many publishes may be in flight at once.

        Raises:
            LinkDown: not connected, or the connection dropped before the acknowledgement
                (the broker may or may not have the message: send it again later).
            PublishRefused: an MQTT 5 broker answered with a failure reason code.
        """
        conn = self._conn
        if conn is None or not conn.is_up:
            raise LinkDown(self.settings.url, self._down_reason(), topic=topic)
        await conn.publish(topic, payload, qos=qos, retain=retain)

    async def receive(self) -> Incoming:
        """The next delivery, in the order the broker sent them.

        Raises:
            LinkClosed: the link was stopped.
        """
        if self._is_closed:
            raise LinkClosed(self.settings.url)
        message = await self._queue.get()
        if message is None:
            self._queue.put_nowait(None)  # wake every other receiver too
            raise LinkClosed(self.settings.url)
        return message

    @property
    def pending(self) -> int:
        """Deliveries received and not yet taken by ``receive``."""
        return self._queue.qsize()

    def receive_ready(self, limit: int) -> list[Incoming]:
        """Up to ``limit`` deliveries already received, without waiting (maybe none).

        For a consumer that batches: after one ``receive()`` it takes what else is there.

        Raises:
            LinkClosed: the link was stopped and nothing is left.
        """
        ready: list[Incoming] = []
        queue = self._queue
        while len(ready) < limit and not queue.empty():
            message = queue.get_nowait()
            if message is None:
                queue.put_nowait(None)  # the stop mark stays for every other receiver
                if not ready:
                    raise LinkClosed(self.settings.url)
                break
            ready.append(message)
        return ready

    async def messages(self) -> AsyncIterator[Incoming]:
        """Deliveries in order until the link is stopped (see ``receive``)."""
        while True:
            try:
                message = await self.receive()
            except LinkClosed:
                return
            yield message

    def ack(self, message: Incoming) -> bool:
        """Acknowledge a delivery (PUBACK); call it once the message is committed.

        Returns False, and sends nothing, for a QoS 0 message or one that came on a
        connection that is gone: the broker delivers that one again on the new connection.
        """
        conn = self._conn
        if conn is None or conn.number != message.connection or message.qos == 0:
            self._log.debug("mqtt_ack_skipped", mid=message.mid, connection=message.connection)
            return False
        is_sent = conn.ack(message.mid, message.qos)
        if is_sent:
            self._bounces = 0
        return is_sent

    async def bounce(self) -> None:
        """Drop the connection now (clean DISCONNECT) and reconnect after the backoff.

        For when a delivery cannot be committed (no room): it stays unacknowledged and the
        broker delivers it again on the next connection. Bounces in a row back off further;
        an ``ack`` resets that. Nothing of the dropped connection is acknowledged later.
        """
        conn = self._conn
        if conn is None or not conn.is_open:
            return
        conn.was_bounced = True
        self._connected.clear()  # wait_connected() waits for the next connection from now on
        self._log.info("mqtt_bounce", connection=conn.number)
        await conn.close()

    async def stop(self, final: tuple[str, bytes, bool] | None = None) -> None:
        """Publish ``final`` (topic, payload, retain) if connected, DISCONNECT, end ``run()``.

        The final message gets up to FINAL_PUBLISH_TIMEOUT_S for its acknowledgement. The
        clean DISCONNECT keeps the broker from sending the will and keeps the session.
        """
        if self._is_closed:
            return
        self._stopping.set()
        conn = self._conn
        if conn is not None and conn.is_open:
            if final is not None and conn.is_up:
                await self._publish_final(conn, final)
            await conn.close()
        elif conn is not None:
            conn.abort("the link is stopping")
        if self._is_running:
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await self._run_done.wait()
            except TimeoutError:
                self._log.warning("mqtt_stop_timeout", timeout_s=STOP_TIMEOUT_S)
        self._is_closed = True
        self._connected.clear()
        self._queue.put_nowait(None)
        self._log.info("mqtt_stopped")

    async def _publish_final(self, conn: Connection, final: tuple[str, bytes, bool]) -> None:
        topic, payload, retain = final
        try:
            async with asyncio.timeout(FINAL_PUBLISH_TIMEOUT_S):
                await conn.publish(topic, payload, qos=1, retain=retain)
        except (MqttError, TimeoutError) as exc:
            self._log.warning("mqtt_final_publish_failed", topic=topic, error=str(exc))
