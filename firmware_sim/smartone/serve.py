"""``firmware-sim serve --smartone HOST:PORT --merchant-id ID``: the SmartOne cash box.

Prints ``http://HOST:PORT`` (the real port) first, then ``control http://HOST:PORT`` with
``--control``; serves until SIGTERM/SIGINT. The state file is the one the other front ends use
(the register's tape, counters, shift, clock), plus the SmartOne documents in a table of
their own.
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

from firmware_sim.register import Register
from firmware_sim.server import ServeParams, load_state
from firmware_sim.smartone.doc_store import DocStore
from firmware_sim.smartone.faults import SmartOneFaults
from firmware_sim.smartone.settings import SmartOneSettings
from firmware_sim.smartone.simulator import SmartOneSimulator
from firmware_sim.smartone.web import make_smartone_app

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
    from firmware_sim.control import start_control  # noqa: PLC0415 - control imports this package

    sim = build_smartone_simulator(params, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    async with contextlib.AsyncExitStack() as stack:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
            stack.callback(loop.remove_signal_handler, signum)
        if sim.store is not None:
            stack.callback(sim.store.close)
        if sim.docs is not None:
            stack.callback(sim.docs.close)
        stack.push_async_callback(sim.stop)
        runner = web.AppRunner(make_smartone_app(sim), access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        host, port = address
        await web.TCPSite(runner, host, port).start()
        bound = int(runner.addresses[0][1])
        out.write(f"http://{host}:{bound}\n")
        out.flush()
        if params.control is not None:
            control, (chost, cport) = await start_control(sim, *params.control)
            stack.push_async_callback(control.cleanup)
            out.write(f"control http://{chost}:{cport}\n")
            out.flush()
        log.info("serving SmartOne", serial=sim.register.config.serial, port=bound)
        await stop.wait()
        log.info("stopping")
    return 0
