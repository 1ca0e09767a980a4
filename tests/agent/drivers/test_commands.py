"""The Shtrih-M command codec against vectors from captures, the spec and an independent encoder."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import struct
from datetime import date, datetime
from enum import IntEnum, IntFlag
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.drivers.errors import MalformedPayload, UnexpectedResponse
from agent.drivers.shtrih import commands as c
from agent.drivers.shtrih.frame import Frame, ShtrihFrameDecoder

VECTOR_DIR = Path(__file__).parents[2] / "vectors" / "shtrih"
REQUESTS = json.loads((VECTOR_DIR / "requests.json").read_text("utf-8"))["requests"]
_RESPONSES = json.loads((VECTOR_DIR / "responses.json").read_text("utf-8"))
RESPONSES = _RESPONSES["responses"]
ERRORS = _RESPONSES["errors"]
TLV = json.loads((VECTOR_DIR / "tlv.json").read_text("utf-8"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, IntEnum | IntFlag):
        return int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex(" ")
    return value


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def _tlv_item(spec: dict[str, Any]) -> c.TlvItem:
    if "text" in spec:
        return c.tlv_string(spec["tag"], spec["text"])
    return c.TlvItem(tag=spec["tag"], value=bytes.fromhex(spec["value"]))


def _request(spec: dict[str, Any]) -> c.Request:
    fields = dict(spec["fields"])
    if "items" in fields:
        fields["items"] = tuple(_tlv_item(item) for item in fields["items"])
    for name in ("payments", "taxes"):
        if name in fields:
            fields[name] = tuple(fields[name])
    if "operation" in fields:
        fields["operation"] = c.OperationType(fields["operation"])
    if "value" in fields:
        fields["value"] = bytes.fromhex(fields["value"])
    request: c.Request = getattr(c, spec["type"])(**fields)
    return request


def _command(text: str) -> c.Command:
    return c.Command(int(text, 16))


@pytest.mark.parametrize("vector", [pytest.param(v, id=v["id"]) for v in REQUESTS])
def test_encode_request_vector(vector: dict[str, Any]) -> None:
    """Each request object encodes to exactly its vector payload."""
    assert c.encode(_request(vector["request"])).hex(" ") == bytes.fromhex(vector["payload"]).hex(
        " "
    )


@pytest.mark.parametrize("vector", [pytest.param(v, id=v["id"]) for v in RESPONSES])
def test_decode_response_vector(vector: dict[str, Any]) -> None:
    """Each answer payload decodes to exactly its vector object (class and every field)."""
    response = c.decode_response(_command(vector["command"]), bytes.fromhex(vector["payload"]))
    assert type(response).__name__ == vector["response"]["type"]
    assert _fields(response) == vector["response"]["fields"]


@pytest.mark.parametrize("vector", [pytest.param(v, id=v["id"]) for v in RESPONSES if "frame" in v])
def test_decode_real_frame_vector(vector: dict[str, Any]) -> None:
    """A captured answer frame goes through the frame codec and decodes to its object."""
    (frame,) = ShtrihFrameDecoder().feed(bytes.fromhex(vector["frame"]))
    assert isinstance(frame, Frame)
    response = c.decode_response(_command(vector["command"]), frame.payload)
    assert _fields(response) == vector["response"]["fields"]


@pytest.mark.parametrize("vector", [pytest.param(v, id=v["id"]) for v in ERRORS])
def test_decode_error_vector(vector: dict[str, Any]) -> None:
    """A non-zero error byte decodes to ErrorResponse with the code named or kept raw."""
    command = _command(vector["command"])
    response = c.decode_response(command, bytes.fromhex(vector["payload"]))
    assert isinstance(response, c.ErrorResponse)
    assert response.command == command
    assert response.code == vector["code"]
    assert type(response.code).__name__ == vector["code_type"]


def test_decode_short_status_named_enums() -> None:
    """Known modes, submodes and flags decode to their enums."""
    response = c.decode_response(
        c.Command.READ_SHORT_STATUS, bytes.fromhex(RESPONSES[0]["payload"])
    )
    assert isinstance(response, c.ReadShortStatusResponse)
    assert response.mode is c.Mode.SHIFT_OPEN
    assert response.submode is c.Submode.READY
    assert c.StatusFlags.RECEIPT_PAPER in response.flags


MALFORMED = [
    pytest.param(c.Command.READ_SHORT_STATUS, "10", "no error byte", id="no-error-byte"),
    pytest.param(
        c.Command.READ_SHORT_STATUS,
        "10 00 1E 92 02 02 00 00 9F E5 18 01 00 92 08",
        "reserved",
        id="10-short",
    ),
    pytest.param(
        c.Command.READ_SHORT_STATUS,
        "10 00 1E 92 02 02 00 00 9F E5 18 01 00 92 08 00 00 00",
        "trailing",
        id="10-long",
    ),
    pytest.param(c.Command.READ_STATUS, "11 00 1E 41 34", "firmware", id="11-cut"),
    pytest.param(
        c.Command.READ_STATUS,
        "11 00 1E 41 34 1D 0D 15 03 15 01 AB 01 92 02 02 00 80 00 00 00 00 00 00 00 15 0D 1A 0C 1E 05 40 4E 61 BC 00 07 00 00 00 01 0B 00 AD F4 CA 01 00",
        "register clock",
        id="11-month-13",
    ),
    pytest.param(c.Command.READ_MONEY_REGISTER, "1A 00 1E 44 D6 12", "value", id="1a-value-cut"),
    pytest.param(c.Command.READ_OPERATING_REGISTER, "1B 00 1E 03 00 00", "trailing", id="1b-long"),
    pytest.param(c.Command.PRINT_Z_REPORT, "41 00", "operator", id="41-no-operator"),
    pytest.param(c.Command.CASH_IN, "50 00 01 0A", "document number", id="50-cut"),
    pytest.param(c.Command.OPEN_SHIFT, "E0 00 01 02", "trailing", id="e0-long"),
    pytest.param(c.Command.READ_DEVICE_TYPE, "FC 00 00 00 01", "type", id="fc-cut"),
    pytest.param(
        c.Command.READ_FN_STATUS,
        "FF 01 00 03 00 02 01 00 15 07 1D 0B 1D 39 32 38 37 34 34 30 33 30 31 31 32 30 39 39 31 A9 01 00 00",
        "document data must be 0 or 1",
        id="ff01-flag-2",
    ),
    pytest.param(
        c.Command.READ_FN_STATUS,
        "FF 01 00 03 00 00 01 00 15 07 1D 0B 1D 39 32 38 37 34 34 30 33 30 31 31 32 30 39 39 F1 A9 01 00 00",
        "not ASCII",
        id="ff01-serial-not-ascii",
    ),
    pytest.param(c.Command.READ_FN_STATUS, "FF 01 00 03", "current document", id="ff01-cut"),
    pytest.param(c.Command.READ_FN_EXPIRY, "FF 03 00 1B 0D 15", "not a date", id="ff03-month-13"),
    pytest.param(
        c.Command.READ_FN_EXPIRY,
        "FF 03 00 1B 0B 15 0B",
        "re-registrations done",
        id="ff03-odd-tail",
    ),
    pytest.param(
        c.Command.FIND_DOCUMENT,
        "FF 0A 00 03 00 1A 0B 20 0C 1E AA 01 00 00 A2 99 24 F9 01 98 3A 00 00 00",
        "not a date-time",
        id="ff0a-day-32",
    ),
    pytest.param(
        c.Command.FIND_DOCUMENT,
        "FF 0A 00 03 00 1A 0B 15 0C 1E AA 01 00 00 A2 99 24 F9 01 98 3A",
        "amount",
        id="ff0a-receipt-tail-cut",
    ),
    pytest.param(
        c.Command.FIND_DOCUMENT,
        "FF 0A 00 02 00 1A 0B 15 09 00 A9 01 00 00 10 27 00 00 08",
        "shift",
        id="ff0a-shift-cut",
    ),
    pytest.param(
        c.Command.READ_EXCHANGE_STATUS, "FF 39 00 03 02", "message read state", id="ff39-flag-2"
    ),
    pytest.param(
        c.Command.READ_UNCONFIRMED_COUNT, "FF 3F 00 03 00 00", "2 or 4", id="ff3f-3-bytes"
    ),
    pytest.param(
        c.Command.READ_SHIFT_PARAMS, "FF 40 00 01 08 00 02", "receipt number", id="ff40-cut"
    ),
    pytest.param(
        c.Command.CLOSE_RECEIPT,
        "FF 45 00 88 13 00 00 00 AB 01 00 00 A2 99 24 F9 1A 0B",
        "date-time",
        id="ff45-date-cut",
    ),
    pytest.param(c.Command.ADD_OPERATION, "FF 46 00 00", "trailing", id="ff46-extra-byte"),
    pytest.param(c.Command.READ_TABLE, "1F 00", "no value", id="1f-no-value"),
    pytest.param(c.Command.WRITE_TABLE, "1E 00 00", "trailing", id="1e-extra-byte"),
    pytest.param(c.Command.BEGIN_READ_DOCUMENT, "FF 3A 00 03", "document type", id="ff3a-type-cut"),
    pytest.param(
        c.Command.BEGIN_READ_DOCUMENT, "FF 3A 00 03 00 A4", "document length", id="ff3a-length-cut"
    ),
    pytest.param(
        c.Command.BEGIN_READ_DOCUMENT, "FF 3A 00 03 00 A4 00 00", "trailing", id="ff3a-long"
    ),
    pytest.param(c.Command.WRITE_TLV, "FF 0C 00 01 02", "trailing", id="ff0c-extra-bytes"),
    pytest.param(c.Command.OPEN_DRAWER, "28 00", "operator", id="28-no-operator"),
    pytest.param(c.Command.OPEN_DRAWER, "28 00 01 00", "trailing", id="28-extra-byte"),
    pytest.param(
        c.Command.STATE_REPORT,
        "FF 38 00 2A 00 00 00 44 33 22 11 03 00 00 00 1A 0C",
        "first unconfirmed date",
        id="ff38-date-cut",
    ),
    pytest.param(
        c.Command.STATE_REPORT,
        "FF 38 00 2A 00 00 00 44 33 22 11 03 00 00 00 1A 0D 01",
        "not a date",
        id="ff38-month-13",
    ),
]


@pytest.mark.parametrize(("command", "payload", "detail"), MALFORMED)
def test_decode_response_rejects_malformed(command: c.Command, payload: str, detail: str) -> None:
    """Answers whose content makes no sense raise MalformedPayload naming the field."""
    with pytest.raises(MalformedPayload, match=detail) as caught:
        c.decode_response(command, bytes.fromhex(payload))
    assert caught.value.command == command


FF3A_ANSWER = bytes.fromhex("FF 3A 00 03 00 A4 00")  # responses.json ff3a-receipt


@pytest.mark.parametrize("size", range(len(FF3A_ANSWER)))
def test_decode_begin_read_document_rejects_every_strict_prefix(size: int) -> None:
    """Every strict prefix of an FF3A answer is refused, never decoded to a shorter one."""
    with pytest.raises(MalformedPayload if size >= 2 else UnexpectedResponse):
        c.decode_response(c.Command.BEGIN_READ_DOCUMENT, FF3A_ANSWER[:size])


@pytest.mark.parametrize("size", range(2))
def test_decode_document_block_rejects_a_prefix_without_error_byte(size: int) -> None:
    """An FF3B answer needs its code and error byte; any TLV after them is data."""
    answer = bytes.fromhex("FF 3B 00 10 04 04 00 1E 01 00 00")[: size + 1]
    with pytest.raises(MalformedPayload if size == 1 else UnexpectedResponse):
        c.decode_response(c.Command.READ_DOCUMENT_BLOCK, answer)


@given(
    document_type=st.integers(0, 0xFFFF),
    length=st.integers(0, 0xFFFF),
    data=st.binary(max_size=260),
)
def test_document_read_answers_roundtrip(document_type: int, length: int, data: bytes) -> None:
    """FF3A packed by struct, and FF3B with any data, decode to the same values."""
    begun = c.decode_response(
        c.Command.BEGIN_READ_DOCUMENT, b"\xff\x3a\x00" + struct.pack("<HH", document_type, length)
    )
    assert begun == c.BeginReadDocumentResponse(document_type=document_type, length=length)
    block = c.decode_response(c.Command.READ_DOCUMENT_BLOCK, b"\xff\x3b\x00" + data)
    assert block == c.ReadDocumentBlockResponse(data=data)


@pytest.mark.parametrize(
    ("command", "payload"),
    [
        pytest.param(c.Command.READ_SHORT_STATUS, "11 00 1E", id="other-one-byte-code"),
        pytest.param(c.Command.READ_FN_STATUS, "FF 03 00 1B 0B 15", id="other-fn-code"),
        pytest.param(c.Command.READ_FN_STATUS, "01 00", id="fn-code-without-prefix"),
        pytest.param(c.Command.CANCEL_RECEIPT, "", id="empty"),
    ],
)
def test_decode_response_rejects_answer_to_another_command(
    command: c.Command, payload: str
) -> None:
    """An answer echoing another command code is UnexpectedResponse, not a decode."""
    with pytest.raises(UnexpectedResponse):
        c.decode_response(command, bytes.fromhex(payload))


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: c.ReadShortStatusRequest(password=-1), id="negative-password"),
        pytest.param(lambda: c.ReadShortStatusRequest(password=2**32), id="password-over-u32"),
        pytest.param(
            lambda: c.ReadMoneyRegisterRequest(password=1, register=70000), id="register-over-u16"
        ),
        pytest.param(
            lambda: c.ReadOperatingRegisterRequest(password=1, register=256),
            id="op-register-over-u8",
        ),
        pytest.param(lambda: c.CashInRequest(password=1, amount=2**40), id="amount-over-5-bytes"),
        pytest.param(lambda: c.FindDocumentRequest(password=30, fd=-1), id="negative-fd"),
        pytest.param(lambda: c.WriteTlvRequest(password=30, items=()), id="tlv-empty"),
        pytest.param(
            lambda: c.WriteTlvRequest(password=30, items=(c.TlvItem(tag=1, value=b"x" * 247),)),
            id="tlv-over-250",
        ),
        pytest.param(
            lambda: c.WriteTlvRequest(password=30, items=(c.TlvItem(tag=1, value=b"x" * 246),)),
            id="tlv-250-over-the-frame",
        ),
        pytest.param(lambda: c.TlvItem(tag=70000, value=b""), id="tag-over-u16"),
        pytest.param(
            lambda: c.CloseReceiptRequest(password=30, payments=(0,) * 15, tax_system=1),
            id="15-payments",
        ),
        pytest.param(
            lambda: c.CloseReceiptRequest(
                password=30, payments=(0,) * 16, taxes=(0,) * 5, tax_system=1
            ),
            id="5-taxes",
        ),
        pytest.param(
            lambda: c.CloseReceiptRequest(password=30, payments=(0,) * 16, tax_system=3),
            id="two-tax-systems",
        ),
        pytest.param(
            lambda: c.CloseReceiptRequest(password=30, payments=(0,) * 16, tax_system=0),
            id="no-tax-system",
        ),
        pytest.param(
            lambda: c.CloseReceiptRequest(
                password=30, payments=(0,) * 16, tax_system=1, rounding=100
            ),
            id="rounding-100",
        ),
        pytest.param(
            lambda: c.CloseReceiptRequest(
                password=30, payments=(0,) * 16, tax_system=1, text="x" * 65
            ),
            id="text-65-bytes",
        ),
        pytest.param(
            lambda: c.AddOperationRequest(
                password=1,
                operation=c.OperationType.INCOME,
                quantity=1,
                price=1,
                amount=1,
                tax_rate=1,
                payment_method=4,
                payment_subject=1,
                name="я" * 129,
            ),
            id="name-129-bytes",
        ),
        pytest.param(
            lambda: c.AddOperationRequest(
                password=1,
                operation=c.OperationType.INCOME,
                quantity=2**48,
                price=1,
                amount=1,
                tax_rate=1,
                payment_method=4,
                payment_subject=1,
                name="",
            ),
            id="quantity-over-6-bytes",
        ),
        pytest.param(
            lambda: c.AddOperationRequest(
                password=1,
                operation=c.OperationType.INCOME,
                quantity=1,
                price=1,
                amount=c.NOT_GIVEN,
                tax_rate=1,
                payment_method=4,
                payment_subject=1,
                name="",
            ),
            id="amount-collides-with-not-given",
        ),
        pytest.param(
            lambda: c.AddOperationRequest(
                password=1,
                operation=c.OperationType.INCOME,
                quantity=1,
                price=1,
                amount=1,
                tax_rate=256,
                payment_method=4,
                payment_subject=1,
                name="",
            ),
            id="tax-rate-over-u8",
        ),
        pytest.param(lambda: c.OpenDrawerRequest(password=1, drawer=2), id="drawer-over-1"),
    ],
)
def test_request_rejects_out_of_range_fields(build: Any) -> None:
    """A request that cannot travel is a programmer error at construction (ValueError)."""
    with pytest.raises(ValueError):
        build()


def test_write_tlv_fills_one_frame_at_most() -> None:
    """249 bytes of TLV make a 255-byte payload, the most one frame's LEN byte carries."""
    request = c.WriteTlvRequest(password=30, items=(c.TlvItem(tag=1, value=b"x" * 245),))
    assert len(c.encode(request)) == 255 == c.MAX_TLV_BYTES + 6


def test_add_operation_replaces_characters_cp1251_lacks() -> None:
    """Names travel cp1251; a character it lacks becomes '?', the frame stays LEN 160."""
    request = c.AddOperationRequest(
        password=1,
        operation=c.OperationType.INCOME,
        quantity=1,
        price=1,
        amount=1,
        tax_rate=1,
        payment_method=4,
        payment_subject=1,
        name="Кофе ☕",
    )
    payload = c.encode(request)
    assert len(payload) == 160
    assert payload[32:40] == "Кофе ?".encode("cp1251") + b"\0\0"


def test_amount_none_travels_as_not_given() -> None:
    """FF46 amount and tax amount of None are FFh x 5 on the wire."""
    request = c.AddOperationRequest(
        password=1,
        operation=c.OperationType.INCOME,
        quantity=1,
        price=1,
        amount=None,
        tax_rate=1,
        payment_method=4,
        payment_subject=1,
        name="",
    )
    assert c.encode(request)[18:28] == b"\xff" * 10


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param(0x16, c.FnErrorCode.SHIFT_OVER_24H, id="fn-16"),
        pytest.param(0x08, c.FnErrorCode.NO_DATA, id="fn-08"),
        pytest.param(0x4E, c.DeviceErrorCode.SHIFT_OVER_24H, id="device-4e"),
        pytest.param(0x6B, c.DeviceErrorCode.NO_RECEIPT_PAPER, id="device-6b"),
        pytest.param(0x1F, 0x1F, id="fn-range-unknown"),
        pytest.param(0xE4, 0xE4, id="device-range-unknown"),
    ],
)
def test_interpret_error_names_known_codes(code: int, expected: int) -> None:
    """Below 0x20 the FN table applies, above it the register's; unknown codes stay ints."""
    named = c.interpret_error(code)
    assert named == expected
    assert type(named) is type(expected)


@pytest.mark.parametrize("vector", [pytest.param(v, id=v["id"]) for v in TLV["strings"]])
def test_tlv_string_vector(vector: dict[str, Any]) -> None:
    """String tags encode to their CP866 vector bytes and decode back."""
    item = c.tlv_string(vector["tag"], vector["text"])
    assert item.encode() == bytes.fromhex(vector["bytes"])
    assert c.decode_tlv(bytes.fromhex(vector["bytes"])) == (item,)


@pytest.mark.parametrize("vector", [pytest.param(v, id=v["id"]) for v in TLV["sequences"]])
def test_tlv_sequence_vector(vector: dict[str, Any]) -> None:
    """TLV sequences (and a nested STLV) split into their items and join back."""
    raw = bytes.fromhex(vector["bytes"])
    items = tuple(_tlv_item(item) for item in vector["items"])
    assert c.decode_tlv(raw) == items
    assert c.encode_tlv(items) == raw
    if "inner" in vector:
        assert c.decode_tlv(items[0].value) == tuple(_tlv_item(i) for i in vector["inner"])


def test_tlv_stlv_nests_its_children() -> None:
    """An STLV's value is its children's TLV: 1084 with 1085 and 1086 as the mark travels."""
    vector = next(v for v in TLV["sequences"] if v["id"] == "stlv-1084-mark")
    item = c.tlv_stlv(
        c.Tag.USER_REQUISITE,
        (
            c.tlv_string(c.Tag.USER_REQUISITE_NAME, "CRM ID"),
            c.tlv_string(c.Tag.USER_REQUISITE_VALUE, "crm-1"),
        ),
    )
    assert item.encode() == bytes.fromhex(vector["bytes"])


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("f0 03 0c", id="header-cut"),
        pytest.param("f0 03 0c 00 2b 37", id="value-cut"),
    ],
)
def test_decode_tlv_rejects_truncated(raw: str) -> None:
    """A TLV cut short is a ValueError, not a silent partial item."""
    with pytest.raises(ValueError, match="TLV"):
        c.decode_tlv(bytes.fromhex(raw))


@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=40)), max_size=8))
def test_tlv_roundtrip(pairs: list[tuple[int, bytes]]) -> None:
    """Any tags encode and decode back to themselves."""
    items = tuple(c.TlvItem(tag=tag, value=value) for tag, value in pairs)
    assert c.decode_tlv(c.encode_tlv(items)) == items


@given(command=st.sampled_from(list(c.Command)), data=st.binary(max_size=80))
def test_decode_response_never_crashes(command: c.Command, data: bytes) -> None:
    """Random answer bodies decode or raise MalformedPayload, nothing else."""
    with contextlib.suppress(MalformedPayload):
        c.decode_response(command, command.wire + data)


@given(
    change=st.integers(0, 2**40 - 1),
    fd=st.integers(0, 2**32 - 1),
    fp=st.integers(0, 2**32 - 1),
    when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),  # noqa: DTZ001
)
def test_close_receipt_answer_roundtrip(change: int, fd: int, fp: int, when: datetime) -> None:
    """An FF45 answer packed by an independent struct layout decodes to the same values."""
    payload = (
        b"\xff\x45\x00"
        + change.to_bytes(5, "little")
        + struct.pack("<II", fd, fp)
        + bytes([when.year - 2000, when.month, when.day, when.hour, when.minute])
    )
    response = c.decode_response(c.Command.CLOSE_RECEIPT, payload)
    assert response == c.CloseReceiptResponse(
        change=change, fd=fd, fp=fp, issued_at=when.replace(second=0, microsecond=0)
    )


@given(
    operation=st.sampled_from(list(c.OperationType)),
    amount=st.integers(0, 2**40 - 1),
    fd=st.integers(0, 2**32 - 1),
    fp=st.integers(0, 2**32 - 1),
)
def test_find_receipt_answer_roundtrip(
    operation: c.OperationType, amount: int, fd: int, fp: int
) -> None:
    """An FF0A receipt answer packed by struct decodes to the same values."""
    payload = (
        b"\xff\x0a\x00\x03\x01"
        + bytes([26, 11, 21, 12, 30])
        + struct.pack("<IIB", fd, fp, operation)
        + amount.to_bytes(5, "little")
    )
    response = c.decode_response(c.Command.FIND_DOCUMENT, payload)
    assert isinstance(response, c.FindDocumentResponse)
    assert (response.fd, response.fp, response.operation, response.amount) == (
        fd,
        fp,
        operation,
        amount,
    )


@given(register=st.integers(0, 0xFFFF), password=st.integers(0, 2**32 - 1))
def test_money_register_request_layout(register: int, password: int) -> None:
    """0x1A carries a 1-byte register below 256 and a 2-byte one from 256 (struct layout)."""
    fmt = "<BIB" if register < 256 else "<BIH"
    expected = struct.pack(fmt, 0x1A, password, register)
    assert c.encode(c.ReadMoneyRegisterRequest(password=password, register=register)) == expected
