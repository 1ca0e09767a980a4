"""The doctor as a SmartOne cash box's "Check" button: it answers, it accepts the signature.

The port probe and the register read run against the SmartOne simulator over real HTTP (in
this loop); the findings are pure functions of those facts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from agent.config import AgentConfig
from agent.doctor.checks import check_port
from agent.doctor.facts import PortFacts, PortKind, PortOutcome, RegisterOutcome
from agent.doctor.findings import Status
from agent.doctor.gather import probe_port
from agent.doctor.register_checks import check_register
from agent.doctor.register_probe import read_register
from tests.support.processes import free_port
from tests.support.smartone_sim import MERCHANT_ID, SmartOneRig, smartone_rig

pytestmark = pytest.mark.timeout(30)

WRONG_ID = "fedcba9876543210fedcba9876543210"


def _config(url: str, merchant_id: str) -> AgentConfig:
    return AgentConfig.model_validate(
        {
            "club": "c",
            "agent": "a",
            "country": "AZ",
            "register": {"protocol": "smartone", "tz": "Asia/Baku"},
            "smartone": {"url": url, "merchant_id": merchant_id},
        }
    )


@pytest.fixture
async def cashbox() -> AsyncIterator[SmartOneRig]:
    async with smartone_rig() as rig:
        answer = await rig.call("open_shift", {"employeeName": "Aliyeva N."})
        assert answer["code"] == 0
        yield rig


def _url(rig: SmartOneRig) -> str:
    return str(rig.web.make_url("")).rstrip("/")


async def test_the_cash_box_answers_and_accepts_the_signature(cashbox: SmartOneRig) -> None:
    port = await probe_port(_url(cashbox), is_agent_linked=True, protocol="smartone")
    assert (port.kind, port.outcome) == (PortKind.CASHBOX, PortOutcome.OK)
    assert check_port(port).status is Status.PASS
    register = await read_register(_config(_url(cashbox), MERCHANT_ID))
    assert register.outcome is RegisterOutcome.OK
    assert register.shift is not None
    assert register.shift.is_open
    finding = check_register(register, port)
    assert (finding.status, finding.code) == (Status.PASS, "ok")
    assert "accepts the signature" in finding.finding.text


async def test_a_wrong_merchant_id_is_named_and_nothing_is_printed(cashbox: SmartOneRig) -> None:
    port = await probe_port(_url(cashbox), is_agent_linked=False, protocol="smartone")
    register = await read_register(_config(_url(cashbox), WRONG_ID))
    assert register.outcome is RegisterOutcome.WRONG_PASSWORD
    finding = check_register(register, port)
    assert (finding.status, finding.code) == (Status.FAIL, "wrong_password")
    assert "merchant id" in finding.finding.text
    assert any("[smartone] merchant_id" in advice.text for advice in finding.advice)
    state = await cashbox.state()
    assert state["last_document_id"] == 0  # the probe issued nothing


async def test_nothing_listening_and_another_http_server() -> None:
    silent = f"http://127.0.0.1:{free_port()}"
    port = await probe_port(silent, is_agent_linked=False, protocol="smartone")
    assert port.outcome is PortOutcome.UNREACHABLE
    finding = check_port(port)
    assert (finding.status, finding.code) == (Status.FAIL, "unreachable")
    assert any("[smartone] url" in advice.text for advice in finding.advice)

    app = web.Application()

    async def page(_: web.Request) -> web.Response:
        return web.Response(text="<html>router login</html>", content_type="text/html")

    app.router.add_route("*", "/{tail:.*}", page)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("")).rstrip("/")
        other = await probe_port(url, is_agent_linked=False, protocol="smartone")
    finally:
        await server.close()
    assert other.outcome is PortOutcome.NOT_SMARTONE
    assert check_port(other).code == "not_smartone"


async def test_a_silent_cash_box_after_the_port_answered() -> None:
    """The register read gives up on a cash box that stops answering: its own wording."""
    port = PortFacts(url="http://10.0.0.9:8008", kind=PortKind.CASHBOX, outcome=PortOutcome.OK)
    register = await asyncio.wait_for(
        read_register(_config(f"http://127.0.0.1:{free_port()}", MERCHANT_ID)), 25
    )
    assert register.outcome in {RegisterOutcome.PORT_FAILED, RegisterOutcome.NO_ANSWER}
    finding = check_register(register, port)
    assert finding.status is Status.FAIL
    assert "SmartOne cash box does not answer" in finding.finding.text
