"""The ATOL web front end in process: queue, statuses, errors, blocking, faults, restart.

Through real HTTP on aiohttp test servers in the test's loop (docs/atol-web-notes.md).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.support.atol_sim import AtolRig, atol_rig

pytestmark = pytest.mark.timeout(20)  # a few tasks through HTTP and the worker each

OPEN = {"type": "openShift", "operator": {"name": "Иванова А."}}


def _sell(
    *,
    cash: float = 0.0,
    card: float = 0.0,
    price: float = 150.0,
    mark: str | None = None,
    kind: str = "sell",
) -> dict[str, Any]:
    items: list[dict[str, Any]] = [
        {
            "type": "position",
            "name": "Кофе",
            "price": price,
            "quantity": 1,
            "amount": price,
            "paymentMethod": "fullPayment",
            "paymentObject": "service",
            "tax": {"type": "vat22"},
        }
    ]
    if mark is not None:
        items.append({"type": "userAttribute", "name": "CRM ID", "value": mark})
    payments = [
        p
        for p in ({"type": "cash", "sum": cash}, {"type": "electronically", "sum": card})
        if p["sum"]
    ]
    return {
        "type": kind,
        "taxationType": "osn",
        "operator": {"name": "Иванова А."},
        "items": items,
        "payments": payments,
    }


async def _opened(rig: AtolRig) -> None:
    assert (await rig.run("open", [OPEN]))[0]["status"] == "ready"


async def test_post_answers_201_with_the_queue_fields_and_get_gives_ready_results() -> None:
    async with atol_rig() as rig:
        status, body = await rig.submit("u-1", [OPEN])
        assert status == 201
        assert set(body) == {"uuid", "number", "isBlocked", "blockedUUID", "blockReason"}
        assert (body["uuid"], body["isBlocked"]) == ("u-1", False)
        [entry] = await rig.final("u-1")
        assert entry["status"] == "ready"
        assert entry["error"] == {"code": 0, "description": "Ошибок нет"}
        params = entry["result"]["fiscalParams"]
        assert (params["fiscalDocumentNumber"], params["shiftNumber"]) == (2, 1)
        assert isinstance(params["fiscalDocumentSign"], str)


async def test_a_repeated_uuid_is_409_and_the_first_request_stays() -> None:
    async with atol_rig() as rig:
        await _opened(rig)
        first = await rig.run("s-1", _sell(cash=200.0, mark="row-1"))
        status, body = await rig.submit("s-1", _sell(cash=200.0, mark="row-1"))
        assert status == 409
        assert "error" in body
        assert await rig.results("s-1") == first
        assert rig.sim.register.last_fd == 3  # one receipt


async def test_bad_requests_are_400_and_unknown_uuids_404() -> None:
    async with atol_rig() as rig:
        response = await rig.web.post("/api/v2/requests", data=b"{not json")
        assert response.status == 400
        assert (await rig.submit("", [OPEN]))[0] == 400
        assert (await rig.submit("x", []))[0] == 400
        status, body = await rig.submit("two", [OPEN, _sell(cash=150.0)])
        assert status == 400
        assert "Too many fiscal sub-tasks - 2" in body["error"]["description"]
        assert (await rig.web.get("/api/v2/requests/nobody")).status == 404


async def test_the_first_error_interrupts_the_rest_of_the_request_with_502() -> None:
    async with atol_rig() as rig:
        results = await rig.run(
            "r", [{"type": "getShiftStatus"}, _sell(cash=150.0), {"type": "getFnStatus"}]
        )
        assert results[0]["result"]["shiftStatus"]["state"] == "closed"
        assert (results[1]["status"], results[1]["error"]["code"]) == ("error", 73)
        assert (results[2]["status"], results[2]["error"]["code"]) == ("interrupted", 502)


async def test_error_codes_of_the_register_rules() -> None:
    async with atol_rig() as rig:
        await _opened(rig)
        assert (await rig.run("again", OPEN))[0]["error"]["code"] == 83
        assert (await rig.run("under", _sell(cash=100.0)))[0]["error"]["code"] == 66
        assert (await rig.run("noncash", _sell(card=151.0)))[0]["error"]["code"] == 52
        out = await rig.run("out", {"type": "cashOut", "cashSum": 10.0})
        assert out[0]["error"]["code"] == 80
        refund = await rig.run("ref", _sell(cash=150.0, kind="sellReturn"))
        assert refund[0]["error"]["code"] == 80
        await rig.ctl("/paper/out")
        assert (await rig.run("paper", _sell(cash=150.0)))[0]["error"]["code"] == 44
        await rig.ctl("/paper/back")
        await rig.ctl("/cover/open")
        assert (await rig.run("cover", _sell(cash=150.0)))[0]["error"]["code"] == 45
        await rig.ctl("/cover/close")
        bad_tax = _sell(cash=150.0)
        bad_tax["items"][0]["tax"] = {"type": "vat99"}
        assert (await rig.run("tax", bad_tax))[0]["error"]["code"] == 144
        assert rig.sim.register.last_fd == 2  # nothing was issued


async def test_a_shift_over_24_hours_is_expired_and_receipts_fail_with_68() -> None:
    async with atol_rig() as rig:
        await _opened(rig)
        await rig.ctl("/clock/advance", {"seconds": 24 * 3600 + 60})
        [status] = await rig.run("st", {"type": "getShiftStatus"})
        assert status["result"]["shiftStatus"]["state"] == "expired"
        assert (await rig.run("late", _sell(cash=150.0)))[0]["error"]["code"] == 68
        assert (await rig.run("z", {"type": "closeShift"}))[0]["status"] == "ready"
        assert (await rig.run("open2", OPEN))[0]["result"]["fiscalParams"]["shiftNumber"] == 2
        assert (await rig.run("sale", _sell(cash=150.0)))[0]["status"] == "ready"


async def test_cash_and_reads_and_the_documents_mark() -> None:
    async with atol_rig() as rig:
        await _opened(rig)
        [cash_in] = await rig.run("in", {"type": "cashIn", "cashSum": 1000.0})
        assert cash_in["result"] == {"counters": {"cashSum": 1000.0}}
        [sale] = await rig.run("sale", _sell(cash=200.0, mark="row-42"))
        params = sale["result"]["fiscalParams"]
        assert (params["total"], params["fiscalReceiptNumber"]) == (150.0, 1)
        fd = params["fiscalDocumentNumber"]
        [doc] = await rig.run("doc", {"type": "getFnDocument", "fiscalDocumentNumber": fd})
        tlv = doc["result"]["documentTLV"]
        assert tlv["1084"] == {"1085": "CRM ID", "1086": "row-42"}
        assert (tlv["fiscalDocumentType"], tlv["1020"], tlv["1031"]) == ("receipt", 150.0, 150.0)
        [last] = await rig.run("last", {"type": "getLastFiscalParams", "forReceipt": True})
        assert last["result"]["fiscalParams"] == params
        [fn] = await rig.run("fn", {"type": "getFnStatus"})
        assert fn["result"]["fnStatus"]["fiscalDocumentNumber"] == fd
        [drawer] = await rig.run("cash", {"type": "cashOut", "cashSum": 1150.0})
        assert drawer["result"] == {"counters": {"cashSum": 0.0}}
        reads = [
            {"type": t}
            for t in ("getDeviceInfo", "getDeviceStatus", "getFnInfo", "openCashDrawer", "reportX")
        ]
        assert [r["status"] for r in await rig.run("reads", reads)] == ["ready"] * 5
        response = await rig.web.post("/api/v2/operations/queryShiftStatus")
        assert (await response.json())["shiftStatus"]["state"] == "opened"


async def test_delete_cancels_only_while_every_task_waits() -> None:
    async with atol_rig() as rig:
        await rig.ctl("/faults/delay", {"ms": 300})
        await rig.submit("slow", [{"type": "getShiftStatus"}])
        await rig.submit("queued", [OPEN])
        await asyncio.sleep(0.05)
        assert (await rig.results("slow"))[0]["status"] == "inProgress"
        assert (await rig.web.delete("/api/v2/requests/slow")).status == 409
        assert (await rig.web.delete("/api/v2/requests/queued")).status == 200
        assert (await rig.final("queued"))[0]["status"] == "canceled"
        assert (await rig.final("slow"))[0]["status"] == "ready"
        assert rig.sim.register.last_fd <= 1  # the canceled openShift never ran


async def test_power_cut_after_the_receipt_ran_blocks_then_recovers_ready() -> None:
    async with atol_rig() as rig:
        await _opened(rig)
        await rig.ctl("/power/cut", {"on_task": "sell", "after": True})
        await rig.submit("cut", _sell(cash=150.0, mark="row-9"))
        await asyncio.sleep(0.2)
        assert (await rig.results("cut"))[0]["status"] == "blocked"
        status, body = await rig.submit("next", {"type": "getShiftStatus"})
        assert (status, body["isBlocked"], body["blockedUUID"]) == (201, True, "cut")
        await asyncio.sleep(0.2)
        assert (await rig.results("next"))[0]["status"] == "wait"  # the queue is frozen
        await rig.ctl("/power/back")
        [recovered] = await rig.final("cut")
        assert recovered["status"] == "ready"
        assert recovered["result"]["fiscalParams"]["fiscalDocumentNumber"] == 3
        assert (await rig.final("next"))[0]["status"] == "ready"
        doc = rig.sim.register.document(3)
        assert doc is not None
        assert doc.tags.mark is not None
        assert doc.tags.mark.value == "row-9"


async def test_power_cut_before_the_receipt_ran_ends_in_error_and_no_document() -> None:
    async with atol_rig() as rig:
        await _opened(rig)
        await rig.ctl("/power/cut", {"on_task": "sell", "after": False})
        await rig.submit("cut", _sell(cash=150.0))
        await asyncio.sleep(0.2)
        assert (await rig.results("cut"))[0]["status"] == "blocked"
        await rig.ctl("/power/back")
        [entry] = await rig.final("cut")
        assert (entry["status"], entry["error"]["code"]) == ("error", 2)
        assert rig.sim.register.last_fd == 2


async def test_a_read_while_the_power_is_off_fails_with_no_link() -> None:
    async with atol_rig() as rig:
        await rig.ctl("/power/cut")
        [entry] = await rig.run("off", {"type": "getShiftStatus"})
        assert (entry["status"], entry["error"]["code"]) == ("error", 2)
        [fiscal] = await rig.run("off2", OPEN)  # the FN could not be read first: no block
        assert (fiscal["status"], fiscal["error"]["code"]) == ("error", 2)
        await rig.ctl("/power/back")


async def test_injected_refusals_before_and_after() -> None:
    async with atol_rig() as rig:
        await _opened(rig)
        await rig.ctl("/faults/refuse", {"on_task": "sell", "code": 44})
        assert (await rig.run("r1", _sell(cash=150.0)))[0]["error"]["code"] == 44
        assert rig.sim.register.last_fd == 2
        await rig.ctl("/faults/refuse", {"on_task": "sell", "code": 44, "after": True})
        assert (await rig.run("r2", _sell(cash=150.0)))[0]["error"]["code"] == 44
        assert rig.sim.register.last_fd == 3  # it ran: the host was told otherwise
        state = await rig.ctl("/faults/refuse", {"on_task": "sell", "code": 2, "count": 2})
        assert state["faults"]["refuse"] == [
            {"on_task": "sell", "code": 2, "count": 2, "after": False}
        ]
        [entry] = await rig.run("r3", _sell(cash=150.0))  # a link code blocks, then error
        assert (entry["status"], entry["error"]["code"]) == ("error", 2)


async def test_the_v1_requests_form() -> None:
    async with atol_rig() as rig:
        response = await rig.web.post("/requests", json={"uuid": "v1", "request": [OPEN]})
        assert (response.status, await response.read()) == (201, b"")
        await rig.final("v1")
        body = await (await rig.web.get("/requests/v1")).json()
        assert body["results"][0]["status"] == "ready"
        assert body["results"][0]["errorCode"] == 0
        stat = await (await rig.web.get("/stat/requests")).json()
        assert stat["is_blocked"] is False


async def test_a_restart_keeps_uuids_and_decides_a_task_caught_running(tmp_path: Path) -> None:
    state = tmp_path / "fn.db"
    async with atol_rig(state) as rig:
        await _opened(rig)
        await rig.ctl("/power/cut", {"on_task": "sell", "after": True})
        await rig.submit("cut", _sell(cash=150.0))
        await asyncio.sleep(0.2)
        assert (await rig.results("cut"))[0]["status"] == "blocked"
    async with atol_rig(state) as rig:  # a new process on the same state file
        assert (await rig.submit("open", [OPEN]))[0] == 409
        [entry] = await rig.final("cut")
        assert entry["status"] == "ready"
        assert entry["result"]["fiscalParams"]["fiscalDocumentNumber"] == 3


async def test_a_sell_correction_is_a_correction_receipt_and_device_status_shows_the_cover() -> (
    None
):
    async with atol_rig() as rig:
        await _opened(rig)
        correction = _sell(cash=150.0, kind="sellCorrection")
        correction |= {"correctionType": "self", "correctionBaseDate": "2026.11.20"}
        [entry] = await rig.run("corr", correction)
        assert entry["status"] == "ready", entry
        doc = rig.sim.register.document(entry["result"]["fiscalParams"]["fiscalDocumentNumber"])
        assert doc is not None
        assert doc.type.value == "correction"
        assert doc.tags.correction_date is not None
        assert doc.tags.correction_date.isoformat() == "2026-11-20"
        no_date = _sell(cash=150.0, kind="sellCorrection")
        assert (await rig.run("corr2", no_date))[0]["error"]["code"] == 501
        await rig.ctl("/cover/open")
        [status] = await rig.run("st", {"type": "getDeviceStatus"})
        assert status["result"]["deviceStatus"]["coverOpened"] is True
        await rig.ctl("/cover/close")


async def test_paper_ending_while_the_receipt_prints_gives_not_printed() -> None:
    async with atol_rig() as rig:
        await _opened(rig)
        state = await rig.ctl("/paper/out", {"on_task": "sell"})
        assert state["paper"] is True
        [sold] = await rig.run("s", _sell(cash=150.0))
        assert sold["status"] == "ready"
        assert sold["result"]["warnings"]["notPrinted"] is True
        assert rig.sim.register.last_fd == 3  # the document is in the FN
        [blocked] = await rig.run("c1", {"type": "continuePrint"})
        assert blocked["error"]["code"] == 44
        await rig.ctl("/paper/back")
        assert (await rig.run("c2", {"type": "continuePrint"}))[0]["status"] == "ready"
        assert not rig.sim.register.print_interrupted
