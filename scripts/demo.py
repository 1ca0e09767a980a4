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

``--protocol smartone`` (``make demo PROTOCOL=smartone``) runs it on a SmartOne e-kassa cashbox
in Azerbaijan (``firmware-sim serve --smartone``, ``country = "AZ"``): a Baku club's payments in
AZN, VAT 18 %, no tax systems; results name the cashbox's ``doc_id`` (its fiscalID). Where a step
has no meaning on that cashbox (no FN tape by FD, paper out, a receipt printed past the agent)
the demo says what happens there instead (scripts/demo_smartone.py).

The register-specific parts are in scripts/demo_fn.py (Shtrih, ATOL) and
scripts/demo_smartone.py; the shared plumbing in scripts/demo_steps.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_fn import FnStory
from demo_smartone import SmartOneStory
from demo_steps import (
    CLUB,
    STATE,
    Rig,
    Story,
    final,
    mqtt_result,
    now,
    reconciliation,
    say,
    show,
)

from tests.support.broker import Broker
from tests.support.cloud_process import Cloud
from tests.support.mqtt_client import PREFIX, PlainClient
from tests.support.processes import PROTOCOLS, Agent, http, wait_until


def story_of(protocol: str) -> Story:
    """The register-specific part of the story."""
    return SmartOneStory() if protocol == "smartone" else FnStory(protocol)


def main(argv: list[str] | None = None) -> int:
    """Run the demo; exit 0 when the books balance."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--protocol",
        choices=(*PROTOCOLS, "smartone"),
        default="shtrih",
        help="the register's protocol: shtrih (the serial wire), atol (the web server) or "
        "smartone (an Azerbaijani e-kassa cashbox)",
    )
    protocol = parser.parse_args(argv).protocol
    story = story_of(protocol)
    shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir()
    say(f"Starting a broker, the register simulator ({story.register}), the agent")
    broker = Broker(STATE.resolve() / "broker").start()
    sim = story.start_sim(STATE.resolve() / "register.db")
    agent = Agent(
        workdir=STATE.resolve(),
        register_url=sim.url,
        protocol=protocol,
        settings={"mqtt": {"url": broker.url}, **story.agent_settings(sim)},
    )
    agent.start()
    cloud = Cloud(STATE.resolve() / "cloud", broker.url).start()
    crm = PlainClient(broker.url, "demo-crm", persistent=True).connect()
    print(f"  broker {broker.kind} at {broker.url}, register {sim.url}, agent API {agent.base}")
    try:
        return run(story, Rig(sim=sim, agent=agent, crm=crm, cloud=cloud))
    finally:
        crm.close()
        cloud.stop()
        agent.stop()
        sim.stop()
        broker.stop()
        print(f"\n  logs and state are in {STATE}/ (agent.log, {story.sim_log}, register.db)")


def run(story: Story, rig: Rig) -> int:
    """The story."""
    sim, agent, crm, cloud = rig.sim, rig.agent, rig.crm, rig.cloud
    payments = story.payments
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
    for payment in payments:
        crm.publish(PREFIX + "cmd/receipt", payment)
        print(f"  {payment['id']} published; the agent acknowledges it once it is on disk")
    say("The results arrive on evt/receipt")
    for payment in payments:
        print(story.result_line(payment["id"], mqtt_result(crm, payment["id"])))

    say("A resend of the same payment returns the stored result, never a second receipt")
    show("crm-1003 again", *http("POST", f"{agent.base}/receipts", payments[2]))
    say("The same id with other content is refused")
    other = {**payments[2], "payments": {"cash": "1000.00"}}
    show("crm-1003 changed", *http("POST", f"{agent.base}/receipts", other))
    say("Bad input over MQTT is answered too: not JSON goes to evt/rejected with the reason")
    crm.publish(PREFIX + "cmd/receipt", "{this is not json")
    rejected = wait_until(lambda: crm.received("evt/rejected"), timeout_s=30, what="the rejection")[
        -1
    ].json()
    print(f"  evt/rejected: {json.dumps(rejected, ensure_ascii=False)}")
    say("Over the local HTTP API (a POS on the same machine) bad input gets a 4xx naming the field")
    bad = {**payments[2], "id": "crm-bad", "items": [{**payments[2]["items"][0], "price": 120.0}]}
    show("price as a JSON number", *http("POST", f"{agent.base}/receipts", bad))
    short = {**payments[2], "id": "crm-short", "payments": {"cash": story.short_cash}}
    show("payments below the total", *http("POST", f"{agent.base}/receipts", short))

    say("The agent is killed (SIGKILL) while a receipt is in flight, then restarted")
    crm.publish(PREFIX + "cmd/receipt", story.crash)
    print("  crm-1005 published")
    time.sleep(0.02)
    agent.kill()
    print("  agent killed; starting it again (systemd would)")
    agent.start()
    print(story.crash_line(sim, final(agent, "crm-1005")))

    story.paper_out(rig)

    say("A cash collection over MQTT (cmd/cash), and an app payment the register never sees")
    crm.publish(PREFIX + "cmd/cash", {"id": "cash-1", "direction": "out", "amount": story.cash_out})
    outcome = wait_until(
        lambda: crm.by_id("evt/command").get("cash-1"), timeout_s=30, what="the collection"
    )[-1]
    print(f"  cash-1 ({story.cash_out} out of the drawer): {outcome['status']}")
    app_payment = {"id": "app-1", "amount": story.app_amount, "kind": "sale", "at": now()}
    show(
        "app-1 posted to the cloud",
        *http("POST", f"{cloud.base}{CLUB}/transactions", {"transactions": [app_payment]}),
    )

    say(story.exceptions_title)
    agent.stop()
    crm.publish(PREFIX + "cmd/receipt", story.lost, qos=0)  # QoS 0 while the agent is away: lost
    print(
        "  crm-1007 published at QoS 0 while the agent was down: the cloud has it, the agent never will"
    )
    story.past_the_agent(rig)
    agent.start()
    crm.publish(PREFIX + "cmd/shift", {"id": "tape-1", "action": "sync_tape"})
    wait_until(lambda: crm.by_id("evt/command").get("tape-1"), timeout_s=60, what="sync_tape")
    current = reconciliation(cloud)
    for row in current["rows"]:
        if row["status"] != "matched":
            print(f"  {row['status']:>13}: {row['id']}")

    say(story.fixed_title)
    show(
        "reissue crm-1007",
        *http(
            "POST",
            f"{cloud.base}{CLUB}/agents/desk-1/reissue/crm-1007",
            {"by": "support", "reason": "never reached the register"},
        ),
    )
    wait_until(lambda: crm.all_done(["crm-1007"]), timeout_s=60, what="crm-1007 printed")
    story.adopt(rig, current["rows"])

    story.before_z(rig)
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
    print(story.z_line(z_report))

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

    story.tape(sim)
    return 0 if balanced(cloud, z_report["shift"]) else 1


def balanced(cloud: Cloud, shift: int) -> bool:
    """The cloud's reconciliation of the shift: the CRM's payments against the Z's counters."""
    say("The cloud's reconciliation of the shift")
    final_rec = wait_until(
        lambda: (r := reconciliation(cloud, shift=shift))["totals"].get("z_register_total") and r,
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
    return is_balanced


if __name__ == "__main__":
    sys.exit(main())
