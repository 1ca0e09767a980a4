"""``firmware-sim serve --smartone HOST:PORT --merchant-id ID``: the SmartOne cash box.

Prints ``http://HOST:PORT`` (the real port) first, then ``control http://HOST:PORT`` with
``--control``; serves until SIGTERM/SIGINT. The state file is the one the other front ends use
(the register's tape, counters, shift, clock), plus the SmartOne documents in a table of
their own.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import IO

import structlog

from firmware_sim.register import Register
from firmware_sim.server import ServeParams, load_state
from firmware_sim.smartone.doc_store import DocStore
from firmware_sim.smartone.faults import SmartOneFaults
from firmware_sim.smartone.settings import SmartOneSettings
from firmware_sim.smartone.simulator import SmartOneSimulator
from firmware_sim.smartone.web import make_smartone_app
from firmware_sim.web_serve import WebFrontEnd, serve_web_front_end

__all__ = ["build_smartone_simulator", "run_smartone"]

log = structlog.get_logger("firmware_sim.smartone")


def build_smartone_simulator(params: ServeParams, settings: SmartOneSettings) -> SmartOneSimulator:
    """The register (restored from the state file, if any) behind the cash box."""
    config, store, state = load_state(params)
    register = Register(config=config, state=state)
    if params.shift_age_s is not None:
        if register.state.is_shift_open:
            log.warning("--shift-age ignored: the state file has a shift open")
        else:
            register.start_aged_shift(datetime.now(UTC), params.shift_age_s)
    register.ensure_registered(datetime.now(UTC))
    if store is not None:
        store.save(register.state)
    docs = None if params.state_path is None else DocStore(params.state_path)
    sim = SmartOneSimulator(
        register=register,
        settings=settings,
        store=store,
        docs=docs,
        faults=SmartOneFaults(answer_delay_ms=params.answer_delay_ms),
    )
    sim.box.has_paper = not params.paper_out
    return sim


async def run_smartone(
    params: ServeParams,
    settings: SmartOneSettings,
    address: tuple[str, int],
    *,
    out: IO[str] = sys.stdout,
) -> int:
    """Serve the cash box's HTTP API until SIGTERM/SIGINT."""
    sim = build_smartone_simulator(params, settings)
    front = WebFrontEnd(
        sim=sim,
        app=make_smartone_app(sim),
        address=address,
        stop=sim.stop,
        closers=tuple(f.close for f in (sim.store, sim.docs) if f is not None),
    )
    fields = {"serial": sim.register.config.serial}
    return await serve_web_front_end(
        front, params.control, out=out, log=log, serving="serving SmartOne", fields=fields
    )
