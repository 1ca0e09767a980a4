"""``firmware-sim tape``'s SmartOne fields: each document's ``doc_id`` (fiscalID) and mark.

A receipt's ``mark`` (its ``documentExtID``) is on the register's tape already; this adds
``doc_id`` and ``document_id`` to receipts (by FD) and ``mark``, ``doc_id``, ``document_id``
to cash movements (by number). A receipt's ``vat`` is the cash box's own, by rate: it takes
each line's percent (``taxPrc``), not a row of the register's Russian tax table, so its VAT
is named in the contract's words for Azerbaijan (``vat18``; 0 % is ``none``). A state file
with no SmartOne table gets nothing added.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from firmware_sim.smartone.doc_store import read_records
from firmware_sim.state import format_money

__all__ = ["TapeFields", "tape_fields"]

TapeFields = tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]
"""(fields by FD, fields by cash movement number)."""


def tape_fields(path: Path) -> TapeFields:
    """The SmartOne fields of one state file, read-only."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    by_fd: dict[int, dict[str, Any]] = {}
    by_movement: dict[int, dict[str, Any]] = {}
    try:
        for record in read_records(conn):
            fields: dict[str, Any] = {
                "doc_id": record.fiscal_id,
                "document_id": record.document_id,
                "print_error": record.print_error,
            }
            if record.fd is not None:
                vat = {_rate_name(prc): format_money(amount) for prc, amount in record.vat}
                by_fd[record.fd] = {**fields, "vat": vat} if vat else fields
            if record.movement is not None:
                if record.ext_id is not None:
                    fields = {**fields, "mark": record.ext_id}
                by_movement[record.movement] = {**fields, "kind": record.operation.value}
    finally:
        conn.close()
    return by_fd, by_movement


def _rate_name(percent_hundredths: int) -> str:
    """1800 -> "vat18", 0 -> "none" (a bare 0 % line: exempt and 0 % look the same here)."""
    if percent_hundredths == 0:
        return "none"
    whole, part = divmod(percent_hundredths, 100)
    return f"vat{whole}" if part == 0 else f"vat{whole}_{part:02d}"
