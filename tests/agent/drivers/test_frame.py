"""The shared frame codec (agent/drivers/shtrih/frame.py) against captured and spec frames."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.drivers.shtrih.frame import (
    MAX_PAYLOAD_LEN,
    ControlByte,
    Discarded,
    Frame,
    LinkByte,
    ShtrihFrameDecoder,
    encode_frame,
    lrc,
)

VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors" / "shtrih" / "frames.json").read_text("utf-8")
)["frames"]
FRAMES = [
    pytest.param(bytes.fromhex(v["frame"]), bytes.fromhex(v["payload"]), id=v["id"])
    for v in VECTORS
]


def _frames_only(events: list[object]) -> list[Frame]:
    return [event for event in events if isinstance(event, Frame)]


@pytest.mark.parametrize(("raw", "payload"), FRAMES)
def test_encode_frame_matches_vector(raw: bytes, payload: bytes) -> None:
    """Every vector payload encodes to exactly its captured or spec bytes."""
    assert encode_frame(payload) == raw


@pytest.mark.parametrize(("raw", "payload"), FRAMES)
def test_decoder_decodes_vector(raw: bytes, payload: bytes) -> None:
    """Every vector frame decodes to exactly one frame with its payload."""
    assert ShtrihFrameDecoder().feed(raw) == [Frame(payload)]


@pytest.mark.parametrize(("raw", "payload"), FRAMES)
def test_decoder_strict_prefix_yields_nothing(raw: bytes, payload: bytes) -> None:
    """No strict prefix of a frame produces an event; the rest completes the frame."""
    for cut in range(1, len(raw)):
        decoder = ShtrihFrameDecoder()
        assert decoder.feed(raw[:cut]) == []
        assert decoder.is_mid_frame
        assert decoder.feed(raw[cut:]) == [Frame(payload)]


@pytest.mark.parametrize(("raw", "payload"), FRAMES)
def test_decoder_one_byte_at_a_time(raw: bytes, payload: bytes) -> None:
    """Fed one byte per call, the frame appears exactly once, on the last byte."""
    decoder = ShtrihFrameDecoder()
    events = [decoder.feed(bytes([byte])) for byte in raw]
    assert all(step == [] for step in events[:-1])
    assert events[-1] == [Frame(payload)]


def test_decoder_concatenated_frames() -> None:
    """All vector frames in one buffer come out in order."""
    raw = b"".join(bytes.fromhex(v["frame"]) for v in VECTORS)
    expected = [Frame(bytes.fromhex(v["payload"])) for v in VECTORS]
    assert ShtrihFrameDecoder().feed(raw) == expected


def test_decoder_garbage_before_and_after() -> None:
    """Garbage around a frame is reported as discarded runs; the frame survives."""
    raw = bytes.fromhex(VECTORS[0]["frame"])
    events = ShtrihFrameDecoder().feed(b"\x00\xaa\x33" + raw + b"\x99\x98")
    assert events == [
        Discarded(b"\x00\xaa\x33", "garbage"),
        Frame(bytes.fromhex(VECTORS[0]["payload"])),
        Discarded(b"\x99\x98", "garbage"),
    ]


def test_decoder_control_bytes_outside_and_inside_frames() -> None:
    """ENQ/ACK/NAK are link bytes between frames but plain data inside one."""
    payload = bytes([0x10, ControlByte.ENQ, ControlByte.ACK, ControlByte.NAK, 0x02])
    events = ShtrihFrameDecoder().feed(b"\x06" + encode_frame(payload) + b"\x15\x05")
    assert events == [
        LinkByte(ControlByte.ACK),
        Frame(payload),
        LinkByte(ControlByte.NAK),
        LinkByte(ControlByte.ENQ),
    ]


def test_decoder_bad_lrc_discarded_then_resyncs() -> None:
    """A frame with a wrong LRC is discarded whole and the next frame decodes."""
    good = bytes.fromhex(VECTORS[1]["frame"])
    bad = good[:-1] + bytes([good[-1] ^ 0x01])
    events = ShtrihFrameDecoder().feed(bad + good)
    assert events == [Discarded(bad, "bad LRC"), Frame(bytes.fromhex(VECTORS[1]["payload"]))]


def test_decoder_reset_drops_partial_frame() -> None:
    """A byte timeout mid-frame drops the partial frame and reports it."""
    decoder = ShtrihFrameDecoder()
    assert decoder.feed(b"\x02\x05\x10\x1e") == []
    assert decoder.reset() == [
        Discarded(b"\x02\x05\x10\x1e", "incomplete frame dropped on timeout")
    ]
    assert not decoder.is_mid_frame
    assert decoder.reset() == []


def test_decoder_oversize_len_waits_for_the_whole_frame() -> None:
    """LEN 255 is the largest frame: it waits for 255 bytes, a reset drops it."""
    decoder = ShtrihFrameDecoder()
    assert decoder.feed(b"\x02\xff" + b"\x00" * 200) == []
    assert decoder.is_mid_frame
    dropped = decoder.reset()
    assert len(dropped) == 1
    assert isinstance(dropped[0], Discarded)
    assert len(dropped[0].raw) == 202


def test_encode_frame_rejects_oversize_and_empty_payload() -> None:
    """A payload above 255 bytes or an empty one cannot be framed."""
    with pytest.raises(ValueError, match=r"1\.\.255"):
        encode_frame(b"\x00" * (MAX_PAYLOAD_LEN + 1))
    with pytest.raises(ValueError, match=r"1\.\.255"):
        encode_frame(b"")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b"\x02\x00", "zero LEN", id="zero-len"),
        pytest.param(b"\x02\x01\x10\x00", "bad LRC", id="bad-lrc-one-byte"),
        pytest.param(b"\x02\x03\x88\x00\x1e\x94", "bad LRC", id="real-88-answer-lrc-off-by-one"),
        pytest.param(b"\x02\x02\xff\x01\x00", "bad LRC", id="fn-code-lrc-zero"),
    ],
)
def test_decoder_malformed_frames_discarded(raw: bytes, reason: str) -> None:
    """Malformed frames come out as one Discarded with the reason, never an exception."""
    assert ShtrihFrameDecoder().feed(raw) == [Discarded(raw, reason)]


def test_frame_command_and_body() -> None:
    """One-byte and FF-prefixed command codes split from their bodies."""
    assert Frame(b"\x10\x00\x1e").command == 0x10
    assert Frame(b"\x10\x00\x1e").body == b"\x00\x1e"
    assert Frame(b"\xff\x01\x00").command == 0xFF01
    assert Frame(b"\xff\x01\x00").body == b"\x00"


def test_lrc_of_real_capture() -> None:
    """LRC is the XOR of LEN and payload (real 0x10 answer ends in 0x75)."""
    raw = bytes.fromhex(VECTORS[1]["frame"])
    assert lrc(raw[1:-1]) == raw[-1] == 0x75


@given(
    payloads=st.lists(st.binary(min_size=1, max_size=MAX_PAYLOAD_LEN), min_size=1, max_size=4),
    cuts=st.lists(st.integers(min_value=1, max_value=64), max_size=40),
)
def test_decoder_roundtrip_any_chunking(payloads: list[bytes], cuts: list[int]) -> None:
    """Encoded payloads, split at arbitrary points, decode back to themselves in order."""
    stream = b"".join(encode_frame(p) for p in payloads)
    decoder = ShtrihFrameDecoder()
    events: list[object] = []
    pos = 0
    for cut in cuts:
        events += decoder.feed(stream[pos : pos + cut])
        pos += cut
    events += decoder.feed(stream[pos:])
    assert events == [Frame(p) for p in payloads]


@given(
    garbage=st.binary(max_size=30).filter(lambda b: not set(b) & {0x02, 0x05, 0x06, 0x15}),
    payload=st.binary(min_size=1, max_size=MAX_PAYLOAD_LEN),
)
def test_decoder_resyncs_after_garbage_without_stx(garbage: bytes, payload: bytes) -> None:
    """Any garbage free of STX and control bytes is dropped and the frame still decodes."""
    events = ShtrihFrameDecoder().feed(garbage + encode_frame(payload))
    assert _frames_only(events) == [Frame(payload)]


@given(data=st.binary(max_size=600))
def test_decoder_never_raises_on_random_bytes(data: bytes) -> None:
    """Random bytes never raise; every frame it reports has a valid LRC."""
    for event in ShtrihFrameDecoder().feed(data):
        if isinstance(event, Frame):
            assert 1 <= len(event.payload) <= MAX_PAYLOAD_LEN
