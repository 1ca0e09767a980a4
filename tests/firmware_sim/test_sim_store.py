"""StateStore: the FN tape and counters in SQLite, and the tape's public JSON lines."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from simwire import SYSADMIN, Register, config, ff45_body, ff46_body, pw, tlv, u

from firmware_sim.device import Device
from firmware_sim.state import tape_entry
from firmware_sim.store import StateStore, StoreError


def _busy_register() -> Register:
    reg = Register()
    reg.open_shift()
    reg.sell(price=15000, cash=20000)
    reg.ok(0xFF46, ff46_body(price=5000, tax_index=5))
    reg.ok(0xFF0C, pw(SYSADMIN) + tlv(1021, "Иванова".encode("cp866")) + tlv(1008, b"+79990001122"))
    reg.ok(0xFF45, ff45_body({2: 5000}))
    reg.ok(0x50, pw() + u(1000, 5))
    reg.device.advance_clock(60)
    return reg


def test_store_roundtrip_restores_the_device(tmp_path: Path) -> None:
    """What is saved loads back equal (the open receipt excepted) and answers the same."""
    reg = _busy_register()
    store = StateStore(tmp_path / "fn.db")
    store.save(reg.device.state)
    store.close()
    loaded = StateStore(tmp_path / "fn.db").load()
    assert loaded is not None
    original = reg.device.state
    assert loaded.documents == original.documents
    assert loaded.cash_movements == original.cash_movements
    assert (loaded.money, loaded.operating) == (original.money, original.operating)
    assert loaded.clock_offset_s == 60
    again = Register(device=Device(config=config(), state=loaded), now=reg.now)
    assert again.ok(0xFF01, pw(SYSADMIN)) == reg.ok(0xFF01, pw(SYSADMIN))
    assert again.money(241) == 16000


def test_store_save_is_incremental_and_idempotent(tmp_path: Path) -> None:
    """Saving twice inserts each document once; later saves add only new FDs."""
    reg = Register()
    reg.open_shift()
    store = StateStore(tmp_path / "fn.db")
    store.save(reg.device.state)
    store.save(reg.device.state)
    reg.sell()
    store.save(reg.device.state)
    fds = [doc.fd for doc in store.documents()]
    assert fds == [1, 2, 3]


def test_store_uses_wal_and_full_sync(tmp_path: Path) -> None:
    """The state file runs in WAL mode with synchronous=FULL."""
    store = StateStore(tmp_path / "fn.db")
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_store_failed_save_leaves_no_half_document(tmp_path: Path) -> None:
    """A save that fails mid-way rolls back: the counters do not move without their FD."""
    reg = Register()
    reg.open_shift()
    store = StateStore(tmp_path / "fn.db")
    store.save(reg.device.state)
    blocker = sqlite3.connect(tmp_path / "fn.db")
    blocker.execute(
        "INSERT INTO documents (fd, type, shift, issued_at, body) VALUES (3, 'x', 0, '', '{}')"
    )
    blocker.commit()
    blocker.close()
    reg.sell(price=10000)
    with pytest.raises(sqlite3.IntegrityError):
        store.save(reg.device.state)
    check = sqlite3.connect(tmp_path / "fn.db")
    saved = json.loads(check.execute("SELECT value FROM meta WHERE key = 'state'").fetchone()[0])
    check.close()
    assert saved["money"] == []
    assert saved["receipts_in_shift"] == 0


def test_store_identity_binds_the_fn(tmp_path: Path) -> None:
    """The file remembers its FN serial and expiry."""
    store = StateStore(tmp_path / "fn.db")
    assert store.identity() is None
    store.save_identity(config())
    identity = store.identity()
    assert identity is not None
    assert identity.fn_serial == config().fn_serial
    assert identity.fn_valid_until == config().fn_valid_until


def test_store_rejects_other_schema(tmp_path: Path) -> None:
    """A file from another schema version is refused, not misread."""
    StateStore(tmp_path / "fn.db").close()
    conn = sqlite3.connect(tmp_path / "fn.db")
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema 99"):
        StateStore(tmp_path / "fn.db")


def test_tape_entry_receipt_shape() -> None:
    """Tape line of a receipt: money as strings, items, payments, tags without the contact."""
    reg = _busy_register()
    docs = reg.device.state.documents
    classic = tape_entry(docs[2])
    assert classic["type"] == "receipt"
    assert classic["kind"] == "sale"
    assert classic["total"] == "150.00"
    assert classic["payments"] == {"cash": "150.00", "card": "0.00", "prepaid": "0.00"}
    assert classic["change"] == "50.00"
    assert classic["items"] == [
        {"name": "Товар", "qty": "1", "price": "150.00", "amount": "150.00", "vat": "vat22"}
    ]
    assert classic["number"] == 1
    fn_era = tape_entry(docs[3])
    assert fn_era["payments"]["card"] == "50.00"
    assert fn_era["items"][0]["vat"] == "vat22_122"
    assert fn_era["tags"] == {"1021": "Иванова", "has_contact": True}
    assert "+7999" not in str(fn_era)
    assert fn_era["issued_at"].endswith("+03:00")


def test_tape_entry_close_shift_has_counters() -> None:
    """The close-shift line carries its counters with money as strings."""
    reg = _busy_register()
    reg.ok(0x41, pw(SYSADMIN))
    entry = tape_entry(reg.device.state.documents[-1])
    assert entry["type"] == "close_shift"
    assert "kind" not in entry
    assert entry["counters"]["sales"]["cash"] == "150.00"
    assert entry["counters"]["sales"]["card"] == "50.00"
    assert entry["counters"]["cash_in"] == "10.00"
