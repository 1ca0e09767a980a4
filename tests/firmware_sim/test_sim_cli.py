"""firmware-sim CLI: argument checks and the tape command, in-process."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from simwire import Register, config, ff45_body, ff46_body, pw, u

from firmware_sim.cli import _tax_table, _tz, main
from firmware_sim.device import Device
from firmware_sim.store import StateStore


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["serve"], id="no-transport"),
        pytest.param(["serve", "--pty", "--tcp", "127.0.0.1:1"], id="both-transports"),
        pytest.param(["serve", "--tcp", "127.0.0.1:http"], id="bad-port"),
        pytest.param(["serve", "--pty", "--control", "7000"], id="control-without-host"),
        pytest.param(["serve", "--pty", "--tz", "Mars/Olympus"], id="bad-tz"),
        pytest.param(["serve", "--pty", "--fn-valid-until", "soon"], id="bad-date"),
    ],
)
def test_cli_bad_arguments_exit_2(argv: list[str]) -> None:
    """Bad arguments stop argparse with exit code 2 before anything is served."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["serve", "--pty", "--shift-age", "-5"], id="negative-shift-age"),
        pytest.param(["serve", "--pty", "--fn-serial", "123"], id="short-fn-serial"),
        pytest.param(["serve", "--pty", "--inn", "12"], id="short-inn"),
    ],
)
def test_cli_bad_values_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Values the register cannot take return 2 with a message on stderr, nothing on stdout."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("firmware-sim: ")


def test_cli_tz_forms() -> None:
    """--tz takes an offset or an IANA name."""
    assert _tz("+05:00").utcoffset(None) == timedelta(hours=5)
    assert _tz("Europe/Moscow").utcoffset(datetime(2026, 1, 1)) == timedelta(hours=3)  # noqa: DTZ001


def test_cli_tax_table_file(tmp_path: Path) -> None:
    """--tax-table rows become table indexes 1, 2, ... in file order."""
    path = tmp_path / "taxes.json"
    path.write_text(
        json.dumps([{"code": "vat20", "name": "НДС 20%"}, {"code": "none", "name": "без НДС"}])
    )
    table = _tax_table(str(path))
    assert [(row.index, row.code) for row in table] == [(1, "vat20"), (2, "none")]
    reg = Register(device=Device(config=config(tax_rates=table)))
    reg.open_shift()
    assert reg.err(0xFF46, ff46_body(tax_index=3)) == 0x33
    reg.ok(0xFF46, ff46_body(tax_index=2))


def test_cli_tape_prints_fds_and_all_adds_cash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """tape: one JSON line per FD in order; --all merges cash moves by time."""
    reg = Register()
    reg.open_shift()
    reg.ok(0x50, pw() + u(1000, 5))
    reg.tick(1)
    reg.ok(0xFF46, ff46_body(price=2500))
    reg.ok(0xFF45, ff45_body({14: 2500}))
    store = StateStore(tmp_path / "fn.db")
    store.save(reg.device.state)
    store.close()
    assert main(["tape", "--state", str(tmp_path / "fn.db")]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["fd"] for line in lines] == [1, 2, 3]
    assert lines[2]["payments"]["prepaid"] == "25.00"
    assert main(["tape", "--state", str(tmp_path / "fn.db"), "--all"]) == 0
    types = [json.loads(line)["type"] for line in capsys.readouterr().out.splitlines()]
    assert types == ["registration", "open_shift", "cash_in", "receipt"]


def test_cli_tape_missing_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """tape on a file that does not exist returns 2 and says so."""
    assert main(["tape", "--state", str(tmp_path / "nope.db")]) == 2
    assert "no state file" in capsys.readouterr().err
