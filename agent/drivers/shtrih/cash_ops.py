"""The Shtrih driver's cash and drawer: 0x50/0x51 cash in and out, register 241, 0x28.

A part of :class:`~agent.drivers.shtrih.driver.ShtrihDriver`, not used alone.
"""

from __future__ import annotations

from agent.domain.money import Kopecks
from agent.drivers.interface import CashMovement
from agent.drivers.shtrih.commands import (
    CashInRequest,
    CashInResponse,
    CashOutRequest,
    OpenDrawerRequest,
    OpenDrawerResponse,
)
from agent.drivers.shtrih.driver_core import DriverCore
from agent.drivers.shtrih.registers import CASH_IN_DRAWER


class CashOps(DriverCore):
    """Cash in and out of the drawer, the drawer's sum, and opening the drawer."""

    async def read_cash_drawer(self) -> Kopecks:
        """Money register 241: the cash in the drawer."""
        async with self._lock:
            return Kopecks(await self._money_register(CASH_IN_DRAWER))

    async def open_drawer(self) -> None:
        """0x28: open cash drawer 0 with the operator's password (no document)."""
        async with self._lock:
            await self._call(OpenDrawerRequest(password=self._op, drawer=0), OpenDrawerResponse)

    async def cash_in(self, amount: Kopecks) -> CashMovement:
        """0x50, then money register 241."""
        return await self._cash_movement(CashInRequest(password=self._op, amount=amount))

    async def cash_out(self, amount: Kopecks) -> CashMovement:
        """0x51, then money register 241; the register refuses more than the drawer holds."""
        return await self._cash_movement(CashOutRequest(password=self._op, amount=amount))

    async def _cash_movement(self, request: CashInRequest) -> CashMovement:
        async with self._lock:
            await self._ready_status(request.command)
            answer = await self._printing(request, CashInResponse)
            cash = await self._money_register(CASH_IN_DRAWER)
        return CashMovement(number=answer.document_number, cash_in_drawer=Kopecks(cash))
