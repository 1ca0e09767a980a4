"""A SmartOne cashbox and an agent with the wrong merchant id: nothing prints, nothing is lost.

The agent (``fiscal-agent run``) signs every request with ``[smartone] merchant_id``; the
simulator (``firmware-sim serve --smartone``) refuses a signature made with another id (code 1)
and runs nothing. Receipts wait (accepted, pending), health says which setting is wrong; once
the agent restarts with the right id every waiting receipt prints exactly once (tape marks).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agent.drivers.errors import Disposition
from agent.drivers.smartone.errors import MERCHANT_ID_SETTING, AuthorizationRefused
from tests.support.processes import BIN, Agent, free_port, http, wait_until
from tests.support.smartone_sim import SmartOneSimProcess
from tests.support.smartone_steps import (
    FAST_SMARTONE,
    FAST_WORKER,
    WRONG_MERCHANT_ID,
    final,
    health,
    marked,
    sale,
    status,
)

pytestmark = [pytest.mark.sim, pytest.mark.timeout(90)]

AUTH_CODE = AuthorizationRefused.public_code
IDS = ("mid-1", "mid-2", "mid-3")


def test_wrong_merchant_id_waits_then_prints_each_receipt_once(
    start_smartone_sim: Any, start_agent: Any
) -> None:
    """Wrong id: pending, empty tape, degraded health naming the setting; right id: each once."""
    assert AuthorizationRefused.disposition is Disposition.WAIT  # kept, never rejected
    sim: SmartOneSimProcess = start_smartone_sim()
    agent: Agent = start_agent(
        sim,
        settings={
            "worker": FAST_WORKER,
            "smartone": {**FAST_SMARTONE, "merchant_id": WRONG_MERCHANT_ID},
        },
    )
    for number, request_id in enumerate(IDS):
        code, body = http("POST", f"{agent.base}/receipts", sale(request_id, 150 + number))
        assert (code, body["status"]) == (202, "pending"), body

    degraded = wait_until(
        lambda: (h := health(agent))["register"].get("error") == AUTH_CODE and h,
        timeout_s=15,
        what="health to name the refused signature",
    )
    assert degraded["state"] == "degraded"
    assert degraded["outbox"]["pending"] == len(IDS)
    assert MERCHANT_ID_SETTING == "[smartone] merchant_id"
    assert MERCHANT_ID_SETTING in degraded["last_error"]["message"]
    assert degraded["last_error"]["code"] == AUTH_CODE
    waiting = [status(agent, request_id) for request_id in IDS]
    assert [body["status"] for body in waiting] == ["pending"] * len(IDS), waiting
    # The head of the line carries the reason it waits; the others wait behind it.
    assert waiting[0]["error"]["code"] == AUTH_CODE
    assert MERCHANT_ID_SETTING in waiting[0]["error"]["message"]
    # Refused before anything ran: no shift, no receipt, no cash movement.
    assert [doc["type"] for doc in sim.tape_all()] == ["registration"]
    assert sim.state()["shift"]["open"] is False
    # A secret: the configured id never shows whole in the agent's log.
    assert WRONG_MERCHANT_ID not in (agent.workdir / "agent.log").read_text()

    agent.stop()
    agent.settings["smartone"]["merchant_id"] = sim.merchant_id
    agent.start()
    results = [final(agent, request_id) for request_id in IDS]
    assert [result["status"] for result in results] == ["done"] * len(IDS)
    for request_id, result in zip(IDS, results, strict=True):
        on_tape = marked(sim, request_id)
        assert len(on_tape) == 1, (request_id, on_tape)
        assert result["fiscal"]["doc_id"] == on_tape[0]["doc_id"]
        assert result["fiscal"]["mark"] == request_id
    assert sorted(doc["mark"] for doc in sim.tape() if doc["type"] == "receipt") == sorted(IDS)
    online = wait_until(
        lambda: (h := health(agent))["state"] == "online" and h,
        timeout_s=10,
        what="health to be online with the right merchant id",
    )
    assert online["register"].get("error") is None
    assert online["outbox"]["pending"] == 0


def _doctor_config(tmp_path: Path, url: str, merchant_id: str) -> Path:
    path = tmp_path / "doctor.toml"
    path.write_text(
        f'club = "club-1"\nagent = "desk-1"\ncountry = "AZ"\n'
        f'state_dir = "{tmp_path / "doctor-state"}"\n'
        f'[register]\nprotocol = "smartone"\ntz = "Asia/Baku"\n'
        f'[smartone]\nurl = "{url}"\nmerchant_id = "{merchant_id}"\nread_timeout_s = 3\n'
        f'[mqtt]\nurl = "mqtt://127.0.0.1:{free_port()}"\n'
        f'[http]\nlisten = "127.0.0.1:{free_port()}"\n',
        encoding="utf-8",
    )
    return path


def _doctor_checks(config: Path) -> dict[str, dict[str, Any]]:
    result = subprocess.run(
        [str(BIN / "fiscal-agent"), "doctor", "--config", str(config), "--lang", "en", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert not result.stderr, result.stderr
    return {check["check"]: check for check in json.loads(result.stdout)["checks"]}


def test_doctor_names_the_wrong_merchant_id(start_smartone_sim: Any, tmp_path: Path) -> None:
    """With the agent stopped, the doctor reads the cashbox and names the setting to fix."""
    sim: SmartOneSimProcess = start_smartone_sim()
    checks = _doctor_checks(_doctor_config(tmp_path, sim.url, WRONG_MERCHANT_ID))
    assert checks["port"]["status"] == "pass", checks["port"]
    register = checks["register"]
    assert register["status"] == "fail", register
    assert register["code"] == AUTH_CODE
    assert MERCHANT_ID_SETTING in register["finding"] + " ".join(register["advice"])
    right = _doctor_checks(_doctor_config(tmp_path, sim.url, sim.merchant_id))
    assert right["register"]["status"] == "pass", right["register"]
