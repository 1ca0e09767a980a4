"""The table codec (0x1E/0x1F) and its field descriptors against the hand-built vectors.

The request and answer vectors live in tests/vectors/shtrih/requests.json and responses.json
(ids ``1f-*`` and ``1e-*``, built by hand from docs/shtrih-wire-notes.md §2.1 and docs/vat.md
§1); test_commands.py runs them through the generic codec tests. This file pins what the
generic tests cannot: the value of each field, and the answers that must not decode.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.drivers.errors import MalformedPayload, UnexpectedResponse
from agent.drivers.shtrih import commands as c
from agent.drivers.shtrih import tables as t

VECTOR_DIR = Path(__file__).parents[2] / "vectors" / "shtrih"
_REQUESTS = {
    v["id"]: v for v in json.loads((VECTOR_DIR / "requests.json").read_text("utf-8"))["requests"]
}
_RESPONSES = {
    v["id"]: v for v in json.loads((VECTOR_DIR / "responses.json").read_text("utf-8"))["responses"]
}


def _payload(vectors: dict[str, Any], vector_id: str) -> bytes:
    return bytes.fromhex(vectors[vector_id]["payload"])


def _answer(payload: bytes) -> t.ReadTableResponse:
    response = c.decode_response(c.Command.READ_TABLE, payload)
    assert isinstance(response, t.ReadTableResponse)
    return response


@pytest.mark.parametrize(
    ("vector_id", "field", "expected"),
    [
        pytest.param("1f-tax-mode-0", t.TAX_MODE, 0, id="tax-mode-0"),
        pytest.param("1f-tax-rate-2200", t.TAX_RATE, 2200, id="rate-2200"),
        pytest.param("1f-tax-name-22", t.TAX_NAME, "НДС 22%", id="name-22"),
        pytest.param("1f-tax-name-without-vat", t.TAX_NAME, "без НДС", id="name-without-vat"),
    ],
)
def test_table_field_decodes_vector(
    vector_id: str, field: t.NumberField | t.TextField, expected: int | str
) -> None:
    """Each hand-built 0x1F answer reads as the field's value."""
    assert field.decode(_answer(_payload(_RESPONSES, vector_id))) == expected


def test_table_requests_built_from_fields_match_vectors() -> None:
    """Requests built from the field descriptors encode to the hand-built payloads."""
    built = {
        "1f-tax-mode": t.ReadTableRequest.of(30, t.TAX_MODE, t.TAX_MODE_ROW),
        "1f-tax-rate-row-12": t.ReadTableRequest.of(30, t.TAX_RATE, 12),
        "1e-tax-mode-1": t.WriteTableRequest.number(30, t.TAX_MODE, t.TAX_MODE_ROW, 1),
        "1e-tax-rate-2200": t.WriteTableRequest.number(30, t.TAX_RATE, 1, 2200),
        "1e-tax-name-64-bytes": t.WriteTableRequest.text(30, t.TAX_NAME, 1, "НДС 22%"),
    }
    for vector_id, request in built.items():
        assert c.encode(request) == _payload(_REQUESTS, vector_id), vector_id


@pytest.mark.parametrize(
    ("vector_id", "field"),
    [
        pytest.param("1f-tax-mode-0", t.TAX_MODE, id="tax-mode"),
        pytest.param("1f-tax-rate-2200", t.TAX_RATE, id="rate"),
    ],
)
def test_table_number_answer_rejects_every_strict_prefix(
    vector_id: str, field: t.NumberField
) -> None:
    """Every strict prefix of a number's answer is refused, never read as a smaller number."""
    answer = _payload(_RESPONSES, vector_id)
    for size in range(len(answer)):
        with pytest.raises(MalformedPayload if size else UnexpectedResponse):
            field.decode(_answer(answer[:size]))


def test_table_text_answer_prefix_is_refused_or_the_whole_name() -> None:
    """A name cut inside its text is refused; a prefix that keeps its NUL is the same name."""
    answer = _payload(_RESPONSES, "1f-tax-name-22")
    text_end = 2 + len("НДС 22%")
    for size in range(len(answer)):
        if size <= text_end:
            with pytest.raises(MalformedPayload if size else UnexpectedResponse):
                t.TAX_NAME.decode(_answer(answer[:size]))
        else:
            assert t.TAX_NAME.decode(_answer(answer[:size])) == "НДС 22%"


@pytest.mark.parametrize(
    ("field", "payload", "detail"),
    [
        pytest.param(t.TAX_MODE, "1F 00 00 00", "1-byte number, got 2", id="mode-two-bytes"),
        pytest.param(t.TAX_RATE, "1F 00 98 08 00", "2-byte number, got 3", id="rate-three-bytes"),
        pytest.param(t.TAX_RATE, "1F 00 98", "2-byte number, got 1", id="rate-one-byte"),
        pytest.param(t.TAX_NAME, "1F 00" + " 41" * 65, "at most 64", id="name-65-bytes"),
        pytest.param(t.TAX_NAME, "1F 00 CD C4 D1", "cut short", id="name-cut"),
    ],
)
def test_table_field_rejects_malformed_value(
    field: t.NumberField | t.TextField, payload: str, detail: str
) -> None:
    """A value of the wrong size is MalformedPayload naming the table and field."""
    with pytest.raises(MalformedPayload, match=detail) as caught:
        field.decode(_answer(bytes.fromhex(payload)))
    assert caught.value.command == c.Command.READ_TABLE
    assert f"table {field.table} field {field.field}" in str(caught.value)


def test_table_number_keeps_a_value_the_agent_does_not_know() -> None:
    """A tax mode beyond 0..3 is read as it is; what it means is the driver's call."""
    assert t.TAX_MODE.decode(_answer(bytes.fromhex("1F 00 07"))) == 7


def test_table_text_fills_its_field_without_nul() -> None:
    """64 bytes of text and no NUL is a whole name; a byte cp1251 lacks becomes U+FFFD."""
    raw = "НДС 22%".encode("cp1251").ljust(63, b" ") + b"\x98"
    assert t.TAX_NAME.decode(t.ReadTableResponse(value=raw)) == "НДС 22%" + " " * 56 + "\ufffd"


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(
            lambda: t.ReadTableRequest(password=30, table=0, row=1, field=1), id="table-0"
        ),
        pytest.param(
            lambda: t.ReadTableRequest(password=30, table=256, row=1, field=1), id="table-256"
        ),
        pytest.param(lambda: t.ReadTableRequest(password=30, table=6, row=0, field=1), id="row-0"),
        pytest.param(
            lambda: t.ReadTableRequest(password=30, table=6, row=65536, field=1), id="row-65536"
        ),
        pytest.param(
            lambda: t.ReadTableRequest(password=30, table=6, row=1, field=256), id="field-256"
        ),
        pytest.param(
            lambda: t.WriteTableRequest(password=30, table=6, row=1, field=1, value=b""),
            id="value-empty",
        ),
        pytest.param(
            lambda: t.WriteTableRequest(password=30, table=6, row=1, field=2, value=b"x" * 247),
            id="value-over-the-frame",
        ),
        pytest.param(lambda: t.TAX_MODE.encode(4), id="mode-4"),
        pytest.param(lambda: t.TAX_RATE.encode(10000), id="rate-10000"),
        pytest.param(lambda: t.TAX_RATE.encode(-1), id="rate-negative"),
        pytest.param(lambda: t.TAX_NAME.encode("x" * 65), id="name-65-bytes"),
    ],
)
def test_table_request_rejects_out_of_range(build: Any) -> None:
    """A table request or value that cannot travel is a ValueError at construction."""
    with pytest.raises(ValueError):
        build()


def test_write_table_fills_one_frame_at_most() -> None:
    """246 value bytes make a 255-byte payload, the most one frame's LEN byte carries."""
    request = t.WriteTableRequest(password=30, table=6, row=1, field=2, value=b"x" * 246)
    assert len(c.encode(request)) == 255 == t.MAX_TABLE_VALUE_BYTES + 9


@given(
    password=st.integers(0, 2**32 - 1),
    table=st.integers(1, 255),
    row=st.integers(1, 0xFFFF),
    field=st.integers(1, 255),
    value=st.binary(min_size=1, max_size=t.MAX_TABLE_VALUE_BYTES),
)
def test_table_request_layout(
    password: int, table: int, row: int, field: int, value: bytes
) -> None:
    """0x1F and 0x1E pack as struct '<BIBHB' (pyshtrih's address layout), 0x1E then the value."""
    read = t.ReadTableRequest(password=password, table=table, row=row, field=field)
    assert c.encode(read) == struct.pack("<BIBHB", 0x1F, password, table, row, field)
    write = t.WriteTableRequest(password=password, table=table, row=row, field=field, value=value)
    assert c.encode(write) == struct.pack("<BIBHB", 0x1E, password, table, row, field) + value


@given(value=st.binary(min_size=1, max_size=253))
def test_read_table_answer_carries_any_value(value: bytes) -> None:
    """Whatever follows the error byte is the value, byte for byte."""
    assert _answer(b"\x1f\x00" + value) == t.ReadTableResponse(value=value)
