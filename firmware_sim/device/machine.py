"""The public :class:`Device`: the command families put together, and the dispatch.

``handle(payload, now)`` routes a command to its handler; the control API and the
server use the other public methods (paper, clock, OFD ack, state snapshot).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from firmware_sim.commands import Command, ErrorCode, Refusal, answer, split_command
from firmware_sim.device.cash import CashCommands
from firmware_sim.device.errors import shtrih_code
from firmware_sim.device.fn import FnCommands
from firmware_sim.device.receipts import ReceiptCommands
from firmware_sim.device.shift import ShiftCommands
from firmware_sim.device.status import StatusCommands
from firmware_sim.device.table_commands import TableCommands
from firmware_sim.register import RegisterRefusal
from firmware_sim.state import DeviceConfig, DeviceState, DocumentTags


class Device(
    StatusCommands, ShiftCommands, ReceiptCommands, FnCommands, CashCommands, TableCommands
):
    """A ШТРИХ-М-01Ф with its FN: ``handle(payload, now)`` answers one command."""

    def __init__(self, *, config: DeviceConfig, state: DeviceState | None = None) -> None:
        super().__init__(config=config, state=state)
        self._handlers: dict[int, Callable[[bytes], bytes]] = {
            Command.SHORT_STATUS: self._short_status,
            Command.FULL_STATUS: self._full_status,
            Command.PRINT_LINE: self._print_line,
            Command.READ_MONEY_REGISTER: self._read_money_register,
            Command.READ_OPERATING_REGISTER: self._read_operating_register,
            Command.WRITE_TABLE: self._write_table,
            Command.READ_TABLE: self._read_table,
            Command.OPEN_DRAWER: self._open_drawer,
            Command.X_REPORT: self._x_report,
            Command.Z_REPORT: self._z_report,
            Command.CASH_IN: self._cash_in,
            Command.CASH_OUT: self._cash_out,
            Command.SALE: self._sale,
            Command.SALE_RETURN: self._sale_return,
            Command.CLOSE_RECEIPT: self._close_receipt,
            Command.CANCEL_RECEIPT: self._cancel_receipt,
            Command.OPEN_RECEIPT: self._open_receipt,
            Command.CONTINUE_PRINT: self._continue_print,
            Command.OPEN_SHIFT: self._open_shift,
            Command.DEVICE_TYPE: self._device_type,
            Command.FN_STATUS: self._fn_status,
            Command.FN_EXPIRY: self._fn_expiry,
            Command.FN_FIND_DOCUMENT: self._fn_find_document,
            Command.FN_WRITE_TLV: self._fn_write_tlv,
            Command.FN_BEGIN_CORRECTION: self._fn_begin_correction,
            Command.FN_STATE_REPORT: self._fn_state_report,
            Command.FN_EXCHANGE_STATUS: self._fn_exchange_status,
            Command.FN_READ_DOCUMENT: self._fn_read_document,
            Command.FN_READ_TLV: self._fn_read_tlv,
            Command.FN_UNCONFIRMED_COUNT: self._fn_unconfirmed_count,
            Command.FN_SHIFT_PARAMS: self._fn_shift_params,
            Command.FN_BEGIN_OPEN_SHIFT: self._fn_begin_open_shift,
            Command.FN_BEGIN_CLOSE_SHIFT: self._fn_begin_close_shift,
            Command.FN_CLOSE_RECEIPT_V2: self._fn_close_receipt_v2,
            Command.FN_OPERATION_V2: self._fn_operation_v2,
        }

    def handle(self, payload: bytes, now: datetime) -> bytes:
        """Execute one command (a frame's LEN bytes); return the answer payload."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self._now = now
        self.last_refusal = None
        if not payload:
            return answer(0x00, ErrorCode.NOT_SUPPORTED)
        code, body = split_command(payload)
        handler = self._handlers.get(code)
        if handler is None:
            unknown = ErrorCode.FN_UNKNOWN_COMMAND if code > 0xFF else ErrorCode.NOT_SUPPORTED
            self.last_refusal = Refusal(unknown, f"command 0x{code:02X} not implemented")
            return answer(code, unknown)
        self._ensure_registered(self._clock())
        try:
            data = handler(body)
        except Refusal as refusal:
            self.last_refusal = refusal
            return answer(code, refusal.code)
        except RegisterRefusal as refusal:
            self.last_refusal = Refusal(shtrih_code(code, refusal.reason), refusal.message)
            return answer(code, self.last_refusal.code)
        return answer(code, ErrorCode.OK, data)

    def power_cut(self) -> None:
        """Power lost: the open receipt, a begun shift document, a read, the print job go."""
        super().power_cut()
        self._reading = []
        self._pending_shift = None
        self._pending_tags = DocumentTags()

    def summary(self, now: datetime) -> dict[str, Any]:
        """The register at ``now`` as plain JSON values (the control API's GET /state)."""
        self._now = now
        clock = self._clock()
        opened = self._shift_opened_at
        return {
            "mode": int(self._mode()),
            "mode_byte": self._mode_byte(),
            "submode": int(self._submode()),
            "clock": clock.isoformat(),
            "shift": {
                "open": self._is_shift_open,
                "number": self._shift_number,
                "opened_at": None if opened is None else opened.isoformat(),
                "age_s": (clock - opened).total_seconds()
                if opened and self._is_shift_open
                else None,
                "expired": self._is_shift_open and self._is_expired(clock),
            },
            "receipt_open": self._receipt is not None,
            "last_fd": self._last_fd(),
            "unsent_docs": self._last_fd() - self._ofd_acked_fd,
            "paper": self._has_paper,
            "cash_in_drawer": self._money.get(241, 0),
            "drawer_openings": self._drawer_openings,
            "tax_mode": self.tax_mode,
        }
