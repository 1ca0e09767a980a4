"""A CRM written for KkmServer, replayed against the real agent and firmware-sim.

The client (tests/support/kkmserver_client.py) is written from KkmServer's documentation, not
from the agent's code: plain JSON over ``POST /Execute``, a fresh GUID per command, Basic auth,
``GetRezult`` polling.
"""

from __future__ import annotations

import codecs
import json
import random
import time
import urllib.request
import uuid
from typing import Any

import pytest

from tests.support.kkmserver_client import KkmClient
from tests.support.processes import free_port, http, wait_until

pytestmark = [pytest.mark.sim, pytest.mark.timeout(120)]

PASSWORD = "kassa-5893"  # noqa: S105 - a test password
INFO_TYPES: dict[str, type | tuple[type, ...]] = {
    "SessionState": int,
    "BalanceCash": (int, float),
    "DateTimeKKT": str,
    "OnOff": bool,
    "Active": bool,
    "PaperOver": bool,
    "FN_IsFiscal": bool,
    "FN_MemOverflowl": bool,
    "FN_DateStart": str,
    "FN_DateEnd": str,
    "OFD_Error": str,
    "OFD_NumErrorDoc": int,
    "OFD_DateErrorDoc": str,
    "InnOrganization": str,
    "NameOrganization": str,
    "AddressSettle": str,
    "PlaceSettle": str,
    "SenderEmail": str,
    "TaxVariant": str,
    "KktNumber": str,
    "FnNumber": str,
    "RegNumber": str,
    "UrlServerOfd": str,
    "PortServerOfd": str,
    "NameOFD": str,
    "UrlOfd": str,
    "InnOfd": str,
    "EncryptionMode": bool,
    "OfflineMode": bool,
    "AutomaticMode": bool,
    "InternetMode": bool,
    "BSOMode": bool,
    "ServiceMode": bool,
    "PrinterAutomatic": bool,
    "SaleExcisableGoods": bool,
    "SignOfGambling": bool,
    "SignOfLottery": bool,
    "SaleMarking": bool,
    "SignPawnshop": bool,
    "SignAssurance": bool,
    "AutomaticNumber": str,
    "SignOfAgent": str,
    "FFDVersion": str,
    "FFDVersionFN": str,
    "FFDVersionKKT": str,
    "Firmware_Version": str,
    "Firmware_Status": int,
    "LicenseExpirationDate": str,
}


def _start(start_sim: Any, start_agent: Any, **kkm: Any) -> tuple[Any, Any, KkmClient]:
    sim = start_sim()
    port = free_port()
    settings = {
        "kkmserver": {"listen": f"127.0.0.1:{port}", "password": PASSWORD, **kkm},
        "worker": {"retry_initial_s": 0.1, "retry_max_s": 0.5},
    }
    agent = start_agent(sim, settings=settings)
    return sim, agent, KkmClient(f"http://127.0.0.1:{port}", "Admin", PASSWORD)


def register(
    name: str, price: float, tax: int, method: int = 4, subject: int = 4, *, quantity: float = 1
) -> dict[str, Any]:
    return {
        "Register": {
            "Name": name,
            "Quantity": quantity,
            "Price": price,
            "Amount": round(price * quantity, 2),
            "Department": 0,
            "Tax": tax,
            "SignMethodCalculation": method,
            "SignCalculationObject": subject,
        }
    }


def check(lines: list[dict[str, Any]], **payments: Any) -> dict[str, Any]:
    return {
        "IsFiscalCheck": True,
        "TypeCheck": 0,
        "NotPrint": False,
        "CashierName": "Петрова А.",
        "TaxVariant": "",
        "CheckStrings": [{"PrintText": {"Text": ">#2#<Клуб"}}, *lines],
        "Cash": 0,
        "ElectronicPayment": 0,
        "AdvancePayment": 0,
        "Credit": 0,
        "CashProvision": 0,
        **payments,
    }


def receipts_on_tape(sim: Any) -> list[dict[str, Any]]:
    return [doc for doc in sim.tape() if doc["type"] == "receipt"]


def test_a_crm_session_against_the_agent(start_sim: Any, start_agent: Any) -> None:
    """List, state, open shift, every tax and payment kind, refund, cash in/out, X, Z, polling."""
    sim, _agent, crm = _start(start_sim, start_agent)
    status, body = crm.execute({"Command": "List"}, auth=False)
    assert status == 401
    preflight = urllib.request.Request(  # noqa: S310 - local test URL
        f"{crm.base}/Execute",
        method="OPTIONS",
        headers={
            "Origin": "https://crm.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    with urllib.request.urlopen(preflight, timeout=10) as answer:  # noqa: S310 - before auth
        assert answer.status == 200
        assert answer.headers["Access-Control-Allow-Origin"] == "https://crm.example"
        assert answer.headers["Access-Control-Allow-Headers"] == "authorization,content-type"
        assert answer.headers["Access-Control-Allow-Private-Network"] == "true"
    with urllib.request.urlopen(f"{crm.base}/Version", timeout=10) as answer:  # noqa: S310
        assert json.loads(answer.read())["Version"]
    status, body = crm.post_raw(
        codecs.BOM_UTF8 + b'{"command": "GetLineLength", "kassa_ip_port": 1}', path="/Execute/sync"
    )
    assert (status, body["Status"], body["LineLength"]) == (200, 0, 48)
    units = crm.run("List")["ListUnit"]
    assert units
    assert units[0]["IsRegisterCheck"] is True
    assert units[0]["TypeDevice"] == "Фискальный регистратор"

    state = crm.run("GetDataKKT")
    assert state["Status"] == 0
    info = state["Info"]
    for key, kind in INFO_TYPES.items():
        assert isinstance(info[key], kind), (key, info[key])
    assert info["SessionState"] == 1

    open_id = str(uuid.uuid4())
    opened = crm.run("OpenShift", id_command=open_id, CashierName="Петрова А.")
    assert opened["Status"] == 0, opened
    assert opened["SessionNumber"] >= 1
    assert opened["CheckNumber"] >= 1
    assert opened["Info"]["SessionState"] == 2
    resent = crm.run("OpenShift", id_command=open_id, CashierName="Петрова А.")
    assert resent["Status"] == 5  # the same IdCommand: not run again
    again = crm.run("OpenShift", CashierName="Петрова А.")
    assert again["Status"] == 2
    assert "Смена" in again["Error"]
    assert crm.run("GetDataKKT")["Info"]["SessionState"] == 2

    sales = [
        # Full settlement with every plain rate; cash with change and card together.
        check(
            [
                register("Вода", 100, -1, subject=1),
                register("Чай", 100, 0, subject=1),
                register("Сок", 100, 5, subject=1),
                register("Морс", 100, 7, subject=1),
                register("Хлеб", 100, 10, subject=1),
                register("Кофе", 100, 22, subject=1),
            ],
            Cash=500,
            ElectronicPayment=150,
        ),
        # Top-ups (advance) with every calculated rate, paid by card.
        check(
            [
                register("Пополнение", 100, 105, 3, 10),
                register("Пополнение", 100, 107, 3, 10),
                register("Пополнение", 100, 110, 3, 10),
                register("Пополнение", 100, 122, 3, 10),
            ],
            ElectronicPayment=400,
        ),
        # A session paid from the balance (the earlier advance).
        check([register("Игровое время, 3 часа", 450, -1)], AdvancePayment=450),
    ]
    numbers = []
    for body in sales:
        reply = crm.run("RegisterCheck", Timeout=30, **body)
        assert reply["Status"] == 0, reply
        assert reply["Error"] == ""
        assert reply["QRCode"].startswith("t=")
        assert reply["SessionCheckNumber"] >= 1
        numbers.append(reply["CheckNumber"])
    assert numbers == sorted(numbers)

    data = crm.run("GetDataCheck", FiscalNumber=numbers[0])
    assert data["Status"] == 0
    assert data["RegisterCheck"]["FiscalNumber"] == str(numbers[0])
    assert len(data["RegisterCheck"]["Register"]) == 6
    assert data["RegisterCheck"]["AllSumm"] == 600
    missing = crm.run("GetDataCheck", FiscalNumber=999_999)
    assert missing["Status"] == 2
    assert missing["Error"].startswith("Не удалось получить данные чека")

    retired = crm.run("RegisterCheck", **check([register("Кофе", 100, 20)], Cash=100))
    assert retired["Status"] == 2
    assert "vat_rate_retired" in retired["Error"]
    wrong = crm.run("RegisterCheck", **check([register("Кофе", 100, 18)], Cash=100))
    assert (wrong["Status"], wrong["Error"]) == (2, "Не правильно указана ставка НДС!")

    refund = crm.run(
        "RegisterCheck",
        **{**check([register("Кофе", 100, 22, subject=1)], Cash=100), "TypeCheck": 1},
    )
    assert refund["Status"] == 0
    assert refund["QRCode"].endswith("&n=2")

    assert crm.run("DepositingCash", Amount=1000, CashierName="Петрова А.")["Status"] == 0
    assert crm.run("PaymentCash", Amount="300.00", CashierName="Петрова А.")["Status"] == 0
    too_much = crm.run("PaymentCash", Amount=1_000_000)
    assert too_much["Status"] == 2
    assert too_much["Error"]

    queued_id = str(uuid.uuid4())
    queued = crm.run(
        "RegisterCheck",
        id_command=queued_id,
        Timeout=1,
        **check([register("Кофе", 200, 22, subject=1)], Cash=200),
    )
    assert queued["Status"] in (0, 1, 4)
    polled = crm.poll(queued_id)
    assert (polled["Status"], polled["IdCommand"]) == (0, "")
    assert polled["Rezult"]["Status"] == 0
    assert polled["Rezult"]["IdCommand"] == queued_id
    assert polled["Rezult"]["CheckNumber"] > numbers[-1]

    assert crm.run("XReport")["Status"] == 0
    assert crm.run("OpenCashDrawer")["Status"] == 0
    assert sim.state()["drawer_openings"] == 1
    ofd_id = str(uuid.uuid4())
    ofd = crm.run("OfdReport", id_command=ofd_id, CashierName="Петрова А.")
    assert ofd["Status"] == 0, ofd
    assert ofd["CheckNumber"] == polled["Rezult"]["CheckNumber"] + 1
    assert crm.run("OfdReport", id_command=ofd_id)["Status"] == 5  # the same id: not twice
    assert [doc["fd"] for doc in sim.tape() if doc["type"] == "calculation_state"] == [
        ofd["CheckNumber"]
    ]
    assert crm.run("GetLineLength")["LineLength"] > 0
    closed = crm.run("ZReport", CashierName="Петрова А.")
    assert closed["Status"] == 0
    assert closed["CheckNumber"] > ofd["CheckNumber"]
    assert crm.run("GetDataKKT")["Info"]["SessionState"] == 1
    assert crm.run("CloseShift")["Status"] == 2  # closed already, as KkmServer answers

    unknown = crm.run("GetRezult", id_command=str(uuid.uuid4()))
    assert unknown["Status"] == 3
    assert unknown["Rezult"]["Status"] == 3
    tape = receipts_on_tape(sim)
    assert len(tape) == 5  # three sales, the refund, the polled one
    assert sorted(doc["total"] for doc in tape) == [
        "100.00",
        "200.00",
        "400.00",
        "450.00",
        "600.00",
    ]


def test_an_ofd_report_id_survives_a_restart_and_receipts_after_it_count_right(
    start_sim: Any, start_agent: Any
) -> None:
    """OfdReport takes an FD in the shift; after a restart its id is still done, never reprinted,
    and the next receipt is number 2 of the shift (the report is no receipt)."""
    sim, agent, crm = _start(start_sim, start_agent)
    assert crm.run("OpenShift")["Status"] == 0
    first = crm.run("RegisterCheck", **check([register("Кофе", 100, 22, subject=1)], Cash=100))
    assert first["Status"] == 0
    ofd_id = str(uuid.uuid4())
    ofd = crm.run("OfdReport", id_command=ofd_id)
    assert (ofd["Status"], ofd["CheckNumber"]) == (0, first["CheckNumber"] + 1)
    agent.stop()
    agent.start()
    assert crm.run("OfdReport", id_command=ofd_id)["Status"] == 5
    assert crm.run("GetRezult", id_command=ofd_id)["Rezult"]["Status"] == 0
    second = crm.run("RegisterCheck", **check([register("Чай", 50, 22, subject=1)], Cash=50))
    assert (second["Status"], second["CheckNumber"]) == (0, ofd["CheckNumber"] + 1)
    assert (first["SessionCheckNumber"], second["SessionCheckNumber"]) == (1, 2)
    types = [doc["type"] for doc in sim.tape()]
    assert types.count("calculation_state") == 1
    assert types[-3:] == ["receipt", "calculation_state", "receipt"]

    refused_id = str(uuid.uuid4())  # the register refuses it once: nothing printed, runs again
    sim.post("/faults/refuse", {"on_command": "FF38", "code": 0x37, "count": 1})
    refused = crm.run("OfdReport", id_command=refused_id)
    assert refused["Status"] == 2
    assert "not_supported" in refused["Error"]
    again = crm.run("OfdReport", id_command=refused_id)
    assert (again["Status"], again["CheckNumber"]) == (0, second["CheckNumber"] + 1)
    assert crm.run("OfdReport", id_command=refused_id)["Status"] == 5
    assert [doc["type"] for doc in sim.tape()].count("calculation_state") == 2


def test_the_same_id_command_after_a_kill_answers_already_done(
    start_sim: Any, start_agent: Any
) -> None:
    """SIGKILL between the FN's signature and the outbox's record; the CRM resends its id."""
    sim, agent, crm = _start(start_sim, start_agent)
    assert crm.run("OpenShift")["Status"] == 0
    agent.stop()
    agent.env = {"FISCAL_EDGE_CRASH_POINTS": "after_issue=1"}
    agent.start()
    id_command = str(uuid.uuid4())
    body = {
        "Command": "RegisterCheck",
        "IdCommand": id_command,
        "Timeout": 30,
        **check([register("Пополнение", 500, 122, 3, 10)], ElectronicPayment=500),
    }
    with pytest.raises(OSError):  # the agent dies with the request on the line
        crm.execute(body)
    assert agent.proc.wait(timeout=10) == -9
    assert len(receipts_on_tape(sim)) == 1
    agent.env = {}
    agent.start()
    status, reply = crm.execute(body)
    assert status == 200
    assert reply["Status"] == 5
    assert reply["Error"]
    assert "CheckNumber" not in reply
    polled = crm.poll(id_command)
    assert polled["Rezult"]["Status"] == 0, polled
    assert polled["Rezult"]["CheckNumber"] == receipts_on_tape(sim)[0]["fd"]
    status, reply = crm.execute(body)
    assert reply["Status"] == 5
    assert len(receipts_on_tape(sim)) == 1


def test_a_command_queued_past_the_limit_is_withdrawn_and_never_printed(
    start_sim: Any, start_agent: Any
) -> None:
    """Paper out: the queued receipt is withdrawn (Status 2); the CRM's resend prints once."""
    sim, agent, crm = _start(start_sim, start_agent, queue_limit="2s")
    assert crm.run("OpenShift")["Status"] == 0
    sim.post("/paper/out")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    crm.run(
        "RegisterCheck",
        id_command=first,
        Timeout=1,
        **check([register("Кофе", 111, 22, subject=1)], Cash=111),
    )
    reply = crm.run(
        "RegisterCheck",
        id_command=second,
        Timeout=1,
        **check([register("Чай", 222, 22, subject=1)], Cash=222),
    )
    assert reply["Status"] == 4  # queued behind the first
    withdrawn = wait_until(
        lambda: (r := crm.run("GetRezult", id_command=second)["Rezult"])["Status"] == 2 and r,
        timeout_s=15,
        what="the queue limit",
    )
    assert withdrawn["Error"] == (
        "Истек допустимый период постановки команды на исполнение из очереди. Команда отменена."
    )
    sim.post("/paper/back")
    wait_until(
        lambda: crm.run("GetRezult", id_command=first)["Rezult"]["Status"] in (0, 2),
        timeout_s=30,
        what="the first receipt to settle",
    )
    resend = crm.run(
        "RegisterCheck", Timeout=30, **check([register("Чай", 222, 22, subject=1)], Cash=222)
    )
    assert resend["Status"] == 0, resend
    time.sleep(0.5)
    totals = [doc["total"] for doc in receipts_on_tape(sim)]
    assert totals.count("222.00") == 1  # the withdrawn one never printed, the resend once
    assert totals.count("111.00") <= 1
    assert agent.is_alive()
    health = http("GET", f"{agent.base}/health")[1]
    assert health["outbox"]["failed"] == 0  # withdrawn: the CRM was told, no payment is lost


def _malformed(count: int) -> list[bytes]:
    """Bodies a CRM should never send: each must be answered with a reason, none printed."""
    rng = random.Random(12)
    good = {
        "Command": "RegisterCheck",
        "IsFiscalCheck": True,
        "TypeCheck": 0,
        "CheckStrings": [register("Кофе", 100, 22, subject=1)],
        "Cash": 100,
    }
    breakers: list[tuple[str, Any]] = [
        ("CheckStrings", "строка"),
        ("CheckStrings", [1, 2]),
        ("CheckStrings", []),
        ("Cash", "сто"),
        ("Cash", -5),
        ("Cash", [1]),
        ("Cash", 10),
        ("TypeCheck", 7),
        ("TypeCheck", "x"),
        ("IsFiscalCheck", "может быть"),
        ("IsFiscalCheck", False),
        ("Credit", 100),
        ("TaxVariant", "9"),
        ("TaxVariant", {"a": 1}),
        ("CheckStrings", [{"Register": {"Name": "x", "Tax": 22}}]),
        ("CheckStrings", [{"Register": {**register("x", 1, 33)["Register"]}}]),
        ("CheckStrings", [{"Register": {**register("x", 1, 22)["Register"], "Quantity": -1}}]),
        ("CheckStrings", [{"Register": {**register("x", 1, 22)["Register"], "Price": "1e999"}}]),
        ("CheckStrings", [{"Register": "not an object"}]),
        ("CheckStrings", [{"Register": {**register("x", 1, 22)["Register"], "Name": "😀"}}]),
    ]
    bodies: list[bytes] = []
    while len(bodies) < count:
        pick = rng.randrange(6)
        if pick == 0:
            bodies.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80))))
        elif pick == 1:
            text = json.dumps(good)
            bodies.append(text[: rng.randrange(1, len(text) - 1)].encode())
        elif pick == 2:
            key, value = rng.choice(breakers)
            bodies.append(json.dumps({**good, key: value}, ensure_ascii=False).encode())
        elif pick == 3:
            name = rng.choice(["", "registercheck", "Print", "DROP TABLE", "Execute", "Версия"])
            bodies.append(json.dumps({"Command": name}).encode())
        elif pick == 4:
            bodies.append(json.dumps(rng.choice([[], 1, "x", None, [1, 2]])).encode())
        else:
            key, value = rng.choice(breakers)
            command = {**good, key: value, "IdCommand": rng.choice([{"x": 1}, [1], 5, "ид"])}
            bodies.append(json.dumps(command, ensure_ascii=False).encode("utf-16"))
    return bodies


def test_500_malformed_bodies_each_get_an_envelope_with_a_reason(
    start_sim: Any, start_agent: Any
) -> None:
    sim, agent, crm = _start(start_sim, start_agent)
    for raw in _malformed(500):
        status, reply = crm.post_raw(raw)
        assert status in (200, 400, 501), (raw, status, reply)
        assert isinstance(reply, dict), (raw, reply)
        assert reply["Status"] == 2, (raw, reply)
        assert isinstance(reply["Error"], str), (raw, reply)
        assert len(reply["Error"]) > 5, (raw, reply)
        assert {"Command", "Warning", "Message", "IdCommand"} <= set(reply)
    assert agent.is_alive()
    assert crm.run("List")["Status"] == 0
    assert receipts_on_tape(sim) == []


def test_a_command_left_queued_over_a_restart_is_withdrawn_at_the_start(
    start_sim: Any, start_agent: Any
) -> None:
    """The queue limit holds across a restart: past it, the waiting command never prints."""
    sim, agent, crm = _start(start_sim, start_agent, queue_limit="2s")
    assert crm.run("OpenShift")["Status"] == 0
    sim.post("/paper/out")
    waiting = str(uuid.uuid4())
    reply = crm.run(
        "RegisterCheck",
        id_command=waiting,
        Timeout=1,
        **check([register("Сок", 333, 22, subject=1)], Cash=333),
    )
    assert reply["Status"] in (1, 4)
    agent.kill()
    time.sleep(2.5)
    sim.post("/paper/back")
    agent.start()
    rezult = wait_until(
        lambda: (r := crm.run("GetRezult", id_command=waiting)["Rezult"])["Status"] != 4 and r,
        timeout_s=15,
        what="the waiting command's outcome",
    )
    # Paper out stops a receipt before its intent is recorded: it had not reached the register.
    assert rezult["Status"] == 2
    assert rezult["Error"].startswith("Истек допустимый период")
    time.sleep(1.0)
    assert [doc["total"] for doc in receipts_on_tape(sim)].count("333.00") == 0
    assert any(r.get("event") == "withdrawn" for r in agent.log_records())
