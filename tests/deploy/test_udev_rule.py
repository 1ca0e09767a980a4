"""deploy/udev/99-fiscal-register.rules: well-formed udev rules naming the register's port.

udev's own checker (`udevadm verify`) came with systemd 253; this machine may have an older
udev or none, so the rules are parsed here with udev's grammar (udev(7)): comma-separated
``KEY[{attr}] OP "value"``, match keys with == and !=, assignment keys with =, += and :=.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.scratch_root import REPO

RULES = REPO / "deploy/udev/99-fiscal-register.rules"

MATCH_KEYS = {"ACTION", "SUBSYSTEM", "KERNEL", "ATTRS", "ENV", "SUBSYSTEMS"}
ASSIGN_KEYS = {"SYMLINK", "GROUP", "MODE", "ENV", "GOTO", "LABEL"}
PAIR = re.compile(
    r'\s*(?P<key>[A-Z_]+)(?:\{(?P<attr>[A-Za-z0-9_]+)\})?\s*(?P<op>==|!=|\+=|:=|=)\s*"(?P<value>[^"]*)"\s*'
)


def _rules(path: Path = RULES) -> list[list[tuple[str, str | None, str, str]]]:
    """Each rule line as its (key, attr, op, value) pairs; comments and blank lines skipped."""
    rules = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pairs = []
        for part in line.split(","):
            match = PAIR.fullmatch(part)
            assert match, f"line {number}: cannot parse {part!r}"
            pairs.append((match["key"], match["attr"], match["op"], match["value"]))
        rules.append(pairs)
    return rules


def test_rules_parse_with_match_and_assign_operators_in_their_place() -> None:
    """Every pair parses; == and != only on match keys, =, += and := only on assign keys."""
    rules = _rules()
    assert rules
    for rule in rules:
        for key, _, op, _ in rule:
            if op in {"==", "!="}:
                assert key in MATCH_KEYS, (key, op)
            else:
                assert key in ASSIGN_KEYS, (key, op)


def test_every_goto_has_its_label() -> None:
    """A GOTO to a missing label would skip every later rule file: each one has its LABEL."""
    pairs = [pair for rule in _rules() for pair in rule]
    gotos = {value for key, _, _, value in pairs if key == "GOTO"}
    labels = {value for key, _, _, value in pairs if key == "LABEL"}
    assert gotos
    assert gotos <= labels


def test_usb_ids_are_four_lower_case_hex_digits() -> None:
    """udev compares ATTRS{idVendor}/{idProduct} as strings: lower-case hex, four digits."""
    ids = [
        value
        for rule in _rules()
        for key, attr, _, value in rule
        if key == "ATTRS" and attr in {"idVendor", "idProduct"}
    ]
    assert ids
    assert all(re.fullmatch(r"[0-9a-f]{4}", value) for value in ids), ids


def test_the_register_gets_its_stable_name_dialout_and_no_modemmanager() -> None:
    """One rule names it /dev/fiscal-register, gives it to dialout and keeps ModemManager off."""
    naming = [rule for rule in _rules() if ("SYMLINK", None, "+=", "fiscal-register") in rule]
    assert len(naming) == 1
    rule = naming[0]
    assert ("GROUP", None, "=", "dialout") in rule
    assert ("ENV", "ID_MM_DEVICE_IGNORE", "=", "1") in rule
    assert rule[0][2] == "=="  # it matches before it assigns
    assert "udevadm info" in RULES.read_text()  # how to find one's own ids


@pytest.mark.skipif(shutil.which("udevadm") is None, reason="udevadm is not installed")
def test_udevadm_verify_accepts_the_rules() -> None:
    """Where udevadm has `verify` (systemd 253+), it accepts the file too."""
    udevadm = shutil.which("udevadm")
    assert udevadm is not None
    if (
        "verify"
        not in subprocess.run(
            [udevadm, "--help"], capture_output=True, text=True, check=False
        ).stdout
    ):
        pytest.skip("this udevadm has no verify command (systemd < 253)")
    result = subprocess.run(
        [udevadm, "verify", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
