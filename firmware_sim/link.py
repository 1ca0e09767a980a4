"""The device side of the ENQ/ACK/NAK handshake, sans-IO (docs/shtrih-wire-notes.md §1.3).

Inputs are received bytes and the caller's monotonic ``now`` (seconds); outputs are the
bytes to write. The caller also calls :meth:`DeviceLink.poll` at :attr:`next_deadline` so
that a frame cut short by the byte timeout is NAKed.

Rules (spec117 App. 2):

- ENQ while idle -> NAK. ENQ while holding an answer the host has not ACKed -> ACK, then
  the answer again.
- A frame with a good LRC -> ACK, execute, the answer frame; held until the host ACKs.
  NAK or silence keeps it held for the next ENQ; it is never resent unasked.
- A bad LRC, a zero LEN, or the byte timeout in the middle of a frame -> NAK; nothing runs.
- Garbage between frames is dropped silently (pyshtrih gives up on a stray first byte).
- A new good frame while an answer is held replaces it: the host moved on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from agent.drivers.shtrih.frame import (
    ControlByte,
    Discarded,
    Frame,
    LinkByte,
    ShtrihFrameDecoder,
    encode_frame,
)

__all__ = ["BYTE_TIMEOUT_S", "DeviceLink", "LinkStats"]

BYTE_TIMEOUT_S = 0.05
"""Default byte timeout of the register's port (§1.4): 50 ms."""

ACK = bytes([ControlByte.ACK])
NAK = bytes([ControlByte.NAK])

Handler = Callable[[bytes, datetime], bytes]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LinkStats:
    """Counters of what the link saw, for logs and the control API."""

    __slots__ = ("bad_frames", "commands", "enq", "garbage_bytes", "resent", "timeouts")

    def __init__(self) -> None:
        self.commands = 0
        self.enq = 0
        self.resent = 0
        self.bad_frames = 0
        self.timeouts = 0
        self.garbage_bytes = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return {name: getattr(self, name) for name in self.__slots__}


class DeviceLink:
    """ENQ/ACK/NAK state machine around a command handler such as ``Device.handle``.

    ``handler(payload, wall_time)`` gets a frame's LEN bytes and the host's wall-clock time
    from ``wall_clock`` (injected, so tests control it), and returns the answer payload.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        byte_timeout_s: float = BYTE_TIMEOUT_S,
        wall_clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._handler = handler
        self._byte_timeout_s = byte_timeout_s
        self._wall_clock = wall_clock
        self._decoder = ShtrihFrameDecoder()
        self._held: bytes | None = None
        self._last_byte_at: float | None = None
        self.stats = LinkStats()

    @property
    def held_answer(self) -> bytes | None:
        """The encoded answer frame waiting for the host's ACK, if any."""
        return self._held

    @property
    def next_deadline(self) -> float | None:
        """When :meth:`poll` must run: the byte timeout of a frame in progress."""
        if self._decoder.is_mid_frame and self._last_byte_at is not None:
            return self._last_byte_at + self._byte_timeout_s
        return None

    def reset(self) -> None:
        """Forget everything: a partial frame and a held answer (power cut)."""
        self._decoder.reset()
        self._held = None
        self._last_byte_at = None

    def disconnect(self) -> None:
        """The line went away: a partial frame is dropped, a held answer stays for ENQ."""
        self._decoder.reset()
        self._last_byte_at = None

    def poll(self, now: float) -> bytes:
        """NAK a frame whose next byte did not come within the byte timeout."""
        deadline = self.next_deadline
        if deadline is None or now < deadline:
            return b""
        self._decoder.reset()
        self._last_byte_at = None
        self.stats.timeouts += 1
        return NAK

    def feed(self, data: bytes, now: float) -> bytes:
        """Consume received bytes; return the bytes to write, in order."""
        out = bytearray(self.poll(now))
        if not data:
            return bytes(out)
        for event in self._decoder.feed(data):
            if isinstance(event, Frame):
                out += self._on_frame(event)
            elif isinstance(event, LinkByte):
                out += self._on_link_byte(event.byte)
            else:
                out += self._on_discarded(event)
        self._last_byte_at = now if self._decoder.is_mid_frame else None
        return bytes(out)

    def _on_frame(self, frame: Frame) -> bytes:
        self.stats.commands += 1
        self._held = None
        reply = self._handler(frame.payload, self._wall_clock())
        self._held = encode_frame(reply)
        return ACK + self._held

    def _on_link_byte(self, byte: ControlByte) -> bytes:
        if byte is ControlByte.ENQ:
            self.stats.enq += 1
            if self._held is None:
                return NAK
            self.stats.resent += 1
            return ACK + self._held
        if byte is ControlByte.ACK:
            self._held = None
        # NAK to our answer: keep it for the next ENQ, do not resend unasked.
        return b""

    def _on_discarded(self, event: Discarded) -> bytes:
        if event.reason == "garbage":
            self.stats.garbage_bytes += len(event.raw)
            return b""
        self.stats.bad_frames += 1
        return NAK
