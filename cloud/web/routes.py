"""The support page's routes: read the store, call the pure page functions, render.

``GET /`` every club and agent; ``GET /board`` the same rows as JSON-wrapped HTML for the
page's refresh; ``GET /agents/{club}/{agent}`` one agent; ``.../shifts/{shift}`` one shift's
reconciliation; ``POST .../reissue/{id}`` and ``.../adopt/{doc_id}`` the row actions (a form
with a ``reason``; the caller's login name is kept as ``by``, its role as the role).
Behind :func:`cloud.api.auth.authenticate_page` (HTTP Basic with the support token).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

import jinja2
from aiohttp import web

from cloud.api import Publisher, actions
from cloud.api.auth import Caller, Role, authenticate_page
from cloud.api.errors import ApiError
from cloud.config import AuthConfig
from cloud.shift_reconciliation import NoShift, load_reconciliation, shift_windows
from cloud.store import CloudStore
from cloud.web import board, pages
from cloud.web.i18n import LANGUAGES, Catalog, catalog, pick_language
from cloud.web.summaries import ShiftSummaries

__all__ = ["SupportPage", "add_support_page"]

_NAME = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
_ACTORS = frozenset({Role.SUPPORT, Role.LOCAL})
_SHIFTS_SUMMARIZED: Final = 10
_HISTORY: Final = 50
_REFRESH_S: Final = 5
_STATIC: Final = {"page.css": "text/css", "page.js": "text/javascript"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SupportPage:
    """What the page needs from the cloud."""

    store: CloudStore
    auth: AuthConfig
    publisher: Publisher | None
    ofd_url_template: str | None
    summaries: ShiftSummaries
    clock: Callable[[], datetime]


_PAGE: web.AppKey[SupportPage] = web.AppKey("support_page", SupportPage)


@cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cloud.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["urlencode"] = urlencode
    return env


@cache
def _static(name: str) -> bytes:
    return resources.files("cloud.web").joinpath("static", name).read_bytes()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _name(request: web.Request, key: str) -> str:
    value = request.match_info[key]
    if not _NAME.match(value):
        raise ApiError(400, "bad_name", f"{key} must be 1..64 of A-Z a-z 0-9 _ -")
    return value


def _query_name(request: web.Request, key: str) -> str | None:
    value = request.query.get(key) or None
    return value if value is not None and _NAME.match(value) else None


def _lang(request: web.Request) -> Catalog:
    lang = pick_language(
        request.query.get("lang"),
        request.cookies.get("lang"),
        request.headers.get("Accept-Language"),
    )
    return catalog(lang)


def _render(request: web.Request, template: str, tr: Catalog, **context: object) -> web.Response:
    html = (
        _templates()
        .get_template(template)
        .render(
            t=tr,
            lang=tr.lang,
            other_lang=next(lang for lang in LANGUAGES if lang != tr.lang),
            path=request.path,
            query=dict(request.query),
            **context,
        )
    )
    response = web.Response(text=html, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    if request.query.get("lang") in LANGUAGES:
        response.set_cookie("lang", tr.lang, max_age=365 * 86400, httponly=True, samesite="Lax")
    return response


def _caller(request: web.Request) -> Caller:
    return authenticate_page(request, request.app[_PAGE].auth)


async def _current_summary(
    page: SupportPage, club: str, agent: str, shift: int | None = None
) -> board.ShiftSummary | None:
    try:
        rec = await load_reconciliation(page.store, club, agent, shift)
    except NoShift:
        return None
    return board.summarize_shift(rec)


async def _rows(page: SupportPage, tr: Catalog) -> list[board.AgentRow]:
    records = await page.store.agents()

    async def compute(key: tuple[str, str]) -> board.ShiftSummary | None:
        return await _current_summary(page, *key)

    summaries = await page.summaries.get([(rec.club, rec.agent) for rec in records], compute)
    now = page.clock()
    return [
        board.agent_row(record, summaries[record.club, record.agent], now, tr) for record in records
    ]


def _board_context(request: web.Request, rows: list[board.AgentRow], tr: Catalog) -> dict[str, Any]:
    club = _query_name(request, "club")
    problem = request.query.get("problem") or None
    shown = board.select_rows(rows, club=club, problem=problem)
    return {
        "rows": shown,
        "clubs": board.clubs(rows),
        "problems": board.PROBLEMS,
        "club": club or "",
        "problem": problem or "",
        "summary": tr(
            "board.summary",
            agents=len(shown),
            clubs=len({row.club for row in shown}),
            now=sum(1 for row in shown if row.level is board.Level.NOW),
            warn=sum(1 for row in shown if row.level is board.Level.LOOK),
        ),
        "refreshed": tr(
            "board.refreshed", time=request.app[_PAGE].clock().strftime("%H:%M:%S UTC")
        ),
    }


async def board_page(request: web.Request) -> web.Response:
    """``GET /``: every club and agent."""
    caller = _caller(request)
    tr = _lang(request)
    rows = await _rows(request.app[_PAGE], tr)
    try:
        every = min(max(int(request.query.get("every", _REFRESH_S)), 1), 60)
    except ValueError:
        every = _REFRESH_S
    context = _board_context(request, rows, tr)
    return _render(request, "board.html", tr, caller=caller, every=every, **context)


async def board_rows(request: web.Request) -> web.Response:
    """``GET /board``: the rows and the summary, rendered, for the page's refresh."""
    _caller(request)
    tr = _lang(request)
    rows = await _rows(request.app[_PAGE], tr)
    context = _board_context(request, rows, tr)
    templates = _templates()
    body = {
        "rows": templates.get_template("rows.html").render(t=tr, **context),
        "summary": context["summary"],
        "refreshed": context["refreshed"],
    }
    response = web.json_response(body, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))
    response.headers["Cache-Control"] = "no-store"
    return response


async def agent_page(request: web.Request) -> web.Response:
    """``GET /agents/{club}/{agent}``: health now and its history, shifts, actions taken."""
    caller = _caller(request)
    page = request.app[_PAGE]
    tr = _lang(request)
    club, agent = _name(request, "club"), _name(request, "agent")
    record = next(
        (rec for rec in await page.store.agents() if (rec.club, rec.agent) == (club, agent)),
        None,
    )
    if record is None:
        raise ApiError(404, "unknown_agent", f"no health from agent {agent} of club {club}")
    windows = shift_windows(club, agent, await page.store.shift_reports(club, agent))
    recent = windows[-_SHIFTS_SUMMARIZED:]
    summaries = [await _current_summary(page, club, agent, w.number) for w in recent]
    by_number = {
        window.number: summary
        for window, summary in zip(recent, summaries, strict=True)
        if summary is not None
    }
    now = page.clock()
    return _render(
        request,
        "agent.html",
        tr,
        caller=caller,
        club=club,
        agent=agent,
        row=board.agent_row(
            record, by_number.get(windows[-1].number) if windows else None, now, tr
        ),
        history=pages.history_lines(await page.store.health_changes(club, agent, _HISTORY), tr),
        shifts=pages.shift_lines(windows, by_number, tr),
        audit=pages.audit_lines(await page.store.audit(club), agent, tr),
    )


async def shift_page(request: web.Request) -> web.Response:
    """``GET /agents/{club}/{agent}/shifts/{shift}``: the reconciliation with its actions."""
    caller = _caller(request)
    page = request.app[_PAGE]
    tr = _lang(request)
    club, agent = _name(request, "club"), _name(request, "agent")
    try:
        number = int(request.match_info["shift"])
    except ValueError:
        raise ApiError(400, "bad_shift", "shift must be a whole number") from None
    try:
        rec = await load_reconciliation(
            page.store, club, agent, number, ofd_url_template=page.ofd_url_template
        )
    except NoShift as exc:
        raise ApiError(404, exc.public_code, str(exc)) from None
    problems_only = request.query.get("all") != "1"
    return _render(
        request,
        "shift.html",
        tr,
        caller=caller,
        club=club,
        agent=agent,
        view=pages.shift_view(rec, tr, problems_only=problems_only),
        problems_only=problems_only,
        done=request.query.get("done", ""),
        done_id=request.query.get("id", ""),
        failed=request.query.get("failed", ""),
    )


def _same_origin(request: web.Request) -> None:
    """A form post must come from the page itself (a browser sends Origin with it)."""
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if origin is None:
        return
    if urlsplit(origin).netloc != request.host:
        raise ApiError(403, "cross_origin", "the action must be posted from the support page")


async def _action(request: web.Request, kind: str) -> web.Response:
    caller = _caller(request)
    if caller.role not in _ACTORS:
        raise ApiError(403, "forbidden", f"the {caller.role.value} role may not {kind}")
    _same_origin(request)
    page = request.app[_PAGE]
    club, agent = _name(request, "club"), _name(request, "agent")
    target = request.match_info["target"]
    form = await request.post()
    reason = str(form.get("reason", "")).strip()[:1000]
    shift = str(form.get("shift", ""))
    if not shift.isdigit():
        raise ApiError(400, "bad_form", "the form names no shift")
    query: dict[str, str] = {}
    if not reason:
        query = {"failed": "reason_required", "id": target}
    else:
        try:
            if kind == "reissue":
                await actions.reissue(
                    page.store,
                    page.publisher,
                    club,
                    agent,
                    target,
                    role=caller.role.value,
                    by=caller.name,
                    reason=reason,
                )
            else:
                await actions.adopt(
                    page.store,
                    club,
                    agent,
                    target,
                    role=caller.role.value,
                    by=caller.name,
                    reason=reason,
                )
            query = {"done": kind, "id": target}
        except actions.ActionRefused as exc:
            query = {"failed": exc.code, "id": target}
    location = f"/agents/{club}/{agent}/shifts/{shift}?{urlencode(query)}"
    raise web.HTTPSeeOther(location)


async def reissue(request: web.Request) -> web.Response:
    """``POST .../reissue/{target}``: issue the receipt of a ``crm_only`` row."""
    return await _action(request, "reissue")


async def adopt(request: web.Request) -> web.Response:
    """``POST .../adopt/{target}``: add a ``register_only`` document to the CRM."""
    return await _action(request, "adopt")


async def static(request: web.Request) -> web.Response:
    """The stylesheet and the script (behind the same login as the page)."""
    _caller(request)
    name = request.match_info["name"]
    if name not in _STATIC:
        raise ApiError(404, "not_found", f"no file {name}")
    return web.Response(
        body=_static(name),
        content_type=_STATIC[name],
        headers={"Cache-Control": "private, max-age=300"},
    )


def add_support_page(
    app: web.Application,
    store: CloudStore,
    *,
    auth: AuthConfig | None = None,
    publisher: Publisher | None = None,
    ofd_url_template: str | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> web.Application:
    """Add the page's routes to the cloud's application (cloud.api.build_api's).

    ``clock`` is what "now" is for ages and "offline since" (the tests' store has its own).
    """
    app[_PAGE] = SupportPage(
        store=store,
        auth=auth if auth is not None else AuthConfig(),
        publisher=publisher,
        ofd_url_template=ofd_url_template,
        summaries=ShiftSummaries(),
        clock=clock,
    )
    app.router.add_get("/", board_page)
    app.router.add_get("/board", board_rows)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/agents/{club}/{agent}", agent_page)
    app.router.add_get("/agents/{club}/{agent}/shifts/{shift}", shift_page)
    app.router.add_post("/agents/{club}/{agent}/reissue/{target}", reissue)
    app.router.add_post("/agents/{club}/{agent}/adopt/{target}", adopt)
    return app
