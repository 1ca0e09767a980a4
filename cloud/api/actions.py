"""The two actions on a reconciliation row, shared by the JSON API and the support page.

:func:`reissue` sends a ``crm_only`` request to its agent again as ``cmd/receipt`` (the stored
payload, same id: never a second document) and keeps who did it; :func:`adopt` marks a
``register_only`` document as taken into the CRM. Each raises :class:`ActionRefused` with the
API's status and code when it cannot be done.
"""

from __future__ import annotations

from typing import ClassVar

import structlog

from cloud.api.publisher import Publisher, receipt_topic
from cloud.store import Adoption, CloudStore

__all__ = ["ActionRefused", "adopt", "reissue"]

_log = structlog.get_logger("cloud.api")


class ActionRefused(Exception):
    """A reissue or adoption that cannot be done: ``status`` and ``public_code`` as the API's."""

    public_code: ClassVar[str] = "action_refused"

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


async def reissue(
    store: CloudStore,
    publisher: Publisher | None,
    club: str,
    agent: str,
    request_id: str,
    *,
    role: str,
    by: str,
    reason: str,
) -> None:
    """Publish the stored request again and keep the role, ``by`` and ``reason``.

    Raises:
        ActionRefused: 503 without MQTT or when the broker does not take it, 404 for a request
            never sent to the agent, 409 when it has a fiscal document already.
    """
    if publisher is None:
        raise ActionRefused(
            503, "mqtt_unavailable", "the cloud runs without [mqtt]: cannot reissue"
        )
    found = next(
        (rec for rec in await store.requests(club, agent) if rec.request.id == request_id), None
    )
    if found is None:
        raise ActionRefused(404, "unknown_request", f"agent {agent} was never sent {request_id!r}")
    done = [
        rec
        for rec in await store.results(club, agent)
        if rec.result.id == request_id and rec.result.status == "done"
    ]
    if done:
        raise ActionRefused(409, "already_issued", f"{request_id!r} has a fiscal document already")
    payload = found.request.model_dump_json(exclude_none=True).encode("utf-8")
    try:
        await publisher.publish(receipt_topic(club, agent), payload)
    except OSError as exc:
        raise ActionRefused(503, "mqtt_unavailable", f"the broker did not take it: {exc}") from None
    await store.record_reissue(club, agent, request_id, role=role, by=by, reason=reason)
    _log.info("reissued", club=club, agent=agent, id=request_id, role=role, by=by)


async def adopt(
    store: CloudStore, club: str, agent: str, doc_id: str, *, role: str, by: str, reason: str
) -> Adoption:
    """Mark the document adopted (the first adoption stays) and return its adoption.

    Raises:
        ActionRefused: 404 for a document the agent never reported.
    """
    adoption = await store.adopt_document(club, agent, doc_id, role=role, by=by, reason=reason)
    if adoption is None:
        raise ActionRefused(
            404, "unknown_document", f"agent {agent} reported no document {doc_id!r}"
        )
    return adoption
