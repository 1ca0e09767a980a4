"""The SmartOne cashbox's request envelope: JSON in Base64, signed with the merchant id.

Pure functions, shared by the driver and the simulator (one codec for both ends, as the
Shtrih frame codec is). The facts are in docs/smartone-notes.md §2:

- ``data`` is the standard Base64 (with padding) of the UTF-8 JSON payload;
- ``sign`` is the standard Base64 of the 40 lowercase hex characters of SHA-1 over the ASCII
  string ``data + merchant_id`` (so it is always 56 characters ending in ``==``);
- the body is ``data=<data>&sign=<sign>`` (``application/x-www-form-urlencoded``) with only
  ``=`` escaped as ``%3D``: the vendor's example keeps ``+`` and ``/`` literal, so a parser
  must never turn ``+`` into a space;
- the reply is plain JSON, neither Base64 nor signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote

__all__ = [
    "CONTENT_TYPE",
    "MERCHANT_ID_PATTERN",
    "EnvelopeError",
    "SignedRequest",
    "decode_body",
    "encode_body",
    "is_merchant_id",
    "sign",
    "verify",
]

CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
MERCHANT_ID_PATTERN: Final = re.compile(r"[0-9a-fA-F]{32}")
"""A merchant id: 32 hex characters, issued when the cashbox is registered."""


class EnvelopeError(ValueError):
    """A body that is not ``data=...&sign=...`` with Base64 JSON (the cashbox's code 2)."""


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A decoded request body: the payload, and the two strings exactly as they came."""

    payload: dict[str, Any]
    data: str
    sign: str


def is_merchant_id(value: str) -> bool:
    """True for 32 hex characters."""
    return MERCHANT_ID_PATTERN.fullmatch(value) is not None


def sign(data: str, merchant_id: str) -> str:
    """The ``sign`` of a ``data`` string: Base64 of SHA-1(data + merchant id) in lower hex."""
    digest = hashlib.sha1((data + merchant_id).encode("ascii"), usedforsecurity=False)
    return base64.b64encode(digest.hexdigest().encode("ascii")).decode("ascii")


def verify(request: SignedRequest, merchant_id: str) -> bool:
    """True when the request was signed with this merchant id (compared in constant time)."""
    return hmac.compare_digest(sign(request.data, merchant_id), request.sign)


def encode_body(payload: Mapping[str, Any], merchant_id: str) -> bytes:
    """The form body for a payload: ``data=...&sign=...`` with ``=`` escaped as ``%3D``."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    signature = sign(data, merchant_id)
    return f"data={_escape(data)}&sign={_escape(signature)}".encode("ascii")


def decode_body(body: bytes) -> SignedRequest:
    """Parse a form body; ``+`` stays ``+`` and ``%XX`` escapes are undone.

    Raises :class:`EnvelopeError` naming what is missing or malformed.
    """
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError as exc:
        raise EnvelopeError("the body is not ASCII form data") from exc
    fields: dict[str, str] = {}
    for part in text.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        fields[unquote(key)] = unquote(value)  # unquote, never unquote_plus: "+" is Base64
    for key in ("data", "sign"):
        if not fields.get(key):
            raise EnvelopeError(f"the body has no {key!r} field")
    data = fields["data"]
    try:
        raw = base64.b64decode(data, validate=True)
    except binascii.Error as exc:
        raise EnvelopeError("'data' is not standard Base64") from exc
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError("'data' is not UTF-8 JSON") from exc
    if not isinstance(payload, dict):
        raise EnvelopeError("'data' is not a JSON object")
    return SignedRequest(payload=payload, data=data, sign=fields["sign"])


def _escape(value: str) -> str:
    return value.replace("=", "%3D")
