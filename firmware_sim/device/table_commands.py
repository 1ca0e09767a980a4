"""Table commands: 0x1E write and 0x1F read of a table field.

The fields themselves (layout, defaults, decoding) live in
:mod:`firmware_sim.tables`; this module is the commands' side.
"""

from __future__ import annotations

from firmware_sim.commands import ErrorCode, Refusal, RequestReader
from firmware_sim.device.core import DeviceCore
from firmware_sim.state import TableKey
from firmware_sim.tables import decode_write, read_field


class TableCommands(DeviceCore):
    """Table reads and writes of :class:`~firmware_sim.device.Device`."""

    def _table_request(self, body: bytes) -> tuple[TableKey, bytes]:
        """0x1E/0x1F head: sysadmin pwd, table(1), row(2), field(1); then the value's bytes."""
        reader = RequestReader(body, error=ErrorCode.BAD_PARAMETERS)
        password = reader.uint(4)
        key = (reader.uint(1), reader.uint(2), reader.uint(1))
        value = reader.rest()
        self._operator(password, sysadmin=True)
        return key, value

    def _read_table(self, body: bytes) -> bytes:
        """0x1F: the field's value (a number LE in its size, a string NUL-padded)."""
        key, rest = self._table_request(body)
        if rest:
            raise Refusal(ErrorCode.BAD_PARAMETERS, f"{len(rest)} unexpected trailing bytes")
        return read_field(key, self._tables, self._config.tax_rates)

    def _write_table(self, body: bytes) -> bytes:
        """0x1E: write the field; error byte only."""
        key, raw = self._table_request(body)
        self._tables[key] = decode_write(key, raw, self._config.tax_rates)
        self._revision += 1
        return b""
