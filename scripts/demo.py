"""``make demo``: the simulator and the agent on one machine, a club's evening in a minute.

Starts an MQTT broker (Mosquitto where the machine has it, else the embedded amqtt), firmware-sim
on a pseudo-terminal (state in ./demo-state) and the agent as a service would, and publishes
payments the way a CRM does, on ``cmd/receipt``: a balance top-up by card, a gaming session
paid from that balance, bar items in cash with change, a refund; the results come back on
``evt/receipt``. It shows what the
agent answers to a resend, to a reused id and to bad input, kills the agent with SIGKILL in the
middle of a receipt and shows the receipt was printed exactly once, runs out of paper, and ends
the shift with a Z report. Then it prints the FN tape and reconciles the payments with the
register's own counters.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.broker import Broker
from tests.support.mqtt_client import PREFIX, PlainClient
from tests.support.processes import Agent, Simulator, http, wait_until

STATE = Path("demo-state")


def say(text: str) -> None:
    """A step of the story."""
    print(f"\n\033[1m== {text}\033[0m")


def show(label: str, status: int, body: Any) -> None:
    """One HTTP exchange, compact."""
    print(f"  {label}: {status} {json.dumps(body, ensure_ascii=False)}")


def final(agent: Agent, request_id: str) -> dict[str, Any]:
    """Wait for a receipt's final result."""

    def result() -> dict[str, Any] | None:
        status, body = http("GET", f"{agent.base}/receipts/{request_id}")
        return body if status == 200 and body["status"] not in {"pending", "printing"} else None

    return wait_until(result, timeout_s=60, what=request_id)


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


def main() -> int:
    """Run the demo; exit 0 when the books balance."""
    shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir()
    say("Starting a broker, the register simulator (ШТРИХ-М-01Ф on a pseudo-terminal), the agent")
    broker = Broker(STATE.resolve() / "broker").start()
    sim = Simulator(state_file=STATE.resolve() / "register.db").start()
    agent = Agent(
        workdir=STATE.resolve(), register_url=sim.url, settings={"mqtt": {"url": broker.url}}
    )
    agent.start()
    crm = PlainClient(broker.url, "demo-crm", persistent=True).connect()
    print(f"  broker {broker.kind} at {broker.url}, register {sim.url}, agent API {agent.base}")
    try:
        return run(sim, agent, crm)
    finally:
        crm.close()
        agent.stop()
        sim.stop()
        broker.stop()
        print(f"\n  logs and state are in {STATE}/ (agent.log, register.sim.log, register.db)")


def mqtt_result(crm: PlainClient, request_id: str) -> dict[str, Any]:
    """The first final result of ``request_id`` that arrived on evt/receipt."""

    def result() -> dict[str, Any] | None:
        answers = crm.by_id("evt/receipt").get(request_id, [])
        return answers[-1] if answers else None

    return wait_until(result, timeout_s=60, what=f"{request_id} on evt/receipt")


def run(sim: Simulator, agent: Agent, crm: PlainClient) -> int:
    """The story."""
    say(f"The CRM publishes four payments on {PREFIX}cmd/receipt (QoS 1)")
    for payment in PAYMENTS:
        crm.publish(PREFIX + "cmd/receipt", payment)
        print(f"  {payment['id']} published; the agent acknowledges it once it is on disk")
    say("The results arrive on evt/receipt")
    for payment in PAYMENTS:
        result = mqtt_result(crm, payment["id"])
        fiscal = result.get("fiscal", {})
        print(
            f"  {payment['id']} {result['status']}: FD {fiscal.get('fd')} FP {fiscal.get('fp')} "
            f"total {fiscal.get('total')}  {fiscal.get('qr')}"
        )

    say("A resend of the same payment returns the stored result, never a second receipt")
    show("crm-1003 again", *http("POST", f"{agent.base}/receipts", PAYMENTS[2]))
    say("The same id with other content is refused")
    other = {**PAYMENTS[2], "payments": {"cash": "1000.00"}}
    show("crm-1003 changed", *http("POST", f"{agent.base}/receipts", other))
    say("Bad input over MQTT is answered too: not JSON goes to evt/rejected with the reason")
    crm.publish(PREFIX + "cmd/receipt", "{this is not json")
    rejected = wait_until(lambda: crm.received("evt/rejected"), timeout_s=30, what="the rejection")[
        -1
    ].json()
    print(f"  evt/rejected: {json.dumps(rejected, ensure_ascii=False)}")
    say("Over the local HTTP API (a POS on the same machine) bad input gets a 4xx naming the field")
    bad = {**PAYMENTS[2], "id": "crm-bad", "items": [{**PAYMENTS[2]["items"][0], "price": 120.0}]}
    show("price as a JSON number", *http("POST", f"{agent.base}/receipts", bad))
    short = {**PAYMENTS[2], "id": "crm-short", "payments": {"cash": "100.00"}}
    show("payments below the total", *http("POST", f"{agent.base}/receipts", short))

    say("The agent is killed (SIGKILL) while a receipt is in flight, then restarted")
    crash = {
        **PAYMENTS[2],
        "id": "crm-1005",
        "items": [{"name": "Пицца", "qty": "1", "price": "390.00", "vat": "vat22"}],
        "payments": {"cash": "400.00"},
    }
    show("crm-1005", *http("POST", f"{agent.base}/receipts", crash))
    time.sleep(0.005)
    agent.kill()
    print("  agent killed; starting it again (systemd would)")
    agent.start()
    result = final(agent, "crm-1005")
    fds = [doc["fd"] for doc in sim.tape() if doc.get("mark") == "crm-1005"]
    print(
        f"  crm-1005 {result['status']}, FD {result['fiscal']['fd']}; receipts on the FN marked crm-1005: {fds}"
    )

    say("Paper runs out: the receipt waits and health says why")
    sim.post("/paper/out")
    late = {**PAYMENTS[0], "id": "crm-1006"}
    show("crm-1006", *http("POST", f"{agent.base}/receipts", late))
    health = wait_until(
        lambda: (h := http("GET", f"{agent.base}/health")[1])["register"].get("error") and h,
        timeout_s=30,
        what="health to report the paper",
    )
    print(
        f"  health: state {health['state']}, register error {health['register']['error']}, "
        f"outbox pending {health['outbox']['pending']}"
    )
    sim.post("/paper/back")
    print(f"  paper loaded: crm-1006 {final(agent, 'crm-1006')['status']}")

    say("End of the shift: Z report (the agent closes shifts itself before 24 hours, too)")
    _, z_report = http("POST", f"{agent.base}/shift", {"action": "close"})
    counters = z_report["counters"]
    print(
        f"  shift {z_report['shift']} closed at {z_report['closed_at']}, FD {counters['first_fd']}..{counters['last_fd']}"
    )
    print(
        f"  sales {counters['sales']}  refunds {counters['refunds']}  drawer {counters['cash_in_drawer']}"
    )

    say("Health on the broker (retained, so a support tool sees it the moment it subscribes)")
    health = [m.json() for m in crm.received("health")][-1]
    print(
        f"  state {health['state']}, boot {health.get('boot')}, seq {health.get('seq')}, "
        f"register {health['register']['link']}, shift open {health['shift']['open']}, "
        f"sync queue {health['sync']['pending']}"
    )
    z_on_mqtt = wait_until(
        lambda: [m.json() for m in crm.received("evt/shift") if m.json()["kind"] == "z"],
        timeout_s=30,
        what="the Z report on evt/shift",
    )[-1]
    print(f"  the Z report reached evt/shift too: shift {z_on_mqtt['shift']}")

    say("The FN tape (firmware-sim tape)")
    for doc in sim.tape():
        line = {
            k: doc.get(k)
            for k in ("fd", "type", "kind", "total", "mark", "shift", "issued_at")
            if doc.get(k) is not None
        }
        print(f"  {json.dumps(line, ensure_ascii=False)}")

    say("Reconciliation: the CRM's payments against the register's Z counters")
    crm_ids = [p["id"] for p in PAYMENTS] + ["crm-1005", "crm-1006"]
    results = {rid: final(agent, rid) for rid in crm_ids}
    sales = sum(Decimal(r["fiscal"]["total"]) for rid, r in results.items() if rid != "crm-1004")
    refunds = Decimal(results["crm-1004"]["fiscal"]["total"])
    z_sales = sum(Decimal(counters["sales"][k]) for k in ("cash", "card", "prepaid"))
    z_refunds = sum(Decimal(counters["refunds"][k]) for k in ("cash", "card", "prepaid"))
    receipts = sum(1 for doc in sim.tape() if doc["type"] == "receipt")
    print(
        f"  CRM sales {sales}  register sales {z_sales}   CRM refunds {refunds}  register refunds {z_refunds}"
    )
    print(f"  {len(crm_ids)} payments, {receipts} receipts on the FN")
    is_balanced = sales == z_sales and refunds == z_refunds and receipts == len(crm_ids)
    print("  \033[1mbalanced\033[0m" if is_balanced else "  \033[1mNOT BALANCED\033[0m")
    return 0 if is_balanced else 1


if __name__ == "__main__":
    sys.exit(main())
