"""The durable sync queue on real SQLite files: queued with the row's move, removed on ack."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.outbox.orders import CashDirection, CashOrder
from agent.outbox.shift_commands import CommandState, ShiftCommands, Taking
from agent.outbox.states import RowState
from agent.outbox.store import SCHEMA_VERSION, Outbox
from agent.outbox.sync_queue import SyncQueue, SyncTopic
from tests.agent.outbox.test_store import FISCAL, LATE_COLUMNS, FakeClock, _receipt


def _done(outbox: Outbox, request_id: str) -> None:
    outbox.submit_receipt(request_id, _receipt(), f"fp-{request_id}")
    outbox.mark_printing(request_id, fn_serial=FISCAL.fn, last_fd=FISCAL.fd - 1)
    outbox.mark_done(request_id, fiscal=FISCAL)


def test_a_result_is_queued_with_its_rows_move_and_leaves_on_ack(
    path: Path, clock: FakeClock
) -> None:
    """Done queues the row's result in the same commit; the ack removes it and marks delivery."""
    outbox = Outbox(path, clock=clock)
    queue = SyncQueue(outbox, clock=clock)
    outbox.submit_receipt("crm-1", _receipt(), "fp")
    outbox.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=1)
    assert queue.batch() == []  # pending and printing owe nothing yet
    outbox.mark_done("crm-1", fiscal=FISCAL)
    (entry,) = queue.batch()
    assert (entry.topic, entry.ref, entry.payload) == (SyncTopic.RECEIPT, "crm-1", None)
    clock.advance(seconds=30)
    stats = queue.stats()
    assert (stats.pending, stats.oldest_pending_age_s) == (1, 30.0)
    queue.acknowledge(entry)
    assert queue.batch() == []
    row = outbox.get("crm-1")
    assert row is not None
    assert row.delivered_at is not None
    assert queue.stats().pending == 0
    outbox.close()


def test_the_queue_survives_a_reopen_in_order(path: Path, clock: FakeClock) -> None:
    """Entries outlive the process, in queue order; cash outcomes go to evt/command."""
    outbox = Outbox(path, clock=clock)
    _done(outbox, "crm-1")
    outbox.submit_cash("cash-1", CashOrder(direction=CashDirection.IN, amount=500), "c")
    outbox.mark_printing("cash-1", fn_serial=FISCAL.fn, last_fd=1, drawer=0)
    outbox.mark_rejected("cash-1", code="not_enough_cash", message="no")
    SyncQueue(outbox, clock=clock).put(SyncTopic.SHIFT, '{"kind": "z"}')
    outbox.close()
    reopened = Outbox(path, clock=clock)
    entries = SyncQueue(reopened, clock=clock).batch()
    assert [(e.topic, e.ref) for e in entries] == [
        (SyncTopic.RECEIPT, "crm-1"),
        (SyncTopic.COMMAND, "cash-1"),
        (SyncTopic.SHIFT, None),
    ]
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    assert SyncQueue(reopened, clock=clock).batch(after=entries[0].seq, limit=1) == [entries[1]]
    reopened.close()


def test_a_row_owes_each_published_state_and_is_delivered_after_the_last(
    path: Path, clock: FakeClock
) -> None:
    """Unknown, then settled done: two entries; delivery counts only once both are acked."""
    outbox = Outbox(path, clock=clock)
    queue = SyncQueue(outbox, clock=clock)
    outbox.submit_receipt("crm-1", _receipt(), "fp")
    outbox.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=1)
    outbox.mark_unknown("crm-1", reason="someone else's document")
    outbox.settle_issued("crm-1", fiscal=FISCAL, by="support")
    unknown, done = queue.batch()
    queue.acknowledge(done)
    row = outbox.get("crm-1")
    assert row is not None
    assert row.delivered_at is None  # the unknown entry is still owed
    queue.acknowledge(unknown)
    row = outbox.get("crm-1")
    assert row is not None
    assert row.delivered_at is not None
    outbox.close()


def test_a_failed_row_taken_again_owes_its_new_result(path: Path, clock: FakeClock) -> None:
    """Failed and delivered, then resent and done: delivery is reset until done is acked."""
    outbox = Outbox(path, clock=clock)
    queue = SyncQueue(outbox, clock=clock)
    outbox.submit_receipt("crm-1", _receipt(), "fp")
    outbox.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=1)
    outbox.mark_failed("crm-1", code="register_refused", message="no")
    (failed,) = queue.batch()
    queue.acknowledge(failed)
    assert outbox.submit_receipt("crm-1", _receipt(), "fp").row.state is RowState.PENDING  # type: ignore[union-attr]
    outbox.mark_printing("crm-1", fn_serial=FISCAL.fn, last_fd=1)
    outbox.mark_done("crm-1", fiscal=FISCAL)
    row = outbox.get("crm-1")
    assert row is not None
    assert row.delivered_at is None
    (done,) = queue.batch()
    assert done.ref == "crm-1"
    outbox.close()


def test_droppable_entries_are_bounded_fiscal_ones_never(path: Path, clock: FakeClock) -> None:
    """Past the bound the oldest rejections go; every fiscal entry stays."""
    outbox = Outbox(path, clock=clock)
    queue = SyncQueue(outbox, clock=clock, max_droppable=3)
    for i in range(5):
        _done(outbox, f"crm-{i}")
        queue.put(SyncTopic.REJECTED, f'{{"n": {i}}}', droppable=True)
    entries = queue.batch(limit=100)
    assert [e.ref for e in entries if e.topic is SyncTopic.RECEIPT] == [
        f"crm-{i}" for i in range(5)
    ]
    assert [e.payload for e in entries if e.topic is SyncTopic.REJECTED] == [
        '{"n": 2}',
        '{"n": 3}',
        '{"n": 4}',
    ]
    assert queue.stats().dropped == 2
    outbox.close()


def test_a_version_3_file_queues_the_results_it_never_delivered(
    path: Path, clock: FakeClock
) -> None:
    """An upgrade from before the queue sends what the old agent had not delivered."""
    outbox = Outbox(path, clock=clock)
    _done(outbox, "delivered")
    _done(outbox, "owed")
    outbox.submit_receipt("waiting", _receipt(), "fp-w")
    outbox.mark_delivered(["delivered"])
    outbox.close()
    conn = sqlite3.connect(path)
    for table in ("sync_queue", "shift_commands", "agent_meta"):
        conn.execute(f"DROP TABLE {table}")
    for column in (*LATE_COLUMNS, "print_attempt", "fiscal_doc_id"):  # versions 6, 7 and 8
        conn.execute(f"ALTER TABLE outbox DROP COLUMN {column}")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    upgraded = Outbox(path, clock=clock)
    assert [e.ref for e in SyncQueue(upgraded, clock=clock).batch()] == ["owed"]
    upgraded.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    check.close()


def test_boot_counts_every_start_on_disk(path: Path, clock: FakeClock) -> None:
    """Health's boot: one more at every start, kept across restarts."""
    outbox = Outbox(path, clock=clock)
    assert outbox.next_boot() == 1
    outbox.close()
    again = Outbox(path, clock=clock)
    assert again.next_boot() == 2
    again.close()


def test_shift_commands_run_once_per_id(path: Path, clock: FakeClock) -> None:
    """New runs; the same id is known (never run again); other content conflicts."""
    outbox = Outbox(path, clock=clock)
    commands = ShiftCommands(outbox)
    queue = SyncQueue(outbox, clock=clock)
    taking, row = commands.take("close-1", "close", "fp-close")
    assert (taking, row.state) == (Taking.NEW, CommandState.RUNNING)
    outcome = {"id": "close-1", "status": "done", "error": None}
    commands.finish("close-1", state=CommandState.DONE, outcome=outcome, report='{"kind": "z"}')
    taking, row = commands.take("close-1", "close", "fp-close")
    assert (taking, row.state, row.outcome) == (Taking.KNOWN, CommandState.DONE, outcome)
    assert commands.take("close-1", "open", "fp-open")[0] is Taking.CONFLICT
    report, published = queue.batch()
    assert (report.topic, published.topic) == (SyncTopic.SHIFT, SyncTopic.COMMAND)
    commands.republish(row)
    assert queue.stats().pending == 3
    outbox.close()


def test_a_shift_command_left_running_by_a_crash_is_failed_at_start(
    path: Path, clock: FakeClock
) -> None:
    """Interrupted: failed with its own outcome, queued; the register is not guessed at."""
    outbox = Outbox(path, clock=clock)
    ShiftCommands(outbox).take("close-1", "close", "fp")
    outbox.close()
    reopened = Outbox(path, clock=clock)
    commands = ShiftCommands(reopened)
    settled = commands.settle_interrupted(
        lambda row: {"id": row.id, "status": "failed", "error": {"code": "interrupted"}}
    )
    assert [(row.id, row.state) for row in settled] == [("close-1", CommandState.FAILED)]
    (entry,) = SyncQueue(reopened, clock=clock).batch()
    assert entry.topic is SyncTopic.COMMAND
    assert commands.settle_interrupted(lambda _row: {}) == []
    reopened.close()
