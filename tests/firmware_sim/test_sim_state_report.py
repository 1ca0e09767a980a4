"""0x28 opens the drawer (no document); FF38 makes the calculation-state report (FD type 21).

Expected bytes are written out by hand from pyshtrih's layouts (0x28: ``err | operator``;
FF38: FD, FP, unconfirmed count u32, first unconfirmed YY MM DD) and docs/fn-documents.md's
TLV rules, never produced by firmware_sim.
"""

from __future__ import annotations

from pathlib import Path

from simwire import CASHIER, NOW, SYSADMIN, Register, config, ff45_body, ff46_body, pw, u

from firmware_sim.device import Device
from firmware_sim.store import StateStore

H = bytes.fromhex
AT_12_00_00 = H("f4 03 04 00 c0 87 01 6b")  # 1012: 2026-11-21 12:00:00 MSK wall clock
FN_SERIAL_TLV = H("11 04 10 00") + b"9999078900012345"
SHIFT_1 = H("0e 04 04 00 01 00 00 00")


def read_back(reg: Register, fd: int) -> tuple[bytes, list[bytes]]:
    """FF3A(fd) data, then the data of every FF3B until FN 0x08."""
    head = reg.ok(0xFF3A, pw(SYSADMIN) + u(fd, 4))
    parts: list[bytes] = []
    while True:
        error, data = reg.call(0xFF3B, pw(SYSADMIN))
        if error:
            assert error == 0x08
            return head, parts
        parts.append(data)


def test_open_drawer_answers_the_operator_and_makes_no_document() -> None:
    """0x28 with drawer 0 and 1: ``28 00 op``; the FN's last FD does not move."""
    reg = Register()
    reg.open_shift()
    before = reg.last_fd()
    assert reg.ok(0x28, pw(CASHIER) + bytes([0])) == bytes([CASHIER])
    assert reg.ok(0x28, pw(SYSADMIN) + bytes([1])) == bytes([SYSADMIN])
    assert reg.last_fd() == before
    assert reg.device.summary(reg.now)["drawer_openings"] == 2


def test_open_drawer_refusals() -> None:
    """A third drawer, a short body, a wrong password: refused, nothing opened."""
    reg = Register()
    assert reg.err(0x28, pw(CASHIER) + bytes([2])) == 0x33
    assert reg.err(0x28, pw(CASHIER)) == 0x33
    assert reg.err(0x28, pw(99) + bytes([0])) == 0x4F
    assert reg.device.summary(reg.now)["drawer_openings"] == 0


def test_state_report_is_an_fd_of_type_21_with_the_ofd_backlog() -> None:
    """Registration acked, open shift unsent: FF38 takes FD 3, counts 1 unsent from 2026-11-21."""
    reg = Register()
    reg.open_shift()
    data = reg.ok(0xFF38, pw(SYSADMIN))
    assert len(data) == 15
    assert data[:4] == u(3, 4)
    fp = int.from_bytes(data[4:8], "little")
    assert data[8:] == u(1, 4) + H("1a 0b 15")  # 1 unsent; YY MM DD = 26-11-21
    assert reg.last_fd() == 3
    found = reg.ok(0xFF0A, pw(SYSADMIN) + u(3, 4))
    assert found[0] == 21  # FD type 21: отчёт о текущем состоянии расчётов
    assert found[7:11] == u(3, 4)
    assert int.from_bytes(found[11:15], "little") == fp
    assert len(found) == 15  # no sign or shift after the header
    head, parts = read_back(reg, 3)
    expected = [
        AT_12_00_00,
        H("10 04 04 00 03 00 00 00"),
        FN_SERIAL_TLV,
        H("35 04 06 00 00 00") + fp.to_bytes(4, "big"),
        SHIFT_1,
        H("49 04 04 00 01 00 00 00"),  # 1097: 1 unsent
        H("4a 04 04 00") + AT_12_00_00[4:],  # 1098: the open-shift FD's time
        H("5c 04 04 00 02 00 00 00"),  # 1116: FD 2
    ]
    assert parts == expected
    assert head == H("15 00") + u(sum(map(len, expected)), 2)


def test_state_report_with_nothing_unsent_has_a_zero_date_and_only_1097() -> None:
    """Everything acked: count 0, date 00 00 00, and the TLV carries 1097 = 0 alone."""
    reg = Register()
    reg.open_shift()
    reg.device.ofd_ack()
    data = reg.ok(0xFF38, pw(SYSADMIN))
    assert data[8:] == u(0, 4) + bytes(3)
    _, parts = read_back(reg, 3)
    assert parts[-1] == H("49 04 04 00 00 00 00 00")
    assert parts[-2] == SHIFT_1


def test_state_report_refusals() -> None:
    """Refused with a receipt open (0x4A) and with a cashier's password (0x4F): no FD."""
    reg = Register()
    reg.open_shift()
    reg.ok(0xFF46, ff46_body())
    assert reg.err(0xFF38, pw(SYSADMIN)) == 0x4A
    reg.ok(0xFF45, ff45_body({1: 10000}))
    assert reg.err(0xFF38, pw(CASHIER)) == 0x4F
    assert reg.last_fd() == 3


def test_state_report_reads_back_the_same_after_a_restart(tmp_path: Path) -> None:
    """The report's backlog is durable: a restored register reads the same TLV."""
    reg = Register()
    reg.open_shift()
    reg.ok(0xFF38, pw(SYSADMIN))
    first = read_back(reg, 3)
    store = StateStore(tmp_path / "fn.db")
    store.save(reg.device.state)
    store.close()
    loaded = StateStore(tmp_path / "fn.db").load()
    assert loaded is not None
    again = Register(device=Device(config=config(), state=loaded), now=NOW)
    assert read_back(again, 3) == first
