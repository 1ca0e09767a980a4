"""The reconciliation core: rows and the four totals of docs/contract.md (cloud HTTP API)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cloud.fiscal_links import OfdTemplateInvalid, ofd_link, qr_string
from cloud.reconcile import EARLIEST, chain_windows, reconcile, shift_for
from cloud.reconcile_contract import to_contract
from cloud.reconcile_model import Adoption, Kind, Kopecks, Payments, PaymentTotals, RowStatus
from tests.cloud.reconcile_fixtures import (
    CLOSED,
    FN,
    OPENED,
    app_payment,
    at,
    counters,
    document,
    done,
    failed,
    request,
    window,
)

ZERO = PaymentTotals()


def test_reconcile_all_matched_has_no_difference():
    """Every request printed, the Z agrees: all rows matched, difference 0 in every kind."""
    requests = [
        request("a", card=50000),
        request("b", cash=32990),
        request("c", prepaid=45000),
    ]
    results = [done("a", 101, 50000), done("b", 102, 32990), done("c", 103, 45000)]
    shift = window(counters=counters(sales=(32990, 50000, 45000)))

    rec = reconcile(shift, requests, results, [], [])

    assert [row.status for row in rec.rows] == [RowStatus.MATCHED] * 3
    assert [row.fiscal.doc_id for row in rec.rows if row.fiscal] == [
        f"{FN}:101",
        f"{FN}:102",
        f"{FN}:103",
    ]
    assert rec.totals.crm_register_total == PaymentTotals(cash=32990, card=50000, prepaid=45000)
    assert rec.totals.z_register_total == rec.totals.crm_register_total
    assert rec.totals.difference == ZERO
    assert rec.totals.crm_grand_total == rec.totals.crm_register_total


def test_reconcile_crm_only_without_result_and_with_failed_one():
    """No result, or a failed one: crm_only; the difference is exactly the unprinted totals."""
    requests = [
        request("printed", card=10000),
        request("lost", card=23456),
        request("broken", cash=777),
    ]
    results = [done("printed", 101, 10000), failed("broken")]
    shift = window(counters=counters(sales=(0, 10000, 0)))

    rec = reconcile(shift, requests, results, [], [])

    by_id = {row.id: row for row in rec.rows}
    assert by_id["printed"].status is RowStatus.MATCHED
    assert by_id["lost"].status is RowStatus.CRM_ONLY
    assert by_id["lost"].fiscal is None
    assert by_id["lost"].outcome is None
    assert by_id["broken"].status is RowStatus.CRM_ONLY
    assert by_id["broken"].outcome is not None
    assert by_id["broken"].outcome.status == "failed"
    assert rec.totals.difference == PaymentTotals(cash=777, card=23456)
    assert rec.totals.difference.total == 23456 + 777


def test_reconcile_difference_equals_the_missing_receipt_total():
    """One receipt the register never printed: the difference is that receipt's total."""
    requests = [request(f"r{i}", card=1000 + i) for i in range(5)]
    results = [done(f"r{i}", 100 + i, 1000 + i) for i in range(5) if i != 3]
    z_card = sum(1000 + i for i in range(5) if i != 3)
    shift = window(counters=counters(sales=(0, z_card, 0)))

    rec = reconcile(shift, requests, results, [], [])

    assert rec.totals.difference == PaymentTotals(card=1003)
    assert [row.id for row in rec.rows if row.status is RowStatus.CRM_ONLY] == ["r3"]


def test_reconcile_register_only_document_printed_by_hand():
    """A receipt at the register the CRM never sent: register_only, Z ahead of the CRM."""
    requests = [request("a", card=50000)]
    results = [done("a", 101, 50000)]
    docs = [
        document(102, 35000),
        document(100, None, doc_type="open_shift", kind=None),  # not a calculation: no row
    ]
    shift = window(counters=counters(sales=(35000, 50000, 0)))

    rec = reconcile(shift, requests, results, docs, [])

    hand = [row for row in rec.rows if row.status is RowStatus.REGISTER_ONLY]
    assert len(hand) == 1
    assert hand[0].id == f"{FN}:102"
    assert hand[0].crm is None
    assert hand[0].fiscal is not None
    assert hand[0].fiscal.total == 35000
    assert hand[0].adopted is None
    assert rec.totals.difference == PaymentTotals(cash=-35000)
    assert rec.totals.adopted_total == 0


def test_reconcile_adopted_document_stays_register_only_with_its_adoption():
    """An adopted document keeps status register_only, carries who and why, and its sum."""
    adoption = Adoption(by="Иванов", reason="продажа у кассы", at=at(300), role="support")
    docs = [document(102, 35000, adopted=adoption), document(103, 5000, kind=Kind.REFUND)]

    rec = reconcile(window(counters=counters(sales=(35000, 0, 0))), [], [], docs, [])

    by_id = {row.id: row for row in rec.rows}
    assert by_id[f"{FN}:102"].status is RowStatus.REGISTER_ONLY
    assert by_id[f"{FN}:102"].adopted == adoption
    assert by_id[f"{FN}:103"].adopted is None
    assert rec.totals.adopted_total == 35000
    body = to_contract(rec)
    assert body["adopted_total"] == "350.00"
    adopted_rows = [row for row in body["rows"] if "adopted" in row]
    assert adopted_rows[0]["status"] == "register_only"
    assert adopted_rows[0]["adopted"]["by"] == "Иванов"


def test_reconcile_adopted_document_with_its_split_counts_in_the_crm_totals():
    """An adopted document whose split the agent reported (v1.1) leaves no difference."""
    adoption = Adoption(by="Иванов", reason="продажа у кассы", at=at(300), role="support")
    docs = [
        document(
            102,
            35000,
            adopted=adoption,
            payments=Payments(cash=Kopecks(20000), card=Kopecks(15000)),
        ),
        document(
            103, 5000, kind=Kind.REFUND, adopted=adoption, payments=Payments(cash=Kopecks(5000))
        ),
        document(104, 1000, payments=Payments(prepaid=Kopecks(1000))),  # not adopted: a difference
    ]
    z = counters(sales=(20000, 15000, 1000), refunds=(5000, 0, 0))

    rec = reconcile(window(counters=z), [], [], docs, [])

    assert {row.id: row.status for row in rec.rows} == {
        f"{FN}:102": RowStatus.REGISTER_ONLY,
        f"{FN}:103": RowStatus.REGISTER_ONLY,
        f"{FN}:104": RowStatus.REGISTER_ONLY,
    }
    taken_in = PaymentTotals(cash=Kopecks(15000), card=Kopecks(15000))
    assert rec.totals.crm_register_total == taken_in
    assert rec.totals.crm_grand_total == taken_in
    assert rec.totals.difference == PaymentTotals(prepaid=Kopecks(-1000))
    assert rec.totals.adopted_total == 0  # nothing adopted is left in the difference
    adopt_104 = replace(docs[2], adopted=adoption)
    balanced = reconcile(window(counters=z), [], [], [*docs[:2], adopt_104], [])
    assert balanced.totals.difference == PaymentTotals()


def test_reconcile_document_with_request_mark_matches_before_the_result_arrives():
    """A tape document carrying a request's id matches it though the result is not in yet."""
    requests = [request("a", card=50000)]
    docs = [document(101, 50000, mark="a")]

    rec = reconcile(window(counters=counters(sales=(0, 50000, 0))), requests, [], docs, [])

    assert [(row.id, row.status) for row in rec.rows] == [("a", RowStatus.MATCHED)]
    assert rec.totals.difference == ZERO


def test_reconcile_result_for_an_id_the_cloud_never_sent_is_register_only():
    """A result of the agent's local API (a POS), unknown to the CRM: register_only."""
    rec = reconcile(window(), [], [done("pos-1", 101, 1234)], [], [])

    assert [(row.id, row.status) for row in rec.rows] == [("pos-1", RowStatus.REGISTER_ONLY)]


def test_reconcile_refunds_subtract_from_sales_by_kind():
    """A refund subtracts from its payment kind, on the CRM side as in the Z."""
    requests = [
        request("sale", card=50000, cash=10000),
        request("refund", card=20000, kind=Kind.REFUND),
        request("refund-cash", cash=1001, kind=Kind.REFUND),
    ]
    results = [
        done("sale", 101, 60000),
        done("refund", 102, 20000),
        done("refund-cash", 103, 1001),
    ]
    shift = window(counters=counters(sales=(10000, 50000, 0), refunds=(1001, 20000, 0)))

    rec = reconcile(shift, requests, results, [], [])

    assert rec.totals.crm_register_total == PaymentTotals(cash=8999, card=30000)
    assert rec.totals.z_register_total == PaymentTotals(cash=8999, card=30000)
    assert rec.totals.difference == ZERO


def test_reconcile_cash_is_net_of_change():
    """Cash 500.00 tendered for 329.90 counts 329.90 cash: the change never was a sale."""
    requests = [
        request("a", cash=50000, total=32990),
        request("b", cash=10000, card=20000, total=25050),  # 50.50 cash kept, 49.50 change
    ]
    results = [done("a", 101, 32990), done("b", 102, 25050)]
    shift = window(counters=counters(sales=(32990 + 5050, 20000, 0)))

    rec = reconcile(shift, requests, results, [], [])

    assert rec.totals.crm_register_total == PaymentTotals(cash=38040, card=20000)
    assert rec.totals.difference == ZERO
    body = to_contract(rec)
    assert body["totals"]["crm_register_total"] == {
        "cash": "380.40",
        "card": "200.00",
        "prepaid": "0.00",
        "total": "580.40",
    }


def test_reconcile_cash_in_and_out_are_shown_apart():
    """Cash deposited and withdrawn is in the report, never in a total of sales."""
    shift = window(counters=counters(sales=(10000, 0, 0), cash_in=200000, cash_out=150000))

    rec = reconcile(shift, [request("a", cash=10000)], [done("a", 101, 10000)], [], [])

    assert rec.totals.z_register_total == PaymentTotals(cash=10000)
    assert rec.totals.difference == ZERO
    assert (rec.totals.cash_in, rec.totals.cash_out) == (200000, 150000)
    body = to_contract(rec)
    assert body["cash_in"] == "2000.00"
    assert body["cash_out"] == "1500.00"
    assert body["totals"]["z_register_total"]["cash"] == "100.00"


def test_reconcile_places_requests_by_paid_at_else_received_at_across_a_boundary():
    """paid_at in shift 12 but received in shift 13: shift 12's; without paid_at: shift 13's."""
    boundary = CLOSED
    shift12 = window(number=12, closed=boundary)
    shift13 = window(number=13, opened=boundary + timedelta(minutes=1), closed=None)
    late = boundary + timedelta(minutes=5)
    requests = [
        request(
            "paid-before", card=1000, paid_at=boundary - timedelta(minutes=5), received_at=late
        ),
        request("received-after", card=2000, received_at=late),
        request("paid-after", card=4000, paid_at=late, received_at=boundary - timedelta(hours=1)),
    ]

    rec12 = reconcile(shift12, requests, [], [], [])
    rec13 = reconcile(shift13, requests, [], [], [])

    assert [row.id for row in rec12.rows] == ["paid-before"]
    assert rec12.totals.crm_register_total == PaymentTotals(card=1000)
    assert sorted(row.id for row in rec13.rows) == ["paid-after", "received-after"]
    assert rec13.totals.crm_register_total == PaymentTotals(card=6000)
    assert all(row.status is RowStatus.CRM_ONLY for row in rec12.rows + rec13.rows)


def test_a_printed_request_without_paid_at_counts_in_the_shift_of_its_document():
    """No paid_at: the document's shift places a printed payment, not when the cloud heard of it.

    The cloud receives a ``cmd/receipt`` late when it was down or behind (its broker queue drained
    after the Z); a receipt waiting in the agent's outbox across a Z is printed in the next
    shift. Either way the register counted the payment in the shift it printed it in, and the
    CRM's total of that shift must count it there too, or a matched shift shows a difference.
    """
    shift12 = window(number=12, closed=CLOSED, counters=counters(sales=(0, 1500 + 900, 0)))
    opened13 = CLOSED + timedelta(hours=1)
    shift13 = window(number=13, opened=opened13, closed=None, counters=counters(sales=(0, 300, 0)))
    chained = chain_windows([shift12, shift13])
    requests = [
        request("heard-after-the-z", card=1500, received_at=opened13 + timedelta(minutes=5)),
        request("in-time", card=900, received_at=at(30)),
        request("printed-after-the-z", card=300, received_at=at(40)),
        request("not-printed-yet", card=700, received_at=opened13 + timedelta(minutes=6)),
    ]
    results = [
        done("heard-after-the-z", 201, 1500, shift=12),
        done("in-time", 202, 900, shift=12),
        done("printed-after-the-z", 203, 300, shift=13, issued_at=opened13),
    ]

    rec12 = reconcile(chained[0], requests, results, [], [])
    rec13 = reconcile(chained[1], requests, results, [], [])

    assert sorted(row.id for row in rec12.rows) == ["heard-after-the-z", "in-time"]
    assert {row.status for row in rec12.rows} == {RowStatus.MATCHED}
    assert not any(row.other_shift for row in rec12.rows)
    assert rec12.totals.crm_register_total == PaymentTotals(card=2400)
    assert rec12.totals.difference == ZERO
    assert sorted(row.id for row in rec13.rows) == ["not-printed-yet", "printed-after-the-z"]
    assert not any(row.other_shift for row in rec13.rows)
    assert rec13.totals.crm_register_total == PaymentTotals(card=1000)
    assert rec13.totals.difference == PaymentTotals(card=700)  # the one the register lacks


def test_chain_windows_gives_the_gap_between_shifts_to_the_next_shift():
    """A payment while no shift is open belongs to the shift the register opened next."""
    shift12 = window(number=12, closed=CLOSED)
    shift13 = window(number=13, opened=CLOSED + timedelta(hours=1), closed=None)
    chained = chain_windows([shift13, shift12])
    in_gap = CLOSED + timedelta(minutes=30)

    assert shift_for(in_gap, [shift12, shift13]) is None
    found = shift_for(in_gap, chained)
    assert found is not None
    assert found.number == 13
    assert shift_for(at(10), chained) == chained[0]
    rec = reconcile(chained[1], [request("gap", card=500, received_at=in_gap)], [], [], [])
    assert rec.totals.crm_register_total == PaymentTotals(card=500)


def test_the_first_shift_claims_a_payment_taken_before_it_opened():
    """Paid seconds before the agent's first shift opened: printed in it, so it claims it."""
    shift12 = window(number=12, closed=CLOSED)
    shift13 = window(number=13, opened=CLOSED + timedelta(hours=1), closed=None)
    chained = chain_windows([shift13, shift12])
    before = at(0) - timedelta(seconds=5)

    assert shift_for(before, [shift12, shift13]) is None
    found = shift_for(before, chained)
    assert found is not None
    assert found.number == 12
    assert found.claims_from == EARLIEST
    rec = reconcile(chained[0], [request("early", card=700, received_at=before)], [], [], [])
    assert [row.id for row in rec.rows] == ["early"]
    assert rec.rows[0].status is RowStatus.CRM_ONLY


def test_reconcile_payment_printed_in_a_later_shift_is_flagged_other_shift():
    """Paid in shift 12, printed in 13: matched in both, other_shift set, each shift's gap shown."""
    requests = [request("late", card=1500, paid_at=at(30), received_at=at(30))]
    results = [done("late", 201, 1500, shift=13, issued_at=CLOSED + timedelta(hours=2))]

    rec12 = reconcile(window(counters=counters()), requests, results, [], [])
    shift13 = window(number=13, opened=CLOSED + timedelta(hours=1), closed=None)
    rec13 = reconcile(shift13, requests, results, [], [])

    assert rec12.rows[0].status is RowStatus.MATCHED
    assert rec12.rows[0].other_shift
    assert rec12.totals.difference == PaymentTotals(card=1500)
    assert rec13.rows[0].other_shift
    assert rec13.totals.crm_register_total == ZERO


def test_reconcile_app_transactions_count_only_in_the_grand_total():
    """App payments the register never sees: in crm_grand_total only, not in the difference."""
    shift = window(counters=counters(sales=(0, 10000, 0)))
    txs = [
        app_payment("app-1", card=99999),
        app_payment("app-2", card=1),
        app_payment("app-next-day", card=5, when=CLOSED + timedelta(hours=1)),
    ]

    rec = reconcile(shift, [request("a", card=10000)], [done("a", 101, 10000)], [], txs)

    assert rec.totals.crm_register_total == PaymentTotals(card=10000)
    assert rec.totals.crm_grand_total == PaymentTotals(card=110000)
    assert rec.totals.difference == ZERO
    assert all(row.id != "app-1" for row in rec.rows)


def test_reconcile_totals_to_the_kopeck_with_odd_amounts():
    """Hundreds of odd kopeck amounts sum exactly: no float anywhere."""
    amounts = [1, 7, 33, 3333, 99999, 12345, 101, 9, 10001, 66667] * 37
    requests = [
        request(f"r{i}", card=amount, kind=Kind.REFUND if i % 7 == 0 else Kind.SALE)
        for i, amount in enumerate(amounts)
    ]
    sales = sum(a for i, a in enumerate(amounts) if i % 7)
    refunds = sum(a for i, a in enumerate(amounts) if i % 7 == 0)
    results = [done(f"r{i}", 1000 + i, a) for i, a in enumerate(amounts) if i != 5]
    shift = window(counters=counters(sales=(0, sales - amounts[5], 0), refunds=(0, refunds, 0)))

    rec = reconcile(shift, requests, results, [], [])

    assert rec.totals.crm_register_total.card == sales - refunds
    assert rec.totals.difference == PaymentTotals(card=amounts[5])
    total = to_contract(rec)["totals"]["crm_register_total"]["total"]
    rubles, kopecks = divmod(sales - refunds, 100)
    assert total == f"{rubles}.{kopecks:02d}"


def test_reconcile_ignores_other_agents_and_repeated_ids():
    """Another agent's request is not a row here; an id sent twice counts once."""
    requests = [
        request("a", card=100),
        request("a", card=100),
        request("other", card=999, agent="desk-2"),
    ]
    rec = reconcile(window(), requests, [done("a", 101, 100)], [], [])

    assert [row.id for row in rec.rows] == ["a"]
    assert rec.totals.crm_register_total == PaymentTotals(card=100)


@pytest.mark.parametrize("done_first", [True, False])
def test_reconcile_a_done_result_wins_over_another_result_for_the_same_id(done_first: bool):
    """Results given twice for one id: the done one with its document, in either order."""
    results = [done("a", 101, 100), failed("a")]
    if not done_first:
        results.reverse()
    rec = reconcile(window(), [request("a", card=100)], results, [], [])

    assert [(row.id, row.status) for row in rec.rows] == [("a", RowStatus.MATCHED)]
    assert rec.rows[0].fiscal is not None
    assert rec.rows[0].fiscal.doc_id == f"{FN}:101"


def test_reconcile_compares_times_across_zones():
    """A window in +03:00 and payments in UTC (as the store gives them) place the same."""
    shift = window()
    start, end = shift.opened_at, shift.claims_until
    assert start.utcoffset() != timedelta(0)
    assert end is not None

    def utc(moment: datetime) -> datetime:
        return moment.astimezone(UTC)

    requests = [
        request("before", card=100, received_at=utc(start - timedelta(microseconds=1))),
        request("first", card=200, received_at=utc(start)),
        request("last", card=300, received_at=utc(end - timedelta(microseconds=1))),
        request("after", card=400, received_at=utc(end)),
    ]
    rec = reconcile(shift, requests, [], [], [])

    assert sorted(row.id for row in rec.rows) == ["first", "last"]
    assert rec.totals.crm_register_total == PaymentTotals(card=500)


def test_reconcile_without_report_has_no_z_total_and_no_difference():
    """An open shift with no report yet: z_register_total and difference are null."""
    rec = reconcile(window(closed=None), [request("a", card=100)], [], [], [])

    body = to_contract(rec)
    assert body["totals"]["z_register_total"] is None
    assert body["totals"]["difference"] is None
    assert body["totals"]["crm_register_total"]["total"] == "1.00"


def test_row_qr_string_and_ofd_link():
    """Each fiscal side has its QR string always and an OFD link from the configured template."""
    template = "https://check.ofd.example/rec?fn={fn}&i={fd}&fp={fp}&s={sum}&t={time}&n={n}"
    requests = [request("s", card=50000), request("r", card=1050, kind=Kind.REFUND)]
    results = [
        done("s", 97660, 50000, issued_at=OPENED.replace(hour=15, minute=52)),
        done("r", 97661, 1050, issued_at=OPENED.replace(hour=15, minute=53), fp=42),
    ]

    rec = reconcile(window(), requests, results, [], [], ofd_url_template=template)
    body = {row["id"]: row for row in to_contract(rec)["rows"]}
    no_template = {
        row["id"]: row
        for row in to_contract(reconcile(window(), requests, results, [], []))["rows"]
    }

    assert body["s"]["fiscal"]["qr"] == (
        f"t=20260105T1552&s=500.00&fn={FN}&i=97660&fp=4179925410&n=1"
    )
    assert body["r"]["fiscal"]["qr"] == f"t=20260105T1553&s=10.50&fn={FN}&i=97661&fp=42&n=2"
    assert body["s"]["fiscal"]["ofd_url"] == (
        f"https://check.ofd.example/rec?fn={FN}&i=97660&fp=4179925410&s=500.00&t=20260105T1552&n=1"
    )
    assert body["s"]["fiscal"]["doc_id"] == f"{FN}:97660"
    assert no_template["s"]["fiscal"]["ofd_url"] is None
    assert no_template["s"]["fiscal"]["qr"] == body["s"]["fiscal"]["qr"]


def test_qr_and_ofd_link_need_the_fpd():
    """A tape document without its FPD has no QR string and no link that needs fp."""
    rec = reconcile(window(), [], [], [document(102, 100)], [])
    fiscal = rec.rows[0].fiscal
    assert fiscal is not None

    assert qr_string(fiscal, Kind.SALE) is None
    assert ofd_link("https://o.example/{fn}/{fd}/{fp}", fiscal, None) is None
    assert ofd_link("https://o.example/{fn}/{fd}", fiscal, None) == f"https://o.example/{FN}/102"


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("https://o.example/{inn}", id="unknown-field"),
        pytest.param("https://o.example/{fn", id="malformed"),
        pytest.param("https://o.example/{fd:08d}", id="format-spec"),
    ],
)
def test_reconcile_refuses_a_bad_ofd_template(template):
    """A template naming a field the document lacks fails at once, with its public code."""
    with pytest.raises(OfdTemplateInvalid) as caught:
        reconcile(window(), [], [], [], [], ofd_url_template=template)
    assert caught.value.public_code == "ofd_template_invalid"


def test_a_shift_claims_the_whole_minute_it_closed_in():
    """FN times are whole minutes: a payment at 14:48:04 belongs to a shift closed "at 14:48"."""
    closed = CLOSED.replace(second=0, microsecond=0)
    shift12 = window(number=12, closed=closed)
    shift13 = window(number=13, opened=closed, closed=None)
    chained = chain_windows([shift12, shift13])
    within = closed + timedelta(seconds=4)
    after = closed + timedelta(minutes=1)

    assert shift12.claims(within)
    assert not shift12.claims(after)
    assert shift_for(within, chained) == chained[0]
    assert shift_for(after, chained) == chained[1]
    rec = reconcile(shift12, [request("late-second", card=700, received_at=within)], [], [], [])
    assert rec.totals.crm_register_total == PaymentTotals(card=700)
