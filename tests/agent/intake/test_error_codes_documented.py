"""Every public error code the agent can emit is listed in docs/errors.md."""

from __future__ import annotations

import re
from pathlib import Path

from agent.drivers.errors import DriverError
from agent.fiscal.errors import FiscalError
from agent.intake.errors import IntakeError
from agent.outbox.store import OutboxError
from mqtt_link.errors import MqttError

REPO = Path(__file__).resolve().parents[3]
DOC = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")
DOCUMENTED = set(re.findall(r"`([a-z0-9_]+)`", DOC))


def _classes(base: type[Exception]) -> list[type[Exception]]:
    found: list[type[Exception]] = [base]
    for sub in base.__subclasses__():
        found.extend(_classes(sub))
    return found


def _class_codes() -> set[str]:
    codes: set[str] = set()
    for base in (DriverError, FiscalError, IntakeError, MqttError, OutboxError):
        for cls in _classes(base):
            code = cls.__dict__.get("public_code")
            if isinstance(code, str):
                codes.add(code)
    # Bases nobody raises as such; a bare DeviceError reports register_error_0xNN.
    return codes - {"driver_error", "fiscal_error", "mqtt_error", "outbox_error", "register_error"}


def _literal_codes() -> set[str]:
    """Codes written as literals where they are raised (rules, settlement, worker, HTTP)."""
    sources = [
        REPO / "agent" / "domain" / "rules.py",
        REPO / "agent" / "intake" / "intake.py",
        REPO / "agent" / "outbox" / "worker.py",
        REPO / "agent" / "outbox" / "store.py",
        REPO / "agent" / "adapters" / "http" / "routes.py",
    ]
    pattern = re.compile(
        r'(?:ReceiptRuleError|SettlementRefused|_HttpError|ErrorBody\.of)\(\s*(?:HTTPStatus\.\w+,\s*)?"([a-z0-9_]+)"'
        r'|code="([a-z0-9_]+)"'
        r'|error_code="([a-z0-9_]+)"'
    )
    codes: set[str] = set()
    for source in sources:
        for match in pattern.finditer(source.read_text(encoding="utf-8")):
            codes.add(next(group for group in match.groups() if group))
    return codes


def test_errors_every_class_code_is_documented() -> None:
    """Each error class's public code has a row in docs/errors.md."""
    missing = _class_codes() - DOCUMENTED
    assert not missing, f"add to docs/errors.md: {sorted(missing)}"


def test_errors_every_literal_code_is_documented() -> None:
    """Each code raised as a literal (fiscal rules, settlement, HTTP) is documented too."""
    codes = _literal_codes()
    assert {"payments_below_total", "fd_not_found", "retries_exhausted", "invalid_json"} <= codes
    missing = codes - DOCUMENTED
    assert not missing, f"add to docs/errors.md: {sorted(missing)}"
