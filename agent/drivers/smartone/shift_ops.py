"""Shift and cash operations on a SmartOne cashbox: open, Z by the Z policy, cash in and out.

Used by :class:`~agent.drivers.smartone.driver.SmartOneDriver` under its lock. Each method
returns the shift as ``/check_shift`` reads it afterwards, so the driver's picture of the
shift stays fresh. docs/smartone-driver.md "Z policy" and "Cash" say why each step is there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from agent.domain.money import Kopecks
from agent.drivers.errors import (
    DeviceError,
    DriverError,
    LinkError,
    MalformedPayload,
    ShiftAlreadyOpen,
    ShiftExpired,
    ShiftNotOpen,
)
from agent.drivers.interface import CashMovement
from agent.drivers.smartone.codec import cash_request, close_shift_request, employee_request
from agent.drivers.smartone.errors import DrawerNotEmpty
from agent.drivers.smartone.exchange import Exchange
from agent.drivers.smartone.params import SmartOneParams, cash_key
from agent.drivers.smartone.replies import (
    CashReply,
    ShiftReply,
    ShiftTotals,
    cash_reply,
    shift_reply,
    shift_totals,
)
from agent.drivers.smartone.transport import NoAnswer

__all__ = ["ShiftOps", "z_withdraw_key"]

ShiftDoc = tuple[int, int, datetime | None]
"""(shift, fd, wall time or None for "now") of an open or close."""


def z_withdraw_key(shift_id: int | None) -> str:
    """The ``documentExtID`` of the drawer's collection before a shift's Z: one per shift."""
    return f"z-withdraw-{shift_id}"


class ShiftOps:
    """The shift's routes, with the checks around them."""

    def __init__(
        self,
        exchange: Exchange,
        params: SmartOneParams,
        *,
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self._exchange = exchange
        self._params = params
        self._log = log
        self._employee: str | None = params.employee_name
        self._pending: dict[tuple[str, int | None, int], str] = {}

    async def check_shift(self) -> ShiftReply:
        """``/check_shift``."""
        return await self._exchange.read("/check_shift", {}, shift_reply)

    async def receipt_refused(
        self, refused: ShiftNotOpen, route: str
    ) -> tuple[ShiftReply | None, DeviceError]:
        """Code 6 on a receipt, told apart by ``/check_shift``: (the shift read, the error).

        No shift open: the refusal as it is (the service opens one). The shift open: the
        cashbox takes no receipt in it any more, as it does past the shift's 24 hours
        (docs/smartone-driver.md §5): ShiftExpired, so a Z comes first, not a futile open.
        A failed check leaves the refusal as it is.
        """
        try:
            shift = await self.check_shift()
        except DriverError as exc:
            self._log.warning("check_shift after code 6 failed", route=route, error=str(exc))
            return None, refused
        if not shift.is_open:
            return shift, refused
        since = "" if shift.open_at is None else f" since {shift.open_at:%Y-%m-%d %H:%M}"
        expired = ShiftExpired(
            refused.code,
            0,
            f"SmartOne {route}: code 6 while shift {shift.shift_id} is open{since}: the"
            " cashbox takes no receipt in it any more (past its 24 hours); close it (Z) and"
            " open a new one",
        )
        return shift, expired

    async def open_shift(self, employee: str) -> tuple[ShiftReply, ShiftDoc]:
        """``/open_shift`` when none is open (else ShiftAlreadyOpen); a lost answer is checked."""
        self._employee = employee
        shift = await self.check_shift()
        if shift.is_open:
            raise ShiftAlreadyOpen(0, 0, f"SmartOne shift {shift.shift_id} is open")
        try:
            await self._exchange.send(
                "/open_shift",
                employee_request(employee),
                _any,
                timeout_s=self._params.sale_timeout_s,
            )
        except NoAnswer as exc:
            if not (await self.check_shift()).is_open:
                raise
            self._log.warning("open_shift answer lost; the shift is open", error=str(exc))
        after = await self.check_shift()
        if not after.is_open:
            raise MalformedPayload(0, "SmartOne /open_shift succeeded and the shift is closed")
        return after, (after.shift_id or 0, 0, after.open_at)

    async def close_shift(self, employee: str) -> tuple[ShiftReply, ShiftDoc, ShiftTotals | None]:
        """``/close_shift`` (Z) by the Z policy (docs/smartone-driver.md).

        Returns the shift after it, the Z as a document and the Z's counters from the reply
        (None when the answer was lost and ``/check_shift`` decided it).

        Code 27 (cash in the drawer): with ``withdraw_before_z``, ``/withdraw`` of the
        drawer's ``cash`` under :func:`z_withdraw_key`, then one more close; otherwise
        :class:`~agent.drivers.smartone.errors.DrawerNotEmpty`. Code 26 (an empty shift)
        raises :class:`~agent.drivers.smartone.errors.ShiftEmpty`: no dummy sale, ever.
        """
        self._employee = employee
        shift = await self.check_shift()
        if not shift.is_open:
            raise ShiftNotOpen(0, 0, "no SmartOne shift is open")
        body = close_shift_request(employee, self._params.open_orders_operation)
        try:
            totals = await self._close(body, shift)
        except DrawerNotEmpty as exc:
            current = await self.check_shift()
            if not self._params.withdraw_before_z:
                raise DrawerNotEmpty(exc.code, exc.device_message, cash=current.cash) from exc
            cash = current.cash or 0
            if cash > 0:
                key = z_withdraw_key(current.shift_id)
                self._log.warning(
                    "Z refused for cash in the drawer: collecting it first",
                    cash=cash,
                    shift=current.shift_id,
                    document_ext_id=key,
                )
                await self._cash_document("/withdraw", key, Kopecks(cash))
            totals = await self._close(body, shift)
        after = await self.check_shift()
        number = None if totals is None else totals.fiscal_shift_num
        fd = int(number) if number is not None and number.isdigit() else 0
        self._log.info("shift closed", shift=shift.shift_id, fiscal_shift_num=number)
        return after, (shift.shift_id or 0, fd, None), totals

    async def _close(self, body: dict[str, Any], shift: ShiftReply) -> ShiftTotals | None:
        """One ``/close_shift``; a lost answer is decided by ``/check_shift`` (None: closed)."""
        try:
            return await self._exchange.send(
                "/close_shift", body, shift_totals, timeout_s=self._params.sale_timeout_s
            )
        except NoAnswer as exc:
            now = await self.check_shift()
            if now.is_open and now.shift_id == shift.shift_id:
                raise
            self._log.warning("close_shift answer lost; the shift is closed", error=str(exc))
            return None

    async def cash(self, route: str, amount: Kopecks) -> tuple[ShiftReply, CashMovement]:
        """``/deposit`` or ``/withdraw`` under a key kept stable across a retry.

        The key is :func:`~agent.drivers.smartone.params.cash_key` of the movement and the
        drawer before it; a movement whose outcome stayed unknown (a link error) keeps its
        key, and the next call for the same kind, shift and amount reuses it.
        """
        shift = await self.check_shift()
        kind = route.strip("/")
        slot = (kind, shift.shift_id, int(amount))
        key = self._pending.get(slot) or cash_key(kind, shift.shift_id, amount, shift.cash)
        self._pending[slot] = key
        try:
            reply = await self._cash_document(route, key, amount)
        except LinkError:
            raise  # outcome unknown: keep the key for the retry
        except DriverError:
            self._pending.pop(slot, None)
            raise
        self._pending.pop(slot, None)
        after = await self.check_shift()
        drawer = after.cash if after.cash is not None else reply.cash
        number = reply.fiscal_num
        movement = CashMovement(
            number=int(number)
            if number is not None and number.isdigit()
            else reply.document_id or 0,
            cash_in_drawer=Kopecks(drawer or 0),
        )
        self._log.info("cash movement", route=route, amount=amount, document_ext_id=key)
        return after, movement

    async def _cash_document(self, route: str, key: str, amount: Kopecks) -> CashReply:
        """One cash document; after a lost answer ``/check_status`` first, then one resend."""
        body = cash_request(key, amount, self._employee)
        try:
            return await self._exchange.send(route, body, cash_reply)
        except NoAnswer as exc:
            self._log.warning("cash answer lost: checking its status", route=route, error=str(exc))
            status = await self._exchange.status(key)
            if status is not None and status.is_closed:
                return CashReply(
                    document_id=status.document_id,
                    fiscal_id=status.fiscal_id,
                    fiscal_num=status.fiscal_num,
                    cash=None,
                )
            if status is not None:
                raise
            return await self._exchange.send(route, body, cash_reply)


def _any(raw: object) -> object:
    return raw
