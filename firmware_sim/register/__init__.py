"""The protocol-neutral register and FN model every front end drives.

``core`` holds the state (shift, clock, FN tape with marks, money and operating registers,
drawer, paper) and the steps that change it; ``model`` the checked operations
(:class:`Register`); ``refusals`` the neutral reasons (:class:`Reason`) a front end maps to
its own error codes. Pure: no I/O (an import-linter contract keeps asyncio, sqlite3,
aiohttp, serial, os and socket out). Front ends: ``firmware_sim.device`` (Shtrih-M wire)
and ``firmware_sim.atol`` (ATOL driver v10 web server).
"""

from firmware_sim.register.model import Register, ShiftState, ShiftStatus
from firmware_sim.register.refusals import Reason, RegisterRefusal

__all__ = ["Reason", "Register", "RegisterRefusal", "ShiftState", "ShiftStatus"]
