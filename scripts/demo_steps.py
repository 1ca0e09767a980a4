"""The demo's plumbing shared by every register: how a step is printed, how a result is awaited.

Used by scripts/demo.py (the story) and by the register-specific parts of it,
scripts/demo_fn.py (Shtrih and ATOL: a Russian FN) and scripts/demo_smartone.py (a SmartOne
cashbox in Azerbaijan). :class:`Story` is what such a part provides.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.cloud_process import Cloud
from tests.support.mqtt_client import PREFIX, PlainClient
from tests.support.processes import Agent, SimProcess, http, wait_until

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

    return wait_until(result, timeout_s=60, what=request_id)  # type: ignore[no-any-return]


def mqtt_result(crm: PlainClient, request_id: str) -> dict[str, Any]:
    """The first final result of ``request_id`` that arrived on evt/receipt."""

    def result() -> dict[str, Any] | None:
        answers = crm.by_id("evt/receipt").get(request_id, [])
        return answers[-1] if answers else None

    return wait_until(result, timeout_s=60, what=f"{request_id} on evt/receipt")  # type: ignore[no-any-return]


def shift_report(crm: PlainClient, request_id: str) -> dict[str, Any]:
    """The report on evt/shift answering the cmd/shift ``request_id`` (an X or a Z)."""
    return wait_until(  # type: ignore[no-any-return]
        lambda: next(
            (
                m.json()
                for m in crm.received("evt/shift")
                if m.json().get("request_id") == request_id
            ),
            None,
        ),
        timeout_s=60,
        what=f"the report of {request_id}",
    )


def command(crm: PlainClient, topic: str, body: dict[str, Any]) -> dict[str, Any]:
    """Publish a command on cmd/``topic`` and wait for its outcome on evt/command."""
    crm.publish(PREFIX + f"cmd/{topic}", body)
    return wait_until(  # type: ignore[no-any-return]
        lambda: crm.by_id("evt/command").get(body["id"]), timeout_s=60, what=body["id"]
    )[-1]


def reconciliation(cloud: Cloud, shift: int | None = None) -> dict[str, Any]:
    """The cloud's reconciliation of desk-1's current (or a given) shift."""
    query = "?agent=desk-1&limit=1000" + (f"&shift={shift}" if shift is not None else "")
    status, body = http("GET", f"{cloud.base}{CLUB}/reconciliation{query}")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def now() -> str:
    """The host's clock, ISO 8601 in UTC."""
    return datetime.now(UTC).isoformat()


@dataclass
class Rig:
    """The running demo: the register simulator, the agent, the CRM's MQTT client, the cloud."""

    sim: SimProcess
    agent: Agent
    crm: PlainClient
    cloud: Cloud


class Story(Protocol):
    """What a register brings to the story: its payments and the steps that differ on it."""

    register: str  # the register, as the first step names it
    sim_log: str  # the simulator's log file in demo-state/
    payments: list[dict[str, Any]]  # the CRM's four payments: top-up, session, bar, refund
    crash: dict[str, Any]  # crm-1005, in flight when the agent is killed
    lost: dict[str, Any]  # crm-1007, published at QoS 0 while the agent is down
    short_cash: str  # cash below the bar receipt's total
    cash_out: str  # the cash collection's amount
    app_amount: str  # the app payment the register never sees
    exceptions_title: str
    fixed_title: str

    def start_sim(self, state_file: Path) -> SimProcess:
        """Start the register simulator on ``state_file``."""

    def agent_settings(self, sim: SimProcess) -> dict[str, Any]:
        """The agent's config sections for this register (tests/support/processes.py)."""

    def result_line(self, request_id: str, result: dict[str, Any]) -> str:
        """One receipt result as the results step prints it."""

    def crash_line(self, sim: SimProcess, result: dict[str, Any]) -> str:
        """The killed receipt's result and the documents the register has under its mark."""

    def paper_out(self, rig: Rig) -> None:
        """The paper-out step, its title included."""

    def past_the_agent(self, rig: Rig) -> None:
        """With the agent stopped: a receipt printed by another program, or why there is none."""

    def adopt(self, rig: Rig, rows: list[dict[str, Any]]) -> None:
        """Take the register-only document of ``rows`` into the CRM, or say why there is none."""

    def before_z(self, rig: Rig) -> None:
        """Anything the register asks for before a Z."""

    def z_line(self, z_report: dict[str, Any]) -> str:
        """The Z report as the Z step prints it."""

    def tape(self, sim: SimProcess) -> None:
        """The tape step, its title included."""
