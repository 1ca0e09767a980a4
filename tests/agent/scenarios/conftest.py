"""Scenario fixtures: a simulator process and an agent process on a real pty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import Agent, Simulator


def receipt(
    request_id: str, kopecks: int, *, pay: str = "cash", extra_cash: int = 0
) -> dict[str, Any]:
    """A one-item goods receipt of ``kopecks``, paid with ``pay``."""
    amount = kopecks + (extra_cash if pay == "cash" else 0)
    return {
        "id": request_id,
        "kind": "sale",
        "category": "goods",
        "items": [
            {
                "name": "Кофе",
                "qty": "1",
                "price": f"{kopecks // 100}.{kopecks % 100:02d}",
                "vat": "vat22",
            }
        ],
        "payments": {pay: f"{amount // 100}.{amount % 100:02d}"},
    }


@pytest.fixture
def start_sim(tmp_path: Path) -> Iterator[Any]:
    """Start simulators; every one is stopped at the end."""
    started: list[Simulator] = []

    def start(*args: str) -> Simulator:
        sim = Simulator(state_file=tmp_path / f"register{len(started)}.db", extra_args=list(args))
        started.append(sim.start())
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def start_agent(tmp_path: Path) -> Iterator[Any]:
    """Start agents against a simulator; every one is stopped at the end."""
    started: list[Agent] = []

    def start(sim: Simulator, **kwargs: Any) -> Agent:
        workdir = tmp_path / f"agent{len(started)}"
        workdir.mkdir()
        agent = Agent(workdir=workdir, register_url=sim.url, **kwargs)
        started.append(agent.start())
        return agent

    yield start
    for agent in started:
        agent.stop()
