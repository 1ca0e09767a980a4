"""0x1E/0x1F: table 1 field 14 (tax mode) and table 6 (tax rates), byte for byte.

Expected answers are written out by hand from docs/simulator.md ("Tables"): a number is
little-endian in the field's size, a string cp1251 NUL-padded to the field's size.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from simwire import ADMIN, CASHIER, SYSADMIN, Register, config, pw, u

from firmware_sim.cli import main
from firmware_sim.device import Device
from firmware_sim.server import ServeParams, build_simulator
from firmware_sim.state import TaxRate
from firmware_sim.store import StateStore

H = bytes.fromhex
NDS_22 = H("cd c4 d1 20 32 32 25")  # "НДС 22%" in cp1251
NDS_22_122 = H("cd c4 d1 20 32 32 2f 31 32 32")  # "НДС 22/122"
BEZ_NDS = H("e1 e5 e7 20 cd c4 d1")  # "без НДС"


def field(table: int, row: int, number: int) -> bytes:
    """Table (1), row (2 LE), field (1)."""
    return bytes([table]) + u(row, 2) + bytes([number])


def read(reg: Register, table: int, row: int, number: int) -> bytes:
    """The raw 0x1F answer payload with the system administrator's password."""
    return reg.send(b"\x1f" + pw(SYSADMIN) + field(table, row, number))


def write(reg: Register, table: int, row: int, number: int, value: bytes) -> bytes:
    """The raw 0x1E answer payload."""
    return reg.send(b"\x1e" + pw(SYSADMIN) + field(table, row, number) + value)


def padded(name: bytes) -> bytes:
    """A 64-byte table 6 name field."""
    return name + bytes(64 - len(name))


def test_0x1f_tax_mode_reads_0_by_default() -> None:
    """1F 1E000000 01 0100 0E answers 1F 00 00: tax mode 0, one byte."""
    reg = Register()
    assert reg.send(H("1f 1e 00 00 00 01 01 00 0e")) == H("1f 00 00")


@pytest.mark.parametrize(
    ("row", "number", "expected"),
    [
        pytest.param(1, 1, H("98 08"), id="row1-rate-2200"),
        pytest.param(1, 2, padded(NDS_22), id="row1-name"),
        pytest.param(2, 1, H("e8 03"), id="row2-rate-1000"),
        pytest.param(3, 1, H("00 00"), id="row3-rate-0"),
        pytest.param(4, 2, padded(BEZ_NDS), id="row4-name"),
        pytest.param(5, 2, padded(NDS_22_122), id="row5-name"),
        pytest.param(7, 1, H("f4 01"), id="row7-rate-500"),
        pytest.param(10, 1, H("bc 02"), id="row10-rate-700"),
        pytest.param(12, 1, H("d0 07"), id="row12-rate-2000"),
    ],
)
def test_0x1f_table6_defaults(row: int, number: int, expected: bytes) -> None:
    """Table 6: field 1 the rate in hundredths of a percent (2 bytes), field 2 the name."""
    reg = Register()
    assert read(reg, 6, row, number) == H("1f 00") + expected


def test_0x1e_writes_and_0x1f_reads_back() -> None:
    """0x1E answers the error byte only; 0x1F then reads what was written."""
    reg = Register()
    assert reg.send(H("1e 1e 00 00 00 01 01 00 0e 01")) == H("1e 00")
    assert reg.send(H("1f 1e 00 00 00 01 01 00 0e")) == H("1f 00 01")
    assert reg.device.tax_mode == 1
    assert write(reg, 6, 1, 1, H("d0 07")) == H("1e 00")
    assert read(reg, 6, 1, 1) == H("1f 00 d0 07")
    assert write(reg, 6, 1, 2, H("cd c4 d1 20 32 30 25")) == H("1e 00")  # "НДС 20%", short
    assert read(reg, 6, 1, 2) == H("1f 00") + padded(H("cd c4 d1 20 32 30 25"))
    assert read(reg, 6, 2, 1) == H("1f 00 e8 03")  # other rows untouched


def test_0x1e_number_in_fewer_bytes_than_the_field() -> None:
    """A number sent in its shortest form (as pyshtrih does) fills the field."""
    reg = Register()
    assert write(reg, 6, 3, 1, H("0a")) == H("1e 00")
    assert read(reg, 6, 3, 1) == H("1f 00 0a 00")


@pytest.mark.parametrize(
    ("payload", "answer"),
    [
        pytest.param(H("1f") + pw(SYSADMIN) + field(2, 1, 1), H("1f 5d"), id="no-table-2"),
        pytest.param(H("1f") + pw(SYSADMIN) + field(0, 1, 1), H("1f 5d"), id="no-table-0"),
        pytest.param(H("1f") + pw(SYSADMIN) + field(1, 2, 14), H("1f 33"), id="t1-row-2"),
        pytest.param(H("1f") + pw(SYSADMIN) + field(1, 1, 13), H("1f 33"), id="t1-field-13"),
        pytest.param(H("1f") + pw(SYSADMIN) + field(6, 0, 1), H("1f 33"), id="t6-row-0"),
        pytest.param(H("1f") + pw(SYSADMIN) + field(6, 13, 1), H("1f 33"), id="t6-row-13"),
        pytest.param(H("1f") + pw(SYSADMIN) + field(6, 1, 3), H("1f 33"), id="t6-field-3"),
        pytest.param(H("1f") + pw(SYSADMIN) + H("06 01 00"), H("1f 33"), id="short-body"),
        pytest.param(H("1f") + pw(SYSADMIN) + field(6, 1, 1) + H("00"), H("1f 33"), id="extra"),
        pytest.param(H("1f") + pw(CASHIER) + field(1, 1, 14), H("1f 4f"), id="cashier"),
        pytest.param(H("1f") + pw(ADMIN) + field(1, 1, 14), H("1f 4f"), id="admin"),
        pytest.param(H("1f") + pw(ADMIN) + field(2, 1, 1), H("1f 4f"), id="password-first"),
        pytest.param(H("1e") + pw(SYSADMIN) + field(1, 1, 14) + H("04"), H("1e 33"), id="mode-4"),
        pytest.param(H("1e") + pw(SYSADMIN) + field(1, 1, 14) + H("01 00"), H("1e 33"), id="long"),
        pytest.param(H("1e") + pw(SYSADMIN) + field(1, 1, 14), H("1e 33"), id="no-value"),
        pytest.param(H("1e") + pw(SYSADMIN) + field(6, 1, 1) + H("10 27"), H("1e 33"), id="10000"),
        pytest.param(H("1e") + pw(SYSADMIN) + field(6, 1, 2) + bytes(65), H("1e 33"), id="name"),
        pytest.param(H("1e") + pw(SYSADMIN) + field(7, 1, 1) + H("00"), H("1e 5d"), id="t7"),
        pytest.param(H("1e") + pw(CASHIER) + field(1, 1, 14) + H("01"), H("1e 4f"), id="pwd"),
    ],
)
def test_table_refusals(payload: bytes, answer: bytes) -> None:
    """Unknown table 0x5D; row, field, size or value out of range 0x33; not sysadmin 0x4F."""
    reg = Register()
    assert reg.send(payload) == answer


def test_table_refused_write_changes_nothing() -> None:
    """A refused 0x1E leaves the field and the state revision as they were."""
    reg = Register()
    reg.status()  # the first command writes the registration report (FD 1)
    revision = reg.device.revision
    assert write(reg, 6, 1, 1, H("10 27")) == H("1e 33")
    assert read(reg, 6, 1, 1) == H("1f 00 98 08")
    assert reg.device.revision == revision
    assert reg.device.state.tables == ()


def test_table6_rows_follow_a_custom_tax_table() -> None:
    """Table 6 has one row per configured tax row: rate from the code, the configured name."""
    rates = (TaxRate(index=1, code="vat10_110", name="НДС 10/110"),)
    reg = Register(device=Device(config=config(tax_rates=rates)))
    assert read(reg, 6, 1, 1) == H("1f 00 e8 03")
    assert read(reg, 6, 1, 2) == H("1f 00") + padded(H("cd c4 d1 20 31 30 2f 31 31 30"))
    assert read(reg, 6, 2, 1) == H("1f 33")


def test_set_tax_mode_takes_0_to_3() -> None:
    """Device.set_tax_mode writes table 1 field 14; 4 is a ValueError."""
    reg = Register()
    reg.device.set_tax_mode(3)
    assert reg.send(H("1f 1e 00 00 00 01 01 00 0e")) == H("1f 00 03")
    with pytest.raises(ValueError, match=r"0\.\.3"):
        reg.device.set_tax_mode(4)


def _saved(reg: Register, path: Path) -> None:
    store = StateStore(path)
    store.save(reg.device.state)
    store.close()


def test_tables_survive_a_restart(tmp_path: Path) -> None:
    """Written fields are in the state file and read back the same after a restart."""
    reg = Register()
    write(reg, 1, 1, 14, H("01"))
    write(reg, 6, 11, 1, H("98 08"))
    write(reg, 6, 11, 2, NDS_22)
    _saved(reg, tmp_path / "fn.db")
    loaded = StateStore(tmp_path / "fn.db").load()
    assert loaded is not None
    again = Register.with_state(loaded)
    assert again.device.tax_mode == 1
    assert read(again, 6, 11, 1) == H("1f 00 98 08")
    assert read(again, 6, 11, 2) == H("1f 00") + padded(NDS_22)


def test_older_state_file_without_tables_loads_with_tax_mode_0(tmp_path: Path) -> None:
    """A state file written before tables existed (no "tables" key) loads: every default."""
    reg = Register()
    reg.open_shift()
    _saved(reg, tmp_path / "fn.db")
    conn = sqlite3.connect(tmp_path / "fn.db")
    raw = json.loads(conn.execute("SELECT value FROM meta WHERE key = 'state'").fetchone()[0])
    del raw["tables"]
    conn.execute("UPDATE meta SET value = ? WHERE key = 'state'", (json.dumps(raw),))
    conn.commit()
    conn.close()
    loaded = StateStore(tmp_path / "fn.db").load()
    assert loaded is not None
    assert loaded.tables == ()
    again = Register.with_state(loaded)
    assert again.device.tax_mode == 0
    assert read(again, 6, 1, 1) == H("1f 00 98 08")


def test_serve_tax_mode_sets_a_new_state_only(tmp_path: Path) -> None:
    """--tax-mode 1 starts a new state file in mode 1; an existing file keeps its own mode."""
    path = tmp_path / "fn.db"
    sim = build_simulator(ServeParams(config=config(), state_path=path, tax_mode=1))
    assert sim.device.tax_mode == 1
    assert sim.store is not None
    sim.store.close()
    loaded = StateStore(path).load()
    assert loaded is not None
    assert Register.with_state(loaded).device.tax_mode == 1
    other = tmp_path / "other.db"
    first = build_simulator(ServeParams(config=config(), state_path=other))
    assert first.store is not None
    first.store.close()
    again = build_simulator(ServeParams(config=config(), state_path=other, tax_mode=1))
    assert again.device.tax_mode == 0
    assert again.store is not None
    again.store.close()
    in_memory = build_simulator(ServeParams(config=config(), tax_mode=3))
    assert in_memory.device.tax_mode == 3


@pytest.mark.parametrize("value", ["4", "-1", "x"])
def test_cli_tax_mode_out_of_range_exit_2(value: str) -> None:
    """--tax-mode takes 0..3 only; anything else stops argparse with exit code 2."""
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--pty", "--tax-mode", value])
    assert stopped.value.code == 2
