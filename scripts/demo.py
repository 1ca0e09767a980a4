"""``make demo``: the simulator and the agent on one machine, a club's evening in a minute.

Starts an MQTT broker (Mosquitto where the machine has it, else the embedded amqtt), firmware-sim
on a pseudo-terminal (state in ./demo-state) and the agent as a service would, and publishes
payments the way a CRM does, on ``cmd/receipt`` once the shift is open: a balance top-up by
card, a gaming session paid from that balance, bar items in cash with change, a refund; the
results come back on ``evt/receipt``. It shows what the
agent answers to a resend, to a reused id and to bad input, kills the agent with SIGKILL in the
middle of a receipt and shows the receipt was printed exactly once, runs out of paper, and ends
the shift with a Z report. Then it prints the FN tape and reconciles the payments with the
register's own counters.

``--protocol atol`` (``make demo PROTOCOL=atol``) runs the same story on an ATOL register:
firmware-sim serves ATOL's driver web server (``--atol-web``) instead of the Shtrih wire, and
the agent's config says ``[register] protocol = "atol"`` with ``[atol] url``. Every step of the
story has the same meaning there; the state file is ./demo-state/register.db either way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog

from agent.config import load_config
from agent.contract import ReceiptRequest
from agent.drivers.factory import build_driver
from agent.drivers.interface import ReceiptRef
from agent.intake.receipt_mapping import receipt_to_domain
from tests.support.atol_sim import AtolSimProcess
from tests.support.broker import Broker
from tests.support.cloud_process import Cloud
from tests.support.mqtt_client import PREFIX, PlainClient
from tests.support.processes import PROTOCOLS, Agent, Simulator, http, wait_until

STATE = Path("demo-state")
CLUB = "/api/v1/clubs/club-1"


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


REGISTERS = {
    "shtrih": "ШТРИХ-М-01Ф on a pseudo-terminal",
    "atol": "an ATOL register behind ATOL's driver web server",
}


def main(argv: list[str] | None = None) -> int:
    """Run the demo; exit 0 when the books balance."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="shtrih",
        help="the register's protocol: shtrih (the serial wire) or atol (the web server)",
    )
    protocol = parser.parse_args(argv).protocol
    shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir()
    say(f"Starting a broker, the register simulator ({REGISTERS[protocol]}), the agent")
    broker = Broker(STATE.resolve() / "broker").start()
    state_file = STATE.resolve() / "register.db"
    sim: Simulator | AtolSimProcess = (
        AtolSimProcess(state_file=state_file) if protocol == "atol" else Simulator(state_file)
    ).start()
    agent = Agent(
        workdir=STATE.resolve(),
        register_url=sim.url,
        protocol=protocol,
        settings={"mqtt": {"url": broker.url}},
    )
    agent.start()
    cloud = Cloud(STATE.resolve() / "cloud", broker.url).start()
    crm = PlainClient(broker.url, "demo-crm", persistent=True).connect()
    print(f"  broker {broker.kind} at {broker.url}, register {sim.url}, agent API {agent.base}")
    try:
        return run(sim, agent, crm, cloud)
    finally:
        crm.close()
        cloud.stop()
        agent.stop()
        sim.stop()
        broker.stop()
        sim_log = "register.atol.log" if protocol == "atol" else "register.sim.log"
        print(f"\n  logs and state are in {STATE}/ (agent.log, {sim_log}, register.db)")


def mqtt_result(crm: PlainClient, request_id: str) -> dict[str, Any]:
    """The first final result of ``request_id`` that arrived on evt/receipt."""

    def result() -> dict[str, Any] | None:
        answers = crm.by_id("evt/receipt").get(request_id, [])
        return answers[-1] if answers else None

    return wait_until(result, timeout_s=60, what=f"{request_id} on evt/receipt")


def run(sim: Simulator | AtolSimProcess, agent: Agent, crm: PlainClient, cloud: Cloud) -> int:
    """The story."""
    # The shift is opened first, as a club's evening starts: a payment taken before the first
    # shift of an agent opens falls in no shift's window in the cloud's reconciliation (an
    # ATOL register stamps the open to the second, so the demo's first payments would).
    say(f"The evening starts: the CRM opens the shift on {PREFIX}cmd/shift")
    crm.publish(PREFIX + "cmd/shift", {"id": "open-1", "action": "open"})
    opened = wait_until(
        lambda: crm.by_id("evt/command").get("open-1"), timeout_s=60, what="the shift open"
    )[-1]
    print(f"  open-1: {opened['status']}")
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
    crm.publish(PREFIX + "cmd/receipt", crash)
    print("  crm-1005 published")
    time.sleep(0.02)
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
    crm.publish(PREFIX + "cmd/receipt", late)
    print("  crm-1006 published")
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

    say("A cash collection over MQTT (cmd/cash), and an app payment the register never sees")
    crm.publish(PREFIX + "cmd/cash", {"id": "cash-1", "direction": "out", "amount": "100.00"})
    outcome = wait_until(
        lambda: crm.by_id("evt/command").get("cash-1"), timeout_s=30, what="the collection"
    )[-1]
    print(f"  cash-1 (100.00 out of the drawer): {outcome['status']}")
    app_payment = {"id": "app-1", "amount": "250.00", "kind": "sale", "at": _now()}
    show(
        "app-1 posted to the cloud",
        *http("POST", f"{cloud.base}{CLUB}/transactions", {"transactions": [app_payment]}),
    )

    say("Two exceptions: a payment that never reached the agent, a receipt it never printed")
    agent.stop()
    lost = {
        **PAYMENTS[0],
        "id": "crm-1007",
        "items": [{**PAYMENTS[0]["items"][0], "price": "300.00"}],
        "payments": {"card": "300.00"},
    }
    crm.publish(PREFIX + "cmd/receipt", lost, qos=0)  # QoS 0 while the agent is away: lost
    print(
        "  crm-1007 published at QoS 0 while the agent was down: the cloud has it, the agent never will"
    )
    fd = asyncio.run(_print_by_another_program(agent))
    print(f"  another program on the same FN printed FD {fd} (a sale of 75.00, marked pos-7)")
    agent.start()
    crm.publish(PREFIX + "cmd/shift", {"id": "tape-1", "action": "sync_tape"})
    wait_until(lambda: crm.by_id("evt/command").get("tape-1"), timeout_s=60, what="sync_tape")
    current = reconciliation(cloud)
    for row in current["rows"]:
        if row["status"] != "matched":
            print(f"  {row['status']:>13}: {row['id']}")

    say(
        "Fixed from the cloud: issue the receipt (same id, no new payment), add the other to the CRM"
    )
    show(
        "reissue crm-1007",
        *http(
            "POST",
            f"{cloud.base}{CLUB}/agents/desk-1/reissue/crm-1007",
            {"by": "support", "reason": "never reached the register"},
        ),
    )
    wait_until(lambda: crm.all_done(["crm-1007"]), timeout_s=60, what="crm-1007 printed")
    doc_id = next(
        r["id"] for r in current["rows"] if r["status"] == "register_only" and ":" in r["id"]
    )
    show(
        f"adopt {doc_id}",
        *http(
            "POST",
            f"{cloud.base}{CLUB}/agents/desk-1/adopt/{doc_id}",
            {"by": "manager", "reason": "sold at the counter by the POS"},
        ),
    )

    say("End of the shift over MQTT: cmd/shift close; the Z report comes back on evt/shift")
    crm.publish(PREFIX + "cmd/shift", {"id": "z-1", "action": "close"})
    z_report = wait_until(
        lambda: next(
            (m.json() for m in crm.received("evt/shift") if m.json().get("request_id") == "z-1"),
            None,
        ),
        timeout_s=60,
        what="the Z report",
    )
    counters = z_report["counters"]
    print(
        f"  shift {z_report['shift']} closed at {z_report['closed_at']}, FD {counters['first_fd']}..{counters['last_fd']}"
    )

    say("Health on the broker (retained, so a support tool sees it the moment it subscribes)")
    health = wait_until(
        lambda: next(
            (
                m.json()
                for m in reversed(crm.received("health"))
                if (m.json().get("register") or {}).get("link") == "up"
                and not m.json()["shift"]["open"]
            ),
            None,
        ),
        timeout_s=60,
        what="a health after the Z, with the register up",
    )
    print(
        f"  state {health['state']}, boot {health.get('boot')}, seq {health.get('seq')}, "
        f"register {health['register']['link']}, shift open {health['shift']['open']}, "
        f"sync queue {health['sync']['pending']}"
        + (
            f", why degraded: {health['register'].get('error') or health.get('last_error')}"
            if health["state"] == "degraded"
            else ""
        )
    )

    say("The FN tape (firmware-sim tape)")
    for doc in sim.tape():
        line = {
            k: doc.get(k)
            for k in ("fd", "type", "kind", "total", "mark", "shift", "issued_at")
            if doc.get(k) is not None
        }
        print(f"  {json.dumps(line, ensure_ascii=False)}")

    say("The cloud's reconciliation of the shift")
    final_rec = wait_until(
        lambda: (
            (r := reconciliation(cloud, shift=z_report["shift"]))["totals"].get("z_register_total")
            and r
        ),
        timeout_s=60,
        what="the Z in the cloud",
    )
    counts: dict[str, int] = {}
    for row in final_rec["rows"]:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        fiscal = row.get("fiscal") or {}
        print(
            f"  {row['status']:>13}  {row['id']:<26} {fiscal.get('doc_id', '')}"
            + ("  (adopted)" if row.get("adopted") else "")
        )
    totals = final_rec["totals"]
    for name in ("crm_register_total", "crm_grand_total", "z_register_total", "difference"):
        t = totals[name]
        print(
            f"  {name:<19} cash {t['cash']:>8}  card {t['card']:>8}  prepaid {t['prepaid']:>8}  total {t['total']:>8}"
        )
    # An adopted document counts in the CRM's totals by the payment split the agent read
    # from the FN (contract v1.1), so the difference is 0 to the kopeck. adopted_total is
    # what an older agent's adopted documents (no split) leave in the difference.
    adopted = Decimal(final_rec.get("adopted_total", "0.00"))
    difference = Decimal(totals["difference"]["total"])
    if adopted:
        print(f"  adopted into the CRM without a payment split, still in the difference: {adopted}")
    is_balanced = counts.get("crm_only", 0) == 0 and difference + adopted == 0
    print("  \033[1mbalanced\033[0m" if is_balanced else "  \033[1mNOT BALANCED\033[0m")
    return 0 if is_balanced else 1


def reconciliation(cloud: Cloud, shift: int | None = None) -> dict[str, Any]:
    """The cloud's reconciliation of desk-1's current (or a given) shift."""
    query = "?agent=desk-1&limit=1000" + (f"&shift={shift}" if shift is not None else "")
    status, body = http("GET", f"{cloud.base}{CLUB}/reconciliation{query}")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def _now() -> str:
    return datetime.now(UTC).isoformat()


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


if __name__ == "__main__":
    sys.exit(main())
