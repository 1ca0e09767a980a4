"""Running tasks through the web server's queue: submit under a uuid, poll until final.

The exactly-once rules of docs/atol-driver.md §2 live here:

- A request is POSTed under its uuid and re-POSTed under the *same* uuid when an answer was
  lost; 409 means the server has it: its results are read instead.
- While a task is ``wait``, ``inProgress`` or ``blocked`` (the server is finding out whether
  a fiscal task ran) the runner keeps polling; it never makes a new uuid.
- A task with no final answer within ``task_timeout_s``, or one the server forgot, raises
  :class:`~agent.drivers.atol.errors.TaskOutcomeUnknown`: the worker stops the line and
  recovery reads the FN back by the mark.
"""

from __future__ import annotations

import asyncio
import time
import uuid as uuid_module
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import structlog

from agent.drivers.atol.codec.results import TaskResult, TaskStatus
from agent.drivers.atol.codec.tasks import FISCAL_TASKS, READ_TASKS, Task
from agent.drivers.atol.errors import TaskOutcomeUnknown, task_error
from agent.drivers.atol.params import AtolParams
from agent.drivers.atol.transport import AtolHttp, NoAnswer, Submitted
from agent.drivers.errors import DriverError, LinkDown

__all__ = ["MAX_BLOCKED_POLL_S", "Run", "TaskRunner"]

MAX_BLOCKED_POLL_S: Final = 5.0
"""Longest pause between two polls of a blocked task (the poll interval doubles up to it)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """A request's final results, and whether the driver watched it plainly run.

    ``is_doubtful``: the POST was answered 409 (the driver did not see the request start) or
    a poll saw it ``blocked`` (the server decided by the FD counter, which the agent does not
    take as proof). A receipt from a doubtful run is read back and its mark checked.
    """

    uuid: str
    results: tuple[TaskResult, ...]
    is_doubtful: bool


class TaskRunner:
    """Submits requests and waits for their results, over one :class:`AtolHttp`."""

    def __init__(
        self, http: AtolHttp, params: AtolParams, *, log: structlog.typing.FilteringBoundLogger
    ) -> None:
        self._http = http
        self._params = params
        self._log = log

    async def run(self, tasks: list[Task], *, uuid: str | None = None) -> Run:
        """Run ``tasks`` as one request (a fresh uuid unless given) and return final results.

        At most one fiscal task per request (the server refuses more). Raises LinkDown when
        the server could not be reached before anything was sent, TaskOutcomeUnknown when the
        request may be queued but no final answer came in time.
        """
        if sum(task["type"] in FISCAL_TASKS for task in tasks) > 1:
            raise ValueError("one fiscal task per request")
        key = uuid or str(uuid_module.uuid4())
        what = "+".join(str(task["type"]) for task in tasks)
        is_read = all(task["type"] in READ_TASKS for task in tasks)
        timeout_s = self._params.read_timeout_s if is_read else self._params.task_timeout_s
        deadline = time.monotonic() + timeout_s
        is_duplicate = await self._submit(key, tasks, what, deadline)
        polled = await self._poll(key, what, deadline)
        if polled is None:
            raise TaskOutcomeUnknown(what, key, "the web server forgot the request it accepted")
        results, was_blocked = polled
        return Run(uuid=key, results=results, is_doubtful=is_duplicate or was_blocked)

    async def _submit(self, key: str, tasks: list[Task], what: str, deadline: float) -> bool:
        """POST until the server has the request; re-POST the same uuid only. True on 409."""
        maybe_sent = False
        while True:
            try:
                outcome = await self._http.submit(key, tasks)
            except NoAnswer as exc:
                maybe_sent = True
                self._log.warning("atol post unanswered", uuid=key, task=what, reason=exc.reason)
            except LinkDown:
                if not maybe_sent:
                    raise  # never reached the server: nothing of this request can run
                self._log.warning("atol post refused after a lost answer", uuid=key, task=what)
            else:
                if outcome is Submitted.DUPLICATE:
                    self._log.info("atol uuid known: reading its result", uuid=key, task=what)
                return outcome is Submitted.DUPLICATE
            if time.monotonic() >= deadline:
                raise TaskOutcomeUnknown(
                    what,
                    key,
                    "the request may be queued: no answer to its POST",
                )
            await asyncio.sleep(self._params.poll_interval_s)

    async def _poll(
        self, key: str, what: str, deadline: float
    ) -> tuple[tuple[TaskResult, ...], bool] | None:
        """GET until every task is final (and whether one was seen blocked); None: no uuid."""
        pause = self._params.poll_interval_s
        was_blocked = False
        while True:
            try:
                results = await self._http.fetch(key)
            except (NoAnswer, LinkDown) as exc:
                self._log.warning("atol poll failed", uuid=key, task=what, error=str(exc))
                results = ()
            if results is None:
                return None
            if results and all(result.is_final for result in results):
                return results, was_blocked
            is_blocked = any(result.status is TaskStatus.BLOCKED for result in results)
            was_blocked = was_blocked or is_blocked
            if is_blocked:
                self._log.warning("atol queue blocked: the server is recovering", uuid=key)
            if time.monotonic() >= deadline:
                state = "blocked" if is_blocked else "not final" if results else "unreachable"
                raise TaskOutcomeUnknown(
                    what,
                    key,
                    f"still {state} at its deadline",
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_BLOCKED_POLL_S) if is_blocked else pause

    async def settle(self, keys: Iterable[str]) -> dict[str, tuple[TaskResult, ...] | None]:
        """Wait until each uuid's request is final or unknown to the server (never accepted).

        Returns each uuid's final results (None: the server has no such uuid). Raises
        LinkDown when the server cannot be reached, TaskOutcomeUnknown when a request stays
        unfinished for ``task_timeout_s``.
        """
        settled: dict[str, tuple[TaskResult, ...] | None] = {}
        for key in keys:
            deadline = time.monotonic() + self._params.task_timeout_s
            try:
                first = await self._http.fetch(key)
            except NoAnswer as exc:
                raise TaskOutcomeUnknown("settle", key, str(exc)) from exc
            if first is None or all(result.is_final for result in first):
                settled[key] = first
                continue
            polled = await self._poll(key, "settle", deadline)
            settled[key] = None if polled is None else polled[0]
        return settled

    async def run_checked(
        self, tasks: list[Task], *, uuid: str | None = None
    ) -> list[dict[str, Any] | None]:
        """:meth:`run`, then each task's ``result`` object; the first failure raised, typed."""
        return self.check(await self.run(tasks, uuid=uuid), tasks)

    def check(self, run: Run, tasks: list[Task]) -> list[dict[str, Any] | None]:
        """Each task's ``result`` object, or the first failure raised, typed."""
        error = self.first_error(run.results, run.uuid, tasks)
        if error is not None:
            raise error
        return [result.result for result in run.results]

    def first_error(
        self, results: tuple[TaskResult, ...], key: str, tasks: list[Task]
    ) -> DriverError | None:
        """The error of the first task that did not end ``ready``, typed; None when all did."""
        for result, task in zip(results, tasks, strict=False):
            if result.status is TaskStatus.READY:
                continue
            name = str(task["type"])
            if result.status is TaskStatus.ERROR:
                return task_error(
                    result.code, result.description, task=name, uuid=key, url=self._http.url
                )
            return TaskOutcomeUnknown(name, key, f"the task ended {result.status.value}")
        return None
