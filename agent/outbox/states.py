"""The outbox row's life: an enum of states and one pure transition function.

::

    pending ──print──▶ printing ──issue──▶ done
       │  ▲               │ │ │
       │  └───release─────┘ │ └──reject──▶ rejected   (the register refused the data)
       │                    ├────fail────▶ failed
       │                    └─lose_track─▶ unknown ──issue──▶ done     (a person resolved it)
       ├──reject──▶ rejected                        ├──fail───▶ failed
       │                                            └──settle_not_issued──▶ pending
       └──fail────▶ failed   (given up before anything was sent: nothing was issued)

    failed ──resubmit──▶ pending   (the same request sent again: taken again)

``release`` is crash recovery finding that nothing was issued: the row is printed again.
``settle_not_issued`` is a person deciding that an unknown row was not issued: printed again.
``resubmit`` takes a failed row again when its request is sent again with the same content
(nothing was issued for it, so printing it now is how "issue the receipt again" works).
``attempt`` records a failed attempt and keeps the state (pending or printing only).
``done`` and ``rejected`` are final; ``failed`` is final unless the same request comes again;
``unknown`` waits for a person and is never printed again automatically.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

__all__ = [
    "ACTIVE_STATES",
    "FINAL_STATES",
    "IllegalTransition",
    "RowEvent",
    "RowKind",
    "RowState",
    "allowed_events",
    "transition",
]


class RowKind(Enum):
    """What the row asks the register for."""

    RECEIPT = "receipt"
    CASH = "cash"


class RowState(Enum):
    """Where a row is; the values are the contract's status names."""

    PENDING = "pending"
    PRINTING = "printing"
    DONE = "done"
    REJECTED = "rejected"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        """Done, rejected or failed: the outcome will not change."""
        return self in FINAL_STATES


class RowEvent(Enum):
    """What happened to a row."""

    PRINT = "print"  # the intent is recorded; the request is about to be sent
    ISSUE = "issue"  # the FN signed the document
    REJECT = "reject"  # the request is bad; never retried
    FAIL = "fail"  # given up
    LOSE_TRACK = "lose_track"  # cannot tell whether a document was issued
    RELEASE = "release"  # recovery found nothing issued: print again
    ATTEMPT = "attempt"  # an attempt failed; the state stays
    SETTLE_NOT_ISSUED = "settle_not_issued"  # a person found no document: print again
    RESUBMIT = "resubmit"  # a failed request sent again: take it again


FINAL_STATES: Final = frozenset({RowState.DONE, RowState.REJECTED, RowState.FAILED})
ACTIVE_STATES: Final = frozenset({RowState.PENDING, RowState.PRINTING})
"""Rows waiting for the register: they count against the outbox bound."""

_TRANSITIONS: Final[dict[tuple[RowState, RowEvent], RowState]] = {
    (RowState.PENDING, RowEvent.PRINT): RowState.PRINTING,
    (RowState.PENDING, RowEvent.REJECT): RowState.REJECTED,
    (RowState.PENDING, RowEvent.FAIL): RowState.FAILED,
    (RowState.PENDING, RowEvent.ATTEMPT): RowState.PENDING,
    (RowState.PRINTING, RowEvent.ISSUE): RowState.DONE,
    (RowState.PRINTING, RowEvent.REJECT): RowState.REJECTED,
    (RowState.PRINTING, RowEvent.FAIL): RowState.FAILED,
    (RowState.PRINTING, RowEvent.LOSE_TRACK): RowState.UNKNOWN,
    (RowState.PRINTING, RowEvent.RELEASE): RowState.PENDING,
    (RowState.PRINTING, RowEvent.ATTEMPT): RowState.PRINTING,
    (RowState.UNKNOWN, RowEvent.ISSUE): RowState.DONE,
    (RowState.UNKNOWN, RowEvent.FAIL): RowState.FAILED,
    (RowState.UNKNOWN, RowEvent.SETTLE_NOT_ISSUED): RowState.PENDING,
    (RowState.FAILED, RowEvent.RESUBMIT): RowState.PENDING,
}


class IllegalTransition(Exception):
    """The event is not allowed in the row's state (a bug or a race, never bad input)."""

    def __init__(self, state: RowState, event: RowEvent, row_id: str | None = None) -> None:
        self.state = state
        self.event = event
        self.row_id = row_id
        which = f"row {row_id} " if row_id is not None else ""
        super().__init__(f"{which}cannot {event.value} in state {state.value}")


def transition(state: RowState, event: RowEvent) -> RowState:
    """The state after ``event``; raises :class:`IllegalTransition` when it is not allowed."""
    try:
        return _TRANSITIONS[state, event]
    except KeyError:
        raise IllegalTransition(state, event) from None


def allowed_events(state: RowState) -> frozenset[RowEvent]:
    """The events ``state`` accepts."""
    return frozenset(event for (source, event) in _TRANSITIONS if source is state)
