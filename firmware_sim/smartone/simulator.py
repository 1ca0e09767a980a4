"""The simulated SmartOne cash box: the routes behind one lock, the faults, the state file.

:meth:`SmartOneSimulator.handle` takes a route and the raw form body. Order: no power or a cut
armed before the route -> the connection drops (:class:`Dropped`, no reply); a bad envelope ->
code 2; a signature that is not the configured merchant id's -> code 1, and nothing runs; a
refusal armed before the route -> its code; then the route runs. With a processing time set
(``faults.answer_delay_ms``), ``/sale`` and ``/refund`` answer 44 at once and finish later;
``/check_status`` answers 44 until then. A cut armed after the route drops the connection once
the document is committed and stored.

Durability: the register state and the document's record are saved in one transaction before
the reply is written, as the other front ends save before they answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog

from agent.drivers.smartone.envelope import EnvelopeError, decode_body, verify
from firmware_sim.register import Register
from firmware_sim.smartone import shift_routes
from firmware_sim.smartone.cashbox import CashBox
from firmware_sim.smartone.codes import SmartOneCode, SmartOneError, reply
from firmware_sim.smartone.doc_store import DocStore, insert_statement
from firmware_sim.smartone.faults import SmartOneFaults, route_name
from firmware_sim.smartone.orders import ext_id
from firmware_sim.smartone.records import DocumentRecord, Operation
from firmware_sim.smartone.settings import SmartOneSettings
from firmware_sim.store import StateStore

__all__ = ["ROUTES", "Dropped", "SmartOneSimulator"]

log = structlog.get_logger("firmware_sim.smartone")

Route = Callable[[CashBox, Mapping[str, Any]], dict[str, Any]]
ROUTES: dict[str, Route] = {
    "sale": lambda box, body: box.receipt(Operation.SALE, body),
    "refund": lambda box, body: box.receipt(Operation.REFUND, body),
    "deposit": lambda box, body: box.cash(Operation.DEPOSIT, body),
    "withdraw": lambda box, body: box.cash(Operation.WITHDRAW, body),
    "check_status": CashBox.check_status,
    "check_copy": CashBox.check_copy,
    "last_document": CashBox.last_document,
    "open_shift": shift_routes.open_shift,
    "check_shift": shift_routes.check_shift,
    "x_report": shift_routes.x_report,
    "close_shift": shift_routes.close_shift,
    "get_info": shift_routes.get_info,
}
"""The routes the simulator serves (docs/smartone-sim.md)."""
_SLOW = {"sale": Operation.SALE, "refund": Operation.REFUND}


class Dropped(Exception):
    """The cash box lost power: the connection closes with no reply."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SmartOneSimulator:
    """The cash box (register, documents, settings) and its faults behind one lock."""

    def __init__(
        self,
        *,
        register: Register,
        settings: SmartOneSettings,
        store: StateStore | None = None,
        docs: DocStore | None = None,
        faults: SmartOneFaults | None = None,
        wall_clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.register = register
        self.settings = settings
        self.store = store
        self.docs = docs
        self.faults = faults or SmartOneFaults()
        self.box = CashBox(
            register=register,
            settings=settings,
            faults=self.faults,
            records=[] if docs is None else docs.load(),
            save=self._save,
            wall_clock=wall_clock,
        )
        self._lock = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()

    # ---- lifecycle --------------------------------------------------------------------------

    async def stop(self) -> None:
        """Drop documents still processing (they never committed)."""
        for task in list(self._pending):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ---- the web app calls this -------------------------------------------------------------

    async def handle(self, route: str, body: bytes) -> dict[str, Any]:
        """The reply to one request; raises :class:`Dropped` when no reply goes out."""
        name = route_name(route)
        async with self._lock:
            if not self.faults.is_powered:
                raise Dropped
            if self.faults.take_power_cut(name, after=False):
                self._cut_power()
                raise Dropped
            try:
                request = decode_body(body)
            except EnvelopeError as exc:
                return reply(SmartOneCode.INVALID_JSON, str(exc))
            if not verify(request, self.settings.merchant_id):
                log.info("bad signature", route=name)
                return reply(SmartOneCode.AUTH_ERROR, "signature does not match the merchant id")
            if (code := self.faults.take_refusal(name, after=False)) is not None:
                return reply(code, "refused (injected fault)")
            answer = self._run(name, request.payload)
            if self.faults.take_power_cut(name, after=True):
                self._cut_power()
                raise Dropped
            if (code := self.faults.take_refusal(name, after=True)) is not None:
                return reply(code, "refused (injected fault, after it ran)")
            return answer

    def _run(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        ext = payload.get("documentExtID")
        try:
            if name in _SLOW and self.faults.answer_delay_ms > 0:
                answer = self._accept_slow(_SLOW[name], payload)
            else:
                answer = ROUTES[name](self.box, payload)
        except SmartOneError as exc:
            log.info("refused", route=name, code=exc.code, message=exc.message, ext_id=ext)
            return reply(exc.code, exc.message)
        log.info("answered", route=name, code=answer["code"], ext_id=ext)
        return answer

    def _accept_slow(self, operation: Operation, payload: dict[str, Any]) -> dict[str, Any]:
        """Check the body, answer 44 and finish the document after the processing time."""
        ext = ext_id(payload)
        stored = self.box.stored(ext, operation)
        if stored is not None:
            return stored
        pending = self.box.processing_reply(ext)
        if pending is not None:
            return pending
        self.box.check_order(operation, payload)
        answer = self.box.reserve_document_id(ext)
        document_id = int(answer["documentID"])
        task = asyncio.create_task(
            self._finish_slow(operation, payload, document_id, self.faults.answer_delay_ms / 1000)
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return answer

    async def _finish_slow(
        self, operation: Operation, payload: dict[str, Any], document_id: int, delay_s: float
    ) -> None:
        await asyncio.sleep(delay_s)
        async with self._lock:
            if document_id not in self.box.processing:
                return  # dropped by a power cut
            try:
                self.box.receipt(operation, payload, document_id=document_id)
            except SmartOneError as exc:
                self.box.processing.pop(document_id, None)
                log.warning("processing failed", document_id=document_id, code=exc.code)

    # ---- persistence ------------------------------------------------------------------------

    def _save(self, record: DocumentRecord | None) -> None:
        if self.store is None:
            return
        also = [] if record is None else [insert_statement(record)]
        self.store.save(self.register.state, also=also)

    # ---- control operations -----------------------------------------------------------------

    def _cut_power(self) -> None:
        self.faults.is_powered = False
        self.register.power_cut()
        for task in self._pending:
            task.cancel()
        self.box.processing.clear()
        log.warning("power cut")

    async def power_cut(self) -> None:
        """Power off: no request gets a reply; documents still processing are lost."""
        async with self._lock:
            self._cut_power()

    async def power_back(self) -> None:
        """Power on."""
        self.faults.is_powered = True
        log.warning("power back")

    async def set_paper(self, present: bool) -> None:
        """Load or take out the paper: without it documents commit but answer 15."""
        async with self._lock:
            self.box.has_paper = present

    async def advance_clock(self, seconds: float) -> None:
        """Move the register's clock."""
        async with self._lock:
            self.register.advance_clock(seconds)
            self._save(None)

    async def ofd_ack(self, through_fd: int | None) -> int:
        """Kept for the control API's shape: the register's tape acknowledged."""
        async with self._lock:
            acked = self.register.ofd_ack(through_fd)
            self._save(None)
            return acked

    async def configure(
        self, *, refuse_z_with_cash: bool | None, refuse_empty_z: bool | None
    ) -> None:
        """Switch the Z refusals (27, 26) on or off."""
        async with self._lock:
            if refuse_z_with_cash is not None:
                self.settings.refuse_z_with_cash = refuse_z_with_cash
            if refuse_empty_z is not None:
                self.settings.refuse_empty_z = refuse_empty_z

    def register_clock(self) -> datetime:
        """The cash box's own clock now (what its HTTP ``Date`` header carries)."""
        return self.register.clock(self.box.now())

    async def summary(self) -> dict[str, Any]:
        """The cash box, the faults and the settings, for the control API's GET /state."""
        async with self._lock:
            status = self.register.shift_status(self.box.now())
            return {
                "front_end": "smartone",
                "clock": status.clock.isoformat(),
                "shift": status.as_dict(),
                "last_fd": self.register.last_fd,
                "last_document_id": max(self.box.records, default=0),
                "processing": sorted(self.box.processing),
                "paper": self.box.has_paper,
                "cash_in_drawer": self.register.cash_in_drawer,
                "power": self.faults.is_powered,
                "faults": self.faults.as_dict(),
                "settings": self.settings.as_dict(),
            }
