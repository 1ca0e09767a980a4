"""What every ``firmware-sim serve`` loop does: stop on a signal, serve the control API.

:func:`stop_on_signals` gives the event SIGTERM/SIGINT set; :func:`serve_control` starts the
control API (``--control``) and prints ``control http://HOST:PORT``. Both tie what they start
to the loop's exit stack. aiohttp is imported only when the control API starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from firmware_sim.control import AnySimulator

__all__ = ["serve_control", "stop_on_signals"]


def stop_on_signals(stack: contextlib.AsyncExitStack) -> asyncio.Event:
    """The event SIGTERM or SIGINT sets; the handlers go when ``stack`` closes."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
        stack.callback(loop.remove_signal_handler, signum)
    return stop


async def serve_control(
    stack: contextlib.AsyncExitStack,
    sim: AnySimulator,
    control: tuple[str, int] | None,
    out: IO[str],
) -> None:
    """With ``control`` (``--control HOST:PORT``): serve the control API and print its URL."""
    if control is None:
        return
    from firmware_sim.control import start_control  # noqa: PLC0415 - control imports the front ends

    runner, (host, port) = await start_control(sim, *control)
    stack.push_async_callback(runner.cleanup)
    out.write(f"control http://{host}:{port}\n")
    out.flush()
