"""Builders from the agent's contract models, exact to the kopeck, and the JSON body."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from agent.contract import FiscalDocument, ReceiptRequest, ReceiptResult, ShiftReport
from cloud.reconcile import reconcile
from cloud.reconcile_contract import (
    document_from_contract,
    outcome_from_contract,
    request_from_contract,
    to_contract,
    window_from_report,
)
from cloud.reconcile_model import Adoption, Kind, PaymentTotals, RowStatus

MSK = timezone(timedelta(hours=3))
FN = "9289000100346765"
RECEIVED = datetime(2026, 1, 5, 15, 51, tzinfo=MSK)


def _example(model, index=0):
    return model.model_config["json_schema_extra"]["examples"][index]


def _request(request_id, payments, items, kind="sale"):
    return ReceiptRequest.model_validate(
        {"id": request_id, "kind": kind, "category": "goods", "items": items, "payments": payments}
    )


def test_request_from_contract_totals_lines_half_up_and_keeps_times():
    """Coffee 2 x 150.00 + crisps 89.90 is 389.90; 0.333 x 10.05 rounds half up to 3.35."""
    contract = ReceiptRequest.model_validate(_example(ReceiptRequest, 1))
    req = request_from_contract(contract, club="club-1", agent="desk-1", received_at=RECEIVED)

    assert req.total == 38990
    assert req.payments.cash == 40000
    assert req.kind is Kind.SALE
    assert req.paid_at is None
    assert req.at == RECEIVED
    odd = _request(
        "odd", {"card": "3.35"}, [{"name": "x", "qty": "0.333", "price": "10.05", "vat": "none"}]
    )
    paid = RECEIVED - timedelta(minutes=3)
    odd_req = request_from_contract(
        odd, club="club-1", agent="desk-1", received_at=RECEIVED, paid_at=paid
    )
    assert odd_req.total == 335  # 3.34665 rounds half up
    assert odd_req.at == paid
    half = _request(
        "half", {"card": "0.02"}, [{"name": "x", "qty": "0.5", "price": "0.03", "vat": "none"}]
    )
    assert request_from_contract(half, club="c", agent="a", received_at=RECEIVED).total == 2


def test_outcome_and_document_from_contract_are_exact():
    """A done result keeps FN, FD, FPD, total in kopecks and doc_id; a document its adoption."""
    done = outcome_from_contract(ReceiptResult.model_validate(_example(ReceiptResult, 0)))
    rejected = outcome_from_contract(ReceiptResult.model_validate(_example(ReceiptResult, 1)))
    adoption = Adoption(by="Иванов", reason="продажа у кассы", at=RECEIVED)
    doc = document_from_contract(
        FiscalDocument.model_validate(_example(FiscalDocument, 0)), adopted=adoption
    )
    opening = document_from_contract(FiscalDocument.model_validate(_example(FiscalDocument, 1)))

    assert done.status == "done"
    assert done.fiscal is not None
    assert (done.fiscal.fn, done.fiscal.fd, done.fiscal.fp) == (FN, 97660, 4179925410)
    assert done.fiscal.total == 50000
    assert done.fiscal.doc_id == f"{FN}:97660"
    assert rejected.fiscal is None
    assert rejected.error_code == "payments_below_total"
    assert (doc.kind, doc.total, doc.doc_id, doc.adopted) == (
        Kind.SALE,
        35000,
        f"{FN}:97601",
        adoption,
    )
    assert (opening.kind, opening.total) == (None, None)


def test_window_from_z_report_is_the_z_counters_net_and_cash_apart():
    """The contract's Z example: sales minus refunds per kind; cash in/out not in the total."""
    report = ShiftReport.model_validate(_example(ShiftReport))
    shift = window_from_report(report, club="club-1", agent="desk-1")

    rec = reconcile(shift, [], [], [], [])

    assert (shift.number, shift.fn, shift.closed_at) == (12, FN, report.closed_at)
    assert rec.totals.z_register_total == PaymentTotals(cash=1220000, card=4820050, prepaid=300000)
    assert (rec.totals.cash_in, rec.totals.cash_out) == (200000, 1000000)
    x_report = report.model_copy(update={"kind": "x"})
    assert window_from_report(x_report, club="club-1", agent="desk-1").closed_at is None


def test_contract_models_through_reconcile_to_json():
    """ReceiptRequest and ReceiptResult in, the API body out: matched, QR, totals as strings."""
    contract = _request(
        "crm-1",
        {"cash": "500.00"},
        [{"name": "Кофе", "qty": "1", "price": "329.90", "vat": "vat22"}],
    )
    result = ReceiptResult.model_validate(
        {
            "id": "crm-1",
            "status": "done",
            "fiscal": {
                "fn": FN,
                "fd": 97660,
                "fp": 4179925410,
                "shift": 12,
                "number": 7,
                "issued_at": "2026-01-05T15:52:00+03:00",
                "total": "329.90",
                "qr": "t=20260105T1552&s=329.90&fn=9289000100346765&i=97660&fp=4179925410&n=1",
            },
        }
    )
    report = ShiftReport.model_validate(
        {
            "kind": "z",
            "shift": 12,
            "fn": FN,
            "opened_at": "2026-01-05T09:00:00+03:00",
            "closed_at": "2026-01-06T08:30:00+03:00",
            "counters": {
                "sales": {"cash": "329.90", "card": "0.00", "prepaid": "0.00", "count": 1},
                "refunds": {"cash": "0.00", "card": "0.00", "prepaid": "0.00", "count": 0},
                "cash_in": "0.00",
                "cash_out": "0.00",
                "cash_in_drawer": "329.90",
            },
        }
    )
    rec = reconcile(
        window_from_report(report, club="club-1", agent="desk-1"),
        [request_from_contract(contract, club="club-1", agent="desk-1", received_at=RECEIVED)],
        [outcome_from_contract(result)],
        [],
        [],
    )

    body = json.loads(json.dumps(to_contract(rec)))
    assert [row["status"] for row in body["rows"]] == [RowStatus.MATCHED.value]
    assert body["rows"][0]["fiscal"]["qr"] == result.fiscal.qr
    assert body["rows"][0]["crm"]["payments"]["cash"] == "500.00"
    zero = {"cash": "0.00", "card": "0.00", "prepaid": "0.00", "total": "0.00"}
    assert body["totals"] == {
        "crm_register_total": {
            "cash": "329.90",
            "card": "0.00",
            "prepaid": "0.00",
            "total": "329.90",
        },
        "crm_grand_total": {"cash": "329.90", "card": "0.00", "prepaid": "0.00", "total": "329.90"},
        "z_register_total": {
            "cash": "329.90",
            "card": "0.00",
            "prepaid": "0.00",
            "total": "329.90",
        },
        "difference": zero,
    }
