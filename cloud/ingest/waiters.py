"""Requests of this process waiting for an agent's answer that comes in through the ingest.

The close-shift check (cloud.shift_check) sends ``cmd/shift {"id", "action": "x_report"}`` and
waits for the answer: the ShiftReport on ``evt/shift`` whose ``request_id`` is that id, or the
command's outcome on ``evt/command`` when it did not succeed. The ingest calls
:meth:`ShiftWaiters.notify` with each batch after the store committed it, so a waiter woken
by a report finds that report in the store too.

In-process only: with several cloud instances sharing the subscriptions, the answer may reach
another instance. The check therefore also looks for the report in the store while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator

from agent.contract import CommandOutcome, ShiftReport
from cloud.ingest.parse import Parsed
from cloud.ingest.topics import Kind

__all__ = ["ShiftAnswer", "ShiftWaiters"]

ShiftAnswer = ShiftReport | CommandOutcome
"""The report asked for, or the outcome of a command that did not succeed."""

_Key = tuple[str, str, str]
_ENDED_WITHOUT_REPORT = frozenset({"rejected", "failed", "unknown"})


class ShiftWaiters:
    """Pending ``cmd/shift`` ids by club and agent, each with the future of its answer."""

    def __init__(self) -> None:
        self._pending: dict[_Key, asyncio.Future[ShiftAnswer]] = {}

    @contextlib.contextmanager
    def expect(
        self, club: str, agent: str, request_id: str
    ) -> Iterator[asyncio.Future[ShiftAnswer]]:
        """Register before sending the command; the registration ends with the block."""
        key = (club, agent, request_id)
        if key in self._pending:
            raise ValueError(f"{request_id!r} of {club}/{agent} is awaited already")
        future: asyncio.Future[ShiftAnswer] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            yield future
        finally:
            del self._pending[key]
            future.cancel()

    @property
    def pending(self) -> int:
        """How many answers are awaited now."""
        return len(self._pending)

    def notify(self, batch: Iterable[Parsed]) -> None:
        """Wake the waiters whose answer is in ``batch`` (called after the store committed it).

        A report answers its ``request_id``; an outcome answers its id only when the command
        ended without one (rejected, failed, unknown): a done x_report is answered by its
        report, and pending or printing are not ends.
        """
        if not self._pending:
            return
        for item in batch:
            source = item.source
            model = item.model
            answer: ShiftAnswer | None = None
            answer_id: str | None = None
            if source.kind is Kind.SHIFT and isinstance(model, ShiftReport):
                answer, answer_id = model, model.request_id
            elif (
                source.kind is Kind.COMMAND
                and isinstance(model, CommandOutcome)
                and model.status in _ENDED_WITHOUT_REPORT
            ):
                answer, answer_id = model, model.id
            if answer is None or answer_id is None:
                continue
            future = self._pending.get((source.club, source.agent, answer_id))
            if future is not None and not future.done():
                future.set_result(answer)
