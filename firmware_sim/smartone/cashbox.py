"""The cash box's document routes on the neutral register model (no I/O, no asyncio).

:class:`CashBox` turns checked bodies into register operations and keeps a
:class:`DocumentRecord` per document: ``/sale`` and ``/refund`` become receipts (an FD on the
register's tape, marked with the ``documentExtID``), ``/deposit`` and ``/withdraw`` cash
movements. A repeated ``documentExtID`` gets the stored reply and never a second document.
``save`` is called with the new record before a reply leaves: the caller commits the register
state and the record in one transaction. Shift routes are in ``shift_routes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from firmware_sim.register import Register, RegisterRefusal
from firmware_sim.smartone.codes import SmartOneCode, SmartOneError, code_for, reply
from firmware_sim.smartone.faults import SmartOneFaults
from firmware_sim.smartone.orders import (
    Order,
    check_refund,
    ext_id,
    parse_order,
    positive_amount,
    vat_amounts,
)
from firmware_sim.smartone.records import DocumentRecord, Operation
from firmware_sim.smartone.settings import SmartOneSettings
from firmware_sim.state import DocumentTags, Item, Mark, ReceiptKind

__all__ = ["CURRENCY", "MARK_NAME", "PRINT_ERROR_NO_PAPER", "CashBox", "format_time"]

CURRENCY = "AZN"
MARK_NAME = "documentExtID"  # the name of the mark each receipt carries on the tape
PRINT_ERROR_NO_PAPER = 1  # printError's values are undocumented: the simulator's choice
_CASHLESS, _OTHER = 1, 13  # register payment indexes: type 2 electronic, type 14 prepaid
_QTY_TO_MICRO = 1000


def format_time(moment: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` on the register's clock."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class CashBox:
    """The register, the issued documents and the settings of one simulated cash box."""

    def __init__(
        self,
        *,
        register: Register,
        settings: SmartOneSettings,
        faults: SmartOneFaults,
        records: list[DocumentRecord],
        save: Callable[[DocumentRecord | None], None],
        wall_clock: Callable[[], datetime],
    ) -> None:
        self.register = register
        self.settings = settings
        self.faults = faults
        self.has_paper = True
        self.records: dict[int, DocumentRecord] = {r.document_id: r for r in records}
        self.by_ext: dict[str, int] = {r.ext_id: r.document_id for r in records if r.ext_id}
        self.processing: dict[int, str | None] = {}  # documentID -> documentExtID, not done yet
        self._next_id = max(self.records, default=0) + 1
        self._save = save
        self._wall_clock = wall_clock

    # ---- lookups ----------------------------------------------------------------------------

    def now(self) -> datetime:
        """The host time operations run at (the register adds its clock offset)."""
        return self._wall_clock()

    def stored(self, ext: str | None, operation: Operation) -> dict[str, Any] | None:
        """The reply already given for this ``documentExtID``; code 3 if another route used it."""
        if ext is None or ext not in self.by_ext:
            return None
        record = self.records[self.by_ext[ext]]
        if record.operation is not operation:
            raise SmartOneError(
                SmartOneCode.BAD_PARAMETERS,
                f"documentExtID {ext!r} was used by a {record.operation.value}",
            )
        return dict(record.reply)

    def processing_reply(self, ext: str | None) -> dict[str, Any] | None:
        """Code 44 when a document with this ``documentExtID`` is still being processed."""
        for document_id, pending in self.processing.items():
            if ext is not None and pending == ext:
                return self._processing(document_id, ext)
        return None

    @staticmethod
    def _processing(document_id: int, ext: str | None) -> dict[str, Any]:
        return reply(
            SmartOneCode.PROCESSING,
            "document is still processing: poll /check_status",
            documentID=document_id,
            documentExtID=ext,
            docStatus=0,
        )

    def reserve_document_id(self, ext: str | None) -> dict[str, Any]:
        """Take the next documentID for a document that will finish later; its 44 reply."""
        document_id = self._next_id
        self._next_id += 1
        self.processing[document_id] = ext
        return self._processing(document_id, ext)

    def shift_records(self) -> list[DocumentRecord]:
        """The documents of the open shift."""
        status = self.register.shift_status(self.now())
        if status.opened_at is None:
            return []
        return [r for r in self.records.values() if r.shift == status.number]

    # ---- receipts ---------------------------------------------------------------------------

    def check_order(self, operation: Operation, payload: Mapping[str, Any]) -> Order:
        """A sale or refund body checked against the settings and, for a refund, its sale."""
        order = parse_order(payload, self.settings.tax_percents)
        if operation is Operation.REFUND and order.parent_doc_id is not None:
            sale = self._sale(order.parent_doc_id)
            check_refund(order, _quantities([sale]), _quantities(self._refunds_of(sale)))
        return order

    def _sale(self, fiscal: str) -> DocumentRecord:
        for record in self.records.values():
            if record.operation is Operation.SALE and record.fiscal_id == fiscal:
                return record
        raise SmartOneError(SmartOneCode.NOT_FOUND, f"no sale with fiscalID {fiscal!r}")

    def _refunds_of(self, sale: DocumentRecord) -> list[DocumentRecord]:
        return [
            r
            for r in self.records.values()
            if r.operation is Operation.REFUND and r.parent_fiscal_id == sale.fiscal_id
        ]

    def receipt(
        self, operation: Operation, payload: Mapping[str, Any], *, document_id: int | None = None
    ) -> dict[str, Any]:
        """``/sale`` or ``/refund``: the stored reply, or a new receipt and its reply."""
        ext = ext_id(payload)
        if document_id is None:
            stored = self.stored(ext, operation)
            if stored is not None:
                return stored
            pending = self.processing_reply(ext)
            if pending is not None:
                return pending
        order = self.check_order(operation, payload)
        kind = ReceiptKind.SALE if operation is Operation.SALE else ReceiptKind.REFUND
        items = [
            Item(
                name=line.name,
                qty_micro=line.qty * _QTY_TO_MICRO,
                price=line.price,
                amount=line.amount,
                tax_index=0,
                vat="none",
                department=1,
            )
            for line in order.lines
        ]
        payments = [0] * (_OTHER + 1)
        payments[0], payments[_CASHLESS], payments[_OTHER] = (
            order.cash,
            order.cashless,
            order.other,
        )
        tags = DocumentTags(
            cashier=order.employee,
            mark=None if ext is None else Mark(name=MARK_NAME, value=ext),
        )
        try:
            doc = self.register.issue_receipt(
                self.now(), kind=kind, items=items, payments=payments, tags=tags
            )
        except RegisterRefusal as exc:
            raise SmartOneError(code_for(exc.reason), exc.message) from exc
        printed = self._printed(operation.value)
        clock = format_time(doc.issued_at)
        record = DocumentRecord(
            document_id=self._take_id(document_id),
            operation=operation,
            ext_id=ext,
            shift=doc.shift,
            fd=doc.fd,
            movement=None,
            total=order.total,
            cash=order.cash - order.change,
            cashless=order.cashless,
            other=order.other,
            change=order.change,
            vat=vat_amounts(order.lines),
            lines=order.lines,
            parent_fiscal_id=order.parent_doc_id if operation is Operation.REFUND else None,
            doc_time=order.doc_time or clock,
            print_time=clock,
            print_error=0 if printed else PRINT_ERROR_NO_PAPER,
            reply={},
        )
        fields: dict[str, Any] = {
            **record.fiscal_fields(),
            "amount": order.total,
            "change": order.change,
            "totalPayments": record.total_payments(),
            "currency_name": CURRENCY,
        }
        return self._commit(record, fields, printed=printed)

    # ---- cash -------------------------------------------------------------------------------

    def cash(self, operation: Operation, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``/deposit`` or ``/withdraw``: the stored reply, or a cash movement and its reply."""
        ext = ext_id(payload)
        stored = self.stored(ext, operation)
        if stored is not None:
            return stored
        amount = positive_amount(payload)
        try:
            if operation is Operation.DEPOSIT:
                move = self.register.cash_in(self.now(), amount)
            else:
                move = self.register.cash_out(self.now(), amount)
        except RegisterRefusal as exc:
            raise SmartOneError(code_for(exc.reason), exc.message) from exc
        printed = self._printed(operation.value)
        clock = format_time(move.at)
        record = DocumentRecord(
            document_id=self._take_id(None),
            operation=operation,
            ext_id=ext,
            shift=move.shift,
            fd=None,
            movement=move.number,
            total=amount,
            cash=amount,
            cashless=0,
            other=0,
            change=0,
            vat=(),
            lines=(),
            parent_fiscal_id=None,
            doc_time=clock,
            print_time=clock,
            print_error=0 if printed else PRINT_ERROR_NO_PAPER,
            reply={},
        )
        fields: dict[str, Any] = {
            **record.fiscal_fields(),
            "amount": amount,
            "cash": self.register.cash_in_drawer,
            "currency_name": CURRENCY,
        }
        return self._commit(record, fields, printed=printed)

    # ---- reads ------------------------------------------------------------------------------

    def check_status(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``/check_status`` by ``documentExtID`` and/or ``documentID``: 44, 9 or the document."""
        ext = ext_id(payload)
        document_id = _document_id(payload, required=ext is None)
        if document_id is not None and document_id in self.processing:
            return self._processing(document_id, self.processing[document_id])
        if document_id is None:
            pending = self.processing_reply(ext)
            if pending is not None:
                return pending
            document_id = self.by_ext.get(ext or "")
        record = self.records.get(document_id or 0)
        if record is None or (ext is not None and record.ext_id != ext):
            raise SmartOneError(SmartOneCode.NOT_FOUND, "document not found")
        return self.status_reply(record)

    def status_reply(self, record: DocumentRecord) -> dict[str, Any]:
        """A found document: ``docStatus`` 1, its ids, times and payments."""
        return reply(
            **record.fiscal_fields(),
            operation=record.operation.value,
            amount=record.total,
            totalPayments=record.total_payments(),
            currency_name=CURRENCY,
        )

    def last_document(self, _payload: Mapping[str, Any]) -> dict[str, Any]:
        """``/last_document``: the last issued document as ``/check_status`` shows it, or 9."""
        if not self.records:
            raise SmartOneError(SmartOneCode.NOT_FOUND, "no document yet")
        return self.status_reply(self.records[max(self.records)])

    def check_copy(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``/check_copy`` by ``documentID``: print a copy (15 without paper)."""
        document_id = _document_id(payload, required=True)
        record = self.records.get(document_id or 0)
        if record is None:
            raise SmartOneError(SmartOneCode.NOT_FOUND, f"no document {document_id}")
        fields: dict[str, Any] = {
            "documentID": record.document_id,
            "fiscalID": record.fiscal_id,
            "fiscalNum": record.fiscal_num,
            "docStatus": 1,
            "printTime": record.print_time,
            "items": [
                {
                    "itemId": line.key,
                    "itemName": line.name,
                    "itemQty": line.qty,
                    "itemPrice": line.price,
                    "itemAmount": line.amount,
                    "itemFinalPrice": line.price,
                    "itemFinalAmount": line.amount,
                    "itemTaxes": [{"taxName": "VAT", "taxPrc": line.tax_prc}],
                }
                for line in record.lines
            ],
            "totalPayments": record.total_payments(),
            "currency_name": CURRENCY,
        }
        if not self._printed("check_copy"):
            return reply(
                SmartOneCode.DOCUMENT_NOT_PRINTED,
                "DOCUMENT_NOT_PRINTED: no paper",
                printError=PRINT_ERROR_NO_PAPER,
                **fields,
            )
        return reply(printError=0, **fields)

    # ---- the commit -------------------------------------------------------------------------

    def save_state(self) -> None:
        """Persist the register after a change that issued no document (shift, X report)."""
        self._save(None)

    def _printed(self, route: str) -> bool:
        paper_ends = self.faults.take_paper_out(route)
        if paper_ends:
            self.has_paper = False
        return self.has_paper

    def _take_id(self, reserved: int | None) -> int:
        if reserved is not None:
            self.processing.pop(reserved, None)
            return reserved
        document_id = self._next_id
        self._next_id += 1
        return document_id

    def _commit(
        self, record: DocumentRecord, fields: dict[str, Any], *, printed: bool
    ) -> dict[str, Any]:
        if printed:
            answer = reply(**fields)
        else:
            answer = reply(
                SmartOneCode.DOCUMENT_NOT_PRINTED,
                "DOCUMENT_NOT_PRINTED: the document is fiscalised, its print failed (no paper)",
                **fields,
            )
        stored = replace(record, reply=answer)
        self._save(stored)
        self.records[stored.document_id] = stored
        if stored.ext_id is not None:
            self.by_ext[stored.ext_id] = stored.document_id
        return dict(answer)


def _quantities(records: list[DocumentRecord]) -> dict[str, int]:
    qty: dict[str, int] = {}
    for record in records:
        for line in record.lines:
            qty[line.key] = qty.get(line.key, 0) + line.qty
    return qty


def _document_id(payload: Mapping[str, Any], *, required: bool) -> int | None:
    value = payload.get("documentID")
    if value is None:
        if required:
            raise SmartOneError(SmartOneCode.BAD_PARAMETERS, "documentID is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SmartOneError(SmartOneCode.BAD_PARAMETERS, "documentID must be an integer")
    return value
