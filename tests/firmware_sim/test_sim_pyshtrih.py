"""An independent driver, pyshtrih 2.0.6, drives the simulator over a pty and over TCP.

pyshtrih was written for real ШТРИХ-М registers; it shares no code with this project.
Reference: docs/shtrih-wire-notes.md §3.2 (collections shim), §3.4 (socket:// swap), §3.6.
"""

from __future__ import annotations

import collections
import collections.abc
import json
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from simwire import LineReader

# pyshtrih's dependency unilog still uses collections.Mapping (removed in 3.10), §3.2.
collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]
collections.Iterable = collections.abc.Iterable  # type: ignore[attr-defined]

import pyshtrih  # noqa: E402
import serial  # noqa: E402

pytestmark = pytest.mark.sim

SCRIPT = Path(sys.executable).with_name("firmware-sim")
START_TIMEOUT_S = 10.0


class Served:
    """A simulator process and the URLs it printed."""

    def __init__(self, *args: str) -> None:
        command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "firmware_sim"]
        self.proc = subprocess.Popen(
            [*command, "serve", *args, "--control", "127.0.0.1:0", "--log-level", "warning"],
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        self._lines = LineReader(self.proc.stdout.fileno())
        self.port = self._line()
        self.control = self._line().split(" ", 1)[1]

    def _line(self) -> str:
        return self._lines.line(START_TIMEOUT_S).strip()

    def post(self, path: str) -> dict[str, Any]:
        """POST to the control API."""
        request = urllib.request.Request(self.control + path, data=b"{}", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310
            return dict(json.load(resp))

    def close(self) -> None:
        """SIGTERM and reap."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=START_TIMEOUT_S)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()


def _device(port: str) -> Any:
    device = pyshtrih.ShtrihM01F(port=port, baudrate=115200)
    if port.startswith("socket://"):  # §3.4: pyshtrih only opens device paths by itself
        device.protocol.serial = serial.serial_for_url(
            port, do_not_open=True, timeout=3, write_timeout=3
        )
    return device


@pytest.fixture(params=["pty", "tcp"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    """The simulator on a pty, then on TCP."""
    where = ["--pty"] if request.param == "pty" else ["--tcp", "127.0.0.1:0"]
    sim = Served(*where, *getattr(request, "param_args", []))
    yield sim
    sim.close()


@pytest.fixture
def dev(served: Served) -> Iterator[Any]:
    """A connected pyshtrih ShtrihM01F."""
    device = _device(served.port)
    device.connect()
    yield device
    device.disconnect()


@pytest.mark.timeout(30)
def test_pyshtrih_minimal_session(dev: Any) -> None:
    """connect, state, open shift, cash sale with change, register 241, X and Z reports."""
    assert dev.name == "ШТРИХ-М-01Ф"
    state = dev.state()
    assert state["Режим ФР"].num == 4
    assert state["Подрежим ФР"].state == 0
    str(state)  # printable with the §3.2 shim
    dev.open_shift()
    assert dev.state()["Режим ФР"].num == 2
    dev.open_check(0)
    dev.sale(("Игровое время 1 ч", 1000, 10000), tax1=1)
    assert dev.state()["Режим ФР"].num == 8
    # pyshtrih swaps the operation-count bytes 6 (low) and 11 (high) of §2.2: 1 reads as 256.
    assert dev.state()["Количество операций в чеке"] == 256
    assert dev.close_check(15000)["Сдача"] == 5000
    assert dev.request_monetary_register(241)["Содержимое регистра"] == 10000
    assert dev.request_monetary_register(193)["Содержимое регистра"] == 10000
    assert dev.request_operational_register(144)["Содержимое регистра"] == 1
    dev.x_report()
    dev.z_report()
    assert dev.state()["Режим ФР"].num == 4
    assert dev.request_monetary_register(241)["Содержимое регистра"] == 10000
    assert dev.request_monetary_register(193)["Содержимое регистра"] == 0


@pytest.mark.timeout(30)
def test_pyshtrih_full_status_and_fn_queries(dev: Any) -> None:
    """0x11 decodes (valid dates), FN status, expiry, OFD exchange, FD lookup."""
    full = dev.full_state()
    assert full["Заводской номер"] == 12345678
    dev.open_shift()
    dev.sale(("Кофе", 2000, 15000), tax1=2)
    dev.close_check(30000)
    fn = dev.fs_state()
    assert fn["Номер последнего ФД"] == 3
    assert fn["Состояние смены"] == "смена открыта"
    assert fn["Номер ФН"] == b"9999078900012345"
    assert dev.fs_expiration_time()["Срок действия"].year >= 2026
    assert dev.fs_info_exchange()["Количество сообщений для ОФД"] == 2
    assert dev.fs_unconfirmed_document_count()["Количество неподтверждённых ФД"] == 2
    assert dev.fs_shift_params()["Номер чека"] == 1
    found = dev.fs_find_document_by_num(3)
    assert found["Тип фискального документа"] == 3
    assert int.from_bytes(found["Данные фискального документа"][14:19], "little") == 30000


@pytest.mark.timeout(30)
def test_pyshtrih_errors_are_the_registers(dev: Any) -> None:
    """A sale in a closed shift raises ItemSaleError 0x3D; short payment CloseCheckError 0x45."""
    with pytest.raises(pyshtrih.Error) as closed:
        dev.sale(("Товар", 1000, 100))
    assert closed.value.code == 0x3D
    dev.open_shift()
    dev.sale(("Товар", 1000, 10000))
    with pytest.raises(pyshtrih.Error) as short:
        dev.close_check(5000)
    assert short.value.code == 0x45
    dev.cancel_check()
    assert dev.state()["Режим ФР"].num == 2


@pytest.mark.timeout(30)
def test_pyshtrih_refund_cash_in_out(dev: Any) -> None:
    """Sale return, cash in and cash out move the drawer (241) as on hardware."""
    dev.open_shift()
    dev.income(20000)
    dev.open_check(2)
    dev.return_sale(("Возврат", 1000, 5000))
    dev.close_check(5000)
    dev.outcome(1000)
    assert dev.request_monetary_register(241)["Содержимое регистра"] == 14000
    assert dev.request_monetary_register(195)["Содержимое регистра"] == 5000
    with pytest.raises(pyshtrih.Error) as too_much:
        dev.outcome(100000)
    assert too_much.value.code == 0x46


@pytest.mark.timeout(30)
def test_pyshtrih_waits_out_paper_out(served: Served, dev: Any) -> None:
    """With the paper out, pyshtrih's X report waits (submode 1) until paper is back."""
    dev.open_shift()
    served.post("/paper/out")
    assert dev.state()["Подрежим ФР"].state == 1
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(dev.x_report()), daemon=True)
    worker.start()
    worker.join(0.3)
    assert worker.is_alive()  # wait_printing() polls 0x10 while submode is 1
    served.post("/paper/back")
    worker.join(10)
    assert not worker.is_alive()
    assert outcome[0]["Код ошибки"] == 0  # type: ignore[index]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("where", ["--pty", "--tcp"])
def test_pyshtrih_waits_for_printing(where: str) -> None:
    """With --print-ms, pyshtrih's wait_printing sees submode 5 and then 0."""
    args = ["--pty"] if where == "--pty" else ["--tcp", "127.0.0.1:0"]
    sim = Served(*args, "--print-ms", "300")
    try:
        device = _device(sim.port)
        device.connect()
        device.open_shift()
        assert device.state()["Подрежим ФР"].state == 5
        device.x_report()  # wait_printing() first, then the report
        device.z_report()
        assert device.state()["Режим ФР"].num == 4
        device.disconnect()
    finally:
        sim.close()


@pytest.mark.timeout(30)
def test_pyshtrih_tax_registers_hold_the_vat(dev: Any) -> None:
    """A mix of sales and a refund printed by pyshtrih: 0x1A 209…240 hold turnover and VAT."""
    dev.open_shift()
    dev.open_check(0)
    dev.sale(("Кофе", 1000, 15000), tax1=1)  # row 1, НДС 22%
    dev.sale(("Чай", 2000, 5000), tax1=1)  # 2 x 50.00, row 1
    dev.sale(("Вода", 1500, 3333), tax1=2)  # 1.5 x 33.33 = 50.00, row 2, НДС 10%
    dev.sale(("Хлеб", 1000, 4000), tax1=3)  # row 3, НДС 0%
    assert dev.close_check(40000)["Сдача"] == 6000
    dev.open_check(2)
    dev.return_sale(("Кофе", 1000, 15000), tax1=1)
    dev.close_check(15000)

    def register(number: int) -> int:
        return int(dev.request_monetary_register(number)["Содержимое регистра"])

    expected = {
        209: 25000,  # row 1 turnover, sales
        225: 4508,  # 25000 * 2200 / 12200 = 4508.2
        213: 5000,  # row 2 turnover, sales
        229: 455,  # 5000 * 1000 / 11000 = 454.5, half up
        217: 4000,  # row 3 turnover, sales
        233: 0,  # 0 %
        211: 15000,  # row 1 turnover, sale returns
        227: 2705,  # 15000 * 2200 / 12200 = 2705.4
    }
    assert {number: register(number) for number in expected} == expected
    dev.z_report()
    assert {number: register(number) for number in expected} == dict.fromkeys(expected, 0)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("where", ["--pty", "--tcp"])
def test_pyshtrih_reads_and_writes_the_tax_tables(where: str) -> None:
    """--tax-mode 1 shows in table 1 field 14; pyshtrih writes it back and reads table 6."""
    args = ["--pty"] if where == "--pty" else ["--tcp", "127.0.0.1:0"]
    sim = Served(*args, "--tax-mode", "1")
    try:
        device = _device(sim.port)
        device.connect()
        assert device.read_table(1, 1, 14, int)["Значение"] == 1
        device.write_table(1, 1, 14, 0, int)
        assert device.read_table(1, 1, 14, int)["Значение"] == 0
        assert device.read_table(6, 1, 1, int)["Значение"] == 2200
        assert device.read_table(6, 5, 1, int)["Значение"] == 2200
        assert device.read_table(6, 6, 1, int)["Значение"] == 1000
        assert device.read_table(6, 1, 2, str)["Значение"] == "НДС 22%"
        device.write_table(6, 1, 1, 2000, int)
        device.write_table(6, 1, 2, "НДС 20%", str)
        assert device.read_table(6, 1, 1, int)["Значение"] == 2000
        assert device.read_table(6, 1, 2, str)["Значение"] == "НДС 20%"
        with pytest.raises(pyshtrih.Error) as no_table:
            device.read_table(2, 1, 1, int)
        assert no_table.value.code == 0x5D
        device.disconnect()
    finally:
        sim.close()


def _tlv(tag: int, value: bytes) -> bytes:
    return tag.to_bytes(2, "little") + len(value).to_bytes(2, "little") + value


@pytest.mark.timeout(30)
def test_pyshtrih_begins_a_correction_and_finds_it_as_fd_type_31(dev: Any) -> None:
    """pyshtrih's FF35 opens a correction, its FF0C carries 1173/1174, FF0A says type 31.

    pyshtrih has no FF46/FF45: the line and the close go by its classic 0x80/0x85 here (the
    agent uses FF46/FF45). Its FF36 (the FFD 1.05 correction by sum alone) is not simulated.
    """
    dev.open_shift()
    dev.fs_begin_correction_check()
    assert dev.state()["Режим ФР"].num == 8
    dev.sale(("Кофе", 1000, 15000), tax1=1)
    basis = _tlv(1178, (1763596800).to_bytes(4, "little"))  # 2025-11-20 00:00 as UTC
    mark = _tlv(1084, _tlv(1085, b"CRM ID") + _tlv(1086, b"late-1"))
    dev.send_tlv_struct(_tlv(1173, b"\x00") + _tlv(1174, basis) + mark)
    dev.close_check(15000)
    fd = dev.fs_state()["Номер последнего ФД"]
    found = dev.fs_find_document_by_num(fd)
    assert found["Тип фискального документа"] == 31
    assert int.from_bytes(found["Данные фискального документа"][14:19], "little") == 15000
    with pytest.raises(pyshtrih.Error) as ff36:
        dev.fs_correction_check(15000, 1)
    assert ff36.value.code == 0x01  # FN: unknown command


@pytest.mark.timeout(30)
def test_pyshtrih_opens_the_drawer_and_makes_the_state_report(dev: Any) -> None:
    """open_drawer (0x28) and fs_calculation_state_report (FF38), as pyshtrih decodes them."""
    dev.open_shift()
    assert dev.open_drawer(0)["Код ошибки"] == 0
    assert dev.fs_state()["Номер последнего ФД"] == 2  # the drawer made no document
    report = dev.fs_calculation_state_report()
    assert report["Номер ФД"] == 3
    assert report["Количество неподтверждённых документов"] == 1  # the open-shift FD
    # the open-shift FD's date: today on the register's clock
    assert report["Дата первого неподтверждённого документа"] == dev.full_state()["Дата"]
    assert dev.fs_find_document_by_num(3)["Тип фискального документа"] == 21
