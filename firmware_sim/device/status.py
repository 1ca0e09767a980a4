"""Status and register commands: 0x10, 0x11, 0xFC, 0x1A, 0x1B and 0xB0.

The answers a host polls for (short and full status, device type, money and
operating registers) and the resume of a print job the paper ran out in.
"""

from __future__ import annotations

from firmware_sim.commands import ErrorCode, Refusal, RequestReader, dmy, hms, le
from firmware_sim.device.core import (
    BATTERY,
    DEVICE_TYPE_BYTES,
    EKLZ_ERROR,
    FIRMWARE,
    FLAGS_WITH_PAPER,
    FP_ERROR,
    MAX_MONEY_REGISTER,
    PAPER_BITS,
    SHORT_STATUS_RESERVED,
    SUPPLY,
    DeviceCore,
)
from firmware_sim.register.core import MAX_MONEY


class StatusCommands(DeviceCore):
    """Status and register answers of :class:`~firmware_sim.device.Device`."""

    def _short_status(self, body: bytes) -> bytes:
        """0x10 (§2.2): op, flags, mode, submode, operation count, voltages."""
        op = self._operator(self._password_only(body))
        flags = FLAGS_WITH_PAPER if self._has_paper else FLAGS_WITH_PAPER & ~PAPER_BITS
        ops = len(self._receipt.items) if self._receipt else 0
        return (
            bytes([op])
            + le(flags, 2)
            + bytes([self._mode_byte(), self._submode(), ops & 0xFF])
            + bytes([BATTERY, SUPPLY, FP_ERROR, EKLZ_ERROR, (ops >> 8) & 0xFF])
            + SHORT_STATUS_RESERVED
        )

    def _full_status(self, body: bytes) -> bytes:
        """0x11 (§2.3): 46 data bytes; valid calendar dates (pyshtrih calls date())."""
        op = self._operator(self._password_only(body))
        clock = self._clock()
        flags = FLAGS_WITH_PAPER if self._has_paper else FLAGS_WITH_PAPER & ~PAPER_BITS
        version, build, fw_date = FIRMWARE
        fw_day = bytes([int(fw_date[0:2]), int(fw_date[2:4]), int(fw_date[4:6])])
        fp_flags = 0x01 | 0x04  # FP present, licence entered
        if self._is_shift_open:
            fp_flags |= 0x40
            if self._is_expired(clock):
                fp_flags |= 0x80
        last_closed = self._shift_number - 1 if self._is_shift_open else self._shift_number
        return (
            bytes([op])
            + version
            + le(build, 2)
            + fw_day
            + bytes([1])  # number in the hall
            + le(self._operating.get(152, 0) & 0xFFFF, 2)
            + le(flags, 2)
            + bytes([self._mode_byte(), self._submode(), 0])  # port 0
            + version
            + le(build, 2)
            + fw_day
            + dmy(clock.date())
            + hms(clock)
            + bytes([fp_flags])
            + le(int(self._config.serial) & 0xFFFFFFFF, 4)
            + le(max(last_closed, 0) & 0xFFFF, 2)
            + le(2000, 2)  # free FP records
            + bytes([1, 11])  # re-registrations done, left
            + le(int(self._config.inn), 6)
        )

    def _device_type(self, body: bytes) -> bytes:
        """0xFC: device type bytes and the model name in cp1251."""
        if body:
            raise Refusal(ErrorCode.BAD_PARAMETERS, "0xFC takes no data")
        return DEVICE_TYPE_BYTES + self._config.model_name.encode("cp1251", errors="replace")

    def _read_money_register(self, body: bytes) -> bytes:
        """0x1A: pwd, register (1 byte, or 2 bytes for K-registers) -> op, value(6)."""
        if len(body) not in (5, 6):
            raise Refusal(ErrorCode.BAD_PARAMETERS, "0x1A body is pwd + 1 or 2 bytes")
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        register = reader.uint(reader.remaining)
        if register > MAX_MONEY_REGISTER:
            raise Refusal(ErrorCode.BAD_PARAMETERS, f"no money register {register}")
        op = self._operator(password)
        return bytes([op]) + le(self._money.get(register, 0) & MAX_MONEY, 6)

    def _read_operating_register(self, body: bytes) -> bytes:
        """0x1B: pwd, register(1) -> op, value(2)."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        register = reader.uint(1)
        reader.end()
        op = self._operator(password)
        return bytes([op]) + le(min(self._operating.get(register, 0), 0xFFFF), 2)

    def _continue_print(self, body: bytes) -> bytes:
        """0xB0: resume a print job the paper ran out in (submode 3 -> 0)."""
        op = self._operator(self._password_only(body))
        if self._print_interrupted:
            self._check_paper()
            self._print_interrupted = False
            self._start_printing()
        return bytes([op])
