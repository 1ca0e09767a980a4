"""Device: status, identity, FN queries, registers, passwords and malformed requests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from simwire import ADMIN, CASHIER, FN_SERIAL, SYSADMIN, Register, pw, sale_body, u

from firmware_sim.state import MSK


def test_short_status_layout_shift_closed() -> None:
    """0x10: op = password, flags 0x0292, mode 4 with the shift closed, submode 0."""
    reg = Register()
    data = reg.ok(0x10, pw(7))
    assert len(data) == 14  # LEN 16 = command + error + 14 (§2.2)
    assert data[0] == 7
    assert int.from_bytes(data[1:3], "little") == 0x0292
    assert data[3] == 4
    assert data[4] == 0


def test_short_status_counts_operations_in_receipt() -> None:
    """0x10 bytes 6 and 11 count the lines of the open receipt, mode 0x08 for a sale."""
    reg = Register()
    reg.open_shift()
    reg.ok(0x80, sale_body())
    reg.ok(0x80, sale_body())
    data = reg.status()
    assert data[3] == 0x08
    assert data[5] + (data[10] << 8) == 2


def test_short_status_return_receipt_mode_status() -> None:
    """A sale-return receipt shows mode byte 0x28 (§2.4)."""
    reg = Register()
    reg.open_shift()
    reg.ok(0x8D, pw() + b"\x02")
    assert reg.mode() == 0x28


def test_short_status_paper_out_clears_bits_1_and_7() -> None:
    """Without paper, flags lose bits 1 and 7 and the submode is 1."""
    reg = Register()
    reg.device.set_paper(False)
    data = reg.status()
    assert int.from_bytes(data[1:3], "little") == 0x0292 & ~0x0082
    assert data[4] == 1


def test_full_status_dates_are_valid_and_clock_is_register_clock() -> None:
    """0x11: valid firmware dates, the register clock in bytes 24-29, serial, INN LE."""
    reg = Register()
    reg.device.advance_clock(3600)
    data = reg.ok(0x11, pw(CASHIER))
    assert len(data) == 46  # 48-byte frame: command + error + 46
    date(2000 + data[7], data[6], data[5])  # firmware date DD MM YY
    date(2000 + data[22], data[21], data[20])  # FP firmware date
    clock = reg.now.astimezone(MSK) + timedelta(hours=1)
    assert data[23:26] == bytes([clock.day, clock.month, clock.year % 100])
    assert data[26:29] == bytes([clock.hour, clock.minute, clock.second])
    assert int.from_bytes(data[30:34], "little") == 12345678
    assert int.from_bytes(data[40:46], "little") == 7700000000


def test_full_status_last_closed_shift_number() -> None:
    """0x11 bytes 35-36: the last closed shift, not the open one."""
    reg = Register()
    reg.open_shift()
    reg.ok(0x41, pw(SYSADMIN))
    reg.open_shift()
    data = reg.ok(0x11, pw(CASHIER))
    assert int.from_bytes(data[34:36], "little") == 1
    reg.ok(0x41, pw(SYSADMIN))
    data = reg.ok(0x11, pw(CASHIER))
    assert int.from_bytes(data[34:36], "little") == 2


def test_device_type_name_cp1251() -> None:
    """0xFC takes no password and ends with the model name in cp1251."""
    reg = Register()
    data = reg.ok(0xFC)
    assert data[6:].decode("cp1251") == "ШТРИХ-М-01Ф"
    assert reg.err(0xFC, b"\x00") == 0x33


def test_unknown_command_is_0x37() -> None:
    """A command the register lacks answers 0x37 and echoes the code."""
    assert Register().err(0x99, pw()) == 0x37


def test_unknown_fn_command_is_fn_0x01() -> None:
    """An unknown FF xx answers FF xx 01."""
    assert Register().err(0xFF7E, pw(SYSADMIN)) == 0x01


def test_lone_ff_byte_gets_fn_format_error() -> None:
    """A payload of just FF (no second code byte) answers FF 00 01, never a crash."""
    assert Register().send(b"\xff") == b"\xff\x00\x01"


@pytest.mark.parametrize(
    ("cmd", "body", "code"),
    [
        pytest.param(0x10, pw()[:3], 0x33, id="status-short-password"),
        pytest.param(0x10, pw() + b"\x00", 0x33, id="status-trailing-byte"),
        pytest.param(0x1A, pw() + b"\x01\x02\x03", 0x33, id="money-register-3-bytes"),
        pytest.param(0x80, sale_body(width=39), 0x33, id="sale-text-under-40"),
        pytest.param(0x8D, pw(), 0x33, id="open-receipt-no-type"),
        pytest.param(0xFF01, pw(SYSADMIN) + b"\x00", 0x09, id="fn-status-trailing"),
        pytest.param(0xFF0A, pw(SYSADMIN) + b"\x01", 0x09, id="find-fd-short"),
        pytest.param(0xFF46, pw(SYSADMIN) + b"\x01\x02", 0x09, id="ff46-short"),
    ],
)
def test_malformed_bodies_get_length_errors(cmd: int, body: bytes, code: int) -> None:
    """Wrong lengths answer 0x33, or FN 0x09 for FF commands."""
    reg = Register()
    reg.open_shift()
    assert reg.err(cmd, body) == code


@pytest.mark.parametrize("password", [0, 31, 0xFFFFFFFF])
def test_wrong_password_is_0x4f(password: int) -> None:
    """Passwords outside 1..30 answer 0x4F."""
    assert Register().err(0x10, pw(password)) == 0x4F


@pytest.mark.parametrize(("cmd", "password"), [(0x40, CASHIER), (0x41, 28), (0xFF01, ADMIN)])
def test_role_checks(cmd: int, password: int) -> None:
    """X/Z need 29 or 30; FF commands need 30."""
    reg = Register()
    reg.open_shift()
    assert reg.err(cmd, pw(password)) == 0x4F


def test_admin_password_29_may_run_x_report() -> None:
    """The administrator (29) runs an X report; the answer carries operator 29."""
    assert Register().ok(0x40, pw(ADMIN)) == bytes([ADMIN])


def test_ff46_accepts_cashier_password() -> None:
    """FF46 takes any valid operator password."""
    reg = Register()
    reg.open_shift()
    reg.ok(
        0xFF46,
        pw(CASHIER) + bytes([1]) + u(1_000_000, 6) + u(100, 5) + b"\xff" * 10 + bytes([4, 1, 4, 4]),
    )


def test_fn_status_layout() -> None:
    """FF01: phase 3, current doc 0, shift state, clock YY MM DD HH MM, serial, last FD."""
    reg = Register()
    reg.open_shift()
    data = reg.ok(0xFF01, pw(SYSADMIN))
    assert len(data) == 30
    assert data[0] == 3
    assert data[1:4] == bytes([0, 0, 1])
    clock = reg.now.astimezone(MSK)
    assert data[5:10] == bytes([clock.year % 100, clock.month, clock.day, clock.hour, clock.minute])
    assert data[10:26] == FN_SERIAL.encode("ascii")
    assert int.from_bytes(data[26:30], "little") == 2  # registration FD 1, open shift FD 2


def test_fn_status_warnings_by_days_left() -> None:
    """FF01 warning bits: 0x02 within 30 days of expiry, 0x01 as well within 3 days."""
    reg = Register.with_state(Register().device.state, fn_valid_until=date(2026, 12, 10))
    assert reg.ok(0xFF01, pw(SYSADMIN))[4] == 0x02
    reg.device.advance_clock(17 * 86400)
    assert reg.ok(0xFF01, pw(SYSADMIN))[4] == 0x03


def test_fn_expiry_date() -> None:
    """FF03 answers YY MM DD of the FN expiry plus two re-registration counts."""
    data = Register().ok(0xFF03, pw(SYSADMIN))
    assert data == bytes([29, 1, 31, 11, 1])


def test_fn_find_document_receipt_and_shift_tails() -> None:
    """FF0A: type 3 receipt with sign and total; type 2 open shift with its number."""
    reg = Register()
    reg.open_shift()
    reg.sell(price=15000)
    receipt = reg.ok(0xFF0A, pw(SYSADMIN) + u(3, 4))
    assert receipt[0] == 3
    assert receipt[1] == 0  # no OFD ticket yet
    assert int.from_bytes(receipt[7:11], "little") == 3
    fp = int.from_bytes(receipt[11:15], "little")
    assert fp == reg.device.state.documents[2].fp
    assert receipt[15] == 1
    assert int.from_bytes(receipt[16:21], "little") == 15000
    shift = reg.ok(0xFF0A, pw(SYSADMIN) + u(2, 4))
    assert shift[0] == 2
    assert int.from_bytes(shift[15:17], "little") == 1


def test_fn_find_unknown_document_is_fn_0x08() -> None:
    """FF0A for an FD that does not exist answers FN 0x08."""
    assert Register().err(0xFF0A, pw(SYSADMIN) + u(99, 4)) == 0x08


def test_fn_unsent_documents_until_ofd_ack() -> None:
    """FF39/FF3F count every FD after registration as unsent until the OFD acks it."""
    reg = Register()
    reg.open_shift()
    reg.sell()
    status = reg.ok(0xFF39, pw(SYSADMIN))
    assert int.from_bytes(status[2:4], "little") == 2
    assert int.from_bytes(status[4:8], "little") == 2
    assert int.from_bytes(reg.ok(0xFF3F, pw(SYSADMIN)), "little") == 2
    assert reg.device.ofd_ack(2) == 2
    assert int.from_bytes(reg.ok(0xFF3F, pw(SYSADMIN)), "little") == 1
    reg.device.ofd_ack()
    status = reg.ok(0xFF39, pw(SYSADMIN))
    assert status == bytes([0, 0]) + bytes(11)
    assert reg.ok(0xFF0A, pw(SYSADMIN) + u(3, 4))[1] == 1


def test_fn_shift_params() -> None:
    """FF40: shift state, number and receipts issued in the shift."""
    reg = Register()
    assert reg.ok(0xFF40, pw(SYSADMIN)) == bytes([0, 0, 0, 0, 0])
    reg.open_shift()
    reg.sell()
    reg.sell()
    assert reg.ok(0xFF40, pw(SYSADMIN)) == bytes([1, 1, 0, 2, 0])


def test_money_register_one_and_two_byte_numbers() -> None:
    """0x1A answers op + 6-byte value for 1-byte and 2-byte (K-register) numbers."""
    reg = Register()
    reg.open_shift()
    reg.sell(price=10000, cash=15000)
    data = reg.ok(0x1A, pw(CASHIER) + u(241, 1))
    assert data == bytes([CASHIER]) + u(10000, 6)
    data = reg.ok(0x1A, pw(CASHIER) + u(241, 2))
    assert data == bytes([CASHIER]) + u(10000, 6)
    assert reg.err(0x1A, pw(CASHIER) + u(5000, 2)) == 0x33


def test_operating_register_answer() -> None:
    """0x1B answers op + 2-byte value."""
    reg = Register()
    reg.open_shift()
    reg.sell()
    assert reg.ok(0x1B, pw(CASHIER) + u(144, 1)) == bytes([CASHIER]) + u(1, 2)


def test_clock_offset_moves_register_clock_only() -> None:
    """advance_clock moves the FN time; the host time passed in is unchanged."""
    reg = Register()
    reg.device.advance_clock(86400 * 2)
    data = reg.ok(0xFF01, pw(SYSADMIN))
    clock = reg.now.astimezone(MSK) + timedelta(days=2)
    assert data[5:8] == bytes([clock.year % 100, clock.month, clock.day])
    assert reg.device.state.clock_offset_s == 172800


def test_naive_now_is_a_programmer_error() -> None:
    """handle() refuses a naive datetime: host and register clocks must be explicit."""
    with pytest.raises(ValueError, match="aware"):
        Register().device.handle(b"\x10" + pw(), datetime(2026, 1, 1))  # noqa: DTZ001
