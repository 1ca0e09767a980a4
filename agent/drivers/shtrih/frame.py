"""Shtrih-M link-layer framing: bytes <-> frames, sans-IO.

Spec: "Протокол работы ККТ с ФН v.1.17", "Нижний уровень"; notes in
docs/shtrih-wire-notes.md §1. The framing is symmetric, so the simulator uses this
module too (and only this module of the agent).

Frame layout (§1.2)::

    +-----+-----+-----------------------+-----+
    | STX | LEN | CMD (1 or 2) + DATA   | LRC |
    +-----+-----+-----------------------+-----+
      02    n     n bytes                 XOR of LEN and the n bytes

Outside a frame the single control bytes ENQ (05), ACK (06) and NAK (15) travel on their own.
Inside a frame every byte is data, whatever its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import reduce
from operator import xor

__all__ = [
    "MAX_FRAME_LEN",
    "MAX_PAYLOAD_LEN",
    "ControlByte",
    "Discarded",
    "Frame",
    "FrameEvent",
    "LinkByte",
    "ShtrihFrameDecoder",
    "encode_frame",
    "lrc",
]

STX = 0x02
MAX_PAYLOAD_LEN = 255
"""LEN is one byte, so a frame carries at most 255 bytes of command code and data."""
MAX_FRAME_LEN = MAX_PAYLOAD_LEN + 3
"""STX + LEN + payload + LRC."""


class ControlByte(IntEnum):
    """Single-byte link messages (§1.1)."""

    ENQ = 0x05
    ACK = 0x06
    NAK = 0x15


@dataclass(frozen=True, slots=True)
class Frame:
    """A frame whose LRC checked out. ``payload`` is the LEN bytes: command code and data."""

    payload: bytes

    @property
    def command(self) -> int:
        """The command code: one byte, or ``0xFFxx`` for two-byte FN commands."""
        if self.payload[0] == 0xFF and len(self.payload) >= 2:
            return 0xFF00 | self.payload[1]
        return self.payload[0]

    @property
    def body(self) -> bytes:
        """The bytes after the command code."""
        return self.payload[2:] if self.command > 0xFF else self.payload[1:]


@dataclass(frozen=True, slots=True)
class LinkByte:
    """A control byte received outside a frame."""

    byte: ControlByte


@dataclass(frozen=True, slots=True)
class Discarded:
    """Bytes the decoder dropped, and why (garbage, bad LRC, zero length, reset mid-frame)."""

    raw: bytes
    reason: str


FrameEvent = Frame | LinkByte | Discarded


def lrc(data: bytes) -> int:
    """XOR of every byte: the Shtrih-M frame check over LEN and payload."""
    return reduce(xor, data, 0)


def encode_frame(payload: bytes) -> bytes:
    """Wrap a command code and its data into ``STX LEN payload LRC``."""
    if not 1 <= len(payload) <= MAX_PAYLOAD_LEN:
        msg = f"frame payload must be 1..{MAX_PAYLOAD_LEN} bytes, got {len(payload)}"
        raise ValueError(msg)
    body = bytes([len(payload)]) + payload
    return bytes([STX]) + body + bytes([lrc(body)])


class ShtrihFrameDecoder:
    """Stateful, pure decoder: feed it bytes, get frames, link bytes and discards back.

    Incomplete input yields nothing and waits for more. Garbage outside a frame is reported
    as one ``Discarded`` per run; a frame with a bad LRC or a zero LEN is discarded whole and
    the decoder looks for the next STX. It never raises on input. The caller, which owns the
    clock, calls :meth:`reset` when the byte timeout runs out in the middle of a frame.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._in_frame = False

    @property
    def is_mid_frame(self) -> bool:
        """True once STX has arrived and the frame is not complete yet."""
        return self._in_frame

    def reset(self) -> list[FrameEvent]:
        """Drop a partial frame (byte timeout); returns what was dropped, if anything."""
        dropped = bytes(self._buf)
        self._buf.clear()
        was_in_frame = self._in_frame
        self._in_frame = False
        if not dropped:
            return []
        reason = "incomplete frame dropped on timeout" if was_in_frame else "garbage"
        return [Discarded(dropped, reason)]

    def feed(self, data: bytes) -> list[FrameEvent]:
        """Consume ``data``; return every complete event it finished."""
        events: list[FrameEvent] = []
        garbage = bytearray()
        for byte in data:
            if not self._in_frame:
                if byte == STX:
                    if garbage:
                        events.append(Discarded(bytes(garbage), "garbage"))
                        garbage.clear()
                    self._in_frame = True
                    self._buf = bytearray([byte])
                elif byte in _CONTROL_BYTES:
                    if garbage:
                        events.append(Discarded(bytes(garbage), "garbage"))
                        garbage.clear()
                    events.append(LinkByte(ControlByte(byte)))
                else:
                    garbage.append(byte)
                continue
            self._buf.append(byte)
            event = self._try_complete()
            if event is not None:
                events.append(event)
        if garbage:
            events.append(Discarded(bytes(garbage), "garbage"))
        return events

    def _try_complete(self) -> FrameEvent | None:
        buf = self._buf
        if len(buf) < 2:
            return None
        length = buf[1]
        if length == 0:
            self._in_frame = False
            raw = bytes(buf)
            self._buf = bytearray()
            return Discarded(raw, "zero LEN")
        if len(buf) < length + 3:
            return None
        raw = bytes(buf)
        self._in_frame = False
        self._buf = bytearray()
        if lrc(raw[1:-1]) != raw[-1]:
            return Discarded(raw, "bad LRC")
        return Frame(raw[2:-1])


_CONTROL_BYTES = frozenset(int(c) for c in ControlByte)
