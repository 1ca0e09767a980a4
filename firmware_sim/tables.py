"""The register's settings tables the simulator keeps (0x1E write, 0x1F read).

Pure. Only the fields the simulator acts on exist (docs/simulator.md, "Tables"):

- table 1 "Тип и режим кассы", row 1, field 14 "Начисление налогов" (the tax mode): 1 byte,
  0..3, default 0. 0 (and 2, 3): the register computes VAT itself; 1: it signs the host's
  FF46 tax sums as sent.
- table 6 "Налоговые ставки": one row per row of the configured tax table; field 1 the rate
  (2 bytes, hundredths of a percent, 0..9999), field 2 the name (64 bytes, cp1251).

Defaults come from the configuration; the device stores only the fields written, so a state
file written before tables existed loads with every default (tax mode 0).

On the wire a number is little-endian in the field's size and a string is cp1251, NUL-padded
to the field's size. A write may send a number in fewer bytes than the field (pyshtrih sends
the shortest form) and a string shorter than the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from firmware_sim.commands import ErrorCode, Refusal, decode_text, le
from firmware_sim.state import TableKey, TableValue, TaxRate

__all__ = [
    "CODE_RATES",
    "MAX_RATE",
    "NAME_BYTES",
    "NAME_FIELD",
    "RATE_FIELD",
    "TAX_MODES",
    "TAX_MODE_HOST",
    "TAX_MODE_KEY",
    "TAX_TABLE",
    "FieldSpec",
    "decode_write",
    "field_spec",
    "read_field",
    "row_rates",
    "tax_mode",
]

TAX_MODE_KEY: TableKey = (1, 1, 14)
"""Table 1 "Тип и режим кассы", row 1, field 14 "Начисление налогов"."""

TAX_MODES = range(4)
TAX_MODE_HOST = 1
"""Tax mode 1: the host computes the taxes; the register signs its FF46 sums as sent."""

TAX_TABLE = 6
RATE_FIELD, NAME_FIELD = 1, 2
RATE_BYTES, NAME_BYTES = 2, 64
MAX_RATE = 9999

CODE_RATES: dict[str, int] = {
    "vat22": 2200,
    "vat10": 1000,
    "vat0": 0,
    "none": 0,
    "vat22_122": 2200,
    "vat10_110": 1000,
    "vat5": 500,
    "vat7": 700,
    "vat5_105": 500,
    "vat7_107": 700,
    "vat20": 2000,
    "vat20_120": 2000,
}
"""Table 6 field 1 of a row with this contract code, before anything is written there."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """One table field: its size in bytes, and a string or a number 0..``maximum``."""

    size: int
    is_text: bool = False
    maximum: int = 0


def field_spec(key: TableKey, tax_rates: tuple[TaxRate, ...]) -> FieldSpec:
    """The field at ``key``; 0x5D for a table the simulator lacks, 0x33 for a row or field."""
    table, row, field = key
    if table == TAX_MODE_KEY[0]:
        if (row, field) != TAX_MODE_KEY[1:]:
            raise Refusal(ErrorCode.BAD_PARAMETERS, f"table 1 has no row {row} field {field}")
        return FieldSpec(size=1, maximum=TAX_MODES[-1])
    if table == TAX_TABLE:
        if not 1 <= row <= len(tax_rates):
            raise Refusal(ErrorCode.BAD_PARAMETERS, f"table 6 has no row {row}")
        if field == RATE_FIELD:
            return FieldSpec(size=RATE_BYTES, maximum=MAX_RATE)
        if field == NAME_FIELD:
            return FieldSpec(size=NAME_BYTES, is_text=True)
        raise Refusal(ErrorCode.BAD_PARAMETERS, f"table 6 has no field {field}")
    raise Refusal(ErrorCode.TABLE_NOT_DEFINED, f"no table {table}")


def _default(key: TableKey, tax_rates: tuple[TaxRate, ...]) -> TableValue:
    if key == TAX_MODE_KEY:
        return 0
    _, row, field = key
    rate = tax_rates[row - 1]
    return CODE_RATES[rate.code] if field == RATE_FIELD else rate.name


def _value(
    key: TableKey, written: Mapping[TableKey, TableValue], tax_rates: tuple[TaxRate, ...]
) -> TableValue:
    return written[key] if key in written else _default(key, tax_rates)


def read_field(
    key: TableKey, written: Mapping[TableKey, TableValue], tax_rates: tuple[TaxRate, ...]
) -> bytes:
    """0x1F's answer data: the field's value in the field's size."""
    spec = field_spec(key, tax_rates)
    value = _value(key, written, tax_rates)
    if spec.is_text:
        raw = str(value).encode("cp1251", errors="replace")[: spec.size]
        return raw.ljust(spec.size, b"\x00")
    return le(int(value), spec.size)


def decode_write(key: TableKey, raw: bytes, tax_rates: tuple[TaxRate, ...]) -> TableValue:
    """The value 0x1E writes at ``key``; 0x33 when it does not fit the field."""
    spec = field_spec(key, tax_rates)
    if spec.is_text:
        if len(raw) > spec.size:
            raise Refusal(
                ErrorCode.BAD_PARAMETERS, f"{len(raw)} bytes for a {spec.size}-byte field"
            )
        return decode_text(raw)
    if not 1 <= len(raw) <= spec.size:
        raise Refusal(ErrorCode.BAD_PARAMETERS, f"{len(raw)} bytes for a {spec.size}-byte field")
    value = int.from_bytes(raw, "little")
    if value > spec.maximum:
        raise Refusal(ErrorCode.BAD_PARAMETERS, f"{value} above {spec.maximum}")
    return value


def tax_mode(written: Mapping[TableKey, TableValue]) -> int:
    """Table 1 row 1 field 14: 0 unless written."""
    return int(written.get(TAX_MODE_KEY, 0))


def row_rates(
    written: Mapping[TableKey, TableValue], tax_rates: tuple[TaxRate, ...]
) -> tuple[int, ...]:
    """Table 6 field 1 of every row, row 1 first (hundredths of a percent)."""
    return tuple(
        int(_value((TAX_TABLE, rate.index, RATE_FIELD), written, tax_rates)) for rate in tax_rates
    )
