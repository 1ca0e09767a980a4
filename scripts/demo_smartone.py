"""The demo on a SmartOne e-kassa cashbox (Azerbaijan): ``make demo PROTOCOL=smartone``.

``firmware-sim serve --smartone`` and an agent with ``country = "AZ"`` (docs/country-profiles.md):
a Baku club's payments in AZN (prices in manat to the qəpik), VAT 18 % (``vat18``) on the bar and
the gaming time, ``none`` on a balance top-up (an advance), no ``[tax]`` section and no tax
systems. The cashbox names each document by its ``fiscalID``, which the agent reports as
``doc_id``; it has no FN, so there is no FD tape (docs/smartone-driver.md §4). Where a step of the
story means something else on this cashbox, the step says what happens instead:

- paper out: the cashbox fiscalises the receipt anyway and answers 15 (not printed); the receipt
  is done, its paper copy is owed and the agent asks ``/check_copy`` until it prints;
- a receipt printed past the agent, at the cashbox itself: the agent does not report it (no
  archive by document number to read back), so there is nothing to adopt in the cloud;
- the Z: the cashbox refuses a Z while its drawer holds cash (code 27), so this agent is set
  ``[smartone] withdraw_before_z = true`` and collects the drawer first;
- the tape: ``firmware-sim tape --all`` with the marks (``documentExtID``) and ``doc_id``.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo_steps import Rig, command, final, say, shift_report

from tests.support.mqtt_client import PREFIX
from tests.support.processes import SimProcess, http, wait_until
from tests.support.smartone_sim import SmartOneSimProcess

PAYMENTS: list[dict[str, Any]] = [
    {
        "id": "crm-1001",
        "kind": "sale",
        "category": "top_up",
        "items": [{"name": "Balansın artırılması", "qty": "1", "price": "50.00", "vat": "none"}],
        "payments": {"card": "50.00"},
        "customer": {"email": "gamer@example.com"},
    },
    {
        "id": "crm-1002",
        "kind": "sale",
        "category": "service",
        "items": [{"name": "Oyun vaxtı, 3 saat", "qty": "1", "price": "9.00", "vat": "vat18"}],
        "payments": {"prepaid": "9.00"},
    },
    {
        "id": "crm-1003",
        "kind": "sale",
        "category": "goods",
        "items": [
            {"name": "Enerji içkisi", "qty": "2", "price": "3.50", "vat": "vat18"},
            {"name": "Çipsi", "qty": "1", "price": "1.80", "vat": "vat18"},
            {"name": "Su, 0.5 l", "qty": "1", "price": "0.60", "vat": "vat0"},
        ],
        "payments": {"cash": "20.00"},
        "cashier": {"name": "Məmmədov Ə."},
    },
    {
        "id": "crm-1004",
        "kind": "refund",
        "category": "goods",
        "items": [{"name": "Çipsi", "qty": "1", "price": "1.80", "vat": "vat18"}],
        "payments": {"cash": "1.80"},
    },
]

FAST_IDLE_S = 1.0
"""``[worker] idle_check_s``: the agent reads the cashbox every second, so an owed copy prints
within a second of the paper coming back (the default is 30 s)."""


class SmartOneStory:
    """The story's register-specific steps on a SmartOne cashbox."""

    register = "a SmartOne e-kassa cashbox, Azerbaijan, amounts in AZN"
    sim_log = "register.smartone.log"
    payments = PAYMENTS
    crash: ClassVar[dict[str, Any]] = {
        **PAYMENTS[2],
        "id": "crm-1005",
        "items": [{"name": "Pizza", "qty": "1", "price": "12.00", "vat": "vat18"}],
        "payments": {"cash": "20.00"},
    }
    lost: ClassVar[dict[str, Any]] = {
        **PAYMENTS[0],
        "id": "crm-1007",
        "items": [{**PAYMENTS[0]["items"][0], "price": "30.00"}],
        "payments": {"card": "30.00"},
    }
    short_cash = "5.00"
    cash_out = "10.00"
    app_amount = "15.00"
    exceptions_title = (
        "An exception: a payment that never reached the agent "
        "(a receipt printed at the cashbox past the agent: below)"
    )
    fixed_title = "Fixed from the cloud: issue the receipt (same id, no new payment)"

    def start_sim(self, state_file: Path) -> SimProcess:
        return SmartOneSimProcess(state_file=state_file).start()

    def agent_settings(self, sim: SimProcess) -> dict[str, Any]:
        assert isinstance(sim, SmartOneSimProcess)
        return {
            "smartone": {"merchant_id": sim.merchant_id, "withdraw_before_z": True},
            "worker": {"idle_check_s": FAST_IDLE_S},
        }

    def result_line(self, request_id: str, result: dict[str, Any]) -> str:
        fiscal = result.get("fiscal", {})
        total = Decimal(fiscal.get("total", "0"))
        return (
            f"  {request_id} {result['status']}: doc_id {fiscal.get('doc_id')} total {total} AZN "
            f"({int(total * 100)} qəpik)  VAT {json.dumps(fiscal.get('vat'))}"
        )

    def crash_line(self, sim: SimProcess, result: dict[str, Any]) -> str:
        doc_ids = [doc["doc_id"] for doc in sim.tape() if doc.get("mark") == "crm-1005"]
        return (
            f"  crm-1005 {result['status']}, doc_id {result['fiscal']['doc_id']}; "
            f"receipts on the cashbox marked crm-1005 (documentExtID): {doc_ids}"
        )

    def paper_out(self, rig: Rig) -> None:
        say("Paper runs out: the cashbox fiscalises the receipt anyway, answers 15, a copy is owed")
        rig.sim.post("/paper/out")
        late = {**PAYMENTS[0], "id": "crm-1006"}
        rig.crm.publish(PREFIX + "cmd/receipt", late)
        print("  crm-1006 published")
        result = final(rig.agent, "crm-1006")
        doc = next(d for d in rig.sim.tape() if d.get("mark") == "crm-1006")
        print(
            f"  crm-1006 {result['status']}, doc_id {result['fiscal']['doc_id']}: fiscalised, but "
            f"the cashbox answered 15 (not printed), print_error {doc.get('print_error')} on its "
            "tape; the receipt is not held up, its paper copy is owed"
        )
        document_id = doc.get("document_id")
        owed = _agent_events(rig, "receipt not printed: a copy is owed", document_id)
        print(f"  agent log: {owed[-1]['event']} (documentID {document_id})")
        health = http("GET", f"{rig.agent.base}/health")[1]
        print(
            f"  health: state {health['state']}, register error {health['register'].get('error') or 'none'} "
            "(the cashbox's API reports no paper sensor: the 15 is the only sign)"
        )
        rig.sim.post("/paper/back")
        printed = wait_until(
            lambda: _agent_events(rig, "receipt copy printed", document_id),
            timeout_s=30,
            what="the owed copy to print",
        )
        print(
            f"  paper loaded: at its next reading of the cashbox the agent asked /check_copy; "
            f"agent log: {printed[-1]['event']} (documentID {document_id})"
        )

    def past_the_agent(self, rig: Rig) -> None:  # noqa: ARG002 - Story's signature
        print(
            "  a receipt printed by hand at the cashbox is not reported by the agent on SmartOne:\n"
            "  the cashbox keeps no archive by document number (no FD) for the agent to read back,\n"
            "  so it would show only in the Z's counters as a difference no row explains. The demo\n"
            "  prints none (the Shtrih and ATOL demos print one and adopt it)."
        )

    def adopt(self, rig: Rig, rows: list[dict[str, Any]]) -> None:  # noqa: ARG002 - Story's signature
        register_only = [r["id"] for r in rows if r["status"] == "register_only"]
        print(f"  register-only documents to adopt: {register_only or 'none'}")

    def before_z(self, rig: Rig) -> None:
        say("The cashbox's own counters before the Z: an X report over MQTT (cmd/shift x_report)")
        outcome = command(rig.crm, "shift", {"id": "x-1", "action": "x_report"})
        counters = shift_report(rig.crm, "x-1")["counters"]
        sales, refunds = counters["sales"], counters["refunds"]
        print(
            f"  x-1 {outcome['status']}: sales cash {sales['cash']} card {sales['card']} "
            f"other (prepaid) {sales['prepaid']}; refunds cash {refunds['cash']}; "
            f"VAT {json.dumps(sales.get('vat'))}"
        )
        print(
            f"  drawer {counters['cash_in_drawer']} AZN: the cashbox refuses a Z while the drawer "
            "holds cash (code 27), so this agent is set [smartone] withdraw_before_z = true and "
            "collects it (/withdraw) before the Z"
        )

    def z_line(self, z_report: dict[str, Any]) -> str:
        counters = z_report["counters"]
        return (
            f"  shift {z_report['shift']} closed at {z_report['closed_at']}; cash out "
            f"{counters['cash_out']} AZN (the collection and the drawer before the Z), drawer "
            f"{counters['cash_in_drawer']}; no FD range on SmartOne"
        )

    def tape(self, sim: SimProcess) -> None:
        say(
            "The cashbox's tape (firmware-sim tape --all): no FN, so no FD; each document's mark "
            "is its documentExtID, its doc_id the fiscalID"
        )
        assert isinstance(sim, SmartOneSimProcess)
        # Documents first, then the cash movements: tape --all merges the two by their time to
        # the second, which puts the Z's own collection after the Z in the same second.
        tape = sim.tape_all()
        documents = [doc for doc in tape if not doc["type"].startswith("cash_")]
        for doc in documents + [doc for doc in tape if doc not in documents]:
            line = {
                k: doc.get(k)
                for k in ("doc_id", "type", "kind", "total", "mark", "shift", "issued_at")
                if doc.get(k) is not None
            }
            print(f"  {json.dumps(line, ensure_ascii=False)}")


def _agent_events(rig: Rig, event: str, document_id: object) -> list[dict[str, Any]]:
    """The agent's log records of ``event`` about ``documentID`` ``document_id``."""
    return [
        r
        for r in rig.agent.log_records()
        if r.get("event") == event and r.get("document_id") == document_id
    ]
