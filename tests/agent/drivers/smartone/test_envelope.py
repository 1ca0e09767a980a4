"""The SmartOne envelope against the worked example in docs/smartone-notes.md §2."""

from __future__ import annotations

import base64
import json

import pytest

from agent.drivers.smartone.envelope import (
    EnvelopeError,
    decode_body,
    encode_body,
    is_merchant_id,
    sign,
    verify,
)

MERCHANT = "0123456789abcdef0123456789abcdef"
DATA = "eyJlbXBsb3llZU5hbWUiOiJUZXN0In0="
SIGN = "M2I3OWM5OTI5N2YyNDgyMDg5ZDFiMzZmYmViMzYyMzJiMTE5MzFiMQ=="
BODY = (
    b"data=eyJlbXBsb3llZU5hbWUiOiJUZXN0In0%3D"
    b"&sign=M2I3OWM5OTI5N2YyNDgyMDg5ZDFiMzZmYmViMzYyMzJiMTE5MzFiMQ%3D%3D"
)


def test_sign_matches_the_vector() -> None:
    assert sign(DATA, MERCHANT) == SIGN
    assert len(SIGN) == 56


def test_encode_body_matches_the_vector() -> None:
    assert encode_body({"employeeName": "Test"}, MERCHANT) == BODY


def test_decode_body_round_trip_and_verify() -> None:
    request = decode_body(BODY)
    assert request.payload == {"employeeName": "Test"}
    assert (request.data, request.sign) == (DATA, SIGN)
    assert verify(request, MERCHANT)
    assert not verify(request, "f" * 32)


def test_plus_stays_plus_and_full_escapes_are_accepted() -> None:
    payload = {"itemName": "Su 0,5 ~~~>>>"}  # Base64 with "+" and "/" in it
    data = base64.b64encode(json.dumps(payload).encode()).decode()
    assert "+" in data or "/" in data
    literal = f"data={data.replace('=', '%3D')}&sign=x".encode()
    escaped = f"data={data.replace('+', '%2B').replace('/', '%2F').replace('=', '%3D')}&sign=x"
    assert decode_body(literal).payload == payload
    assert decode_body(escaped.encode()).payload == payload


def test_utf8_payload_round_trips() -> None:
    payload = {"itemName": "Balans artırılması", "itemAmount": 500}
    request = decode_body(encode_body(payload, MERCHANT))
    assert request.payload == payload
    assert verify(request, MERCHANT)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"sign=abc", "no 'data'"),
        (b"data=eyJh", "no 'sign'"),
        (b"data=not*base64&sign=x", "not standard Base64"),
        (b"data=bm90IGpzb24%3D&sign=x", "not UTF-8 JSON"),
        (b"data=WzFd&sign=x", "not a JSON object"),
        ("data=é&sign=x".encode(), "not ASCII"),
    ],
)
def test_malformed_bodies_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(EnvelopeError, match=reason):
        decode_body(body)


def test_merchant_id_shape() -> None:
    assert is_merchant_id(MERCHANT)
    assert not is_merchant_id(MERCHANT[:-1])
    assert not is_merchant_id("g" * 32)
