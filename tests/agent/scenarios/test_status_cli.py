"""``fiscal-agent status``: one screen for a person on site, from the running agent."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.support.processes import BIN, http

pytestmark = [pytest.mark.sim, pytest.mark.timeout(60)]


def _status(agent: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "fiscal-agent"), "status", "--config", str(agent.workdir / "agent.toml"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def test_status_shows_register_shift_fn_and_queues(start_sim: Any, start_agent: Any) -> None:
    """A healthy agent: exit 0 and every line a support engineer looks for."""
    sim = start_sim()
    agent = start_agent(sim)
    assert http("POST", f"{agent.base}/shift", {"action": "open"})[0] == 200
    result = _status(agent)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("agent     online")
    assert "link up" in lines[1]
    assert "ШТРИХ-М-01Ф" in lines[1]
    assert lines[2].startswith("shift     #1 open")
    assert "9999078900012345" in lines[3]
    assert "valid until" in lines[3]
    assert lines[4].startswith("outbox    0 waiting")


def test_status_says_why_when_the_register_has_no_paper(start_sim: Any, start_agent: Any) -> None:
    """Paper out: exit 1 and the problem named on the register line."""
    sim = start_sim()
    agent = start_agent(sim)
    sim.post("/paper/out")
    http("POST", f"{agent.base}/shift", {"action": "open"})
    result = _status(agent)
    assert result.returncode == 1
    assert "PROBLEM: paper_out" in result.stdout


def test_status_without_a_running_agent_says_so(start_sim: Any, start_agent: Any) -> None:
    """The agent is down: exit 1 and a hint where to look."""
    sim = start_sim()
    agent = start_agent(sim)
    agent.stop()
    result = _status(agent)
    assert result.returncode == 1
    assert "not answering" in result.stdout
    assert "systemctl status fiscal-agent" in result.stdout
