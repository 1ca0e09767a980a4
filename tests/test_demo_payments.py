"""The demo's payments are receipts its register's country takes (scripts/demo_*.py).

``make demo`` runs a minute of real processes, so the suite does not run it; this checks what
would make it fail before any process starts: each story's payments pass the agent's own intake
and fiscal rules under the agent config the demo writes (a Moscow club on Shtrih and ATOL, a
Baku club with ``country = "AZ"`` on SmartOne), the SmartOne payments use Azerbaijan's rates
(``vat18``, and a ``vat0``/``none`` line), and the "payments below the total" step's cash is
below the bar receipt's total on every register.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from agent.config import load_config
from agent.contract import ReceiptRequest
from agent.domain.errors import ReceiptRuleError
from agent.domain.receipt import Receipt
from agent.intake.receipt_mapping import receipt_to_domain
from tests.support.processes import Agent
from tests.support.smartone_sim import MERCHANT_ID

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """scripts/demo.py as a module (its story modules import each other from scripts/)."""
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import demo  # type: ignore[import-not-found]  # noqa: PLC0415 - needs scripts/ on the path

    return demo  # type: ignore[no-any-return]


def _domain(body: dict[str, Any], tmp_path: Path, protocol: str) -> Receipt:
    """``body`` through the intake under the config the demo writes for ``protocol``."""
    settings = {"smartone": {"merchant_id": MERCHANT_ID}} if protocol == "smartone" else {}
    agent = Agent(tmp_path, "http://127.0.0.1:1", protocol=protocol, settings=settings)
    config = load_config(agent.write_config(), {})
    return receipt_to_domain(ReceiptRequest.model_validate(body), config=config)


@pytest.mark.parametrize("protocol", ["shtrih", "atol", "smartone"])
def test_every_payment_of_the_story_is_a_receipt_of_its_country(
    demo: ModuleType, tmp_path: Path, protocol: str
) -> None:
    story = demo.story_of(protocol)
    bodies = [*story.payments, story.crash, story.lost]
    receipts = [_domain(body, tmp_path, protocol) for body in bodies]
    assert [r.kind.name for r in receipts[:4]] == ["SALE", "SALE", "SALE", "REFUND"]
    short = {**story.payments[2], "id": "crm-short", "payments": {"cash": story.short_cash}}
    with pytest.raises(ReceiptRuleError) as refused:
        _domain(short, tmp_path, protocol)
    assert refused.value.code == "payments_below_total"


def test_the_smartone_story_pays_in_azerbaijan_at_its_rates(demo: ModuleType) -> None:
    story = demo.story_of("smartone")
    rates = {item["vat"] for body in story.payments for item in body["items"]}
    assert "vat18" in rates
    assert rates & {"vat0", "none"}
    assert rates <= {"vat18", "vat0", "none"}
    assert all("tax_system" not in body for body in story.payments)
    assert all("subject" not in item for body in story.payments for item in body["items"])
