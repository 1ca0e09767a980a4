"""ATOL's request queue: requests by uuid, task statuses and the block (docs/atol-web-notes.md §2).

Pure bookkeeping, no I/O: the web server adds requests, the worker takes the next waiting
task and records its outcome, the recovery tick resolves a block. A request's JSON form
(:meth:`AtolRequest.to_json`) is what the state file keeps, so uuids survive a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from firmware_sim.atol.errors import AtolCode, AtolError, description
from firmware_sim.atol.tasks import FISCAL_TASKS

__all__ = [
    "AtolRequest",
    "BadRequest",
    "Block",
    "NotCancelable",
    "RequestQueue",
    "TaskEntry",
    "TaskStatus",
    "parse_request",
]


class TaskStatus(Enum):
    """A task's status string on the wire."""

    WAIT = "wait"
    IN_PROGRESS = "inProgress"
    READY = "ready"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    BLOCKED = "blocked"
    CANCELED = "canceled"


FINAL = frozenset({TaskStatus.READY, TaskStatus.ERROR, TaskStatus.INTERRUPTED, TaskStatus.CANCELED})


class BadRequest(Exception):
    """HTTP 400: the body is not a request ATOL's server would queue."""


class NotCancelable(Exception):
    """DELETE of a request whose tasks are not all waiting."""


@dataclass(slots=True, kw_only=True)
class TaskEntry:
    """One task of a request and what became of it."""

    task: dict[str, Any]
    status: TaskStatus = TaskStatus.WAIT
    code: int = 0
    text: str = ""
    result: dict[str, Any] | None = None
    fd_before: int | None = None  # the FN's last FD read before a fiscal task ran

    @property
    def type(self) -> str:
        """The task's ``type``."""
        return str(self.task.get("type"))

    @property
    def is_fiscal(self) -> bool:
        """ATOL's server counts it as fiscal (one per request; blocks on link errors)."""
        return self.type in FISCAL_TASKS

    def finish(self, status: TaskStatus, error: AtolError | None = None) -> None:
        """Record the outcome (no error: code 0)."""
        self.status = status
        self.code = 0 if error is None else error.code
        self.text = description(0) if error is None else error.description

    def as_json(self, *, flat: bool = False) -> dict[str, Any]:
        """The ``results[i]`` entry: v2 nests the error, v1 (``flat``) has errorCode fields."""
        text = self.text or description(self.code)
        out: dict[str, Any] = {"status": self.status.value}
        if flat:
            out |= {"errorCode": self.code, "errorDescription": text}
        else:
            out["error"] = {"code": self.code, "description": text}
        if self.result is not None and self.status is TaskStatus.READY:
            out["result"] = self.result
        return out

    def to_json(self) -> dict[str, Any]:
        """The entry as the state file keeps it."""
        return {
            "task": self.task,
            "status": self.status.value,
            "code": self.code,
            "text": self.text,
            "result": self.result,
            "fd_before": self.fd_before,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TaskEntry:
        """Rebuild an entry from :meth:`to_json`."""
        return cls(
            task=raw["task"],
            status=TaskStatus(raw["status"]),
            code=raw["code"],
            text=raw["text"],
            result=raw["result"],
            fd_before=raw["fd_before"],
        )


@dataclass(slots=True, kw_only=True)
class AtolRequest:
    """A POSTed request: its uuid, its running number and its tasks in order."""

    uuid: str
    number: int
    tasks: list[TaskEntry]

    @property
    def is_done(self) -> bool:
        """Every task is final."""
        return all(entry.status in FINAL for entry in self.tasks)

    def interrupt_after(self, index: int) -> None:
        """Tasks after ``index`` end interrupted (502): an earlier task failed."""
        for entry in self.tasks[index + 1 :]:
            if entry.status is TaskStatus.WAIT:
                entry.finish(
                    TaskStatus.INTERRUPTED, AtolError(AtolCode.INTERRUPTED_BY_PREVIOUS_ERRORS)
                )

    def to_json(self) -> dict[str, Any]:
        """The request as the state file keeps it."""
        return {
            "uuid": self.uuid,
            "number": self.number,
            "tasks": [t.to_json() for t in self.tasks],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> AtolRequest:
        """Rebuild a request from :meth:`to_json`."""
        return cls(
            uuid=raw["uuid"],
            number=raw["number"],
            tasks=[TaskEntry.from_json(t) for t in raw["tasks"]],
        )


def parse_request(body: Any) -> tuple[str, list[dict[str, Any]]]:  # noqa: ANN401 - JSON
    """The uuid and tasks of a POST body; BadRequest as ATOL's server answers 400."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    uuid = body.get("uuid")
    if not isinstance(uuid, str) or not uuid:
        raise BadRequest("uuid is required")
    tasks = body.get("request")
    if isinstance(tasks, dict):
        tasks = [tasks]  # a single task is wrapped, as ATOL's server does
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, dict) for t in tasks):
        raise BadRequest("request must be a task or a non-empty list of tasks")
    fiscal = sum(1 for task in tasks if str(task.get("type")) in FISCAL_TASKS)
    if fiscal > 1:
        raise BadRequest(f"Too many fiscal sub-tasks - {fiscal}")
    return uuid, tasks


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """The queue is stopped on a fiscal task whose outcome is unknown."""

    uuid: str
    index: int
    fd_before: int
    code: int  # the error that blocked it; the task ends with it if no document appeared
    reason: str  # connectionError, fnError, ...


@dataclass(slots=True)
class RequestQueue:
    """Requests by uuid in arrival order, and the block if any."""

    requests: dict[str, AtolRequest] = field(default_factory=dict)
    block: Block | None = None
    counter: int = 0

    def add(self, uuid: str, tasks: list[dict[str, Any]]) -> AtolRequest | None:
        """Queue a request; None when the uuid is known (HTTP 409, the first one untouched)."""
        if uuid in self.requests:
            return None
        self.counter += 1
        request = AtolRequest(
            uuid=uuid, number=self.counter, tasks=[TaskEntry(task=task) for task in tasks]
        )
        self.requests[uuid] = request
        return request

    def restore(self, request: AtolRequest) -> None:
        """Put back a request read from the state file."""
        self.requests[request.uuid] = request
        self.counter = max(self.counter, request.number)

    def cancel(self, uuid: str) -> AtolRequest:
        """Cancel a request whose tasks all wait; KeyError unknown, NotCancelable otherwise."""
        request = self.requests[uuid]
        if not all(entry.status is TaskStatus.WAIT for entry in request.tasks):
            raise NotCancelable(uuid)
        for entry in request.tasks:
            entry.finish(TaskStatus.CANCELED, AtolError(AtolCode.CANCELED))
        return request

    def next_task(self) -> tuple[AtolRequest, int] | None:
        """The first waiting task in arrival order; None while blocked or idle."""
        if self.block is not None:
            return None
        for request in self.requests.values():
            for index, entry in enumerate(request.tasks):
                if entry.status is TaskStatus.WAIT:
                    return request, index
                if entry.status not in FINAL:
                    break
        return None

    def pending(self) -> int:
        """Unfinished requests (waiting and the blocked one)."""
        return sum(1 for request in self.requests.values() if not request.is_done)

    def status_json(self) -> dict[str, Any]:
        """``getRequestsQueueStatus``."""
        done = [r for r in self.requests.values() if r.is_done]
        return {
            "number": self.pending(),
            "ready": sum(1 for r in done if r.tasks[0].status is not TaskStatus.CANCELED),
            "canceled": sum(1 for r in done if r.tasks[0].status is TaskStatus.CANCELED),
            **self.block_json(),
        }

    def block_json(self) -> dict[str, Any]:
        """``isBlocked``, ``blockedUUID``, ``blockReason``."""
        block = self.block
        return {
            "isBlocked": block is not None,
            "blockedUUID": None if block is None else block.uuid,
            "blockReason": None if block is None else block.reason,
        }
