"""Cash commands: 0x50 cash in, 0x51 cash out and 0x28 the drawer pulse."""

from __future__ import annotations

from firmware_sim.commands import ErrorCode, Refusal, RequestReader, le
from firmware_sim.device.core import DeviceCore


class CashCommands(DeviceCore):
    """Cash movements and the drawer of :class:`~firmware_sim.device.Device`."""

    def _cash(self, body: bytes, *, is_out: bool) -> bytes:
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        amount = reader.uint(5)
        reader.end()
        op = self._operator(password)
        self._check_not_busy()
        assert self._now is not None
        # the model's checks, in the register's order: receipt, shift, amount, drawer, paper
        move = self.cash_out(self._now, amount) if is_out else self.cash_in(self._now, amount)
        return bytes([op]) + le(move.number & 0xFFFF, 2)

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
        self._do_open_drawer()
        return bytes([op])
