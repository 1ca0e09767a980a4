"""The outbox row state machine: exactly the allowed moves, everything else refused."""

from __future__ import annotations

import itertools

import pytest

from agent.outbox.states import (
    ACTIVE_STATES,
    FINAL_STATES,
    IllegalTransition,
    RowEvent,
    RowKind,
    RowState,
    allowed_events,
    transition,
)

S = RowState
E = RowEvent

ALLOWED = {
    (S.PENDING, E.PRINT): S.PRINTING,
    (S.PENDING, E.REJECT): S.REJECTED,
    (S.PENDING, E.FAIL): S.FAILED,
    (S.PENDING, E.ATTEMPT): S.PENDING,
    (S.PRINTING, E.ISSUE): S.DONE,
    (S.PRINTING, E.REJECT): S.REJECTED,
    (S.PRINTING, E.FAIL): S.FAILED,
    (S.PRINTING, E.LOSE_TRACK): S.UNKNOWN,
    (S.PRINTING, E.RELEASE): S.PENDING,
    (S.PRINTING, E.ATTEMPT): S.PRINTING,
    (S.UNKNOWN, E.ISSUE): S.DONE,
    (S.UNKNOWN, E.FAIL): S.FAILED,
    (S.UNKNOWN, E.SETTLE_NOT_ISSUED): S.PENDING,
    (S.FAILED, E.RESUBMIT): S.PENDING,
}


@pytest.mark.parametrize(("source", "event"), list(ALLOWED), ids=lambda v: v.value)
def test_transition_allowed_moves(source: RowState, event: RowEvent) -> None:
    """Each allowed (state, event) pair leads to its documented state."""
    assert transition(source, event) is ALLOWED[source, event]


ILLEGAL = [pair for pair in itertools.product(RowState, RowEvent) if pair not in ALLOWED]


@pytest.mark.parametrize(("source", "event"), ILLEGAL, ids=lambda v: v.value)
def test_transition_illegal_moves_raise(source: RowState, event: RowEvent) -> None:
    """Every other pair raises IllegalTransition carrying the state and the event."""
    with pytest.raises(IllegalTransition) as info:
        transition(source, event)
    assert (info.value.state, info.value.event) == (source, event)
    assert source.value in str(info.value)


@pytest.mark.parametrize("state", [S.DONE, S.REJECTED])
def test_transition_done_and_rejected_accept_nothing(state: RowState) -> None:
    """done and rejected never change again."""
    assert state.is_final
    assert allowed_events(state) == frozenset()


def test_transition_failed_is_taken_again_only_when_resent() -> None:
    """failed changes only when the same request is sent again: it is pending once more."""
    assert S.FAILED in FINAL_STATES
    assert allowed_events(S.FAILED) == {E.RESUBMIT}
    assert transition(S.FAILED, E.RESUBMIT) is S.PENDING


def test_transition_unknown_is_never_printed_again_automatically() -> None:
    """An unknown row leaves only by a person's settlement: done, failed, or not issued."""
    assert not RowState.UNKNOWN.is_final
    assert allowed_events(RowState.UNKNOWN) == {E.ISSUE, E.FAIL, E.SETTLE_NOT_ISSUED}
    assert transition(RowState.UNKNOWN, E.ISSUE) is S.DONE
    assert transition(RowState.UNKNOWN, E.FAIL) is S.FAILED
    assert transition(RowState.UNKNOWN, E.SETTLE_NOT_ISSUED) is S.PENDING


def test_transition_done_only_from_printing_or_unknown() -> None:
    """A document is recorded only after an intent was stored (or a person resolved it)."""
    sources = {source for (source, _), target in ALLOWED.items() if target is S.DONE}
    assert sources == {S.PRINTING, S.UNKNOWN}


def test_row_state_values_are_contract_statuses() -> None:
    """State values are the contract's status names; kinds are receipt and cash."""
    assert {state.value for state in RowState} == {
        "pending",
        "printing",
        "done",
        "rejected",
        "failed",
        "unknown",
    }
    assert {S.PENDING, S.PRINTING} == ACTIVE_STATES
    assert {kind.value for kind in RowKind} == {"receipt", "cash"}
