"""The ATOL web server's device worker: runs queued tasks on the register model, one at a time.

:class:`AtolSimulator` owns the register, the request queue and the faults. A task goes
``wait`` -> ``inProgress`` -> ``ready``/``error``; after an error the rest of its request is
``interrupted`` (502). A fiscal task that fails with a link or FN code (a power cut, an injected
code 2, ...) is ``blocked`` and stops the queue; the recovery tick then compares the FN's last
FD with the one read before the task: it grew -> ``ready`` with the document's fiscal params,
it did not -> ``error`` with the original code (docs/atol-web-notes.md §6).

Durability: the register's state is saved before the task's outcome, and a fiscal task's
``inProgress`` (with the FD read before it) before it runs. So after a crash a task found
``inProgress`` is a blocked one and the same recovery decides it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from firmware_sim.atol.errors import BLOCKING_CODES, AtolCode, AtolError
from firmware_sim.atol.faults import AtolFaults
from firmware_sim.atol.queue import AtolRequest, Block, RequestQueue, TaskEntry, TaskStatus
from firmware_sim.atol.request_store import RequestStore
from firmware_sim.atol.results import fiscal_params
from firmware_sim.atol.tasks import run_task
from firmware_sim.register import Register
from firmware_sim.state import RECEIPT_TYPES
from firmware_sim.store import StateStore

__all__ = ["RECOVERY_S", "AtolSimulator"]

log = structlog.get_logger("firmware_sim.atol")

RECOVERY_S = 0.5
"""How often a blocked queue re-reads the FN (ATOL's server: about 3 s)."""
_RECEIPT_TASKS = frozenset({"sell", "sellReturn", "sellCorrection", "sellReturnCorrection"})
_FN_CODES = frozenset({*range(115, 123), 124, 159, 166, 177})


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _block_reason(code: int) -> str:
    return "fnError" if code in _FN_CODES else "connectionError"


class AtolSimulator:
    """Register + queue + faults behind one lock; the web app calls it."""

    def __init__(
        self,
        *,
        register: Register,
        store: StateStore | None = None,
        requests: RequestStore | None = None,
        faults: AtolFaults | None = None,
        wall_clock: Callable[[], datetime] = _utc_now,
        recovery_s: float = RECOVERY_S,
    ) -> None:
        self.register = register
        self.store = store
        self.requests = requests
        self.faults = faults or AtolFaults()
        self.queue = RequestQueue()
        self._wall_clock = wall_clock
        self._recovery_s = recovery_s
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        if requests is not None:
            for request in requests.load():
                self._restore(request)

    def _restore(self, request: AtolRequest) -> None:
        """A request from the state file; a task caught running becomes blocked or failed."""
        self.queue.restore(request)
        for index, entry in enumerate(request.tasks):
            if entry.status is TaskStatus.IN_PROGRESS and entry.fd_before is not None:
                entry.status = TaskStatus.BLOCKED
                entry.code = AtolCode.NO_CONNECTION
            elif entry.status is TaskStatus.IN_PROGRESS:
                entry.finish(TaskStatus.ERROR, AtolError(AtolCode.NO_CONNECTION))
                request.interrupt_after(index)
            if entry.status is TaskStatus.BLOCKED and entry.fd_before is not None:
                self.queue.block = Block(
                    uuid=request.uuid,
                    index=index,
                    fd_before=entry.fd_before,
                    code=entry.code,
                    reason=_block_reason(entry.code),
                )
                request.interrupt_after(index)
        self._save_request(request)

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the device worker."""
        self._worker = asyncio.create_task(self._work(), name="firmware_sim.atol.worker")

    async def stop(self) -> None:
        """Stop the worker (a task being run is finished first)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    # ---- the web app calls these --------------------------------------------------------

    async def submit(self, uuid: str, tasks: list[dict[str, Any]]) -> AtolRequest | None:
        """Queue a request; None when the uuid is known (409)."""
        async with self._lock:
            request = self.queue.add(uuid, tasks)
            if request is not None:
                self._save_request(request)
        self._wake.set()
        return request

    async def cancel(self, uuid: str) -> AtolRequest:
        """Cancel a request whose tasks all wait (KeyError, NotCancelable)."""
        async with self._lock:
            request = self.queue.cancel(uuid)
            self._save_request(request)
        return request

    async def operation(self, task: dict[str, Any]) -> dict[str, Any] | None:
        """Run a read at once, between queued tasks (``/api/v2/operations/...``)."""
        async with self._lock:
            if not self.faults.is_powered:
                raise AtolError(AtolCode.NO_CONNECTION)
            return run_task(self.register, task, self._wall_clock())

    # ---- the worker -------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            if self.queue.block is not None:
                await self._recover()
                continue
            nxt = self.queue.next_task()
            if nxt is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            request, index = nxt
            await self._start_task(request, request.tasks[index])
            if self.faults.answer_delay_ms:
                await asyncio.sleep(self.faults.answer_delay_ms / 1000)
            async with self._lock:
                await asyncio.to_thread(self._run, request, index)

    async def _start_task(self, request: AtolRequest, entry: TaskEntry) -> None:
        async with self._lock:
            entry.status = TaskStatus.IN_PROGRESS
            if entry.is_fiscal and self.faults.is_powered:
                entry.fd_before = self.register.last_fd  # the read before a fiscal task
            self._save_request(request)

    def _run(self, request: AtolRequest, index: int) -> None:
        entry = request.tasks[index]
        error: AtolError | None = None
        result: dict[str, Any] | None = None
        if not self.faults.is_powered:
            error = AtolError(AtolCode.NO_CONNECTION)
            entry.fd_before = None  # the FN could not be read first: a plain error
        elif self.faults.take_power_cut(entry.type, after=False):
            self._cut_power()
            error = AtolError(AtolCode.NO_CONNECTION)
        elif (code := self.faults.take_refusal(entry.type, after=False)) is not None:
            error = AtolError(code)
        else:
            revision = self.register.revision
            try:
                result = run_task(self.register, entry.task, self._wall_clock())
            except AtolError as exc:
                error = exc
            if error is None and self.faults.take_paper_out(entry.type):
                self.register.paper_runs_out_while_printing()
                if result is not None and isinstance(result.get("warnings"), dict):
                    result["warnings"]["notPrinted"] = True
            if self.register.revision != revision:
                self._save_state()
            if self.faults.take_power_cut(entry.type, after=True):
                self._cut_power()
                error, result = AtolError(AtolCode.NO_CONNECTION), None
            elif (code := self.faults.take_refusal(entry.type, after=True)) is not None:
                error, result = AtolError(code), None
        self._finish(request, index, result, error)

    def _finish(
        self,
        request: AtolRequest,
        index: int,
        result: dict[str, Any] | None,
        error: AtolError | None,
    ) -> None:
        entry = request.tasks[index]
        if error is None:
            entry.result = result
            entry.finish(TaskStatus.READY)
        elif entry.is_fiscal and error.code in BLOCKING_CODES and entry.fd_before is not None:
            entry.status = TaskStatus.BLOCKED
            entry.code, entry.text = error.code, error.description
            self.queue.block = Block(
                uuid=request.uuid,
                index=index,
                fd_before=entry.fd_before,
                code=error.code,
                reason=_block_reason(error.code),
            )
            request.interrupt_after(index)
            log.warning("queue blocked", uuid=request.uuid, task=entry.type, code=int(error.code))
        else:
            entry.finish(TaskStatus.ERROR, error)
            request.interrupt_after(index)
            log.info("task failed", uuid=request.uuid, task=entry.type, code=int(error.code))
        self._save_request(request)

    async def _recover(self) -> None:
        """Re-read the FN: the blocked task ends ready (a new FD) or with its error."""
        await asyncio.sleep(self._recovery_s)
        async with self._lock:
            block = self.queue.block
            if block is None or not self.faults.is_powered:
                return
            request = self.queue.requests[block.uuid]
            entry = request.tasks[block.index]
            if self.register.last_fd > block.fd_before:
                doc = self.register.last_document(receipt_only=entry.type in _RECEIPT_TASKS)
                assert doc is not None
                if entry.type in _RECEIPT_TASKS:
                    assert doc.type in RECEIPT_TYPES
                entry.result = {
                    "fiscalParams": fiscal_params(self.register, doc),
                    "warnings": {"notPrinted": False},
                }
                entry.finish(TaskStatus.READY)
            else:
                entry.finish(TaskStatus.ERROR, AtolError(block.code))
            self.queue.block = None
            self._save_request(request)
            log.warning("queue unblocked", uuid=block.uuid, status=entry.status.value)
        self._wake.set()

    # ---- persistence ------------------------------------------------------------------------

    def _save_state(self) -> None:
        if self.store is not None:
            self.store.save(self.register.state)

    def _save_request(self, request: AtolRequest) -> None:
        if self.requests is not None:
            self.requests.save(request)

    # ---- control operations -----------------------------------------------------------------

    def _cut_power(self) -> None:
        self.faults.is_powered = False
        self.register.power_cut()
        log.warning("power cut")

    async def _mutate(self, change: Callable[[], object]) -> None:
        async with self._lock:
            revision = self.register.revision
            change()
            if self.register.revision != revision:
                self._save_state()

    async def power_cut(self) -> None:
        """Power off: the register answers nothing; an open receipt is lost."""
        await self._mutate(self._cut_power)

    async def power_back(self) -> None:
        """Power on; a blocked queue then recovers."""
        self.faults.is_powered = True
        self._wake.set()
        log.warning("power back")

    async def set_paper(self, present: bool) -> None:
        """Load or take out the paper."""
        await self._mutate(lambda: self.register.set_paper(present))

    async def set_cover(self, is_open: bool) -> None:
        """Open or close the printer cover."""
        await self._mutate(lambda: self.register.set_cover(is_open))

    async def advance_clock(self, seconds: float) -> None:
        """Move the register's clock."""
        await self._mutate(lambda: self.register.advance_clock(seconds))

    async def ofd_ack(self, through_fd: int | None) -> int:
        """The OFD acknowledged FDs up to ``through_fd`` (default: all)."""
        acked: list[int] = []
        await self._mutate(lambda: acked.append(self.register.ofd_ack(through_fd)))
        return acked[0]

    async def set_tax_mode(self, mode: int) -> None:
        """Write the tax mode."""
        await self._mutate(lambda: self.register.set_tax_mode(mode))

    async def summary(self) -> dict[str, Any]:
        """The register, the faults and the queue, for the control API's GET /state."""
        async with self._lock:
            now = self._wall_clock()
            status = self.register.shift_status(now)
            register = self.register
            state = register.state
            return {
                "front_end": "atol-web",
                "clock": status.clock.isoformat(),
                "shift": status.as_dict(),
                "receipt_open": register.receipt_open,
                "last_fd": register.last_fd,
                "unsent_docs": register.last_fd - state.ofd_acked_fd,
                "paper": register.has_paper,
                "cover_open": register.is_cover_open,
                "cash_in_drawer": register.cash_in_drawer,
                "drawer_openings": register.drawer_openings,
                "tax_mode": register.tax_mode,
                "power": self.faults.is_powered,
                "faults": self.faults.as_dict(),
                "queue": self.queue.status_json(),
            }
