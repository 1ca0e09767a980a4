"""``firmware-sim serve --atol-web HOST:PORT``: the ATOL web server on the shared register model.

Prints ``http://HOST:PORT`` (the real port) first, then ``control http://HOST:PORT`` with
``--control``; serves until SIGTERM/SIGINT. The state file is the one the Shtrih front end
uses (the FN tape, counters, shift, clock), plus the ATOL requests in a table of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from datetime import UTC, datetime
from typing import IO

import structlog
from aiohttp import web

from firmware_sim.atol.faults import AtolFaults
from firmware_sim.atol.request_store import RequestStore
from firmware_sim.atol.simulator import AtolSimulator
from firmware_sim.atol.web import make_atol_app
from firmware_sim.register import Register
from firmware_sim.server import ServeParams, load_state

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
    from firmware_sim.control import start_control  # noqa: PLC0415 - control imports this package

    assert params.atol_web is not None
    sim = build_atol_simulator(params)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    async with contextlib.AsyncExitStack() as stack:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
            stack.callback(loop.remove_signal_handler, signum)
        if sim.store is not None:
            stack.callback(sim.store.close)
        if sim.requests is not None:
            stack.callback(sim.requests.close)
        sim.start()
        stack.push_async_callback(sim.stop)
        runner = web.AppRunner(make_atol_app(sim), access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        host, port = params.atol_web
        await web.TCPSite(runner, host, port).start()
        bound = int(runner.addresses[0][1])
        out.write(f"http://{host}:{bound}\n")
        out.flush()
        if params.control is not None:
            control, (chost, cport) = await start_control(sim, *params.control)
            stack.push_async_callback(control.cleanup)
            out.write(f"control http://{chost}:{cport}\n")
            out.flush()
        log.info("serving ATOL web", fn=sim.register.config.fn_serial, port=bound)
        await stop.wait()
        log.info("stopping")
    return 0
