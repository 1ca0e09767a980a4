"""The SmartOne cash box simulator in process: envelope, signature, documents, shift, faults.

Through real HTTP on aiohttp test servers in the test's loop; requests are signed with the
shared envelope codec (docs/smartone-sim.md).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientConnectionError

from agent.drivers.smartone.envelope import encode_body
from firmware_sim.smartone.records import fiscal_id
from tests.support.atol_sim import atol_rig
from tests.support.smartone_sim import MERCHANT_ID, SmartOneRig, smartone_rig

pytestmark = pytest.mark.timeout(20)

OTHER_MERCHANT = "fedcba9876543210fedcba9876543210"


def _sale(
    ext: str, *, amount: int = 15000, cash: int = 15000, cashless: int = 0, prc: int = 1800
) -> dict[str, Any]:
    return {
        "documentExtID": ext,
        "employeeName": "Aliyeva N.",
        "currency": "AZN",
        "amount": amount,
        "items": [
            {
                "itemId": "topup",
                "itemName": "Balans artırılması",
                "itemQty": 1000,
                "itemAmount": amount,
                "itemTaxes": [{"taxName": "VAT", "taxPrc": prc}],
            }
        ],
        "payments": {"cashAmount": cash, "cashlessAmount": cashless, "otherAmount": 0},
    }


async def _open(rig: SmartOneRig) -> None:
    answer = await rig.call("open_shift", {"employeeName": "Aliyeva N."})
    assert answer["code"] == 0, answer


async def test_envelope_errors_answer_code_2() -> None:
    async with smartone_rig() as rig:
        no_sign = await rig.raw("sale", b"data=eyJhIjoxfQ%3D%3D")
        not_base64 = await rig.raw("sale", b"data=%%%%&sign=abc")
        not_json = await rig.raw("sale", b"data=bm90IGpzb24%3D&sign=abc")  # "not json"
        not_object = await rig.raw("sale", b"data=WzFd&sign=abc")  # "[1]"
    for answer in (no_sign, not_base64, not_json, not_object):
        assert answer["status"] == "error"
        assert answer["code"] == 2
        assert answer["message"]


async def test_bad_signature_is_code_1_and_nothing_runs(tmp_path: Path) -> None:
    async with smartone_rig(tmp_path / "state.db") as rig:
        opened = await rig.call("open_shift", {}, merchant_id=OTHER_MERCHANT)
        shift = await rig.call("check_shift", {})
        await _open(rig)
        sale = await rig.call("sale", _sale("r-1"), merchant_id=OTHER_MERCHANT)
        status = await rig.call("check_status", {"documentExtID": "r-1"})
        last_fd = rig.sim.register.last_fd
    assert opened["code"] == 1
    assert opened["status"] == "error"
    assert shift["isShiftOpen"] == "false"
    assert sale["code"] == 1
    assert status["code"] == 9
    assert last_fd == 2  # the registration report and the open-shift report: no receipt


async def test_unknown_route_is_404_with_code_3() -> None:
    async with smartone_rig() as rig:
        response = await rig.web.post("/no_such", data=encode_body({}, rig.merchant_id))
        body = await response.json()
    assert response.status == 404
    assert body["code"] == 3


async def test_sale_reply_and_idempotent_document_ext_id() -> None:
    async with smartone_rig() as rig:
        await _open(rig)
        first = await rig.call("sale", _sale("r-1", cash=20000))
        again = await rig.call("sale", _sale("r-1", cash=20000))
        other = await rig.call("sale", _sale("r-2"))
        receipts = [d for d in rig.sim.register.state.documents if d.type.value == "receipt"]
    assert first["status"] == "success"
    assert first["code"] == 0
    assert first["documentID"] == 1
    assert first["documentExtID"] == "r-1"
    assert first["fiscalID"] == fiscal_id(1)
    assert len(first["fiscalID"]) == 12
    assert first["fiscalNum"] == "1"
    assert first["fiscalUrl"] == f"https://monitoring.e-kassa.gov.az/#/index?doc={fiscal_id(1)}"
    assert first["docStatus"] == 1
    assert first["change"] == 5000
    assert again == first
    assert other["documentID"] == 2
    assert other["fiscalID"] != first["fiscalID"]
    assert [d.tags.mark.value for d in receipts if d.tags.mark] == ["r-1", "r-2"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"items": []}, 3),
        (_sale("v-1") | {"amount": 100}, 4),
        (_sale("v-2", cash=100), 8),
        (_sale("v-3", cash=0, cashless=20000), 11),
        (_sale("v-4", prc=2000), 12),
    ],
)
async def test_sale_checks(payload: dict[str, Any], code: int) -> None:
    async with smartone_rig() as rig:
        await _open(rig)
        answer = await rig.call("sale", payload)
        fd = rig.sim.register.last_fd
    assert answer["code"] == code, answer
    assert fd == 2  # nothing was issued


async def test_sale_in_a_closed_shift_is_6() -> None:
    async with smartone_rig() as rig:
        answer = await rig.call("sale", _sale("r-1"))
    assert answer["code"] == 6


async def test_refund_checks_against_the_sale() -> None:
    async with smartone_rig() as rig:
        await _open(rig)
        sale = await rig.call("sale", _sale("r-1"))
        parent = sale["fiscalID"]
        unknown = await rig.call("refund", _sale("f-0") | {"parentDocID": "nosuchdoc123"})
        wrong_item = _sale("f-1") | {"parentDocID": parent}
        wrong_item["items"][0]["itemId"] = "water"
        not_in_sale = await rig.call("refund", wrong_item)
        half = _sale("f-2", amount=7500, cash=7500) | {"parentDocID": parent}
        half["items"][0]["itemQty"] = 500
        first = await rig.call("refund", half)
        too_much = _sale("f-3", amount=15000) | {"parentDocID": parent}
        above = await rig.call("refund", too_much)
    assert unknown["code"] == 9
    assert not_in_sale["code"] == 18
    assert first["code"] == 0, first
    assert above["code"] == 19


async def test_processing_answers_44_until_done() -> None:
    async with smartone_rig() as rig:
        await _open(rig)
        await rig.ctl("/faults/delay", {"ms": 300})
        sale = await rig.call("sale", _sale("r-1"))
        again = await rig.call("sale", _sale("r-1"))
        by_ext = await rig.call("check_status", {"documentExtID": "r-1"})
        by_id = await rig.call("check_status", {"documentID": sale["documentID"]})
        await asyncio.sleep(0.6)
        done = await rig.call("check_status", {"documentExtID": "r-1"})
        resent = await rig.call("sale", _sale("r-1"))
        receipts = [d for d in rig.sim.register.state.documents if d.type.value == "receipt"]
    assert sale["code"] == 44
    assert sale["docStatus"] == 0
    assert again["code"] == 44
    assert again["documentID"] == sale["documentID"]
    assert by_ext["code"] == 44
    assert by_id["code"] == 44
    assert done["code"] == 0
    assert done["docStatus"] == 1
    assert done["documentID"] == sale["documentID"]
    assert resent["fiscalID"] == done["fiscalID"]
    assert len(receipts) == 1


async def test_power_cut_after_the_sale_keeps_it(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    async with smartone_rig(state) as rig:
        await _open(rig)
        await rig.ctl("/power/cut", {"on_task": "sale", "after": True})
        with pytest.raises(ClientConnectionError):
            await rig.call("sale", _sale("r-1"))
        dark = await rig.state()
    assert dark["power"] is False
    async with smartone_rig(state) as rig:  # a restart on the same state file
        status = await rig.call("check_status", {"documentExtID": "r-1"})
        resent = await rig.call("sale", _sale("r-1"))
        receipts = [d for d in rig.sim.register.state.documents if d.type.value == "receipt"]
    assert status["code"] == 0
    assert status["docStatus"] == 1
    assert resent["fiscalID"] == status["fiscalID"]
    assert len(receipts) == 1


async def test_power_cut_before_the_sale_issues_nothing() -> None:
    async with smartone_rig() as rig:
        await _open(rig)
        await rig.ctl("/power/cut", {"on_task": "sale"})
        with pytest.raises(ClientConnectionError):
            await rig.call("sale", _sale("r-1"))
        await rig.ctl("/power/back")
        status = await rig.call("check_status", {"documentExtID": "r-1"})
    assert status["code"] == 9


async def test_refused_route_runs_nothing() -> None:
    async with smartone_rig() as rig:
        await _open(rig)
        await rig.ctl("/faults/refuse", {"on_task": "sale", "code": 5, "count": 2})
        first = await rig.call("sale", _sale("r-1"))
        second = await rig.call("sale", _sale("r-1"))
        third = await rig.call("sale", _sale("r-1"))
    assert first["code"] == 5
    assert second["code"] == 5
    assert third["code"] == 0
    assert third["documentID"] == 1


async def test_paper_out_commits_and_answers_15() -> None:
    async with smartone_rig() as rig:
        await _open(rig)
        await rig.ctl("/paper/out")
        sale = await rig.call("sale", _sale("r-1"))
        status = await rig.call("check_status", {"documentExtID": "r-1"})
        copy_without_paper = await rig.call("check_copy", {"documentID": sale["documentID"]})
        await rig.ctl("/paper/back")
        copy = await rig.call("check_copy", {"documentID": sale["documentID"]})
    assert sale["code"] == 15
    assert sale["printError"] != 0
    assert sale["docStatus"] == 1
    assert status["code"] == 0
    assert status["docStatus"] == 1
    assert copy_without_paper["code"] == 15
    assert copy["code"] == 0
    assert copy["items"][0]["itemAmount"] == 15000


async def test_close_shift_refusals_26_and_27() -> None:
    async with smartone_rig() as rig:
        await _open(rig)
        empty = await rig.call("close_shift", {})
        await rig.call("sale", _sale("r-1"))
        with_cash = await rig.call("close_shift", {})
        await rig.ctl("/settings", {"refuse_z_with_cash": False})
        closed = await rig.call("close_shift", {})
        shift = await rig.call("check_shift", {})
    assert empty["code"] == 26
    assert with_cash["code"] == 27
    assert closed["code"] == 0
    assert closed["saleSum"] == 15000
    assert shift["isShiftOpen"] == "false"
    assert shift["shiftStatus"] == 2


async def test_empty_shift_closes_with_the_setting_off() -> None:
    async with smartone_rig(refuse_empty_z=False) as rig:
        await _open(rig)
        closed = await rig.call("close_shift", {})
    assert closed["code"] == 0


async def test_withdraw_above_the_drawer_is_9_and_cash_is_idempotent() -> None:
    async with smartone_rig() as rig:
        await _open(rig)
        deposit = await rig.call("deposit", {"documentExtID": "d-1", "amount": 5000})
        again = await rig.call("deposit", {"documentExtID": "d-1", "amount": 5000})
        above = await rig.call("withdraw", {"documentExtID": "w-1", "amount": 5001})
        zero = await rig.call("withdraw", {"documentExtID": "w-2", "amount": 0})
        shift = await rig.call("check_shift", {})
    assert deposit["code"] == 0
    assert deposit["cash"] == 5000
    assert again == deposit
    assert above["code"] == 9
    assert zero["code"] == 3
    assert shift["cash"] == 5000
    assert shift["isShiftOpen"] == "true"
    assert shift["shiftStatus"] == 1


async def test_x_report_counts_vat_by_rate() -> None:
    async with smartone_rig() as rig:
        await _open(rig)
        await rig.call("sale", _sale("r-1", amount=11800, cash=11800))
        await rig.call("sale", _sale("r-2", amount=5000, cash=0, cashless=5000, prc=0))
        refund = _sale("f-1", amount=1180, cash=1180)
        await rig.call("refund", refund)
        await rig.call("deposit", {"documentExtID": "d-1", "amount": 1000})
        report = await rig.call("x_report", {})
    assert report["code"] == 0
    assert report["saleCount"] == 2
    assert report["saleSum"] == 16800
    assert report["saleCashSum"] == 11800
    assert report["saleCashlessSum"] == 5000
    assert report["saleVatAmounts"] == [
        {"vatPercent": 0, "vatAmount": 0},
        {"vatPercent": 1800, "vatAmount": 1800},
    ]
    assert report["moneyBackCount"] == 1
    assert report["moneyBackSum"] == 1180
    assert report["moneyBackVatAmounts"] == [{"vatPercent": 1800, "vatAmount": 180}]
    assert report["depositCount"] == 1
    assert report["depositSum"] == 1000
    assert report["cash"] == 11800 - 1180 + 1000


async def test_get_info_and_last_document() -> None:
    async with smartone_rig() as rig:
        none_yet = await rig.call("last_document", {})
        await _open(rig)
        sale = await rig.call("sale", _sale("r-1"))
        last = await rig.call("last_document", {})
        info = await rig.call("get_info", {})
    assert none_yet["code"] == 9
    assert last["fiscalID"] == sale["fiscalID"]
    assert info["code"] == 0
    assert info["merchantId"].startswith("0123")
    assert "*" in info["merchantId"]
    assert info["isShiftOpen"] == "true"


async def test_plus_stays_literal_and_escaped_values_are_accepted() -> None:
    """The vendor's example keeps ``+`` literal; a fully escaped body decodes the same."""
    payload = {"employeeName": "Əli>>>", "x": "ü?"}  # Base64 of this JSON holds "+" and "/"
    body = encode_body(payload, MERCHANT_ID).decode("ascii")
    assert "+" in body
    async with smartone_rig() as rig:
        literal = await rig.raw("open_shift", body.encode("ascii"))
        data, sign = (part.split("=", 1)[1] for part in body.split("&"))
        escaped = "data=" + data.replace("+", "%2B").replace("/", "%2F") + "&sign=" + sign
        again = await rig.raw("check_shift", escaped.encode("ascii"))
    assert literal["code"] == 0
    assert again["code"] == 0
    assert again["isShiftOpen"] == "true"


async def test_power_cut_while_processing_loses_the_document() -> None:
    async with smartone_rig() as rig:
        await _open(rig)
        await rig.ctl("/faults/delay", {"ms": 200})
        sale = await rig.call("sale", _sale("r-1"))
        await rig.ctl("/power/cut")
        await asyncio.sleep(0.3)
        await rig.ctl("/power/back")
        status = await rig.call("check_status", {"documentExtID": "r-1"})
        fd = rig.sim.register.last_fd
    assert sale["code"] == 44
    assert status["code"] == 9
    assert fd == 2


async def test_control_routes_of_one_front_end_only() -> None:
    async with smartone_rig() as rig:
        tax_mode = await rig.control.post("/tax-mode", json={"mode": 1})
        tax_body = await tax_mode.json()
        bad = await rig.control.post("/settings", json={"refuse_empty_z": "no"})
    async with atol_rig() as atol:
        settings = await atol.control.post("/settings", json={"refuse_empty_z": False})
        settings_body = await settings.json()
    assert tax_mode.status == 400
    assert tax_body["error"]["code"] == "not_supported"
    assert bad.status == 400
    assert settings.status == 400
    assert settings_body["error"]["code"] == "not_supported"


async def test_date_header_is_the_cash_box_clock() -> None:
    """Every reply's HTTP Date is the register's clock: moved with it, not the host's."""
    async with smartone_rig() as rig:
        first = await rig.web.post("/check_shift", data=encode_body({}, MERCHANT_ID))
        await rig.sim.advance_clock(6 * 3600)
        moved = await rig.web.post("/check_shift", data=encode_body({}, MERCHANT_ID))
        before = parsedate_to_datetime(first.headers["Date"])
        after = parsedate_to_datetime(moved.headers["Date"])
    assert timedelta(hours=5, minutes=59) < after - before < timedelta(hours=6, minutes=1)
