"""The host side of ENQ/ACK/NAK (agent/drivers/shtrih/link.py), step by step, no I/O."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.drivers.shtrih.frame import Frame
from agent.drivers.shtrih.link import (
    AnswerReceived,
    ExchangeFailed,
    FailureKind,
    HeldAnswerDiscarded,
    Ignored,
    LinkOutput,
    LinkTimeouts,
    ShtrihHostLink,
)

ENQ, ACK, NAK = b"\x05", b"\x06", b"\x15"
REQUEST = bytes.fromhex("10 1E 00 00 00")  # real capture, docs/shtrih-wire-notes.md §1.2
REQUEST_FRAME = bytes.fromhex("02 05 10 1E 00 00 00 0B")
ANSWER = bytes.fromhex("10 00 1E 92 02 02 00 00 9F E5 18 01 00 92 08 00")
ANSWER_FRAME = bytes.fromhex("02 10 10 00 1E 92 02 02 00 00 9F E5 18 01 00 92 08 00 75")
BAD_ANSWER_FRAME = ANSWER_FRAME[:-1] + b"\x74"
OLD_ANSWER_FRAME = bytes.fromhex("02 03 88 00 1E 95")  # real 0x88 answer, left from before
T = LinkTimeouts(byte_timeout_s=0.1, enq_timeout_s=1.0, ack_timeout_s=1.0, enq_attempts=3)
ANSWER_TIMEOUT_S = 5.0


def _started(now: float = 0.0) -> tuple[ShtrihHostLink, LinkOutput]:
    link = ShtrihHostLink(timeouts=T)
    return link, link.start(REQUEST, now, answer_timeout_s=ANSWER_TIMEOUT_S)


def _answer(out: LinkOutput) -> Frame | None:
    answers = [e.frame for e in out.events if isinstance(e, AnswerReceived)]
    return answers[0] if answers else None


def _failure(out: LinkOutput) -> ExchangeFailed | None:
    failures = [e for e in out.events if isinstance(e, ExchangeFailed)]
    return failures[0] if failures else None


def test_link_happy_exchange() -> None:
    """ENQ, NAK, frame, ACK, answer, ACK: the answer is delivered and the link is idle."""
    link, out = _started()
    assert out.write == ENQ
    assert out.deadline == pytest.approx(1.0)
    out = link.feed(NAK, 0.01)
    assert out.write == REQUEST_FRAME
    out = link.feed(ACK, 0.02)
    assert out.write == b""
    assert out.deadline == pytest.approx(0.01 + ANSWER_TIMEOUT_S)
    out = link.feed(ANSWER_FRAME, 0.03)
    assert out.write == ACK
    assert _answer(out) == Frame(ANSWER)
    assert not link.is_busy
    assert link.deadline is None


def test_link_nak_to_frame_resends_it() -> None:
    """NAK after the frame (bad LRC on the register's side) sends the same frame again."""
    link, _ = _started()
    link.feed(NAK, 0.0)
    out = link.feed(NAK, 0.1)
    assert out.write == REQUEST_FRAME
    link.feed(ACK, 0.2)
    assert _answer(link.feed(ANSWER_FRAME, 0.3)) == Frame(ANSWER)


def test_link_nak_cap_fails_with_bad_checksum() -> None:
    """Ten NAKs to the frame give up with BAD_CHECKSUM (spec117 App. 3: I < 10)."""
    link, _ = _started()
    out = link.feed(NAK, 0.0)
    sends = 1
    while _failure(out) is None:
        out = link.feed(NAK, 0.1)
        sends += out.write.count(REQUEST_FRAME)
    failure = _failure(out)
    assert failure is not None
    assert failure.kind is FailureKind.BAD_CHECKSUM
    assert sends == T.max_sends == failure.attempts
    assert not link.is_busy


def test_link_lost_ack_answer_arrives_anyway() -> None:
    """The ACK to our frame is lost but the answer arrives: it is taken, nothing resent."""
    link, _ = _started()
    link.feed(NAK, 0.0)
    out = link.feed(ANSWER_FRAME, 0.1)
    assert out.write == ACK
    assert _answer(out) == Frame(ANSWER)


def test_link_lost_ack_probes_with_enq_and_reads_held_answer() -> None:
    """No ACK and no answer: ENQ asks first; ACK means the answer is held: read it, no resend."""
    link, _ = _started()
    link.feed(NAK, 0.0)
    out = link.poll(1.0)
    assert out.write == ENQ
    out = link.feed(ACK, 1.1)
    assert out.write == b""
    out = link.feed(ANSWER_FRAME, 1.2)
    assert out.write == ACK
    assert _answer(out) == Frame(ANSWER)


def test_link_lost_frame_probe_nak_resends() -> None:
    """No ACK and the ENQ probe answers NAK (the frame never arrived): send the frame again."""
    link, _ = _started()
    link.feed(NAK, 0.0)
    link.poll(1.0)
    out = link.feed(NAK, 1.1)
    assert out.write == REQUEST_FRAME
    link.feed(ACK, 1.2)
    assert _answer(link.feed(ANSWER_FRAME, 1.3)) == Frame(ANSWER)


def test_link_silent_register_after_frame_times_out() -> None:
    """No ACK, then enq_attempts ENQs met with silence: NO_REPLY long before the answer deadline.

    A live register answers ENQ even while it works, so silence means it is gone (a power
    cut); waiting out a close's answer deadline would only delay the recovery.
    """
    link, _ = _started()
    link.feed(NAK, 0.0)
    now = 0.0
    out = LinkOutput()
    probes = 0
    while _failure(out) is None:
        now = link.deadline or now
        out = link.poll(now)
        probes += out.write.count(ENQ)
    failure = _failure(out)
    assert failure is not None
    assert failure.kind is FailureKind.NO_REPLY
    assert probes == T.enq_attempts
    assert now == pytest.approx(T.ack_timeout_s + T.enq_attempts * T.enq_timeout_s)
    assert now < ANSWER_TIMEOUT_S


def test_link_bad_lrc_answer_recovers() -> None:
    """A bad-LRC answer: NAK then ENQ; ACK and the answer again; the good one is ACKed."""
    link, _ = _started()
    link.feed(NAK, 0.0)
    link.feed(ACK, 0.1)
    out = link.feed(BAD_ANSWER_FRAME, 0.2)
    assert out.write == NAK + ENQ
    assert any(isinstance(e, Ignored) and "bad LRC" in e.reason for e in out.events)
    out = link.feed(ACK + ANSWER_FRAME, 0.3)
    assert out.write == ACK
    assert _answer(out) == Frame(ANSWER)


def test_link_bad_lrc_cap_fails_with_bad_checksum() -> None:
    """Ten bad answers in a row give up with BAD_CHECKSUM (spec117 App. 3: J < 10)."""
    link, _ = _started()
    link.feed(NAK, 0.0)
    link.feed(ACK, 0.1)
    out = link.feed(BAD_ANSWER_FRAME, 0.2)
    bad = 1
    while _failure(out) is None:
        out = link.feed(ACK + BAD_ANSWER_FRAME, 0.3)
        bad += 1
    failure = _failure(out)
    assert failure is not None
    assert failure.kind is FailureKind.BAD_CHECKSUM
    assert bad == T.max_bad_answers == failure.attempts


def test_link_nak_to_enq_after_bad_answer_is_unexpected() -> None:
    """After a bad answer the register must hold it; NAK to our ENQ means it is lost."""
    link, _ = _started()
    link.feed(NAK, 0.0)
    link.feed(ACK, 0.1)
    link.feed(BAD_ANSWER_FRAME, 0.2)
    failure = _failure(link.feed(NAK, 0.3))
    assert failure is not None
    assert failure.kind is FailureKind.UNEXPECTED


def test_link_byte_timeout_mid_answer_asks_again() -> None:
    """An answer cut short by the byte timeout is treated like a bad LRC: NAK, ENQ."""
    link, _ = _started()
    link.feed(NAK, 0.0)
    link.feed(ACK, 0.1)
    out = link.feed(ANSWER_FRAME[:7], 0.2)
    assert out.deadline == pytest.approx(0.3)
    assert link.poll(0.25).write == b""
    out = link.poll(0.31)
    assert out.write == NAK + ENQ
    out = link.feed(ACK + ANSWER_FRAME, 0.4)
    assert _answer(out) == Frame(ANSWER)


def test_link_held_answer_on_enq_is_drained() -> None:
    """ENQ -> ACK + an old answer: ACK it, drop it, ENQ again, then send our frame."""
    link, _ = _started()
    out = link.feed(ACK + OLD_ANSWER_FRAME, 0.1)
    assert out.write == ACK + ENQ
    assert [e for e in out.events if isinstance(e, HeldAnswerDiscarded)] == [
        HeldAnswerDiscarded(Frame(bytes.fromhex("88 00 1E")))
    ]
    assert link.feed(NAK, 0.2).write == REQUEST_FRAME
    link.feed(ACK, 0.3)
    assert _answer(link.feed(ANSWER_FRAME, 0.4)) == Frame(ANSWER)


def test_link_held_answer_with_bad_lrc_is_asked_again() -> None:
    """A held answer arriving broken is NAKed and ENQ repeated; then drained normally."""
    link, _ = _started()
    out = link.feed(ACK + OLD_ANSWER_FRAME[:-1] + b"\x00", 0.1)
    assert out.write == NAK + ENQ
    out = link.feed(ACK + OLD_ANSWER_FRAME, 0.2)
    assert out.write == ACK + ENQ


def test_link_no_reply_to_enq_fails_after_attempts() -> None:
    """A silent register: ENQ is repeated, then NO_REPLY (the driver raises AnswerTimeout)."""
    link, out = _started()
    writes = [out.write]
    now = 0.0
    while _failure(out) is None:
        now = link.deadline or now
        out = link.poll(now)
        writes.append(out.write)
    failure = _failure(out)
    assert failure is not None
    assert failure.kind is FailureKind.NO_REPLY
    assert writes.count(ENQ) == T.enq_attempts
    assert now == pytest.approx(T.enq_attempts * T.enq_timeout_s)


def test_link_answer_timeout() -> None:
    """ACKed but no answer within the answer timeout: NO_REPLY."""
    link, _ = _started()
    link.feed(NAK, 0.0)
    link.feed(ACK, 0.1)
    assert link.poll(ANSWER_TIMEOUT_S - 0.01).events == ()
    failure = _failure(link.poll(ANSWER_TIMEOUT_S))
    assert failure is not None
    assert failure.kind is FailureKind.NO_REPLY


def test_link_early_poll_is_harmless() -> None:
    """poll() before the deadline changes nothing."""
    link, out = _started()
    assert link.poll(0.5) == LinkOutput(deadline=out.deadline)


def test_link_idle_bytes_are_ignored() -> None:
    """Bytes while idle (a late duplicate answer) are reported and otherwise ignored."""
    link = ShtrihHostLink(timeouts=T)
    out = link.feed(ACK + ANSWER_FRAME + b"\x99", 0.0)
    assert out.write == b""
    assert all(isinstance(e, Ignored) for e in out.events)
    assert len(out.events) == 3


def test_link_start_while_busy_is_a_programmer_error() -> None:
    """Only one exchange at a time; abort() makes the link idle again."""
    link, _ = _started()
    with pytest.raises(RuntimeError):
        link.start(REQUEST, 0.0, answer_timeout_s=1.0)
    link.abort()
    assert not link.is_busy
    assert link.start(REQUEST, 0.0, answer_timeout_s=1.0).write == ENQ


def test_link_start_drops_a_partial_frame_left_from_before() -> None:
    """Half a frame left in the decoder is dropped when a new exchange starts."""
    link = ShtrihHostLink(timeouts=T)
    link.feed(ANSWER_FRAME[:5], 0.0)
    out = link.start(REQUEST, 1.0, answer_timeout_s=1.0)
    assert any(isinstance(e, Ignored) for e in out.events)
    link.feed(NAK, 1.1)
    link.feed(ACK, 1.2)
    assert _answer(link.feed(ANSWER_FRAME, 1.3)) == Frame(ANSWER)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"byte_timeout_s": 0}, id="zero-byte-timeout"),
        pytest.param({"enq_attempts": 0}, id="zero-enq-attempts"),
        pytest.param({"max_sends": 0}, id="zero-sends"),
    ],
)
def test_link_timeouts_reject_nonsense(kwargs: dict[str, float]) -> None:
    """Zero timeouts or retry caps are configuration errors."""
    with pytest.raises(ValueError, match="must be"):
        LinkTimeouts(**kwargs)


def _register_reply(written: bytes, *, holds_old_answer: bool, state: dict[str, bool]) -> bytes:
    """A scripted register: what it sends back for what the host just wrote."""
    if written.endswith(REQUEST_FRAME):
        return ACK + ANSWER_FRAME
    if written.endswith(ENQ):
        if holds_old_answer and not state.get("drained"):
            state["drained"] = True
            return ACK + OLD_ANSWER_FRAME
        return NAK
    return b""


@settings(max_examples=200)
@given(sizes=st.lists(st.integers(1, 8), min_size=1, max_size=30), held=st.booleans())
def test_link_any_fragmentation_delivers_the_answer(sizes: list[int], held: bool) -> None:
    """However the register's bytes are split, the one answer comes out and is ACKed."""
    link, out = _started()
    state: dict[str, bool] = {}
    pending = bytearray(_register_reply(out.write, holds_old_answer=held, state=state))
    answers: list[Frame] = []
    now = 0.0
    step = 0
    while pending and not answers:
        size = sizes[step % len(sizes)]
        step += 1
        piece, pending = bytes(pending[:size]), pending[size:]
        now += 0.01
        out = link.feed(piece, now)
        pending += _register_reply(out.write, holds_old_answer=held, state=state)
        answers += [e.frame for e in out.events if isinstance(e, AnswerReceived)]
    assert answers == [Frame(ANSWER)]
    assert out.write.endswith(ACK)
    assert not link.is_busy


def test_link_noise_instead_of_enq_reply_asks_again_at_once() -> None:
    """A corrupted reply to ENQ is answered with a new ENQ at once, not after the timeout."""
    link, _ = _started()
    out = link.feed(b"\xea", 0.01)
    assert out.write == ENQ
    assert out.deadline == pytest.approx(0.01 + T.enq_timeout_s)
    assert link.feed(NAK, 0.02).write == REQUEST_FRAME


def test_link_endless_noise_is_bad_checksum() -> None:
    """Noise on every ENQ reply ends as BAD_CHECKSUM after the bad-answer cap."""
    link, _ = _started()
    out = LinkOutput()
    replies = 0
    while _failure(out) is None:
        out = link.feed(b"\xea", 0.01 * replies)
        replies += 1
    failure = _failure(out)
    assert failure is not None
    assert failure.kind is FailureKind.BAD_CHECKSUM
    assert replies == T.max_bad_answers


def test_link_failure_reports_the_time_waited() -> None:
    """ExchangeFailed carries how long the exchange ran, for the AnswerTimeout message."""
    link, _ = _started(now=10.0)
    link.feed(NAK, 10.0)
    link.feed(ACK, 10.1)
    failure = _failure(link.poll(10.0 + ANSWER_TIMEOUT_S))
    assert failure is not None
    assert failure.waited_s == pytest.approx(ANSWER_TIMEOUT_S)
