"""The JSON form of the simulator's state, as the store keeps it (internal, complete).

Pure: dataclasses of :mod:`firmware_sim.state` to plain JSON values and back. Fields added
after the first state files were written are read with a default, so older files load.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from firmware_sim.state import (
    CashMovement,
    DeviceState,
    DocType,
    DocumentTags,
    FnDocument,
    Item,
    Mark,
    OfdBacklog,
    ReceiptKind,
    ShiftCounters,
    SignTotals,
    TableKey,
    TableValue,
    VatRow,
)

__all__ = [
    "document_from_json",
    "document_to_json",
    "movement_from_json",
    "movement_to_json",
    "state_from_json",
    "state_to_json",
]


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _item_to_json(item: Item) -> dict[str, Any]:
    return {
        "name": item.name,
        "qty_micro": item.qty_micro,
        "price": item.price,
        "amount": item.amount,
        "tax_index": item.tax_index,
        "vat": item.vat,
        "department": item.department,
        "method": item.method,
        "subject": item.subject,
        "tax_sum": item.tax_sum,
    }


def _item_from_json(raw: dict[str, Any]) -> Item:
    return Item(**raw)  # tax_sum is absent in files written before VAT was kept: None


def _vat_to_json(rows: tuple[VatRow, ...]) -> list[dict[str, Any]]:
    return [
        {
            "index": row.index,
            "code": row.code,
            "turnover": row.turnover,
            "vat": row.vat,
            "rate": row.rate,
        }
        for row in rows
    ]


def _vat_from_json(raw: list[dict[str, Any]] | None) -> tuple[VatRow, ...]:
    """Rows of VAT; None (a file written before VAT was kept) is no VAT data at all."""
    return tuple(VatRow(**row) for row in raw or ())


def _tags_to_json(tags: DocumentTags) -> dict[str, Any]:
    return {
        "cashier": tags.cashier,
        "cashier_inn": tags.cashier_inn,
        "has_contact": tags.has_contact,
        "other": list(tags.other),
        "mark": None if tags.mark is None else {"name": tags.mark.name, "value": tags.mark.value},
        "correction_type": tags.correction_type,
        "correction_date": None
        if tags.correction_date is None
        else tags.correction_date.isoformat(),
    }


def _tags_from_json(raw: dict[str, Any]) -> DocumentTags:
    mark = raw.get("mark")  # absent in state files written before tag 1084 was kept
    return DocumentTags(
        cashier=raw["cashier"],
        cashier_inn=raw["cashier_inn"],
        has_contact=raw["has_contact"],
        other=tuple(raw["other"]),
        mark=None if mark is None else Mark(name=mark["name"], value=mark["value"]),
        correction_type=raw.get("correction_type"),  # absent before corrections were kept
        correction_date=_parse_date(raw.get("correction_date")),
    )


def _parse_date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _totals_to_json(totals: SignTotals) -> dict[str, int]:
    return {
        "cash": totals.cash,
        "card": totals.card,
        "prepaid": totals.prepaid,
        "other": totals.other,
        "count": totals.count,
    }


def _counters_to_json(c: ShiftCounters) -> dict[str, Any]:
    return {
        "sales": _totals_to_json(c.sales),
        "refunds": _totals_to_json(c.refunds),
        "cash_in": c.cash_in,
        "cash_out": c.cash_out,
        "cash_in_drawer": c.cash_in_drawer,
        "receipts": c.receipts,
        "documents": c.documents,
        "first_fd": c.first_fd,
        "last_fd": c.last_fd,
        "sales_vat": _vat_to_json(c.sales_vat),
        "refunds_vat": _vat_to_json(c.refunds_vat),
        "corrections": _totals_to_json(c.corrections),
        "correction_refunds": _totals_to_json(c.correction_refunds),
    }


def _counters_from_json(raw: dict[str, Any]) -> ShiftCounters:
    return ShiftCounters(
        sales=SignTotals(**raw["sales"]),
        refunds=SignTotals(**raw["refunds"]),
        cash_in=raw["cash_in"],
        cash_out=raw["cash_out"],
        cash_in_drawer=raw["cash_in_drawer"],
        receipts=raw["receipts"],
        documents=raw["documents"],
        first_fd=raw["first_fd"],
        last_fd=raw["last_fd"],
        sales_vat=_vat_from_json(raw.get("sales_vat")),
        refunds_vat=_vat_from_json(raw.get("refunds_vat")),
        corrections=SignTotals(**raw.get("corrections", {})),
        correction_refunds=SignTotals(**raw.get("correction_refunds", {})),
    )


def document_to_json(doc: FnDocument) -> dict[str, Any]:
    """The complete internal JSON form of a document (the store's ``documents.body``)."""
    return {
        "fd": doc.fd,
        "type": doc.type.value,
        "fp": doc.fp,
        "issued_at": doc.issued_at.isoformat(),
        "shift": doc.shift,
        "number": doc.number,
        "kind": None if doc.kind is None else doc.kind.value,
        "total": doc.total,
        "payments": list(doc.payments),
        "change": doc.change,
        "items": [_item_to_json(item) for item in doc.items],
        "tags": _tags_to_json(doc.tags),
        "tax_system": doc.tax_system,
        "counters": None if doc.counters is None else _counters_to_json(doc.counters),
        "vat": _vat_to_json(doc.vat),
        "backlog": None if doc.backlog is None else _backlog_to_json(doc.backlog),
    }


def document_from_json(raw: dict[str, Any]) -> FnDocument:
    """Inverse of :func:`document_to_json`."""
    issued_at = _parse_dt(raw["issued_at"])
    assert issued_at is not None
    return FnDocument(
        fd=raw["fd"],
        type=DocType(raw["type"]),
        fp=raw["fp"],
        issued_at=issued_at,
        shift=raw["shift"],
        number=raw["number"],
        kind=None if raw["kind"] is None else ReceiptKind(raw["kind"]),
        total=raw["total"],
        payments=tuple(raw["payments"]),
        change=raw["change"],
        items=tuple(_item_from_json(item) for item in raw["items"]),
        tags=_tags_from_json(raw["tags"]),
        tax_system=raw["tax_system"],
        counters=None if raw["counters"] is None else _counters_from_json(raw["counters"]),
        vat=_vat_from_json(raw.get("vat")),
        backlog=_backlog_from_json(raw.get("backlog")),
    )


def _backlog_to_json(backlog: OfdBacklog) -> dict[str, Any]:
    return {
        "count": backlog.count,
        "first_fd": backlog.first_fd,
        "first_at": None if backlog.first_at is None else backlog.first_at.isoformat(),
    }


def _backlog_from_json(raw: dict[str, Any] | None) -> OfdBacklog | None:
    if raw is None:
        return None
    return OfdBacklog(
        count=raw["count"], first_fd=raw["first_fd"], first_at=_parse_dt(raw["first_at"])
    )


def _movement_to_json(move: CashMovement) -> dict[str, Any]:
    return {
        "number": move.number,
        "direction": move.direction,
        "amount": move.amount,
        "at": move.at.isoformat(),
        "shift": move.shift,
    }


def _movement_from_json(raw: dict[str, Any]) -> CashMovement:
    at = _parse_dt(raw["at"])
    assert at is not None
    return CashMovement(
        number=raw["number"],
        direction=raw["direction"],
        amount=raw["amount"],
        at=at,
        shift=raw["shift"],
    )


def state_to_json(state: DeviceState) -> dict[str, Any]:
    """The durable counters of a state, without documents and cash movements (stored apart)."""
    return {
        "clock_offset_s": state.clock_offset_s,
        "shift_number": state.shift_number,
        "is_shift_open": state.is_shift_open,
        "shift_opened_at": _dt(state.shift_opened_at),
        "shift_first_fd": state.shift_first_fd,
        "receipts_in_shift": state.receipts_in_shift,
        "money": [list(pair) for pair in state.money],
        "operating": [list(pair) for pair in state.operating],
        "ofd_acked_fd": state.ofd_acked_fd,
        "tables": [[*key, value] for key, value in state.tables],
    }


def state_from_json(
    raw: dict[str, Any],
    *,
    documents: tuple[FnDocument, ...],
    cash_movements: tuple[CashMovement, ...],
) -> DeviceState:
    """Inverse of :func:`state_to_json`, with the documents and movements read apart."""
    return DeviceState(
        clock_offset_s=float(raw["clock_offset_s"]),
        shift_number=raw["shift_number"],
        is_shift_open=raw["is_shift_open"],
        shift_opened_at=_parse_dt(raw["shift_opened_at"]),
        shift_first_fd=raw["shift_first_fd"],
        receipts_in_shift=raw["receipts_in_shift"],
        documents=documents,
        cash_movements=cash_movements,
        money=tuple((int(n), int(v)) for n, v in raw["money"]),
        operating=tuple((int(n), int(v)) for n, v in raw["operating"]),
        ofd_acked_fd=raw["ofd_acked_fd"],
        tables=_tables_from_json(raw.get("tables")),
    )


def _tables_from_json(raw: list[list[Any]] | None) -> tuple[tuple[TableKey, TableValue], ...]:
    """Table fields written; None (a file from before tables were kept) is none: tax mode 0."""
    return tuple(
        ((int(table), int(row), int(field)), value) for table, row, field, value in raw or ()
    )


def movement_to_json(move: CashMovement) -> dict[str, Any]:
    """JSON form of a cash movement (the store's ``cash_movements.body``)."""
    return _movement_to_json(move)


def movement_from_json(raw: dict[str, Any]) -> CashMovement:
    """Inverse of :func:`movement_to_json`."""
    return _movement_from_json(raw)
