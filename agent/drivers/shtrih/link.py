"""The host side of the Shtrih-M ENQ/ACK/NAK handshake as a sans-IO state machine.

Spec: spec117 App. 3 (host) and App. 2 (device); notes in docs/shtrih-wire-notes.md §1.3-1.4.
Inputs are bytes and ``now`` (seconds on any monotonic clock); outputs are the bytes to write,
events and the next deadline. It does no I/O and reads no clock: the driver pumps it.

One exchange::

    host                         register
    ENQ        ------------>
               <------------     NAK            idle: go on
                                 (ACK + frame   it still holds an answer: ACK it, drop it,
                                                 ENQ again)
    STX frame  ------------>
               <------------     ACK            (NAK: bad LRC, send again, up to 10 times)
               <------------     STX answer     (bad LRC: NAK, ENQ, expect ACK + the answer
                                                 again, up to 10 times)
    ACK        ------------>

A lost ACK to the request is not answered by sending the request again, since the register
may already be executing it (a second receipt is worse than no answer). The host sends ENQ
instead: ACK means the register holds our answer, so read it; NAK means the request never
arrived, so send it again. An answer that arrives where the ACK was expected is taken as the
answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, auto
from typing import Final

from agent.drivers.shtrih.frame import (
    ControlByte,
    Discarded,
    Frame,
    FrameEvent,
    LinkByte,
    ShtrihFrameDecoder,
    encode_frame,
)

__all__ = [
    "ACK_TIMEOUT_S",
    "BYTE_TIMEOUT_S",
    "ENQ_ATTEMPTS",
    "ENQ_TIMEOUT_S",
    "MAX_BAD_ANSWERS",
    "MAX_HELD_ANSWERS",
    "MAX_SENDS",
    "AnswerReceived",
    "ExchangeFailed",
    "FailureKind",
    "HeldAnswerDiscarded",
    "Ignored",
    "LinkEvent",
    "LinkOutput",
    "LinkTimeouts",
    "ShtrihHostLink",
]

BYTE_TIMEOUT_S: Final = 0.1
"""Longest gap between two bytes of one frame (JavaPOS: 100 ms; the register's own is 50 ms)."""
ENQ_TIMEOUT_S: Final = 1.0
"""How long to wait for the register's ACK or NAK to ENQ, and for a held answer after it."""
ACK_TIMEOUT_S: Final = 1.0
"""How long to wait for the register's ACK to a request frame."""
ENQ_ATTEMPTS: Final = 3
"""ENQ probes before the register counts as silent (pyshtrih: CHECK_NUM = 3)."""
MAX_SENDS: Final = 10
"""Transmissions of one request frame (spec117 App. 3: counter I < 10)."""
MAX_BAD_ANSWERS: Final = 10
"""Answers with a bad LRC before giving up (spec117 App. 3: counter J < 10)."""
MAX_HELD_ANSWERS: Final = 10
"""Stale held answers drained before a request; more means the register is looping."""

_ACK = bytes([ControlByte.ACK])
_NAK = bytes([ControlByte.NAK])
_ENQ = bytes([ControlByte.ENQ])


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkTimeouts:
    """Timeouts and retry caps of the handshake; the driver's params override them."""

    byte_timeout_s: float = BYTE_TIMEOUT_S
    enq_timeout_s: float = ENQ_TIMEOUT_S
    ack_timeout_s: float = ACK_TIMEOUT_S
    enq_attempts: int = ENQ_ATTEMPTS
    max_sends: int = MAX_SENDS
    max_bad_answers: int = MAX_BAD_ANSWERS
    max_held_answers: int = MAX_HELD_ANSWERS

    def __post_init__(self) -> None:
        for name in ("byte_timeout_s", "enq_timeout_s", "ack_timeout_s"):
            if getattr(self, name) <= 0:
                msg = f"{name} must be positive"
                raise ValueError(msg)
        for name in ("enq_attempts", "max_sends", "max_bad_answers", "max_held_answers"):
            if getattr(self, name) < 1:
                msg = f"{name} must be at least 1"
                raise ValueError(msg)


class FailureKind(Enum):
    """Why an exchange gave up."""

    NO_REPLY = auto()  # silence: no reply to ENQ, no ACK, or no answer in time
    BAD_CHECKSUM = auto()  # NAK to every send, or a bad LRC on every answer
    UNEXPECTED = auto()  # the register broke the handshake


@dataclass(frozen=True, slots=True)
class AnswerReceived:
    """The answer to the request, acknowledged."""

    frame: Frame


@dataclass(frozen=True, slots=True)
class HeldAnswerDiscarded:
    """An answer to an earlier request that the register still held; acknowledged and dropped."""

    frame: Frame


@dataclass(frozen=True, slots=True)
class ExchangeFailed:
    """The exchange gave up; the link is idle again."""

    kind: FailureKind
    detail: str
    attempts: int
    waited_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Ignored:
    """Bytes that had no place in the handshake (noise, stray frames); for the log."""

    raw: bytes
    reason: str


LinkEvent = AnswerReceived | HeldAnswerDiscarded | ExchangeFailed | Ignored


@dataclass(frozen=True, slots=True)
class LinkOutput:
    """What one step produced: bytes to write (in order), events, and the next deadline."""

    write: bytes = b""
    events: tuple[LinkEvent, ...] = ()
    deadline: float | None = None


class _State(Enum):
    IDLE = auto()
    ENQ_SENT = auto()  # first ENQ of the exchange: NAK = idle, ACK = a held answer follows
    READING_HELD = auto()  # ACK to ENQ came: read the stale answer, then ENQ again
    FRAME_SENT = auto()  # waiting for ACK to our frame
    PROBING = auto()  # no ACK came: ENQ asks whether the register got the frame
    AWAITING_ANSWER = auto()  # ACKed: waiting for the answer frame
    REPEAT_REQUESTED = auto()  # bad answer: NAK + ENQ sent, expecting ACK + the answer again


_ENQ_REPLY_STATES = frozenset({_State.ENQ_SENT, _State.PROBING, _State.REPEAT_REQUESTED})
"""States waiting for the one-byte reply to ENQ."""
_ANSWER_STATES = frozenset(
    {_State.FRAME_SENT, _State.PROBING, _State.AWAITING_ANSWER, _State.REPEAT_REQUESTED}
)


@dataclass(slots=True)
class _Step:
    write: bytearray = field(default_factory=bytearray)
    events: list[LinkEvent] = field(default_factory=list)


class ShtrihHostLink:
    """One request at a time through ENQ/ACK/NAK; see the module docstring."""

    def __init__(self, *, timeouts: LinkTimeouts | None = None) -> None:
        self._t = timeouts or LinkTimeouts()
        self._decoder = ShtrihFrameDecoder()
        self._state = _State.IDLE
        self._frame = b""
        self._answer_timeout_s = 0.0
        self._answer_deadline = 0.0
        self._deadline: float | None = None
        self._started_at = 0.0
        self._now = 0.0
        self._last_byte_at = 0.0
        self._enq_tries = 0
        self._sends = 0
        self._bad_answers = 0
        self._held = 0

    @property
    def is_busy(self) -> bool:
        """True while an exchange is under way."""
        return self._state is not _State.IDLE

    @property
    def deadline(self) -> float | None:
        """When :meth:`poll` must be called next, or ``None`` when nothing is timed."""
        if self._state is _State.IDLE:
            return None
        if self._decoder.is_mid_frame:
            byte_deadline = self._last_byte_at + self._t.byte_timeout_s
            if self._deadline is None:
                return byte_deadline
            return min(self._deadline, byte_deadline)
        return self._deadline

    def start(self, payload: bytes, now: float, *, answer_timeout_s: float) -> LinkOutput:
        """Begin an exchange for a request payload (command code + data): sends ENQ."""
        if self._state is not _State.IDLE:
            msg = "an exchange is already under way"
            raise RuntimeError(msg)
        if answer_timeout_s <= 0:
            msg = "answer_timeout_s must be positive"
            raise ValueError(msg)
        self._frame = encode_frame(payload)
        self._answer_timeout_s = answer_timeout_s
        self._started_at = now
        self._now = now
        self._enq_tries = 1
        self._sends = 0
        self._bad_answers = 0
        self._held = 0
        step = _Step()
        for event in self._decoder.reset():
            step.events.append(_ignored(event))
        step.write += _ENQ
        self._enter(_State.ENQ_SENT, now + self._t.enq_timeout_s)
        return self._out(step)

    def abort(self) -> None:
        """Forget the exchange under way (the caller was cancelled); the link is idle."""
        self._state = _State.IDLE
        self._deadline = None
        self._decoder.reset()

    def feed(self, data: bytes, now: float) -> LinkOutput:
        """Consume bytes read from the register."""
        step = _Step()
        self._now = now
        if data:
            self._last_byte_at = now
        for event in self._decoder.feed(data):
            self._on_event(event, now, step)
        return self._out(step)

    def poll(self, now: float) -> LinkOutput:
        """Act on whatever deadline has passed; harmless to call early."""
        step = _Step()
        self._now = now
        if self._state is _State.IDLE:
            return self._out(step)
        if self._decoder.is_mid_frame and now >= self._last_byte_at + self._t.byte_timeout_s:
            for event in self._decoder.reset():
                self._on_broken_frame(event, now, step)
            return self._out(step)
        if self._deadline is not None and now >= self._deadline:
            self._on_timeout(now, step)
        return self._out(step)

    # --- transitions ---------------------------------------------------------------------

    def _enter(self, state: _State, deadline: float | None) -> None:
        self._state = state
        self._deadline = deadline

    def _out(self, step: _Step) -> LinkOutput:
        return LinkOutput(bytes(step.write), tuple(step.events), self.deadline)

    def _fail(self, kind: FailureKind, detail: str, attempts: int, step: _Step) -> None:
        self._enter(_State.IDLE, None)
        waited = max(0.0, self._now - self._started_at)
        step.events.append(ExchangeFailed(kind, detail, attempts, waited))

    def _send_frame(self, now: float, step: _Step) -> None:
        self._sends += 1
        step.write += self._frame
        self._enter(_State.FRAME_SENT, now + self._t.ack_timeout_s)
        self._answer_deadline = now + self._answer_timeout_s

    def _send_enq(self, state: _State, now: float, step: _Step) -> None:
        step.write += _ENQ
        self._enter(state, now + self._t.enq_timeout_s)

    def _accept(self, frame: Frame, step: _Step) -> None:
        step.write += _ACK
        self._enter(_State.IDLE, None)
        step.events.append(AnswerReceived(frame))

    def _on_event(self, event: FrameEvent, now: float, step: _Step) -> None:
        state = self._state
        if state is _State.IDLE:
            step.events.append(_ignored(event, "while idle"))
        elif isinstance(event, LinkByte):
            self._on_link_byte(event.byte, now, step)
        elif isinstance(event, Frame):
            self._on_frame(event, now, step)
        elif event.reason == "garbage":
            step.events.append(Ignored(event.raw, f"garbage in {state.name}"))
            if state in _ENQ_REPLY_STATES:
                self._on_noise(now, step)
        else:
            self._on_broken_frame(event, now, step)

    def _on_link_byte(self, byte: ControlByte, now: float, step: _Step) -> None:
        state = self._state
        if state is _State.ENQ_SENT and byte is ControlByte.NAK:
            self._send_frame(now, step)
        elif state is _State.ENQ_SENT and byte is ControlByte.ACK:
            self._enter(_State.READING_HELD, now + self._t.enq_timeout_s)
        elif state is _State.FRAME_SENT and byte is ControlByte.ACK:
            self._enter(_State.AWAITING_ANSWER, self._answer_deadline)
        elif state is _State.FRAME_SENT and byte is ControlByte.NAK:
            if self._sends >= self._t.max_sends:
                self._fail(
                    FailureKind.BAD_CHECKSUM, "the register NAKed every send", self._sends, step
                )
            else:
                self._send_frame(now, step)
        elif state is _State.PROBING and byte is ControlByte.NAK:
            # The register is idle: our frame never arrived whole. Send it again.
            if self._sends >= self._t.max_sends:
                self._fail(FailureKind.NO_REPLY, "the request never got through", self._sends, step)
            else:
                self._send_frame(now, step)
        elif state in {_State.PROBING, _State.REPEAT_REQUESTED} and byte is ControlByte.ACK:
            # It holds our answer and sends it again now.
            self._enter(_State.AWAITING_ANSWER, now + self._t.ack_timeout_s)
        elif state is _State.REPEAT_REQUESTED and byte is ControlByte.NAK:
            self._fail(
                FailureKind.UNEXPECTED,
                "the register answered NAK to ENQ after a bad answer: the answer is lost",
                self._bad_answers,
                step,
            )
        else:
            step.events.append(Ignored(bytes([byte]), f"{byte.name} in {state.name}"))

    def _on_frame(self, frame: Frame, now: float, step: _Step) -> None:
        state = self._state
        if state in _ANSWER_STATES:
            self._accept(frame, step)
        elif state in {_State.ENQ_SENT, _State.READING_HELD}:
            self._held += 1
            step.write += _ACK
            step.events.append(HeldAnswerDiscarded(frame))
            if self._held > self._t.max_held_answers:
                self._fail(
                    FailureKind.UNEXPECTED,
                    "the register keeps sending old answers",
                    self._held,
                    step,
                )
                return
            self._enq_tries = 1
            self._send_enq(_State.ENQ_SENT, now, step)

    def _on_noise(self, now: float, step: _Step) -> None:
        """Noise where the reply to ENQ belongs: the register is alive, the line is not clean.

        Ask again at once rather than wait out the ENQ timeout; the noise counts against the
        bad-answer cap, not against the silence budget.
        """
        self._bad_answers += 1
        if self._bad_answers >= self._t.max_bad_answers:
            self._fail(
                FailureKind.BAD_CHECKSUM,
                "line noise instead of ENQ replies",
                self._bad_answers,
                step,
            )
            return
        self._send_enq(self._state, now, step)

    def _on_broken_frame(self, event: FrameEvent, now: float, step: _Step) -> None:
        """A frame with a bad LRC, a zero LEN, or cut by the byte timeout."""
        raw = event.raw if isinstance(event, Discarded) else b""
        reason = event.reason if isinstance(event, Discarded) else "broken frame"
        state = self._state
        step.events.append(Ignored(raw, f"{reason} in {state.name}"))
        if state in _ANSWER_STATES:
            self._bad_answers += 1
            if self._bad_answers >= self._t.max_bad_answers:
                step.write += _NAK
                self._fail(
                    FailureKind.BAD_CHECKSUM,
                    "every answer failed its LRC",
                    self._bad_answers,
                    step,
                )
                return
            # spec117 App. 3: NAK, then ENQ; the register answers ACK and repeats the answer.
            step.write += _NAK
            self._enq_tries = 1
            self._send_enq(_State.REPEAT_REQUESTED, now, step)
        elif state in {_State.ENQ_SENT, _State.READING_HELD}:
            # A stale answer arrived broken; ask for it again and drop it then.
            self._held += 1
            if self._held > self._t.max_held_answers:
                self._fail(FailureKind.BAD_CHECKSUM, "old answers keep failing", self._held, step)
                return
            step.write += _NAK
            self._enq_tries = 1
            self._send_enq(_State.ENQ_SENT, now, step)

    def _on_timeout(self, now: float, step: _Step) -> None:
        state = self._state
        if state in {_State.ENQ_SENT, _State.READING_HELD}:
            if self._enq_tries >= self._t.enq_attempts:
                self._fail(FailureKind.NO_REPLY, "no reply to ENQ", self._enq_tries, step)
                return
            self._enq_tries += 1
            self._send_enq(_State.ENQ_SENT, now, step)
        elif state is _State.FRAME_SENT:
            # No ACK: the frame or the ACK was lost. Ask before sending it again.
            self._enq_tries = 1
            self._send_enq(_State.PROBING, now, step)
        elif state is _State.PROBING:
            # A live register answers ENQ even while it works (ACK: "preparing an answer",
            # §1.1), so ENQs met with silence mean it is gone: fail now, not at the answer
            # deadline, which for a close or a report is tens of seconds away.
            if now >= self._answer_deadline or self._enq_tries >= self._t.enq_attempts:
                self._fail(FailureKind.NO_REPLY, "no ACK and no answer", self._sends, step)
                return
            self._enq_tries += 1
            self._send_enq(_State.PROBING, now, step)
        elif state is _State.AWAITING_ANSWER:
            self._fail(FailureKind.NO_REPLY, "no answer in time", self._sends, step)
        elif state is _State.REPEAT_REQUESTED:
            if self._enq_tries >= self._t.enq_attempts:
                self._fail(
                    FailureKind.NO_REPLY,
                    "no reply to ENQ after a bad answer",
                    self._enq_tries,
                    step,
                )
                return
            self._enq_tries += 1
            self._send_enq(_State.REPEAT_REQUESTED, now, step)


def _ignored(event: FrameEvent, where: str = "") -> Ignored:
    suffix = f" {where}" if where else ""
    if isinstance(event, Frame):
        return Ignored(encode_frame(event.payload), f"stray frame{suffix}")
    if isinstance(event, LinkByte):
        return Ignored(bytes([event.byte]), f"stray {event.byte.name}{suffix}")
    return Ignored(event.raw, f"{event.reason}{suffix}")
