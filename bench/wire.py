"""Register round trips and bytes on the wire, counted on the simulator's side.

Round trips come from firmware-sim's link counters (``link`` in GET /state of its control
API, docs/simulator.md): ``commands`` goes up by one per request frame the register
executed, so a measured run needs nothing extra.

Bytes need the frames' sizes, which firmware-sim logs only with ``--log-level debug`` (one
``frame`` record per request, ``<<``, and per answer, ``>>``). A separate short run with the
simulator at debug gives them; the measured runs keep it at info. On a clean line each round
trip is, with n and m the request's and the answer's payload lengths::

    host -> register   ENQ, STX LEN <n bytes> LRC, ACK to the answer     n + 5
    register -> host   NAK to the ENQ, ACK to the frame, STX LEN <m> LRC  m + 5

that is, frames plus two bytes per ENQ (the ENQ and its one-byte reply, from the ``enq``
counter) plus two per round trip (the ACK to each frame, both ways). A window with resends,
bad frames, byte timeouts or garbage is reported as not clean and its byte count left out.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import Simulator

__all__ = ["DEBUG_ARGS", "WireCount", "WireMark", "WireMeter"]

DEBUG_ARGS = ("--log-level", "debug", "--log-format", "json")
"""firmware-sim arguments that log every frame, for the short run that counts bytes."""

FRAME_OVERHEAD = 3  # STX, LEN, LRC
UNCLEAN = ("resent", "bad_frames", "timeouts", "garbage_bytes")


@dataclass(frozen=True, slots=True)
class WireMark:
    """The simulator's link counters, and how many frames it had logged, at one moment."""

    link: dict[str, int]
    frame_bytes: int | None  # sum of (payload + STX LEN LRC) over logged frames; None: not logged


@dataclass(frozen=True, slots=True)
class WireCount:
    """What crossed the line between two marks."""

    round_trips: int
    wire_bytes: int | None  # None: frames not logged, or the line was not clean
    is_clean: bool


class WireMeter:
    """Marks on one simulator; :meth:`since` turns two marks into a :class:`WireCount`."""

    def __init__(self, sim: Simulator, *, logs_frames: bool) -> None:
        self._sim = sim
        self._logs_frames = logs_frames

    def settle(self, *, quiet_s: float = 0.3, timeout_s: float = 10.0) -> None:
        """Wait until the register has seen no command for ``quiet_s`` (the host is idle)."""
        deadline = time.monotonic() + timeout_s
        last = self._link()["commands"]
        while time.monotonic() < deadline:
            time.sleep(quiet_s)
            now = self._link()["commands"]
            if now == last:
                return
            last = now
        msg = f"the register kept getting commands for {timeout_s} s"
        raise TimeoutError(msg)

    def mark(self) -> WireMark:
        """The counters now; call it while the host is idle (after :meth:`settle`)."""
        frame_bytes = self._frame_bytes() if self._logs_frames else None
        return WireMark(link=self._link(), frame_bytes=frame_bytes)

    def since(self, start: WireMark) -> WireCount:
        """Round trips and bytes from ``start`` to now."""
        end = self.mark()
        delta = {key: end.link[key] - start.link[key] for key in end.link}
        is_clean = all(delta[key] == 0 for key in UNCLEAN)
        wire_bytes = None
        if is_clean and end.frame_bytes is not None and start.frame_bytes is not None:
            handshake = 2 * delta["enq"] + 2 * delta["commands"]
            wire_bytes = end.frame_bytes - start.frame_bytes + handshake
        return WireCount(round_trips=delta["commands"], wire_bytes=wire_bytes, is_clean=is_clean)

    def _link(self) -> dict[str, int]:
        link: dict[str, int] = self._sim.state()["link"]
        return link

    def _frame_bytes(self) -> int:
        assert self._sim.log_file is not None
        total = 0
        for line in Path(self._sim.log_file).read_text().splitlines():
            if '"frame"' not in line:
                continue
            record = json.loads(line)
            if record.get("event") == "frame":
                total += len(record["hex"].split()) + FRAME_OVERHEAD
        return total
