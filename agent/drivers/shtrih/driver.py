"""The Shtrih-M driver: FiscalDriver over the command codec, the link machine and a transport.

Layer 4 (docs/style.md §1). One request is in flight at a time, and one driver method runs at a
time (an ``asyncio.Lock`` around each public method, so a status poll never lands between the
lines of a receipt). The bytes travel through :class:`~agent.drivers.shtrih.session.ShtrihSession`
(the transport, the sans-IO link machine and its reader task). Parameters live in
:mod:`agent.drivers.shtrih.params`, the error mapping in
:mod:`agent.drivers.shtrih.device_errors`; both are re-exported here.

:class:`ShtrihDriver` is assembled from parts, one module each: the state and the one request
every operation goes through (:mod:`~agent.drivers.shtrih.driver_core`), receipts and
corrections (:mod:`~agent.drivers.shtrih.receipt_ops`), shift and reports
(:mod:`~agent.drivers.shtrih.shift_ops`), FN documents and read-back
(:mod:`~agent.drivers.shtrih.document_ops`), cash and drawer
(:mod:`~agent.drivers.shtrih.cash_ops`), status and ledger reads
(:mod:`~agent.drivers.shtrih.status_ops`). Connecting and closing are here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.drivers.clock_zone import ClockZone, format_utc_offset, settle_zone
from agent.drivers.interface import DeviceInfo, FiscalDriver
from agent.drivers.shtrih.cash_ops import CashOps
from agent.drivers.shtrih.commands import (
    ReadDeviceTypeRequest,
    ReadDeviceTypeResponse,
    ReadStatusResponse,
)
from agent.drivers.shtrih.device_errors import device_error
from agent.drivers.shtrih.document_ops import DocumentOps
from agent.drivers.shtrih.params import (
    ANSWER_TIMEOUT_S,
    DEFAULT_ANSWER_TIMEOUT_S,
    DEFAULT_TAX_RATE_INDEX,
    FRAME_LOG_SIZE,
    PAYMENT_TYPE_CARD,
    PAYMENT_TYPE_CASH,
    PAYMENT_TYPE_PREPAID,
    PRINT_POLL_INTERVAL_S,
    PRINT_WAIT_S,
    SHIFT_SCAN_LIMIT,
    DriverParams,
)
from agent.drivers.shtrih.receipt_ops import ReceiptOps
from agent.drivers.shtrih.shift_ops import ShiftOps
from agent.drivers.shtrih.status_ops import StatusOps
from agent.drivers.shtrih.tag_builders import MAX_MARK_BYTES

__all__ = [
    "ANSWER_TIMEOUT_S",
    "DEFAULT_ANSWER_TIMEOUT_S",
    "DEFAULT_TAX_RATE_INDEX",
    "FRAME_LOG_SIZE",
    "MAX_MARK_BYTES",
    "PAYMENT_TYPE_CARD",
    "PAYMENT_TYPE_CASH",
    "PAYMENT_TYPE_PREPAID",
    "PRINT_POLL_INTERVAL_S",
    "PRINT_WAIT_S",
    "SHIFT_SCAN_LIMIT",
    "DriverParams",
    "ShtrihDriver",
    "device_error",
]


class ShtrihDriver(ReceiptOps, ShiftOps, DocumentOps, CashOps, StatusOps):
    """A ШТРИХ-М FN-era register behind :class:`agent.drivers.interface.FiscalDriver`."""

    # --- FiscalDriver ----------------------------------------------------------------------

    async def connect(self) -> DeviceInfo:
        """Open the link and identify the register (0xFC, 0x11, FF01); settle its zone.

        The zone is ``params.tz`` when configured; otherwise the register's 0x11 clock minus
        the host's UTC clock, rounded to a quarter hour, as a fixed offset (see
        :mod:`agent.drivers.clock_zone`). It is measured on every connect either way, so a
        configured zone that disagrees is reported (``clock_zone.is_mismatch``).
        """
        async with self._lock:
            await self._session.ensure_open()
            device = await self._call(ReadDeviceTypeRequest(), ReadDeviceTypeResponse)
            status = await self._full_status()
            zone = settle_zone(self._params.tz, status.clock, self._host_clock())
            self._settle(zone, status)
            fn = await self._read_fn_status()
        serial = "" if status.serial is None else str(status.serial)
        self._log.info("register connected", model=device.name, serial=serial, fn=fn.fn_serial)
        return DeviceInfo(model=device.name, serial=serial, fn_serial=fn.fn_serial, clock_zone=zone)

    def _settle(self, zone: ClockZone, status: ReadStatusResponse) -> None:
        """Use ``zone`` from now on; the clock estimate is re-anchored in it; log the choice.

        Open-shift documents cached in another zone are dropped: every time of one connection
        is read in one zone, so the shift's age stays the register's own wall-clock difference
        (what its 24-hour lock counts) after its clock was moved.
        """
        if zone.zone != self._zone:
            self._open_documents.clear()
        self._zone = zone.zone
        if self._clock_anchor is not None:
            self._clock_anchor = (self._aware(status.clock), self._clock_anchor[1])
        fields = {
            "source": zone.source.value,
            "utc_offset": format_utc_offset(zone.utc_offset),
            "measured": format_utc_offset(zone.measured),
        }
        if zone.is_mismatch:
            self._log.warning("register clock disagrees with the configured zone", **fields)
        elif zone.is_fallback:
            self._log.warning(
                "register clock is no zone's time: the host's offset is used", **fields
            )
        else:
            self._log.info("register clock zone", **fields)

    async def aclose(self) -> None:
        """Stop the reader and close the transport."""
        await self._session.aclose()


if TYPE_CHECKING:

    def _implements_fiscal_driver(driver: ShtrihDriver) -> FiscalDriver:
        """Type-checked proof that ShtrihDriver satisfies the FiscalDriver protocol."""
        return driver
