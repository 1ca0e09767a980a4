"""Topics and payloads checked against the contract: what is stored, and why the rest is not."""

from __future__ import annotations

import json

import pytest

from agent.contract import Health, ReceiptRequest, ReceiptResult
from cloud.ingest import MAX_PAYLOAD_BYTES, Kind, Malformed, Parsed, Reason, filters, parse
from cloud.ingest.topics import parse_topic
from tests.cloud.store.samples import result
from tests.support.payloads import receipt

T = "fiscal/v1/club-1/desk-1/"


def test_topics_parse_into_club_agent_and_kind() -> None:
    source = parse_topic(T + "evt/receipt")
    assert source is not None
    assert (source.club, source.agent, source.kind) == ("club-1", "desk-1", Kind.RESULT)
    assert parse_topic(T + "health").kind is Kind.HEALTH  # type: ignore[union-attr]
    assert parse_topic(T + "cmd/receipt").kind is Kind.REQUEST  # type: ignore[union-attr]
    for foreign in (
        "fiscal/v2/club-1/desk-1/evt/receipt",
        T + "evt/unknown",
        T + "cmd/shift",
        "fiscal/v1/club-1/evt/receipt",
        "fiscal/v1//desk-1/health",
        "other",
    ):
        assert parse_topic(foreign) is None, foreign


def test_filters_are_shared_on_mqtt5_and_plain_otherwise() -> None:
    plain = filters(shared=False)
    assert plain == (
        "fiscal/v1/+/+/evt/#",
        "fiscal/v1/+/+/health",
        "fiscal/v1/+/+/cmd/receipt",
    )
    assert filters(shared=True) == tuple(f"$share/fiscal-cloud/{f}" for f in plain)


def test_contract_payloads_parse_into_their_models() -> None:
    done = result("crm-1", "done", fd=1)
    parsed = parse(T + "evt/receipt", done.model_dump_json().encode())
    assert isinstance(parsed, Parsed)
    assert parsed.model == done
    assert isinstance(parsed.model, ReceiptResult)
    request = parse(T + "cmd/receipt", json.dumps(receipt("crm-2", 15000)).encode())
    assert isinstance(request, Parsed)
    assert isinstance(request.model, ReceiptRequest)
    will = parse(T + "health", b'{"state": "offline", "boot": 3}')
    assert isinstance(will, Parsed)
    assert will.model == Health(state="offline", boot=3)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("fiscal/v1/club-1/desk-1/evt/nope", b"{}", Reason.FOREIGN_TOPIC),
        (T + "evt/receipt", b"{not json", Reason.NOT_JSON),
        (T + "evt/receipt", b"\xff\xfe", Reason.NOT_JSON),
        (T + "evt/receipt", b"[1, 2]", Reason.NOT_AN_OBJECT),
        (T + "evt/receipt", b'{"id": "x", "status": "no-such"}', Reason.INVALID),
        (T + "evt/document", b'{"fn": 5}', Reason.INVALID),
        (T + "health", b'{"state": "online", "boot": "seven"}', Reason.INVALID),
        (T + "evt/receipt", b" " * MAX_PAYLOAD_BYTES, Reason.TOO_LARGE),
    ],
)
def test_malformed_messages_say_why(topic: str, payload: bytes, reason: Reason) -> None:
    outcome = parse(topic, payload)
    assert isinstance(outcome, Malformed)
    assert outcome.reason is reason
    assert outcome.detail


def test_a_request_with_an_unknown_field_is_refused_and_a_result_ignores_one() -> None:
    body = receipt("crm-3", 15000) | {"surprise": 1}
    refused = parse(T + "cmd/receipt", json.dumps(body).encode())
    assert isinstance(refused, Malformed)
    assert refused.reason is Reason.INVALID
    assert "surprise" in refused.detail
    # The agent's events follow a newer minor version of the contract by ignoring new fields.
    newer = result("crm-3", "rejected").model_dump(mode="json") | {"added_in_v1_9": True}
    assert isinstance(parse(T + "evt/receipt", json.dumps(newer).encode()), Parsed)


def test_a_payload_just_under_one_megabyte_is_read() -> None:
    padded = b'{"state": "offline", "boot": 1}'.ljust(MAX_PAYLOAD_BYTES - 1)
    assert isinstance(parse(T + "health", padded), Parsed)
