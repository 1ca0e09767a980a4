"""The durable outbox on real SQLite files: commit before return, idempotency, order, bounds."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from agent.domain.money import Kopecks
from agent.domain.receipt import Correction, CorrectionType, Receipt, VatRate
from agent.drivers.interface import ReceiptRef
from agent.outbox.orders import CashDirection, CashOrder, FiscalRecord
from agent.outbox.resolver import receipt_ref
from agent.outbox.states import IllegalTransition, RowKind, RowState
from agent.outbox.store import (
    SCHEMA_VERSION,
    Outbox,
    OutboxClosed,
    RowNotFound,
    SchemaTooNew,
    SubmissionStatus,
)
from tests.support.receipts import goods_receipt

LATE_COLUMNS = ("paid_at", "correction_on", "fiscal_type")
TRY_COLUMNS = ("print_attempt",)  # version 7
DOC_ID_COLUMNS = ("fiscal_doc_id",)  # version 8
"""The columns schema version 6 added (late payments): dropped to rebuild an older file."""

MSK = timezone(timedelta(hours=3))


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _receipt(price: int = 15000) -> Receipt:
    return goods_receipt((price, VatRate.NONE))


FISCAL = FiscalRecord(
    fn="9289000100346765",
    fd=97660,
    fp=4179925410,
    shift=12,
    number=7,
    issued_at=datetime(2026, 1, 5, 12, 0, tzinfo=MSK),
    total=Kopecks(15000),
    change=Kopecks(0),
)


@pytest.fixture
def outbox(path: Path, clock: FakeClock) -> Iterator[Outbox]:
    box = Outbox(path, clock=clock, max_pending=5, retention=timedelta(days=90))
    yield box
    box.close()


def _done(outbox: Outbox, row_id: str) -> None:
    outbox.mark_printing(row_id, fn_serial=FISCAL.fn, last_fd=FISCAL.fd - 1)
    outbox.mark_done(row_id, fiscal=FISCAL)


# -- durability -------------------------------------------------------------------------------


def test_store_submit_is_committed_before_return(outbox: Outbox, path: Path) -> None:
    """A second connection sees the row as soon as submit returns ACCEPTED."""
    submission = outbox.submit_receipt("crm-1", _receipt(), "fp-1")
    assert submission.status is SubmissionStatus.ACCEPTED
    other = sqlite3.connect(path)
    try:
        rows = other.execute("SELECT id, state, fingerprint FROM outbox").fetchall()
    finally:
        other.close()
    assert rows == [("crm-1", "pending", "fp-1")]


def test_store_is_wal_with_synchronous_full(outbox: Outbox, path: Path) -> None:
    """The file is in WAL mode and the writing connection fsyncs every commit (FULL)."""
    settings = outbox.describe()
    assert settings["journal_mode"] == "wal"
    assert settings["synchronous"] == 2
    assert settings["schema_version"] == SCHEMA_VERSION
    other = sqlite3.connect(path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        other.close()


def test_store_reopen_after_close_keeps_everything(path: Path, clock: FakeClock) -> None:
    """Rows, states and fiscal results survive close and reopen, identical."""
    first = Outbox(path, clock=clock)
    first.submit_receipt("crm-1", _receipt(), "fp-1")
    first.submit_cash("cash-1", CashOrder(direction=CashDirection.IN, amount=Kopecks(50000)), "c")
    _done(first, "crm-1")
    before = first.list()
    first.close()
    second = Outbox(path, clock=clock)
    try:
        assert second.list() == before
        row = second.get("crm-1")
        assert row is not None
        assert row.fiscal == FISCAL
        assert row.fiscal.issued_at.utcoffset() == timedelta(hours=3)
        assert second.submit_receipt("crm-1", _receipt(), "fp-1").status is (
            SubmissionStatus.DUPLICATE
        )
    finally:
        second.close()


def test_store_refuses_a_newer_schema(path: Path, clock: FakeClock) -> None:
    """A file written by a newer agent is refused, not overwritten."""
    Outbox(path, clock=clock).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNew, match="upgrade the agent"):
        Outbox(path, clock=clock)


def test_store_migrates_a_version_1_file_and_keeps_its_rows(path: Path, clock: FakeClock) -> None:
    """A file from before the drawer and mark columns opens, gains them, and keeps every row."""
    first = Outbox(path, clock=clock)
    first.submit_receipt("crm-1", _receipt(), "fp-1")
    first.close()
    conn = sqlite3.connect(path)
    for column in ("drawer_before", "fiscal_mark", "settled_as", "settled_by", "settled_at"):
        conn.execute(f"ALTER TABLE outbox DROP COLUMN {column}")
    conn.execute("ALTER TABLE outbox DROP COLUMN settled_reason")
    for column in (*LATE_COLUMNS, *TRY_COLUMNS, *DOC_ID_COLUMNS):  # versions 6 and 7
        conn.execute(f"ALTER TABLE outbox DROP COLUMN {column}")
    for table in ("sync_queue", "shift_commands", "agent_meta"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    second = Outbox(path, clock=clock)
    try:
        row = second.get("crm-1")
        assert row is not None
        assert (row.state, row.drawer_before) == (RowState.PENDING, None)
        second.submit_cash(
            "cash-1", CashOrder(direction=CashDirection.IN, amount=Kopecks(100)), "c"
        )
        printing = second.mark_printing("cash-1", fn_serial=FISCAL.fn, last_fd=5, drawer=12345)
        assert printing.drawer_before == 12345
    finally:
        second.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    check.close()


def test_store_migrates_a_version_5_file_to_the_late_columns(path: Path, clock: FakeClock) -> None:
    """A file at version 5 (the sync queue's partial index) gains version 6's late columns.

    Its rows are kept, a receipt left ``printing`` stays so with no correction decided, and
    the partial index of version 5 is still there.
    """
    first = Outbox(path, clock=clock)
    first.submit_receipt("crm-1", _receipt(), "fp-1")
    first.submit_receipt("crm-2", _receipt(), "fp-2")
    first.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=5)
    first.close()
    conn = sqlite3.connect(path)
    for column in (*LATE_COLUMNS, *TRY_COLUMNS, *DOC_ID_COLUMNS):
        conn.execute(f"ALTER TABLE outbox DROP COLUMN {column}")
    conn.execute("PRAGMA user_version = 5")
    conn.commit()
    conn.close()
    second = Outbox(path, clock=clock)
    try:
        row = second.get("crm-1")
        assert row is not None
        assert row.receipt is not None
        assert (row.state, row.last_fd_before) == (RowState.PRINTING, 5)
        assert (row.receipt.paid_at, row.receipt.correction) == (None, None)
        paid_at = datetime(2025, 11, 20, 21, 30, tzinfo=MSK)
        second.submit_receipt("crm-3", replace(_receipt(), paid_at=paid_at), "fp-3")
        late = second.get("crm-3")
        assert late is not None
        assert late.receipt is not None
        assert late.receipt.paid_at == paid_at
    finally:
        second.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 8
    indexes = {
        name for (name,) in check.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    assert "sync_queue_droppable_seq" in indexes
    assert "sync_queue_droppable" not in indexes
    check.close()


def test_store_migrates_a_version_6_file_to_the_try_number(path: Path, clock: FakeClock) -> None:
    """A row left printing by a version-6 agent gains print_attempt 0: its ref is try 1."""
    first = Outbox(path, clock=clock)
    first.submit_receipt("crm-1", _receipt(), "fp-1")
    first.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=5)
    first.close()
    conn = sqlite3.connect(path)
    for column in (*TRY_COLUMNS, *DOC_ID_COLUMNS):
        conn.execute(f"ALTER TABLE outbox DROP COLUMN {column}")
    conn.execute("PRAGMA user_version = 6")
    conn.commit()
    conn.close()
    second = Outbox(path, clock=clock)
    try:
        row = second.get("crm-1")
        assert row is not None
        assert (row.state, row.print_attempt) == (RowState.PRINTING, 0)
        assert receipt_ref(row) == ReceiptRef(id="crm-1", mark="crm-1", attempt=1)
    finally:
        second.close()


def test_store_numbers_a_try_at_each_intent_and_not_at_a_failure(outbox: Outbox) -> None:
    """print_attempt grows at each pending -> printing, never at a failed attempt.

    A failure while printing keeps the try's number (the same try may still run on the
    device); only a new intent, after recovery released the row as not issued, numbers a
    new try (docs/exactly-once.md).
    """
    outbox.submit_receipt("crm-1", _receipt(), "fp-1")
    assert outbox.get("crm-1").print_attempt == 0  # type: ignore[union-attr]
    first = outbox.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=5)
    assert receipt_ref(first).attempt == 1
    failed = outbox.note_attempt("crm-1", error_code="answer_timeout", message="no answer")
    assert (failed.attempts, receipt_ref(failed).attempt) == (1, 1)
    outbox.release("crm-1")
    second = outbox.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=5)
    assert receipt_ref(second).attempt == 2
    outbox.submit_receipt("crm-2", _receipt(), "fp-2")
    done_and_next = outbox.mark_done_and_printing(
        "crm-1", fiscal=FISCAL, id="crm-2", fn_serial=FISCAL.fn, last_fd=6
    )
    assert receipt_ref(done_and_next) == ReceiptRef(id="crm-2", mark="crm-2", attempt=1)


def test_store_group_commit_keeps_the_next_receipts_correction(outbox: Outbox) -> None:
    """mark_done_and_printing stores the next intent's correction as mark_printing does."""
    outbox.submit_receipt("crm-1", _receipt(), "fp-1")
    paid_at = datetime(2025, 11, 20, 21, 30, tzinfo=MSK)
    outbox.submit_receipt("crm-2", replace(_receipt(), paid_at=paid_at), "fp-2")
    outbox.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=FISCAL.fd - 1)
    correction = Correction(type=CorrectionType.SELF, settled_on=date(2025, 11, 20))
    row = outbox.mark_done_and_printing(
        "crm-1",
        fiscal=FISCAL,
        id="crm-2",
        fn_serial=FISCAL.fn,
        last_fd=FISCAL.fd,
        correction=correction,
    )
    assert row.receipt is not None
    assert (row.state, row.receipt.correction, row.receipt.paid_at) == (
        RowState.PRINTING,
        correction,
        paid_at,
    )
    stored = outbox.in_flight()
    assert [r.id for r in stored] == ["crm-2"]
    assert stored[0].receipt is not None
    assert stored[0].receipt.correction == correction
    done = outbox.get("crm-1")
    assert done is not None
    assert done.state is RowState.DONE


def test_store_cash_intent_records_the_drawer_and_release_forgets_it(outbox: Outbox) -> None:
    """A cash movement's intent keeps the drawer's balance; sending it again clears it."""
    outbox.submit_cash("cash-1", CashOrder(direction=CashDirection.OUT, amount=Kopecks(500)), "c")
    row = outbox.mark_printing("cash-1", fn_serial=FISCAL.fn, last_fd=7, drawer=90000)
    assert (row.state, row.last_fd_before, row.drawer_before) == (RowState.PRINTING, 7, 90000)
    assert outbox.in_flight()[0].drawer_before == 90000
    released = outbox.release("cash-1")
    assert (released.state, released.drawer_before) == (RowState.PENDING, None)


def test_store_closed_raises(outbox: Outbox) -> None:
    """Using a closed outbox raises OutboxClosed; closing twice is harmless."""
    outbox.close()
    outbox.close()
    with pytest.raises(OutboxClosed):
        outbox.get("x")
    with pytest.raises(OutboxClosed):
        outbox.submit_receipt("x", _receipt(), "f")


def test_store_rejects_naive_clock(path: Path) -> None:
    """A clock without a zone is a programming error, caught at the first write."""
    box = Outbox(path, clock=lambda: datetime(2026, 1, 5, 9, 0))  # noqa: DTZ001
    try:
        with pytest.raises(ValueError, match="aware"):
            box.submit_receipt("x", _receipt(), "f")
        assert box.get("x") is None
    finally:
        box.close()


# -- idempotency ------------------------------------------------------------------------------


def test_store_duplicate_returns_the_stored_row(outbox: Outbox, clock: FakeClock) -> None:
    """The same id with the same fingerprint is DUPLICATE carrying the stored row."""
    outbox.submit_receipt("crm-1", _receipt(), "fp-1")
    _done(outbox, "crm-1")
    clock.advance(minutes=5)
    again = outbox.submit_receipt("crm-1", _receipt(), "fp-1")
    assert again.status is SubmissionStatus.DUPLICATE
    assert again.row is not None
    assert again.row.state is RowState.DONE
    assert again.row.fiscal == FISCAL
    assert len(outbox.list()) == 1


def test_store_conflict_for_other_content(outbox: Outbox) -> None:
    """The same id with another fingerprint is CONFLICT, and nothing changes."""
    outbox.submit_receipt("crm-1", _receipt(), "fp-1")
    conflict = outbox.submit_receipt("crm-1", _receipt(price=99), "fp-2")
    assert conflict.status is SubmissionStatus.CONFLICT
    row = outbox.get("crm-1")
    assert row is not None
    assert row.fingerprint == "fp-1"
    assert row.receipt == _receipt()


def test_store_ids_are_one_namespace_across_kinds(outbox: Outbox) -> None:
    """A cash command cannot reuse a receipt's id."""
    outbox.submit_receipt("crm-1", _receipt(), "fp-1")
    order = CashOrder(direction=CashDirection.OUT, amount=Kopecks(100), comment="x")
    assert outbox.submit_cash("crm-1", order, "fp-cash").status is SubmissionStatus.CONFLICT


def test_store_cash_row_roundtrip(outbox: Outbox) -> None:
    """A cash order is stored as a cash row and read back equal."""
    order = CashOrder(direction=CashDirection.OUT, amount=Kopecks(1200000), comment="инкассация")
    submission = outbox.submit_cash("cash-1", order, "fp")
    assert submission.row is not None
    assert (submission.row.kind, submission.row.cash, submission.row.receipt) == (
        RowKind.CASH,
        order,
        None,
    )


def test_store_concurrent_submits_of_one_id_store_one_row(outbox: Outbox) -> None:
    """Threads racing with one id get one ACCEPTED and DUPLICATEs, never two rows."""
    results: list[SubmissionStatus] = []
    barrier = threading.Barrier(8)

    def submit() -> None:
        barrier.wait()
        results.append(outbox.submit_receipt("crm-1", _receipt(), "fp-1").status)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status.value for status in results) == ["accepted"] + ["duplicate"] * 7
    assert len(outbox.list()) == 1


# -- state machine ----------------------------------------------------------------------------


def test_store_full_lifecycle(outbox: Outbox, clock: FakeClock) -> None:
    """pending → printing (intent with FN and last FD) → done (fiscal) with times updated."""
    accepted = outbox.submit_receipt("crm-1", _receipt(), "fp-1").row
    assert accepted is not None
    assert (accepted.state, accepted.attempts, accepted.fiscal) == (RowState.PENDING, 0, None)
    assert accepted.accepted_at == clock.now
    clock.advance(seconds=1)
    printing = outbox.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=97659)
    assert (printing.state, printing.fn_serial, printing.last_fd_before) == (
        RowState.PRINTING,
        FISCAL.fn,
        97659,
    )
    assert printing.updated_at == clock.now
    assert outbox.in_flight() == [printing]
    clock.advance(seconds=1)
    done = outbox.mark_done("crm-1", fiscal=FISCAL)
    assert (done.state, done.fiscal, done.error_code) == (RowState.DONE, FISCAL, None)
    assert done.accepted_at == accepted.accepted_at
    assert outbox.in_flight() == []


def test_store_attempts_and_release(outbox: Outbox) -> None:
    """note_attempt counts and keeps the state; release returns printing to pending."""
    outbox.submit_receipt("crm-1", _receipt(), "fp-1")
    outbox.note_attempt("crm-1", error_code="link_down", message="cable")
    outbox.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=1)
    outbox.note_attempt("crm-1", error_code="answer_timeout", message="slow")
    row = outbox.release("crm-1")
    assert (row.state, row.attempts, row.error_code) == (RowState.PENDING, 2, "answer_timeout")
    assert (row.fn_serial, row.last_fd_before) == (None, None)


def test_store_unknown_then_resolved(outbox: Outbox) -> None:
    """printing → unknown keeps the reason; a person resolves it to done."""
    outbox.submit_receipt("crm-1", _receipt(), "fp-1")
    outbox.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=1)
    unknown = outbox.mark_unknown("crm-1", reason="FD 2 does not match")
    assert (unknown.state, unknown.error_code, unknown.error_message) == (
        RowState.UNKNOWN,
        "outcome_unknown",
        "FD 2 does not match",
    )
    assert outbox.mark_done("crm-1", fiscal=FISCAL).state is RowState.DONE


def test_store_rejected_and_failed_keep_their_error(outbox: Outbox) -> None:
    """A rejection and a failure store code and message."""
    outbox.submit_receipt("a", _receipt(), "f")
    outbox.submit_receipt("b", _receipt(), "f")
    rejected = outbox.mark_rejected("a", code="invalid_argument", message="0x33")
    outbox.mark_printing("b", fn_serial="x", last_fd=1)
    failed = outbox.mark_failed("b", code="retries_exhausted", message="gave up")
    assert (rejected.state, rejected.error_code) == (RowState.REJECTED, "invalid_argument")
    assert (failed.state, failed.error_message) == (RowState.FAILED, "gave up")


@pytest.mark.parametrize(
    "move",
    [
        pytest.param(lambda box: box.mark_done("crm-1", fiscal=FISCAL), id="pending-done"),
        pytest.param(lambda box: box.mark_unknown("crm-1", reason="x"), id="pending-unknown"),
        pytest.param(lambda box: box.release("crm-1"), id="pending-release"),
    ],
)
def test_store_illegal_transition_from_pending_raises(outbox: Outbox, move: object) -> None:
    """Moves the state machine forbids raise and leave the row untouched."""
    outbox.submit_receipt("crm-1", _receipt(), "fp-1")
    before = outbox.get("crm-1")
    with pytest.raises(IllegalTransition, match="crm-1"):
        move(outbox)  # type: ignore[operator]
    assert outbox.get("crm-1") == before


def test_store_final_rows_never_move(outbox: Outbox) -> None:
    """A done row cannot be printed, released, failed or re-attempted."""
    outbox.submit_receipt("crm-1", _receipt(), "fp-1")
    _done(outbox, "crm-1")
    with pytest.raises(IllegalTransition):
        outbox.mark_printing("crm-1", fn_serial="x", last_fd=1)
    with pytest.raises(IllegalTransition):
        outbox.mark_failed("crm-1", code="x", message="y")
    with pytest.raises(IllegalTransition):
        outbox.note_attempt("crm-1", error_code="x", message="y")
    row = outbox.get("crm-1")
    assert row is not None
    assert row.fiscal == FISCAL


def test_store_unknown_id_raises(outbox: Outbox) -> None:
    """Moving a row that does not exist raises RowNotFound; get answers None."""
    with pytest.raises(RowNotFound, match="nope"):
        outbox.mark_printing("nope", fn_serial="x", last_fd=1)
    assert outbox.get("nope") is None


# -- order and listing ------------------------------------------------------------------------


def test_store_next_pending_is_fifo(outbox: Outbox, clock: FakeClock) -> None:
    """Rows are handed out in accept order, skipping rows that are no longer pending."""
    for index in range(4):
        outbox.submit_receipt(f"crm-{index}", _receipt(), "f")
        clock.advance(seconds=1)
    seen = []
    while (row := outbox.next_pending()) is not None:
        seen.append(row.id)
        outbox.mark_printing(row.id, fn_serial="x", last_fd=1)
    assert seen == ["crm-0", "crm-1", "crm-2", "crm-3"]
    outbox.release("crm-2")
    row = outbox.next_pending()
    assert row is not None
    assert row.id == "crm-2"


def test_store_fifo_follows_accept_order_not_clock(outbox: Outbox, clock: FakeClock) -> None:
    """A clock stepping backwards does not reorder the queue."""
    outbox.submit_receipt("first", _receipt(), "f")
    clock.advance(hours=-1)
    outbox.submit_receipt("second", _receipt(), "f")
    row = outbox.next_pending()
    assert row is not None
    assert row.id == "first"


def test_store_list_newest_first_with_state_filter(outbox: Outbox) -> None:
    """list() is newest first, filtered by state, limited."""
    for index in range(4):
        outbox.submit_receipt(f"crm-{index}", _receipt(), "f")
    _done(outbox, "crm-1")
    assert [row.id for row in outbox.list()] == ["crm-3", "crm-2", "crm-1", "crm-0"]
    assert [row.id for row in outbox.list(limit=2)] == ["crm-3", "crm-2"]
    assert [row.id for row in outbox.list(state=RowState.DONE)] == ["crm-1"]
    assert [row.id for row in outbox.list(state=RowState.PENDING)] == ["crm-3", "crm-2", "crm-0"]
    with pytest.raises(ValueError, match="limit"):
        outbox.list(limit=0)


# -- stats, bound, prune ----------------------------------------------------------------------


def test_store_stats_counts_and_ages(outbox: Outbox, clock: FakeClock) -> None:
    """Counts by state; the oldest waiting row's age follows the injected clock."""
    assert outbox.stats().oldest_pending_age_s is None
    outbox.submit_receipt("a", _receipt(), "f")
    clock.advance(seconds=30)
    outbox.submit_receipt("b", _receipt(), "f")
    outbox.submit_receipt("c", _receipt(), "f")
    outbox.submit_receipt("d", _receipt(), "f")
    outbox.mark_printing("a", fn_serial="x", last_fd=1)
    outbox.mark_rejected("c", code="x", message="y")
    outbox.mark_printing("d", fn_serial="x", last_fd=1)
    outbox.mark_unknown("d", reason="?")
    clock.advance(seconds=15)
    stats = outbox.stats()
    assert (stats.pending, stats.printing, stats.rejected, stats.unknown) == (1, 1, 1, 1)
    assert (stats.done, stats.failed, stats.undelivered) == (0, 0, 1)
    assert stats.oldest_pending_age_s == 45.0
    outbox.mark_done("a", fiscal=FISCAL)
    assert outbox.stats().oldest_pending_age_s == 15.0


def test_store_full_refuses_new_requests_only(outbox: Outbox) -> None:
    """At max_pending waiting rows a new id is FULL and nothing is stored; known ids answer."""
    for index in range(5):
        assert outbox.submit_receipt(f"crm-{index}", _receipt(), "f").status is (
            SubmissionStatus.ACCEPTED
        )
    outbox.mark_printing("crm-0", fn_serial="x", last_fd=1)  # printing still counts
    full = outbox.submit_receipt("crm-new", _receipt(), "f")
    assert (full.status, full.row) == (SubmissionStatus.FULL, None)
    assert outbox.get("crm-new") is None
    assert outbox.submit_receipt("crm-1", _receipt(), "f").status is SubmissionStatus.DUPLICATE
    assert outbox.submit_receipt("crm-1", _receipt(), "g").status is SubmissionStatus.CONFLICT
    _done(outbox, "crm-1")
    assert outbox.submit_receipt("crm-new", _receipt(), "f").status is (SubmissionStatus.ACCEPTED)


def test_store_unknown_rows_do_not_block_the_bound(outbox: Outbox) -> None:
    """Unknown and final rows do not count against max_pending."""
    for index in range(5):
        outbox.submit_receipt(f"crm-{index}", _receipt(), "f")
        outbox.mark_printing(f"crm-{index}", fn_serial="x", last_fd=1)
        outbox.mark_unknown(f"crm-{index}", reason="?")
    assert outbox.submit_receipt("next", _receipt(), "f").status is SubmissionStatus.ACCEPTED


def test_store_prune_policy(outbox: Outbox, clock: FakeClock) -> None:
    """Only final rows both older than the retention AND delivered are pruned."""
    outbox.submit_receipt("done-delivered-old", _receipt(), "f")
    _done(outbox, "done-delivered-old")
    outbox.submit_receipt("rejected-delivered-old", _receipt(), "f")
    outbox.mark_rejected("rejected-delivered-old", code="x", message="y")
    outbox.submit_receipt("done-undelivered-old", _receipt(), "f")
    _done(outbox, "done-undelivered-old")
    outbox.submit_receipt("unknown-old", _receipt(), "f")
    outbox.mark_printing("unknown-old", fn_serial="x", last_fd=1)
    outbox.mark_unknown("unknown-old", reason="?")
    outbox.submit_receipt("pending-old", _receipt(), "f")
    outbox.mark_delivered(
        ["done-delivered-old", "rejected-delivered-old", "unknown-old", "pending-old", "nope"]
    )
    clock.advance(days=89)
    outbox.submit_receipt("done-delivered-new", _receipt(), "f")
    _done(outbox, "done-delivered-new")
    outbox.mark_delivered(["done-delivered-new"])
    assert outbox.prune() == 0  # nothing is 90 days old yet
    clock.advance(days=1, seconds=1)
    assert outbox.prune() == 2
    remaining = {row.id for row in outbox.list()}
    assert remaining == {
        "done-undelivered-old",
        "unknown-old",
        "pending-old",
        "done-delivered-new",
    }
    assert outbox.prune() == 0


def test_store_mark_delivered_only_final_rows(outbox: Outbox, clock: FakeClock) -> None:
    """Delivery is recorded once, for final rows; unknown and pending rows stay undelivered."""
    outbox.submit_receipt("a", _receipt(), "f")
    outbox.submit_receipt("b", _receipt(), "f")
    _done(outbox, "a")
    outbox.mark_delivered(["a", "b"])
    first = outbox.get("a")
    assert first is not None
    assert first.delivered_at == clock.now
    clock.advance(minutes=1)
    outbox.mark_delivered(["a"])
    again = outbox.get("a")
    pending = outbox.get("b")
    assert again is not None
    assert pending is not None
    assert again.delivered_at == first.delivered_at
    assert pending.delivered_at is None
    assert outbox.stats().undelivered == 0


def test_store_undelivered_results_survive_any_age(outbox: Outbox, clock: FakeClock) -> None:
    """A fiscal result the cloud never confirmed is kept however old it gets."""
    outbox.submit_receipt("crm-1", _receipt(), "f")
    _done(outbox, "crm-1")
    clock.advance(days=3650)
    assert outbox.prune() == 0
    row = outbox.get("crm-1")
    assert row is not None
    assert row.fiscal == FISCAL


def test_store_constructor_checks_bounds(path: Path, clock: FakeClock) -> None:
    """max_pending below 1 and a non-positive retention are programming errors."""
    with pytest.raises(ValueError, match="max_pending"):
        Outbox(path, clock=clock, max_pending=0)
    with pytest.raises(ValueError, match="retention"):
        Outbox(path, clock=clock, retention=timedelta(0))


def test_store_migrates_a_version_7_file_and_keeps_the_register_doc_id(
    path: Path, clock: FakeClock
) -> None:
    """Version 8 adds fiscal_doc_id: an older done row reads None, a new one keeps its id."""
    first = Outbox(path, clock=clock)
    first.submit_receipt("crm-1", _receipt(), "fp-1")
    first.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=5)
    first.mark_done("crm-1", fiscal=FISCAL)
    first.close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE outbox DROP COLUMN fiscal_doc_id")
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()
    second = Outbox(path, clock=clock)
    try:
        old = second.get("crm-1")
        assert old is not None
        assert old.fiscal == FISCAL
        assert old.fiscal is not None
        assert old.fiscal.doc_id is None
        second.submit_receipt("crm-2", _receipt(), "fp-2")
        second.mark_printing("crm-2", fn_serial=FISCAL.fn, last_fd=6)
        second.mark_done("crm-2", fiscal=replace(FISCAL, fd=7, doc_id="Ab3dE5fG7hJk"))
        new = second.get("crm-2")
        assert new is not None
        assert new.fiscal is not None
        assert new.fiscal.doc_id == "Ab3dE5fG7hJk"
    finally:
        second.close()
