"""``firmware-sim serve --atol-web HOST:PORT``: the ATOL web server on the shared register model.

Prints ``http://HOST:PORT`` (the real port) first, then ``control http://HOST:PORT`` with
``--control``; serves until SIGTERM/SIGINT. The state file is the one the Shtrih front end
uses (the FN tape, counters, shift, clock), plus the ATOL requests in a table of their own.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import IO

import structlog

from firmware_sim.atol.faults import AtolFaults
from firmware_sim.atol.request_store import RequestStore
from firmware_sim.atol.simulator import AtolSimulator
from firmware_sim.atol.web import make_atol_app
from firmware_sim.register import Register
from firmware_sim.server import ServeParams, load_state
from firmware_sim.web_serve import WebFrontEnd, serve_web_front_end

__all__ = ["build_atol_simulator", "run_atol"]

log = structlog.get_logger("firmware_sim.atol")


def build_atol_simulator(params: ServeParams) -> AtolSimulator:
    """The register (restored from the state file, if any) behind the ATOL queue."""
    config, store, state = load_state(params)
    register = Register(config=config, state=state)
    if params.tax_mode is not None and state is None:
        register.set_tax_mode(params.tax_mode)
    if params.shift_age_s is not None:
        if register.state.is_shift_open:
            log.warning("--shift-age ignored: the state file has a shift open")
        else:
            register.start_aged_shift(datetime.now(UTC), params.shift_age_s)
    if store is not None:
        store.save(register.state)
    register.set_paper(not params.paper_out)
    requests = None if params.state_path is None else RequestStore(params.state_path)
    return AtolSimulator(
        register=register,
        store=store,
        requests=requests,
        faults=AtolFaults(answer_delay_ms=params.answer_delay_ms),
    )


async def run_atol(params: ServeParams, *, out: IO[str] = sys.stdout) -> int:
    """Serve the ATOL web API until SIGTERM/SIGINT."""
    assert params.atol_web is not None
    sim = build_atol_simulator(params)
    front = WebFrontEnd(
        sim=sim,
        app=make_atol_app(sim),
        address=params.atol_web,
        stop=sim.stop,
        closers=tuple(f.close for f in (sim.store, sim.requests) if f is not None),
        start=sim.start,
    )
    fields = {"fn": sim.register.config.fn_serial}
    return await serve_web_front_end(
        front, params.control, out=out, log=log, serving="serving ATOL web", fields=fields
    )
