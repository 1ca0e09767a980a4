"""The routes of docs/openapi.yaml: the agent's local HTTP API and the cloud's.

Part of scripts/gen_api_docs.py (which imports it); the routes and their answers follow
docs/contract.md, the schemas are the contract models' (``ref``).
"""

from __future__ import annotations

from typing import Any, get_args

from agent.contract import StatusName
from agent.outbox.states import RowKind

REF = "#/components/schemas/{model}"


def ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": REF.format(model=name)}


AGENT_SERVER = [{"url": "http://127.0.0.1:8750", "description": "the agent ([http] listen)"}]
CLOUD_SERVER = [
    {"url": "http://127.0.0.1:8760", "description": "the cloud, fiscal-cloud (not built yet)"}
]
JSON = "application/json"
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
ERROR = "ErrorBody"
UNAVAILABLE = (
    "the register, the line or the disk cannot take it now (outbox_full, storage_unavailable,"
    " line_stopped, link_down, ...): send it again later"
)
INVALID = "bad input, naming the field; a resend will not help"
NOT_JSON = "the body is not JSON (invalid_json)"

Schema = dict[str, Any] | str | None  # a schema, a component's name, or no body


def _content(schema: Schema, media: str = JSON) -> dict[str, Any]:
    if schema is None:
        return {}
    return {"content": {media: {"schema": ref(schema) if isinstance(schema, str) else schema}}}


def operation(
    operation_id: str,
    tag: str,
    summary: str,
    responses: dict[str, tuple[Schema, str] | tuple[Schema, str, str]],
    *,
    body: Schema = None,
    params: tuple[dict[str, Any], ...] = (),
    **more: Any,
) -> dict[str, Any]:
    """One operation; ``responses`` maps a status to (schema, description[, media type])."""
    out: dict[str, Any] = {"operationId": operation_id, "tags": [tag], "summary": summary}
    if params:
        out["parameters"] = list(params)
    if body is not None:
        out["requestBody"] = {"required": True, **_content(body)}
    out.update(more)
    out["responses"] = {
        status: {"description": answer[1], **_content(*answer[:1], *answer[2:])}
        for status, answer in responses.items()
    }
    return out


def param(
    name: str, where: str, description: str, schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A path or query parameter (a path parameter is required)."""
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema or {"type": "string"},
    }


def agent_paths() -> dict[str, Any]:
    """The agent's local HTTP API (docs/contract.md, "Agent's local HTTP API")."""
    statuses = {"enum": list(get_args(StatusName))}
    pending = {
        "type": "object",
        "required": ["id", "status"],
        "properties": {"id": {"type": "string"}, "status": {"const": "pending"}},
    }
    row = {
        "allOf": [
            ref("ReceiptResult"),
            {
                "type": "object",
                "properties": {
                    "kind": {"enum": [kind.value for kind in RowKind]},
                    "state": statuses,
                    "accepted_at": {"type": "string", "format": "date-time"},
                    "attempts": {"type": "integer"},
                },
            },
        ]
    }
    request_id = param("id", "path", "the request's id")
    limit = {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}
    return {
        "/api/v1/receipts": {
            "post": operation(
                "postReceipt",
                "agent",
                "Take a payment: committed to the outbox before the answer",
                {
                    "202": (pending, "a new id, committed to the outbox"),
                    "200": ("ReceiptResult", "a known id, same content: its stored result"),
                    "400": (ERROR, NOT_JSON),
                    "409": (ERROR, "a known id with other content (id_conflict)"),
                    "413": (ERROR, "the body is too large (too_large)"),
                    "422": (ERROR, INVALID),
                    "503": (ERROR, UNAVAILABLE),
                },
                body="ReceiptRequest",
            )
        },
        "/api/v1/receipts/{id}": {
            "get": operation(
                "getReceipt",
                "agent",
                "The ReceiptResult, whatever its status (pending and printing included)",
                {"200": ("ReceiptResult", "the result"), "404": (ERROR, "an unknown id")},
                params=(request_id,),
            )
        },
        "/api/v1/receipts/{id}/resolve": {
            "post": operation(
                "resolveReceipt",
                "agent",
                "A person settles an unknown row (v1.1)",
                {
                    "200": ("ReceiptResult", "the settled result"),
                    "400": (ERROR, NOT_JSON),
                    "404": (ERROR, "an unknown id"),
                    "409": (ERROR, "the row is not unknown"),
                    "422": (ERROR, "refused: the FN's document does not fit, or bad input"),
                    "503": (ERROR, UNAVAILABLE),
                },
                body="ResolveCommand",
                params=(request_id,),
                description=(
                    '{"as": "issued", "fd": N} is checked against the FN; {"as": "not_issued"}'
                    " prints it again. by (default local-api) and reason are kept with the row."
                ),
            )
        },
        "/api/v1/shift": {
            "post": operation(
                "postShift",
                "agent",
                "Open or close the shift, or print an X report",
                {
                    "200": ("ShiftReport", "the report"),
                    "400": (ERROR, NOT_JSON),
                    "409": (ERROR, "the register refused it"),
                    "422": (ERROR, INVALID),
                    "503": (ERROR, UNAVAILABLE),
                    "504": (ERROR, "the register did not finish in time (register_timeout)"),
                },
                body="ShiftCommand",
                description=(
                    "The id may be left out here. sync_tape is an MQTT command: refused here"
                    " (invalid_request)."
                ),
            )
        },
        "/api/v1/cash": {
            "post": operation(
                "postCash",
                "agent",
                "Cash into the drawer or out of it",
                {
                    "200": ("CommandOutcome", "the outcome: done, rejected or failed"),
                    "202": ("CommandOutcome", "pending: send the same command again later"),
                    "400": (ERROR, NOT_JSON),
                    "409": (ERROR, "a known id with other content (id_conflict)"),
                    "422": (ERROR, INVALID),
                    "503": (ERROR, UNAVAILABLE),
                },
                body="CashCommand",
            )
        },
        "/api/v1/drawer": {
            "post": operation(
                "postDrawer",
                "agent",
                "Open the cash drawer",
                {
                    "200": ("CommandOutcome", "opened: status done"),
                    "409": (ERROR, "the register refused it"),
                    "503": (ERROR, UNAVAILABLE),
                    "504": (ERROR, "the register did not finish in time (register_timeout)"),
                },
                description=(
                    "No body. Between receipts, behind the register lock; no document and no"
                    " outbox row, so a resend opens the drawer again."
                ),
            )
        },
        "/api/v1/health": {
            "get": operation(
                "getHealth",
                "agent",
                "Health, answered from the last register snapshot",
                {"200": ("Health", "health")},
            )
        },
        "/api/v1/outbox": {
            "get": operation(
                "getOutbox",
                "agent",
                "The outbox's rows, newest first",
                {
                    "200": ({"type": "array", "items": row}, "the rows"),
                    "400": (ERROR, "an unknown state or a limit that is not a number"),
                },
                params=(
                    param("state", "query", "only rows in this state", statuses),
                    param("limit", "query", "how many rows", limit),
                ),
            )
        },
        "/metrics": {
            "get": operation(
                "getMetrics",
                "agent",
                "Health and the agent's counters for Prometheus (beyond the contract)",
                {"200": ({"type": "string"}, "the Prometheus text format", METRICS_TYPE)},
                description=(
                    "fiscal_agent_receipts_total{status}, fiscal_agent_driver_errors_total{code},"
                    " fiscal_agent_register_round_trip_seconds{command}, and gauges read from"
                    " health at scrape time (the README, Health)."
                ),
            )
        },
    }


def cloud_paths() -> dict[str, Any]:
    """The cloud's HTTP API as docs/contract.md documents it.

    The cloud's ``GET /metrics`` is not here: its path is the agent's ``GET /metrics`` (one
    path item per path in OpenAPI), and docs/contract.md lists its metrics.
    """
    money = {"type": "string", "pattern": r"^-?\d{1,12}\.\d{2}$"}
    totals = {
        "type": "object",
        "properties": dict.fromkeys(("cash", "card", "prepaid", "total"), money),
    }
    four = ("crm_register_total", "crm_grand_total", "z_register_total", "difference")
    reconciliation = {
        "type": "object",
        "properties": {
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"enum": ["matched", "crm_only", "register_only"]},
                        "crm": {"type": "object"},
                        "fiscal": {"type": "object"},
                    },
                },
            },
            "totals": {"type": "object", "properties": dict.fromkeys(four, totals)},
        },
    }
    check = {
        "type": "object",
        "properties": {
            "result": {"enum": ["match", "discrepancy", "register_unavailable"]},
            "request_id": {"type": "string", "description": "the cmd/shift id of the X report"},
            "difference": {**totals, "type": ["object", "null"]},
            "rows": {
                "type": "array",
                "description": "the crm_only and register_only rows; none for a match",
                "items": reconciliation["properties"]["rows"]["items"],
            },
            "shift": {
                "type": ["object", "null"],
                "properties": {"number": {"type": "integer"}, "fn": {"type": "string"}},
            },
            "reason": {"type": "string", "description": "why the register is unavailable"},
        },
    }
    who = {
        "type": "object",
        "description": "who asks and why, kept with the role (v1.1)",
        "properties": {"by": {"type": "string"}, "reason": {"type": "string"}},
    }
    club, agent = param("club", "path", "the club"), param("agent", "path", "the agent")
    filters = (param("agent", "query", "one agent of the club"), param("shift", "query", "a shift"))
    secured: dict[str, Any] = {"security": [{"bearer": []}, {}]}  # with [auth]; else loopback only
    objects = {"type": "array", "items": {"type": "object"}}
    return {
        "/api/v1/agents": {
            "get": operation(
                "listAgents",
                "cloud",
                "Every known agent with its last Health and when it was seen",
                {"200": (objects, "the agents")},
                **secured,
            )
        },
        "/api/v1/clubs/{club}/receipts": {
            "get": operation(
                "listClubReceipts",
                "cloud",
                "The fiscal results stored for the club",
                {"200": ({"type": "array", "items": ref("ReceiptResult")}, "the results")},
                params=(club, *filters),
                **secured,
            )
        },
        "/api/v1/clubs/{club}/reconciliation": {
            "get": operation(
                "getReconciliation",
                "cloud",
                "A shift's reconciliation; without shift= the current one (v1.1)",
                {"200": (reconciliation, "rows matched, crm_only or register_only; totals")},
                params=(club, *filters),
                **secured,
            )
        },
        "/api/v1/clubs/{club}/transactions": {
            "post": operation(
                "postTransactions",
                "cloud",
                "The CRM's own transactions not pushed as receipts (for the grand total)",
                {"200": (None, "taken")},
                body={"type": "object"},
                params=(club,),
                **secured,
            )
        },
        "/api/v1/clubs/{club}/agents/{agent}/reissue/{id}": {
            "post": operation(
                "reissue",
                "cloud",
                "Send a crm_only transaction to the agent again as cmd/receipt; no new payment",
                {"200": (None, "sent")},
                body=who,
                params=(club, agent, param("id", "path", "the transaction's id")),
                **secured,
            )
        },
        "/api/v1/clubs/{club}/agents/{agent}/adopt/{doc_id}": {
            "post": operation(
                "adopt",
                "cloud",
                "Mark a register_only document as taken into the CRM, with who and why (v1.1)",
                {"200": (None, "adopted")},
                body=who,
                params=(club, agent, param("doc_id", "path", "the document, <FN>:<FD>")),
                **secured,
            )
        },
        "/api/v1/clubs/{club}/agents/{agent}/shifts/current/check": {
            "get": operation(
                "checkShift",
                "cloud",
                "The close-shift check: asks the agent for an X report (v1.1)",
                {"200": (check, "match, discrepancy or register_unavailable")},
                params=(club, agent),
                **secured,
            )
        },
        "/healthz": {
            "get": operation(
                "healthz", "cloud", "Liveness, always open", {"200": (None, "alive")}, security=[]
            )
        },
        "/": {
            "get": operation(
                "supportPage",
                "cloud",
                "The support page: clubs, agents, state, shift age, FN days, queues, discrepancies",
                {
                    "200": ({"type": "string"}, "the page", "text/html"),
                    "401": (
                        None,
                        'a token is needed; WWW-Authenticate: Basic realm="fiscal-cloud"',
                    ),
                },
                security=[{"bearer": []}, {"supportBasic": []}, {}],
            )
        },
    }
