"""A plain HTTP client, written from the device's documented API only, drives the simulator.

The client below does not import the agent's SmartOne driver or envelope codec: it builds the
envelope as the SmartOne documentation describes it (docs/smartone-notes.md §2, restated in
docs/smartone-sim.md): ``data`` = Base64 of the UTF-8 JSON, ``sign`` = Base64 of the lowercase
hex SHA-1 of ``data + merchantId``, the body ``data=...&sign=...`` with ``=`` escaped as
``%3D``, POSTed as ``application/x-www-form-urlencoded`` to ``http://host:port/<route>``; the
reply is plain JSON. It runs a day on the ``firmware-sim serve --smartone`` process: open
shift, a sale with change, a refund naming the sale's fiscalID, an X report, a withdraw of
the drawer and the Z, then reads the tape.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.smartone_sim import SmartOneSimProcess

pytestmark = pytest.mark.timeout(30)

MERCHANT_ID = "5f0c2a9e7b3d4c1a8e6f9b2d0c4a7e13"


def _post(base: str, route: str, payload: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(payload, ensure_ascii=False).encode("utf-8")).decode()
    digest = hashlib.sha1((data + MERCHANT_ID).encode("ascii"), usedforsecurity=False)
    sign = base64.b64encode(digest.hexdigest().encode("ascii")).decode()
    body = f"data={data.replace('=', '%3D')}&sign={sign.replace('=', '%3D')}".encode("ascii")
    request = urllib.request.Request(  # noqa: S310 - a local test URL
        f"{base}/{route}",
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        answer = json.loads(response.read().decode("utf-8"))
    assert isinstance(answer, dict)
    return answer


def _ok(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["status"] == "success", answer
    assert answer["code"] == 0, answer
    return answer


def _receipt(ext: str, *, qty: int, amount: int, cash: int) -> dict[str, Any]:
    return {
        "documentExtID": ext,
        "docNumber": ext,
        "employeeName": "Aliyeva N.",
        "currency": "AZN",
        "amount": amount,
        "items": [
            {
                "itemId": "game-hour",
                "itemName": "Oyun saatı",
                "itemQRCode": "",
                "itemQty": qty,
                "itemAmount": amount,
                "discount": 0,
                "itemTaxes": [{"taxName": "VAT", "taxPrc": 1800}],
            }
        ],
        "payments": {"cashAmount": cash, "cashlessAmount": 0, "otherAmount": 0},
    }


@pytest.fixture
def cashbox(tmp_path: Path) -> Iterator[SmartOneSimProcess]:
    sim = SmartOneSimProcess(state_file=tmp_path / "smartone.db", merchant_id=MERCHANT_ID)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


def test_a_day_on_the_cash_box(cashbox: SmartOneSimProcess) -> None:
    base = cashbox.url
    opened = _ok(_post(base, "open_shift", {"employeeName": "Aliyeva N."}))
    shift = _ok(_post(base, "check_shift", {}))
    assert shift["isShiftOpen"] == "true"
    assert shift["shiftStatus"] == 1
    assert shift["shiftID"] == opened["shiftID"]
    assert len(shift["shiftOpenAt"]) == len("2025-03-14 19:05:00")

    # 2 game hours, 150.00 AZN, paid 200.00 in cash: 50.00 change.
    sale = _ok(_post(base, "sale", _receipt("crm-sale-1", qty=2000, amount=15000, cash=20000)))
    assert sale["change"] == 5000
    assert sale["totalPayments"] == [{"code": "cash", "amount": 15000}]
    assert sale["docStatus"] == 1
    assert len(sale["fiscalID"]) == 12
    assert sale["fiscalUrl"].endswith(sale["fiscalID"])
    resent = _ok(_post(base, "sale", _receipt("crm-sale-1", qty=2000, amount=15000, cash=20000)))
    assert resent["fiscalID"] == sale["fiscalID"]

    # One hour back, 75.00 AZN in cash, naming the sale.
    refund_body = _receipt("crm-refund-1", qty=1000, amount=7500, cash=7500)
    refund_body["parentDocID"] = sale["fiscalID"]
    refund = _ok(_post(base, "refund", refund_body))
    assert refund["fiscalID"] != sale["fiscalID"]
    status = _ok(_post(base, "check_status", {"documentExtID": "crm-refund-1"}))
    assert status["docStatus"] == 1
    assert status["fiscalID"] == refund["fiscalID"]

    report = _ok(_post(base, "x_report", {}))
    assert report["saleCount"] == 1
    assert report["saleSum"] == 15000
    assert report["saleCashSum"] == 15000
    assert report["moneyBackCount"] == 1
    assert report["moneyBackSum"] == 7500
    assert report["saleVatAmounts"] == [{"vatPercent": 1800, "vatAmount": 2288}]
    assert report["moneyBackVatAmounts"] == [{"vatPercent": 1800, "vatAmount": 1144}]
    assert report["cash"] == 7500

    refused = _post(base, "close_shift", {"employeeName": "Aliyeva N."})
    assert refused["status"] == "error"
    assert refused["code"] == 27  # the drawer holds cash

    drawer = _ok(_post(base, "check_shift", {}))["cash"]
    withdraw = _ok(_post(base, "withdraw", {"documentExtID": "crm-collect-1", "amount": drawer}))
    assert withdraw["cash"] == 0

    z = _ok(_post(base, "close_shift", {"employeeName": "Aliyeva N."}))
    assert z["shiftID"] == opened["shiftID"]
    assert z["saleSum"] == 15000
    assert z["moneyBackSum"] == 7500
    assert z["withdrawSum"] == 7500
    assert _ok(_post(base, "check_shift", {}))["isShiftOpen"] == "false"

    receipts = [e for e in cashbox.tape() if e["type"] == "receipt"]
    assert [(e["kind"], e["mark"], e["doc_id"], e["total"]) for e in receipts] == [
        ("sale", "crm-sale-1", sale["fiscalID"], "150.00"),
        ("refund", "crm-refund-1", refund["fiscalID"], "75.00"),
    ]
    assert receipts[0]["change"] == "50.00"
    assert [e["type"] for e in cashbox.tape()][-1] == "close_shift"
    cash = [e for e in cashbox.tape_all() if e["type"].startswith("cash_")]
    assert [(e["type"], e["mark"], e["total"]) for e in cash] == [
        ("cash_out", "crm-collect-1", "75.00")
    ]
