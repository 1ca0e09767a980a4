"""The Shtrih-M front end: the register and its FN as a pure state machine, payload in, answer out.

The register itself (state, tape, registers, the neutral operations) is
``firmware_sim.register``; this package decodes Shtrih payloads, checks what only Shtrih has
(passwords, modes, submodes, its own check order), calls the model and maps the model's
neutral refusals to Shtrih error bytes (``errors``). Shift open/close, X report and cash
moves and receipt lines go through the model's checked operations; receipt closes (rounding, tax
system, correction tags) use its steps after Shtrih's own checks.

No I/O, no clock reading: the caller passes the host time with every command and the
register's own clock is ``now + clock_offset``. An import-linter contract keeps asyncio,
sqlite3, aiohttp, serial, os and socket out of this package and every module in it.

The package: ``core`` holds the state and the checks, clock and FN tape every command
shares; ``status``, ``shift``, ``receipts``, ``fn``, ``cash`` and ``table_commands`` hold
the command handlers by family, each a mixin on ``core.DeviceCore``; ``machine`` puts
them together as :class:`Device` and dispatches. Import from here.

Every command is validated completely before anything changes, so a refused command
leaves the state as it was. The checks run in one order for every command: body layout
(0x33, or FN 0x09 for ``FF xx``), password (0x4F), printer busy (0x50, 0x58), mode and
shift (0x3D, 0x4A, 0x4E, 0x55, 0x73, FN 0x02, FN 0x16), field values and money rules (0x33,
0x45, 0x46, 0x4D, 0x8E), FN life (FN 0x05), paper (0x6B).

Durability: :attr:`Device.revision` grows whenever something the store keeps changed, so
the server persists :attr:`Device.state` after such a command and before it writes the
answer (docs/shtrih-wire-notes.md and docs/simulator.md).
"""

from firmware_sim.device.core import Mode, Submode
from firmware_sim.device.machine import Device
from firmware_sim.fn_documents import fiscal_sign
from firmware_sim.state import DeviceConfig, DeviceState

__all__ = ["Device", "DeviceConfig", "DeviceState", "Mode", "Submode", "fiscal_sign"]
