"""The serving loop of a web front end (``serve --atol-web``, ``serve --smartone``).

Starts the front end's web app on its address and, with ``--control``, the control API;
prints ``http://HOST:PORT`` (the real port) first, then ``control http://HOST:PORT``; serves
until SIGTERM/SIGINT, then stops the simulator and closes its files. What differs between
the front ends (the app, the files to close, a worker to start, the log line) is passed in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from aiohttp import web
from structlog.typing import FilteringBoundLogger

from firmware_sim.serving import serve_control, stop_on_signals

if TYPE_CHECKING:
    from firmware_sim.control import AnySimulator

__all__ = ["WebFrontEnd", "serve_web_front_end"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WebFrontEnd:
    """One web front end to serve: its simulator, app, address and what to close after."""

    sim: AnySimulator
    app: web.Application
    address: tuple[str, int]
    stop: Callable[[], Awaitable[None]]  # the simulator's worker, stopped before the files close
    closers: tuple[Callable[[], object], ...] = ()  # its files (state, requests/documents)
    start: Callable[[], None] | None = None  # a worker to start before serving (ATOL's queue)


async def serve_web_front_end(
    front: WebFrontEnd,
    control: tuple[str, int] | None,
    *,
    out: IO[str],
    log: FilteringBoundLogger,
    serving: str,
    fields: Mapping[str, object],
) -> int:
    """Serve ``front`` (and the control API) until SIGTERM/SIGINT; log ``serving`` once up."""
    async with contextlib.AsyncExitStack() as stack:
        stop = stop_on_signals(stack)
        for close in front.closers:
            stack.callback(close)
        if front.start is not None:
            front.start()
        stack.push_async_callback(front.stop)
        runner = web.AppRunner(front.app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        host, port = front.address
        await web.TCPSite(runner, host, port).start()
        bound = int(runner.addresses[0][1])
        out.write(f"http://{host}:{bound}\n")
        out.flush()
        await serve_control(stack, front.sim, control, out)
        log.info(serving, **fields, port=bound)
        await stop.wait()
        log.info("stopping")
    return 0
