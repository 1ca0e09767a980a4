"""The demo on a Russian register with an FN: Shtrih (the serial wire) or ATOL (its web server).

A Moscow club's payments in rubles; every document has an FD on the FN and ``doc_id`` is
``"<FN>:<FD>"``. Every step of the story has its full meaning here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog
from demo_steps import CLUB, Rig, final, say, show

from agent.config import load_config
from agent.contract import ReceiptRequest
from agent.drivers.factory import build_driver
from agent.drivers.interface import ReceiptRef
from agent.intake.receipt_mapping import receipt_to_domain
from tests.support.atol_sim import AtolSimProcess
from tests.support.mqtt_client import PREFIX
from tests.support.processes import Agent, SimProcess, Simulator, http, wait_until

PAYMENTS: list[dict[str, Any]] = [
    {
        "id": "crm-1001",
        "kind": "sale",
        "category": "top_up",
        "items": [{"name": "Пополнение баланса", "qty": "1", "price": "1000.00", "vat": "none"}],
        "payments": {"card": "1000.00"},
        "customer": {"email": "gamer@example.com"},
    },
    {
        "id": "crm-1002",
        "kind": "sale",
        "category": "service",
        "items": [{"name": "Игровое время, 3 часа", "qty": "1", "price": "450.00", "vat": "none"}],
        "payments": {"prepaid": "450.00"},
    },
    {
        "id": "crm-1003",
        "kind": "sale",
        "category": "goods",
        "items": [
            {"name": "Энергетик", "qty": "2", "price": "120.00", "vat": "vat22"},
            {"name": "Чипсы", "qty": "1", "price": "89.90", "vat": "vat22"},
        ],
        "payments": {"cash": "500.00"},
        "cashier": {"name": "Иванов И.И."},
    },
    {
        "id": "crm-1004",
        "kind": "refund",
        "category": "goods",
        "items": [{"name": "Чипсы", "qty": "1", "price": "89.90", "vat": "vat22"}],
        "payments": {"cash": "89.90"},
    },
]

REGISTERS = {
    "shtrih": "ШТРИХ-М-01Ф on a pseudo-terminal",
    "atol": "an ATOL register behind ATOL's driver web server",
}


class FnStory:
    """The story's register-specific steps on an FN register (``protocol`` shtrih or atol)."""

    payments = PAYMENTS
    crash: ClassVar[dict[str, Any]] = {
        **PAYMENTS[2],
        "id": "crm-1005",
        "items": [{"name": "Пицца", "qty": "1", "price": "390.00", "vat": "vat22"}],
        "payments": {"cash": "400.00"},
    }
    lost: ClassVar[dict[str, Any]] = {
        **PAYMENTS[0],
        "id": "crm-1007",
        "items": [{**PAYMENTS[0]["items"][0], "price": "300.00"}],
        "payments": {"card": "300.00"},
    }
    short_cash = "100.00"
    cash_out = "100.00"
    app_amount = "250.00"
    exceptions_title = (
        "Two exceptions: a payment that never reached the agent, a receipt it never printed"
    )
    fixed_title = "Fixed from the cloud: issue the receipt (same id, no new payment), add the other to the CRM"

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.register = REGISTERS[protocol]
        self.sim_log = "register.atol.log" if protocol == "atol" else "register.sim.log"

    def start_sim(self, state_file: Path) -> SimProcess:
        if self.protocol == "atol":
            return AtolSimProcess(state_file=state_file).start()
        return Simulator(state_file).start()

    def agent_settings(self, sim: SimProcess) -> dict[str, Any]:  # noqa: ARG002 - Story's signature
        return {}

    def result_line(self, request_id: str, result: dict[str, Any]) -> str:
        fiscal = result.get("fiscal", {})
        return (
            f"  {request_id} {result['status']}: FD {fiscal.get('fd')} FP {fiscal.get('fp')} "
            f"total {fiscal.get('total')}  {fiscal.get('qr')}"
        )

    def crash_line(self, sim: SimProcess, result: dict[str, Any]) -> str:
        fds = [doc["fd"] for doc in sim.tape() if doc.get("mark") == "crm-1005"]
        return f"  crm-1005 {result['status']}, FD {result['fiscal']['fd']}; receipts on the FN marked crm-1005: {fds}"

    def paper_out(self, rig: Rig) -> None:
        say("Paper runs out: the receipt waits and health says why")
        rig.sim.post("/paper/out")
        late = {**PAYMENTS[0], "id": "crm-1006"}
        rig.crm.publish(PREFIX + "cmd/receipt", late)
        print("  crm-1006 published")
        health = wait_until(
            lambda: (
                (h := http("GET", f"{rig.agent.base}/health")[1])["register"].get("error") and h
            ),
            timeout_s=30,
            what="health to report the paper",
        )
        print(
            f"  health: state {health['state']}, register error {health['register']['error']}, "
            f"outbox pending {health['outbox']['pending']}"
        )
        rig.sim.post("/paper/back")
        print(f"  paper loaded: crm-1006 {final(rig.agent, 'crm-1006')['status']}")

    def past_the_agent(self, rig: Rig) -> None:
        fd = asyncio.run(_print_by_another_program(rig.agent))
        print(f"  another program on the same FN printed FD {fd} (a sale of 75.00, marked pos-7)")

    def adopt(self, rig: Rig, rows: list[dict[str, Any]]) -> None:
        doc_id = next(r["id"] for r in rows if r["status"] == "register_only" and ":" in r["id"])
        show(
            f"adopt {doc_id}",
            *http(
                "POST",
                f"{rig.cloud.base}{CLUB}/agents/desk-1/adopt/{doc_id}",
                {"by": "manager", "reason": "sold at the counter by the POS"},
            ),
        )

    def before_z(self, rig: Rig) -> None:
        pass

    def z_line(self, z_report: dict[str, Any]) -> str:
        counters = z_report["counters"]
        return f"  shift {z_report['shift']} closed at {z_report['closed_at']}, FD {counters['first_fd']}..{counters['last_fd']}"

    def tape(self, sim: SimProcess) -> None:
        say("The FN tape (firmware-sim tape)")
        for doc in sim.tape():
            line = {
                k: doc.get(k)
                for k in ("fd", "type", "kind", "total", "mark", "shift", "issued_at")
                if doc.get(k) is not None
            }
            print(f"  {json.dumps(line, ensure_ascii=False)}")


async def _print_by_another_program(agent: Agent) -> int:
    """A receipt printed past the agent (a POS on the same FN), with the agent stopped."""
    config = load_config(agent.workdir / "agent.toml", {})
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    driver = build_driver(config, structlog.get_logger("other-program"))
    body = {
        **PAYMENTS[2],
        "id": "pos-7",
        "items": [{"name": "Кофе", "qty": "1", "price": "75.00", "vat": "vat22"}],
        "payments": {"cash": "75.00"},
    }
    receipt = receipt_to_domain(ReceiptRequest.model_validate(body), config=config)
    try:
        await driver.connect()
        issued = await driver.register(receipt, ref=ReceiptRef(id="pos-7", mark="pos-7", attempt=1))
    finally:
        await driver.aclose()
    return issued.fd
