"""The Shtrih driver's status and ledger reads: 0x10, 0x11, FF01, FF03, FF39, registers, tables.

A part of :class:`~agent.drivers.shtrih.driver.ShtrihDriver`, not used alone. ``read_ledger``
estimates the register's clock from the last 0x11 so a receipt's intent costs one round trip.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Final

from agent.drivers.interface import (
    FnState,
    FnWarning,
    LedgerState,
    RegisterState,
    ShiftCounters,
    ShiftState,
    TaxSetup,
)
from agent.drivers.shtrih.commands import (
    FnDocument,
    Mode,
    ReadExchangeStatusRequest,
    ReadExchangeStatusResponse,
    ReadFnExpiryRequest,
    ReadFnExpiryResponse,
    StatusFlags,
    Submode,
)
from agent.drivers.shtrih.driver_core import PAPER_OUT_SUBMODES, DriverCore
from agent.drivers.shtrih.registers import read_counters, read_tax_setup

CLOCK_ESTIMATE_MAX_AGE_S = 60.0
"""How long the register's clock is estimated from one 0x11 answer before it is read again."""
CLOCK_FORWARD_TOLERANCE = timedelta(minutes=2)
"""FF01's date-time (minute precision) this far past the estimate: the clock was set forward."""

_PRINTING_SUBMODES = frozenset({Submode.PRINTING_REPORT, Submode.PRINTING})

_OPEN_RECEIPT_DOCUMENTS: Final = frozenset({FnDocument.RECEIPT, FnDocument.CORRECTION_RECEIPT})


class StatusOps(DriverCore):
    """Status and ledger reads: the register's and the FN's state, counters, tax setup."""

    async def read_state(self) -> RegisterState:
        """0x10 + 0x11 + FF01 (the drawer is :meth:`read_cash_drawer`)."""
        async with self._lock:
            short = await self._short_status()
            status = await self._full_status()
            fn = await self._read_fn_status()
        shift = _shift_state(short.mode, is_fn_shift_open=fn.is_shift_open)
        return RegisterState(
            device_mode=int(short.mode),
            shift=shift,
            shift_number=status.last_closed_shift + (shift is not ShiftState.CLOSED),
            is_receipt_open=short.mode == Mode.DOCUMENT_OPEN,
            is_printing=short.submode in _PRINTING_SUBMODES,
            has_paper=StatusFlags.RECEIPT_PAPER in short.flags
            and short.submode not in PAPER_OUT_SUBMODES,
            is_cover_open=StatusFlags.COVER_OPEN in short.flags,
            clock=self._aware(status.clock),
            last_fd=fn.last_fd,
        )

    async def read_fn_state(self) -> FnState:
        """FF01 + FF03 + FF39."""
        async with self._lock:
            fn = await self._read_fn_status()
            expiry = await self._call(ReadFnExpiryRequest(password=self._sys), ReadFnExpiryResponse)
            exchange = await self._call(
                ReadExchangeStatusRequest(password=self._sys), ReadExchangeStatusResponse
            )
        oldest = exchange.first_queued_at
        return FnState(
            serial=fn.fn_serial,
            last_fd=fn.last_fd,
            valid_until=expiry.valid_until,
            unsent_docs=exchange.queued,
            oldest_unsent_at=None if oldest is None else self._aware(oldest),
            warnings=FnWarning(int(fn.warnings)),
        )

    async def read_counters(self) -> ShiftCounters:
        """0x11, the money and operating registers of the shift, and its VAT by rate.

        Round trips: 12, plus two per tax row with VAT that ``tax_rate_index`` maps (20
        with the default table); see :func:`agent.drivers.shtrih.registers.read_counters`.
        """
        async with self._lock:
            return await read_counters(
                self._call,
                password=self._op,
                tax_rate_index=self._params.tax_rate_index,
                log=self._log,
            )

    async def read_tax_setup(self) -> TaxSetup:
        """0x1F: the tax mode (table 1) and the tax table (table 6), sysadmin password.

        About 26 round trips: once a connect, never per receipt (see
        :func:`agent.drivers.shtrih.registers.read_tax_setup`).
        """
        async with self._lock:
            return await read_tax_setup(self._call, password=self._sys, log=self._log)

    async def read_ledger(self) -> LedgerState:
        """FF01, and 0x11 only when the driver cannot vouch for the shift number or clock.

        The register's clock is estimated from the last 0x11 answer plus the monotonic time
        since, for up to :data:`CLOCK_ESTIMATE_MAX_AGE_S`; FF01's date-time later than the
        estimate (the clock was set forward) sends a fresh 0x11 too. In steady state a
        receipt's intent costs this one round trip.
        """
        async with self._lock:
            fn = await self._read_fn_status()
            clock = self._estimated_clock()
            cursor = self._cursor if fn.is_shift_open else None
            is_clock_moved = (
                clock is not None
                and fn.at is not None
                and (self._aware(fn.at) > clock + CLOCK_FORWARD_TOLERANCE)
            )
            shift = ShiftState.OPEN if fn.is_shift_open else ShiftState.CLOSED
            if clock is None or cursor is None or is_clock_moved:
                status = await self._full_status()
                clock = self._aware(status.clock)
                shift_number = status.last_closed_shift + fn.is_shift_open
                shift = _shift_state(status.mode, is_fn_shift_open=fn.is_shift_open)
            else:
                shift_number = cursor.shift
        return LedgerState(
            fn_serial=fn.fn_serial,
            last_fd=fn.last_fd,
            shift=shift,
            shift_number=shift_number,
            # A correction receipt left open (FF35 ... killed before FF45) is open too.
            is_receipt_open=fn.current_document in _OPEN_RECEIPT_DOCUMENTS,
            clock=clock,
        )

    def _estimated_clock(self) -> datetime | None:
        anchor = self._clock_anchor
        if anchor is None:
            return None
        clock, at = anchor
        elapsed = time.monotonic() - at
        if not 0 <= elapsed <= CLOCK_ESTIMATE_MAX_AGE_S:
            return None
        return clock + timedelta(seconds=elapsed)


def _shift_state(mode: Mode | int, *, is_fn_shift_open: bool) -> ShiftState:
    if mode == Mode.SHIFT_EXPIRED:
        return ShiftState.EXPIRED
    if mode in {Mode.SHIFT_OPEN, Mode.DOCUMENT_OPEN}:
        return ShiftState.OPEN
    if mode == Mode.SHIFT_CLOSED:
        return ShiftState.CLOSED
    return ShiftState.OPEN if is_fn_shift_open else ShiftState.CLOSED
