"""The content fingerprint that decides "same id, same content" against ``id_conflict``.

The fingerprint is the SHA-256 of a canonical JSON form of the request:

- money with exactly two decimals and quantities without trailing zeros, so "150" and
  "150.00" are the same content, as are "1" and "1.000";
- absent, ``null`` and zero payments are the same (``{"cash": "0"}`` equals ``{}``), and an
  empty ``customer`` equals none;
- keys sorted, no whitespace, UTF-8;
- a type tag, so a cash command and a receipt never share a fingerprint.

The form is stable: it is stored with every outbox row and compared after restarts.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from agent.contract.commands import CashCommand, ShiftCommand
from agent.contract.receipts import ReceiptRequest

__all__ = ["canonical_json", "request_fingerprint"]

_ZERO_MONEY = "0.00"


def canonical_json(req: ReceiptRequest | CashCommand | ShiftCommand) -> str:
    """The normalized JSON the fingerprint hashes."""
    body: dict[str, Any] = req.model_dump(mode="json", exclude_none=True)
    if isinstance(req, ReceiptRequest):
        kind = "receipt"
        body["payments"] = {k: v for k, v in body["payments"].items() if v != _ZERO_MONEY}
        if not body.get("customer"):
            body.pop("customer", None)
    else:
        kind = "cash"
    return json.dumps(
        {"type": kind, "body": body}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def request_fingerprint(req: ReceiptRequest | CashCommand | ShiftCommand) -> str:
    """SHA-256 (hex) of the request's canonical JSON."""
    return hashlib.sha256(canonical_json(req).encode("utf-8")).hexdigest()
