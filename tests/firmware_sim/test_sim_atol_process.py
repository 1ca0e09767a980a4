"""The real ``firmware-sim serve --atol-web`` process, driven by a plain HTTP client.

The client here is written from docs/atol-web-notes.md with urllib and json only (not the
agent's driver): POST a request under a uuid, poll GET until every task is final, read
``results[i].result`` as the notes say.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid as uuids
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.atol_sim import AtolSimProcess

pytestmark = [pytest.mark.sim, pytest.mark.timeout(60)]

FINAL = {"ready", "error", "interrupted", "canceled"}


class PlainClient:
    """An ATOL web server client in a few lines: submit, poll, read."""

    def __init__(self, base: str) -> None:
        self.base = base

    def _call(self, method: str, path: str, body: object | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json; charset=utf-8")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None

    def run(self, *tasks: dict[str, Any], uuid: str | None = None) -> list[dict[str, Any]]:
        """POST the tasks under a fresh uuid (201), then GET until all are final."""
        uuid = uuid or str(uuids.uuid4())
        status, body = self._call(
            "POST", "/api/v2/requests", {"uuid": uuid, "request": list(tasks)}
        )
        assert status == 201, body
        assert body["uuid"] == uuid
        deadline = time.monotonic() + 10
        while True:
            status, body = self._call("GET", f"/api/v2/requests/{uuid}")
            assert status == 200, body
            if all(entry["status"] in FINAL for entry in body["results"]):
                return list(body["results"])
            assert time.monotonic() < deadline, body
            time.sleep(0.1)

    def ok(self, *tasks: dict[str, Any]) -> list[dict[str, Any]]:
        """Run and insist every task is ready; the results."""
        results = self.run(*tasks)
        for entry in results:
            assert entry["status"] == "ready", entry
            assert entry["error"]["code"] == 0
        return [entry.get("result") for entry in results]


@pytest.fixture
def atol(tmp_path: Path) -> Iterator[AtolSimProcess]:
    sim = AtolSimProcess(tmp_path / "fn.db").start()
    yield sim
    sim.stop()


OPERATOR = {"name": "Петрова А."}


def _position(name: str, price: float, quantity: float, tax: str) -> dict[str, Any]:
    return {
        "type": "position",
        "name": name,
        "price": price,
        "quantity": quantity,
        "amount": round(price * quantity, 2),
        "paymentMethod": "fullPayment",
        "paymentObject": "service",
        "tax": {"type": tax},
    }


def test_a_plain_client_sells_with_change_refunds_and_runs_x_and_z(atol: AtolSimProcess) -> None:
    client = PlainClient(atol.url)
    [shift] = client.ok({"type": "getShiftStatus"})
    assert shift["shiftStatus"]["state"] == "closed"
    [opened] = client.ok({"type": "openShift", "operator": OPERATOR})
    assert opened["fiscalParams"]["shiftNumber"] == 1

    sale = {
        "type": "sell",
        "taxationType": "usnIncome",
        "electronically": False,
        "operator": OPERATOR,
        "items": [
            _position("Пополнение баланса", 500.0, 1, "none"),
            _position("Вода 0,5", 120.0, 2, "vat22"),
            {"type": "userAttribute", "name": "CRM ID", "value": "row-100"},
        ],
        "payments": [{"type": "cash", "sum": 300.0}, {"type": "electronically", "sum": 500.0}],
        "total": 740.0,
    }
    [sold] = client.ok(sale)
    params = sold["fiscalParams"]
    assert params["total"] == 740.0
    assert params["fiscalReceiptNumber"] == 1
    assert isinstance(params["fiscalDocumentSign"], str)
    assert params["fiscalDocumentDateTime"].endswith("+03:00")
    assert sold["warnings"]["notPrinted"] is False

    refund = {
        "type": "sellReturn",
        "taxationType": "usnIncome",
        "operator": OPERATOR,
        "items": [_position("Вода 0,5", 120.0, 1, "vat22")],
        "payments": [{"type": "cash", "sum": 120.0}],
    }
    [refunded] = client.ok(refund)
    assert refunded["fiscalParams"]["fiscalReceiptNumber"] == 2

    assert client.ok({"type": "reportX"}) == [None]
    [fn_status] = client.ok({"type": "getFnStatus"})
    [document] = client.ok(
        {"type": "getFnDocument", "fiscalDocumentNumber": params["fiscalDocumentNumber"]}
    )
    assert document["documentTLV"]["1084"] == {"1085": "CRM ID", "1086": "row-100"}
    [closed] = client.ok({"type": "closeShift", "operator": OPERATOR})
    assert (
        closed["fiscalParams"]["fiscalDocumentNumber"]
        == fn_status["fnStatus"]["fiscalDocumentNumber"] + 1
    )
    [after] = client.ok({"type": "getShiftStatus"})
    assert after["shiftStatus"]["state"] == "closed"

    tape = atol.tape()
    receipts = [doc for doc in tape if doc["type"] == "receipt"]
    assert [r["kind"] for r in receipts] == ["sale", "refund"]
    assert receipts[0]["change"] == "60.00"  # 300 cash + 500 card for 740: 60 back
    assert receipts[0]["payments"]["cash"] == "240.00"
    assert receipts[0]["mark"] == "row-100"
    assert tape[-1]["type"] == "close_shift"
    assert tape[-1]["counters"]["cash_in_drawer"] == "120.00"


def test_sigkill_keeps_the_tape_and_the_uuids(atol: AtolSimProcess) -> None:
    client = PlainClient(atol.url)
    client.ok({"type": "openShift", "operator": OPERATOR})
    atol.post("/paper/out")
    [no_paper] = client.run({"type": "reportX"})
    assert (no_paper["status"], no_paper["error"]["code"]) == ("error", 44)
    atol.post("/paper/back")
    first = client.run({"type": "getShiftStatus"}, uuid="kept-uuid")
    url = atol.url
    again = atol.restart()  # SIGKILL, then the same file on the same ports
    assert again.url == url
    try:
        client = PlainClient(again.url)
        status, _ = client._call("POST", "/api/v2/requests", {"uuid": "kept-uuid", "request": []})
        assert status == 400  # an empty request is refused before the uuid is looked at
        status, _ = client._call(
            "POST",
            "/api/v2/requests",
            {"uuid": "kept-uuid", "request": [{"type": "getShiftStatus"}]},
        )
        assert status == 409
        assert client._call("GET", "/api/v2/requests/kept-uuid")[1]["results"] == first
        assert again.state()["shift"]["state"] == "opened"
    finally:
        again.stop()
