"""A payment of yesterday's shift printed today as a correction receipt: both shifts explain it.

The Z of the payment's shift never saw it; the Z of the printing shift counts it among its
corrections (tag 1133), not its sales. So the payment's shift lists it as fixed later, the
printing shift as a correction, and both differences are 0. The row is matched by the
document's mark (the request id), with ``late`` and the shift it was printed in.
"""

from __future__ import annotations

from datetime import timedelta

from cloud.reconcile import PaymentTotals, RowStatus, reconcile
from cloud.reconcile_contract import to_contract
from tests.cloud.reconcile_fixtures import CLOSED, at, counters, document, done, request, window

ZERO = PaymentTotals()
TODAY = CLOSED + timedelta(hours=2)


def _correction_result(request_id: str, fd: int, total: int, *, shift: int = 13) -> object:
    result = done(request_id, fd, total, shift=shift, issued_at=TODAY)
    assert result.fiscal is not None
    # NamedTuples (cloud/reconcile_model.py): ``_replace``, not dataclasses.replace
    return result._replace(fiscal=result.fiscal._replace(type="correction"))


def test_a_correction_printed_today_explains_both_shifts_with_difference_zero() -> None:
    requests = [
        request("coffee", cash=15000, paid_at=at(10), received_at=at(10)),
        request("late", card=15000, paid_at=at(30), received_at=TODAY),
    ]
    results = [done("coffee", 101, 15000), _correction_result("late", 201, 15000)]
    yesterday = window(counters=counters(sales=(15000, 0, 0)))  # its Z: the coffee only
    today = window(number=13, opened=CLOSED + timedelta(hours=1), closed=None, counters=counters())

    rec12 = reconcile(yesterday, requests, results, [], [])
    rec13 = reconcile(today, requests, results, [], [])

    late12 = next(row for row in rec12.rows if row.id == "late")
    assert (late12.status, late12.late, late12.other_shift) == (RowStatus.MATCHED, True, True)
    assert late12.fiscal is not None
    assert late12.fiscal.shift == 13
    assert rec12.totals.crm_register_total == PaymentTotals(cash=15000, card=15000)
    assert rec12.totals.fixed_later_total == PaymentTotals(card=15000)
    assert rec12.totals.corrections_total == ZERO
    assert rec12.totals.difference == ZERO

    (late13,) = rec13.rows
    assert (late13.id, late13.status, late13.late) == ("late", RowStatus.MATCHED, True)
    assert rec13.totals.crm_register_total == ZERO
    assert rec13.totals.corrections_total == PaymentTotals(card=15000)
    assert rec13.totals.fixed_later_total == ZERO
    assert rec13.totals.difference == ZERO

    body = to_contract(rec12)
    row = next(r for r in body["rows"] if r["id"] == "late")
    assert row["late"] is True
    assert row["printed_in_shift"] == 13
    assert row["fiscal"]["type"] == "correction"
    assert body["fixed_later_total"]["card"] == "150.00"
    assert body["totals"]["difference"]["total"] == "0.00"
    assert to_contract(rec13)["corrections_total"]["total"] == "150.00"


def test_a_correction_found_on_the_tape_by_its_mark_before_the_result() -> None:
    """No evt/receipt yet: the tape's correction carrying the id matches it, late."""
    requests = [request("late", card=15000, paid_at=at(30), received_at=TODAY)]
    tape = [document(201, 15000, shift=13, issued_at=TODAY, mark="late", doc_type="correction")]
    today = window(number=13, opened=CLOSED + timedelta(hours=1), closed=None, counters=counters())
    rec = reconcile(today, requests, [], tape, [])
    (row,) = rec.rows
    assert (row.status, row.late) == (RowStatus.MATCHED, True)
    assert rec.totals.corrections_total == PaymentTotals(card=15000)
    assert rec.totals.difference == ZERO


def test_the_same_payment_printed_as_an_ordinary_receipt_is_matched_not_late() -> None:
    """late = "never": matched in both shifts, not late; each Z shows the gap (no correction)."""
    requests = [request("late", card=15000, paid_at=at(30), received_at=TODAY)]
    results = [done("late", 201, 15000, shift=13, issued_at=TODAY)]
    rec12 = reconcile(window(counters=counters()), requests, results, [], [])
    (row,) = rec12.rows
    assert (row.status, row.late, row.other_shift) == (RowStatus.MATCHED, False, True)
    assert rec12.totals.fixed_later_total == ZERO
    assert rec12.totals.difference == PaymentTotals(card=15000)
