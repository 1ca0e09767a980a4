"""``fiscal-agent status``: one screen for a person on site, from the running agent."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from tests.support.processes import BIN, http, wait_until

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
    # The HTTP API answers before the driver has connected to the register; until then a
    # shift command is 503 (seen on a loaded machine). A healthy agent says online first.
    wait_until(
        lambda: http("GET", f"{agent.base}/health")[1].get("state") == "online",
        timeout_s=20,
        what="the agent online",
    )
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
    # Health re-reads the register when its snapshot is older than 2 s (HEALTH_SNAPSHOT_MAX_AGE_S).
    result = wait_until(
        lambda: (r := _status(agent)).returncode == 1 and r,
        timeout_s=10,
        what="status to see the paper out",
    )
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


def test_health_flags_a_register_clock_that_is_off(start_sim: Any, start_agent: Any) -> None:
    """A register clock an hour ahead: health degraded with clock_skew, and the skew shown."""
    sim = start_sim()
    agent = start_agent(sim)
    healthy = wait_until(
        lambda: (h := http("GET", f"{agent.base}/health")[1])["register"].get("clock") and h,
        timeout_s=20,
        what="the first register snapshot",
    )
    assert abs(healthy["register"]["clock_skew_s"]) < 5
    assert healthy["state"] == "online"
    sim.post("/clock/advance", {"seconds": 3600})
    # Health answers from the last snapshot while the register is busy (here: the start-up
    # guard), so the new clock shows up with the next snapshot.
    health = wait_until(
        lambda: (h := http("GET", f"{agent.base}/health")[1])["state"] == "degraded" and h,
        timeout_s=10,
        what="health to see the clock",
    )
    assert health["register"]["error"] == "clock_skew"
    assert 3590 < health["register"]["clock_skew_s"] < 3610
    result = _status(agent)
    assert "PROBLEM: clock_skew" in result.stdout
    shown = re.search(r"clock ([+-]\d+) s vs this host", result.stdout)
    assert shown is not None, result.stdout
    assert 3590 < int(shown.group(1)) < 3610
