"""DeviceLink: the device side of ENQ/ACK/NAK, and the reference's real captured frames."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from simwire import SYSADMIN, Register, config, pw, sale_body

from agent.drivers.shtrih.frame import lrc
from firmware_sim.device import Device
from firmware_sim.link import DeviceLink
from firmware_sim.state import MSK, DeviceState, DocType, FnDocument

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "shtrih" / "sim_captured_frames.json").read_text(
        encoding="utf-8"
    )
)
ENQ, ACK, NAK = b"\x05", b"\x06", b"\x15"
STATUS_30 = bytes.fromhex("02 05 10 1E 00 00 00 0B")


def _exchange(exchange_id: str) -> dict[str, object]:
    return next(e for e in VECTORS["exchanges"] if e["id"] == exchange_id)


def _link(reg: Register | None = None) -> tuple[DeviceLink, Register]:
    reg = reg or Register()
    return DeviceLink(reg.device.handle, wall_clock=lambda: reg.now), reg


class _Recorder:
    """A handler that counts calls and answers a fixed payload."""

    def __init__(self) -> None:
        self.calls: list[bytes] = []

    def __call__(self, payload: bytes, _now: datetime) -> bytes:
        self.calls.append(payload)
        return b"\x10\x00\x1e"


def test_link_enq_when_idle_is_nak() -> None:
    """ENQ with no answer held gets NAK and runs nothing."""
    handler = _Recorder()
    link = DeviceLink(handler)
    assert link.feed(ENQ, 0.0) == NAK
    assert handler.calls == []


def test_link_good_frame_gets_ack_then_answer_frame() -> None:
    """A frame with a good LRC gets ACK and the answer frame, written together."""
    handler = _Recorder()
    link = DeviceLink(handler)
    assert link.feed(STATUS_30, 0.0) == ACK + bytes.fromhex("02 03 10 00 1E 0D")
    assert handler.calls == [bytes.fromhex("10 1E 00 00 00")]


def test_link_enq_while_holding_resends_answer_without_rerunning() -> None:
    """ENQ before the host ACKed: ACK plus the same answer again; the command runs once."""
    handler = _Recorder()
    link = DeviceLink(handler)
    first = link.feed(STATUS_30, 0.0)
    assert link.feed(ENQ, 0.1) == first
    assert link.feed(ENQ, 0.2) == first
    assert len(handler.calls) == 1


def test_link_answer_held_until_ack() -> None:
    """After the host's ACK the answer is released and ENQ gets NAK again."""
    link = DeviceLink(_Recorder())
    link.feed(STATUS_30, 0.0)
    assert link.held_answer is not None
    assert link.feed(ACK, 0.1) == b""
    assert link.held_answer is None
    assert link.feed(ENQ, 0.2) == NAK


def test_link_nak_to_answer_keeps_it_for_enq() -> None:
    """A NAK from the host is not answered; the next ENQ gets the answer again."""
    link = DeviceLink(_Recorder())
    first = link.feed(STATUS_30, 0.0)
    assert link.feed(NAK, 0.1) == b""
    assert link.feed(ENQ, 0.2) == first


def test_link_bad_lrc_is_nak_and_nothing_runs() -> None:
    """A frame whose LRC does not check gets NAK; the handler is not called."""
    handler = _Recorder()
    link = DeviceLink(handler)
    corrupted = STATUS_30[:-1] + bytes([STATUS_30[-1] ^ 0x01])
    assert link.feed(corrupted, 0.0) == NAK
    assert handler.calls == []


def test_link_zero_len_is_nak() -> None:
    """STX with LEN 0 is a broken frame: NAK."""
    assert DeviceLink(_Recorder()).feed(b"\x02\x00", 0.0) == NAK


def test_link_byte_timeout_mid_frame_is_nak() -> None:
    """A frame that stops mid-way is NAKed once the byte timeout passes, not before."""
    handler = _Recorder()
    link = DeviceLink(handler, byte_timeout_s=0.05)
    assert link.feed(STATUS_30[:4], 10.0) == b""
    assert link.next_deadline == pytest.approx(10.05)
    assert link.poll(10.04) == b""
    assert link.poll(10.06) == NAK
    assert link.next_deadline is None
    assert handler.calls == []


def test_link_late_bytes_after_timeout_are_nak_then_garbage() -> None:
    """The rest of a timed-out frame arriving late gets the NAK and is not executed."""
    handler = _Recorder()
    link = DeviceLink(handler, byte_timeout_s=0.05)
    link.feed(STATUS_30[:4], 0.0)
    assert link.feed(STATUS_30[4:], 1.0) == NAK
    assert handler.calls == []


def test_link_frame_split_into_single_bytes_within_timeout() -> None:
    """A frame fed one byte at a time inside the byte timeout is executed once."""
    handler = _Recorder()
    link = DeviceLink(handler, byte_timeout_s=0.05)
    out = b"".join(link.feed(bytes([b]), i * 0.01) for i, b in enumerate(STATUS_30))
    assert out.startswith(ACK)
    assert len(handler.calls) == 1


def test_link_garbage_between_frames_is_ignored() -> None:
    """Noise outside a frame gets no answer (pyshtrih fails on a stray first byte)."""
    handler = _Recorder()
    link = DeviceLink(handler)
    assert link.feed(b"\xaa\xbb\x00", 0.0) == b""
    assert link.feed(b"\xcc" + STATUS_30, 0.0).startswith(ACK)
    assert link.stats.garbage_bytes == 4


def test_link_new_frame_replaces_held_answer() -> None:
    """A new command while an answer is held runs, and its answer is the one held."""
    reg = Register()
    link, _ = _link(reg)
    link.feed(STATUS_30, 0.0)
    second = link.feed(bytes.fromhex("02 05 10 01 00 00 00 14"), 0.1)
    assert link.feed(ENQ, 0.2) == second


def test_link_disconnect_drops_partial_frame_keeps_answer() -> None:
    """A lost client drops a half frame silently but the held answer survives for ENQ."""
    link = DeviceLink(_Recorder())
    answer = link.feed(STATUS_30, 0.0)
    link.feed(STATUS_30[:3], 0.1)
    link.disconnect()
    assert link.next_deadline is None
    assert link.feed(ENQ, 0.2) == answer


def test_link_reset_forgets_held_answer() -> None:
    """A power cut (reset) forgets the held answer: ENQ gets NAK."""
    link = DeviceLink(_Recorder())
    link.feed(STATUS_30, 0.0)
    link.reset()
    assert link.feed(ENQ, 0.1) == NAK


# ---- the reference's real captured frames -----------------------------------------------------


def test_vector_short_status_real_capture() -> None:
    """0x10 with password 30 in an open shift answers exactly the captured frame."""
    vector = _exchange("short_status_pwd30_shift_open")
    link, reg = _link()
    reg.open_shift()
    reply = link.feed(bytes.fromhex(str(vector["request"])), 0.0)
    assert reply == ACK + bytes.fromhex(str(vector["answer"]))


def test_vector_cancel_receipt_real_capture() -> None:
    """0x88 with password 30 and a receipt open answers exactly the captured frame."""
    vector = _exchange("cancel_receipt_pwd30")
    link, reg = _link()
    reg.open_shift()
    reg.ok(0x80, sale_body())
    reply = link.feed(bytes.fromhex(str(vector["request"])), 0.0)
    assert reply == ACK + bytes.fromhex(str(vector["answer"]))


def test_vector_fn_status_real_capture() -> None:
    """FF01 on 2021-07-29 11:29 with FD 425 last and a shift open matches the capture."""
    vector = _exchange("fn_status_pwd30")
    clock = datetime(2021, 7, 29, 11, 29, tzinfo=MSK)
    docs = tuple(
        FnDocument(fd=n, type=DocType.OPEN_SHIFT, fp=n, issued_at=clock, shift=1)
        for n in range(1, 426)
    )
    state = DeviceState(shift_number=1, is_shift_open=True, shift_opened_at=clock, documents=docs)
    device = Device(config=config(fn_valid_until=date(2022, 12, 31)), state=state)
    link = DeviceLink(device.handle, wall_clock=lambda: clock.astimezone(UTC))
    reply = link.feed(bytes.fromhex(str(vector["request"])), 0.0)
    assert reply[:1] == ACK
    frame = reply[1:]
    head = bytes.fromhex(str(vector["answer_head"]))
    tail = bytes.fromhex(str(vector["answer_tail_before_lrc"]))
    assert frame[: len(head)] == head
    assert frame[len(head) : len(head) + 16] == config().fn_serial.encode("ascii")
    assert frame[len(head) + 16 : -1] == tail
    assert frame[-1] == lrc(frame[1:-1])


@pytest.mark.parametrize("request_vector", VECTORS["requests"], ids=lambda v: v["id"])
def test_vector_reference_requests_are_understood(request_vector: dict[str, object]) -> None:
    """Request frames from the reference decode: ACK, then an answer echoing the command."""
    link, reg = _link()
    if request_vector["id"] != "open_shift_pwd1":
        reg.open_shift()
    if request_vector["id"] == "tlv_1008_phone":
        reg.ok(0x80, sale_body())
    reply = link.feed(bytes.fromhex(str(request_vector["frame"])), 0.0)
    assert reply[:1] == ACK
    command = int(str(request_vector["command"]))
    echo = bytes([0xFF, command & 0xFF]) if command > 0xFF else bytes([command])
    payload = reply[3:-1]
    assert payload[: len(echo)] == echo
    assert payload[len(echo)] == 0, f"error {payload[len(echo)]:#04x}"


def test_vector_tlv_example_sets_contact_flag_only() -> None:
    """The §2.9 tag 1008 example marks the receipt as having a contact, without the value."""
    vector = next(v for v in VECTORS["requests"] if v["id"] == "tlv_1008_phone")
    link, reg = _link()
    reg.open_shift()
    reg.ok(0x80, sale_body())
    link.feed(bytes.fromhex(str(vector["frame"])), 0.0)
    receipt = reg.device.state.open_receipt
    assert receipt is not None
    assert receipt.tags.has_contact
    assert "+7999" not in repr(receipt)
    assert reg.ok(0xFF01, pw(SYSADMIN))[1] == 0x04  # current document: receipt
