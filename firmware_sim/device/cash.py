"""Cash commands: 0x50 cash in, 0x51 cash out and 0x28 the drawer pulse."""

from __future__ import annotations

from firmware_sim.commands import ErrorCode, Refusal, RequestReader, le
from firmware_sim.device.core import DeviceCore
from firmware_sim.state import CashMovement


class CashCommands(DeviceCore):
    """Cash movements and the drawer of :class:`~firmware_sim.device.Device`."""

    def _cash(self, body: bytes, *, is_out: bool) -> bytes:
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        amount = reader.uint(5)
        reader.end()
        op, clock = self._begin_sale_document(password)
        if amount == 0:
            raise Refusal(ErrorCode.BAD_PARAMETERS, "zero amount")
        drawer = self._money.get(241, 0)
        if is_out and amount > drawer:
            raise Refusal(ErrorCode.NOT_ENOUGH_CASH, f"drawer holds {drawer}")
        self._check_paper()
        self._add_money(243 if is_out else 242, amount)
        self._add_money(241, -amount if is_out else amount)
        self._bump(154 if is_out else 153)
        self._bump(152)
        number = self._operating[152]
        self._movements.append(
            CashMovement(
                number=number,
                direction="out" if is_out else "in",
                amount=amount,
                at=clock,
                shift=self._shift_number,
            )
        )
        self._start_printing()
        return bytes([op]) + le(number & 0xFFFF, 2)

    def _cash_in(self, body: bytes) -> bytes:
        """0x50: pwd, amount(5) -> op, document number(2)."""
        return self._cash(body, is_out=False)

    def _cash_out(self, body: bytes) -> bytes:
        """0x51: pwd, amount(5) -> op, document number(2); not above the drawer (0x46)."""
        return self._cash(body, is_out=True)

    def _open_drawer(self, body: bytes) -> bytes:
        """0x28: pwd, drawer(1) -> op. Pulses the drawer port: no document, no FD."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        drawer = reader.uint(1)
        reader.end()
        op = self._operator(password)
        if drawer > 1:
            raise Refusal(ErrorCode.BAD_PARAMETERS, f"no drawer {drawer}")
        self._drawer_openings += 1
        self._revision += 1
        return bytes([op])
