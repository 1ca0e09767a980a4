"""Fixtures for scenario and soak tests: simulator (Shtrih on a pty, or ATOL web) and agent processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.atol_sim import AtolSimProcess
from tests.support.processes import PROTOCOLS, Agent, Simulator
from tests.support.smartone_sim import SmartOneSimProcess


def _starting(make: Callable[[int, list[str]], Any]) -> Iterator[Any]:
    """A fixture's ``start(*args)``: ``make(n, args)`` the n-th simulator and start it; every
    one started is stopped at the end."""
    started: list[Any] = []

    def start(*args: str) -> Any:
        sim = make(len(started), list(args))
        started.append(sim.start())
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def start_sim(tmp_path: Path) -> Iterator[Any]:
    """Start simulators; every one is stopped at the end."""
    yield from _starting(
        lambda n, args: Simulator(state_file=tmp_path / f"register{n}.db", extra_args=args)
    )


@pytest.fixture
def start_atol_sim(tmp_path: Path) -> Iterator[Any]:
    """Start ATOL web simulators (``--atol-web`` on a free port); all are stopped at the end."""
    yield from _starting(
        lambda n, args: AtolSimProcess(state_file=tmp_path / f"atol{n}.db", extra_args=args)
    )


@pytest.fixture
def start_smartone_sim(tmp_path: Path) -> Iterator[Any]:
    """Start SmartOne cashbox simulators on free ports; all are stopped at the end."""
    yield from _starting(
        lambda n, args: SmartOneSimProcess(state_file=tmp_path / f"smartone{n}.db", extra_args=args)
    )


@pytest.fixture
def start_register(start_sim: Any, start_atol_sim: Any) -> Any:
    """Start the simulator of one protocol: ``start_register("atol", *args)``."""

    def start(protocol: str, *args: str) -> Simulator | AtolSimProcess:
        assert protocol in PROTOCOLS, protocol
        return start_atol_sim(*args) if protocol == "atol" else start_sim(*args)

    return start


@pytest.fixture
def start_agent(tmp_path: Path) -> Iterator[Any]:
    """Start agents against a simulator (any protocol); every one is stopped at the end.

    A SmartOne agent signs with the simulator's merchant id unless ``settings["smartone"]``
    names another.
    """
    started: list[Agent] = []

    def start(sim: Simulator | AtolSimProcess | SmartOneSimProcess, **kwargs: Any) -> Agent:
        workdir = tmp_path / f"agent{len(started)}"
        workdir.mkdir()
        kwargs.setdefault("protocol", _protocol_of(sim))
        if isinstance(sim, SmartOneSimProcess):
            settings = dict(kwargs.get("settings", {}))
            settings["smartone"] = {"merchant_id": sim.merchant_id, **settings.get("smartone", {})}
            kwargs["settings"] = settings
        agent = Agent(workdir=workdir, register_url=sim.url, **kwargs)
        started.append(agent.start())
        return agent

    yield start
    for agent in started:
        agent.stop()


def _protocol_of(sim: Simulator | AtolSimProcess | SmartOneSimProcess) -> str:
    if isinstance(sim, SmartOneSimProcess):
        return "smartone"
    return "atol" if isinstance(sim, AtolSimProcess) else "shtrih"
