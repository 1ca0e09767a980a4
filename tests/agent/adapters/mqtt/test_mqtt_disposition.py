"""The agent maps the link's plain ``passes_by_itself`` onto its own dispositions."""

from __future__ import annotations

from agent.adapters.mqtt.errors import disposition_of
from agent.drivers.errors import Disposition
from mqtt_link.errors import LinkClosed, LinkDown, PublishRefused


def test_link_errors_are_waited_out() -> None:
    assert disposition_of(LinkDown("mqtt://b", "gone")) is Disposition.WAIT
    assert disposition_of(PublishRefused("mqtt://b", "t", 0x87, "no")) is Disposition.WAIT
    assert disposition_of(LinkClosed("mqtt://b")) is Disposition.WAIT


def test_an_error_that_does_not_pass_by_itself_is_rejected() -> None:
    class Fatal(LinkClosed):
        passes_by_itself = False

    assert disposition_of(Fatal("mqtt://b")) is Disposition.REJECT
