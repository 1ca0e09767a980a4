"""The support page's routes over a real SQLite store: login, pages, filters, actions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from cloud.reconcile_model import RowStatus
from cloud.store import CloudStore
from cloud.web.board import ADVISED_CODES, PROBLEMS, WHY_CODES
from tests.cloud.api.seed import AGENT, CLUB, seed_small_shift
from tests.cloud.web.conftest import AUTH, CRM, SUPPORT, FakePublisher, basic, page

ANNA = basic("anna", SUPPORT)
OFD = "https://check.ofd.example/rec?fn={fn}&i={fd}&s={sum}"


async def seeded(store: CloudStore) -> None:
    await seed_small_shift(store, closed=False)
    await store.record_health(
        CLUB,
        AGENT,
        {
            "state": "degraded",
            "boot": 1,
            "seq": 1,
            "register": {"link": "up", "model": "ШТРИХ-М-01Ф", "error": "paper_out"},
            "shift": {"open": True, "number": 12, "age_s": 3600},
            "outbox": {"pending": 0, "failed": 0},
        },
    )
    await store.record_health("club-2", "desk-9", {"state": "online", "boot": 1, "seq": 1})


async def test_without_credentials_the_browser_is_asked(store: CloudStore) -> None:
    async with page(store, auth=AUTH) as client:
        for path in ("/", "/board", f"/agents/{CLUB}/{AGENT}", "/static/page.css"):
            response = await client.get(path)
            assert response.status == 401, path
            assert response.headers["WWW-Authenticate"].startswith('Basic realm="fiscal-cloud"')
        wrong = await client.get("/", headers=basic("anna", "not-the-token-0123456789"))
        assert wrong.status == 401
        healthz = await client.get("/healthz")
        assert healthz.status == 200


async def test_the_crm_token_cannot_use_the_page_or_its_actions(
    store: CloudStore, publisher: FakePublisher
) -> None:
    await seeded(store)
    async with page(store, auth=AUTH, publisher=publisher) as client:
        for headers in (basic("crm", CRM), {"Authorization": f"Bearer {CRM}"}):
            assert (await client.get("/", headers=headers)).status == 403
            posted = await client.post(
                f"/agents/{CLUB}/{AGENT}/reissue/r4",
                data={"reason": "x", "shift": "12"},
                headers=headers,
                allow_redirects=False,
            )
            assert posted.status == 403
        assert publisher.sent == []
        assert await store.audit(CLUB) == []


async def test_the_board_shows_every_agent_and_filters(store: CloudStore) -> None:
    await seeded(store)
    async with page(store, auth=AUTH) as client:
        html = await (await client.get("/?lang=en", headers=ANNA)).text()
        assert 'data-agent="desk-1"' in html
        assert 'data-agent="desk-9"' in html
        assert "degraded: out of paper" in html
        assert "You act as anna (support)." in html
        assert "No. 12: rows to settle 2" in html  # r4 crm_only, fd 104 register_only
        only_paper = await (await client.get("/?problem=register", headers=ANNA)).text()
        assert 'data-agent="desk-1"' in only_paper
        assert 'data-agent="desk-9"' not in only_paper
        club_2 = await (await client.get("/?club=club-2", headers=ANNA)).text()
        assert 'data-agent="desk-1"' not in club_2
        assert 'data-agent="desk-9"' in club_2
        refresh = await client.get("/board?problem=discrepancy&lang=en", headers=ANNA)
        body = await refresh.json()
        assert 'data-agent="desk-1"' in body["rows"]
        assert 'data-agent="desk-9"' not in body["rows"]
        assert body["summary"].startswith("1 agents in 1 clubs: 1 need action now")


async def test_the_page_speaks_russian_by_default_and_english_on_the_switch(
    store: CloudStore,
) -> None:
    await seeded(store)
    async with page(store, auth=AUTH) as client:
        russian = await (await client.get("/", headers=ANNA)).text()
        assert "с проблемой: нет бумаги" in russian
        assert '<html lang="ru">' in russian
        english = await client.get("/", headers={**ANNA, "Accept-Language": "en-GB,en;q=0.8"})
        assert "degraded: out of paper" in await english.text()
        switched = await client.get("/?lang=en", headers=ANNA)
        assert switched.cookies["lang"].value == "en"
        # The cookie keeps the choice for the next page, whatever the browser prefers.
        agent = await client.get(
            f"/agents/{CLUB}/{AGENT}", headers={**ANNA, "Accept-Language": "ru"}
        )
        assert "Health history" in await agent.text()


async def test_the_agent_page_shows_history_shifts_and_actions_taken(store: CloudStore) -> None:
    await seeded(store)
    await store.record_health(CLUB, AGENT, {"state": "offline", "boot": 1})
    async with page(store, auth=AUTH) as client:
        html = await (await client.get(f"/agents/{CLUB}/{AGENT}?lang=en", headers=ANNA)).text()
        assert "degraded → offline" in html
        assert "— → degraded" in html
        assert f'href="/agents/{CLUB}/{AGENT}/shifts/12"' in html
        assert "None yet." in html
        missing = await client.get(f"/agents/{CLUB}/nobody", headers=ANNA)
        assert missing.status == 404


async def test_the_shift_page_offers_each_rows_action(store: CloudStore) -> None:
    await seeded(store)
    async with page(store, auth=AUTH, ofd_url_template=OFD) as client:
        problems = await (
            await client.get(f"/agents/{CLUB}/{AGENT}/shifts/12?lang=en", headers=ANNA)
        ).text()
        assert 'data-id="r4"' in problems
        assert f'action="/agents/{CLUB}/{AGENT}/reissue/r4"' in problems
        assert 'data-id="r1"' not in problems  # matched rows only with ?all=1
        doc = "9289000100346765:104"
        assert f'action="/agents/{CLUB}/{AGENT}/adopt/{doc}"' in problems
        assert "https://check.ofd.example/rec?fn=9289000100346765&amp;i=104" in problems
        everything = await (
            await client.get(f"/agents/{CLUB}/{AGENT}/shifts/12?all=1", headers=ANNA)
        ).text()
        assert 'data-id="r1"' in everything
        assert "i=101" in everything  # a matched receipt opens at the OFD too
        assert (await client.get(f"/agents/{CLUB}/{AGENT}/shifts/99", headers=ANNA)).status == 404


async def test_issue_receipt_publishes_the_stored_request_and_keeps_who_and_why(
    store: CloudStore, publisher: FakePublisher
) -> None:
    await seeded(store)
    async with page(store, auth=AUTH, publisher=publisher) as client:
        response = await client.post(
            f"/agents/{CLUB}/{AGENT}/reissue/r4",
            data={"reason": "the register was out of paper", "shift": "12"},
            headers=ANNA,
            allow_redirects=False,
        )
        assert response.status == 303
        assert response.headers["Location"] == (
            f"/agents/{CLUB}/{AGENT}/shifts/12?done=reissue&id=r4"
        )
        assert [topic for topic, _ in publisher.sent] == [f"fiscal/v1/{CLUB}/{AGENT}/cmd/receipt"]
        assert b'"id":"r4"' in publisher.sent[0][1]
        [audit] = await store.audit(CLUB)
        assert (audit.action, audit.target, audit.role, audit.by, audit.reason) == (
            "reissue",
            "r4",
            "support",
            "anna",
            "the register was out of paper",
        )
        flash = await (
            await client.get(response.headers["Location"] + "&lang=en", headers=ANNA)
        ).text()
        assert "Receipt r4 sent to the register again by anna." in flash


async def test_an_action_needs_a_reason_and_reports_what_refused_it(
    store: CloudStore, publisher: FakePublisher
) -> None:
    await seeded(store)
    async with page(store, auth=AUTH, publisher=publisher) as client:
        no_reason = await client.post(
            f"/agents/{CLUB}/{AGENT}/reissue/r4",
            data={"reason": "  ", "shift": "12"},
            headers=ANNA,
            allow_redirects=False,
        )
        assert "failed=reason_required" in no_reason.headers["Location"]
        issued = await client.post(
            f"/agents/{CLUB}/{AGENT}/reissue/r1",
            data={"reason": "again", "shift": "12"},
            headers=ANNA,
            allow_redirects=False,
        )
        assert "failed=already_issued" in issued.headers["Location"]
        assert publisher.sent == []
        assert await store.audit(CLUB) == []


async def test_add_to_crm_adopts_the_document(store: CloudStore) -> None:
    await seeded(store)
    doc = "9289000100346765:104"
    async with page(store, auth=AUTH) as client:
        response = await client.post(
            f"/agents/{CLUB}/{AGENT}/adopt/{doc}",
            data={"reason": "cash sale typed at the register", "shift": "12"},
            headers=ANNA,
            allow_redirects=False,
        )
        assert response.status == 303
        [record] = [d for d in await store.documents(CLUB, AGENT) if d.document.doc_id == doc]
        assert record.adoption is not None
        assert (record.adoption.by, record.adoption.role) == ("anna", "support")
        html = await (
            await client.get(f"/agents/{CLUB}/{AGENT}/shifts/12?all=1&lang=en", headers=ANNA)
        ).text()
        assert "added to the CRM by anna: cash sale typed at the register" in html
        assert f'action="/agents/{CLUB}/{AGENT}/adopt/{doc}"' not in html


async def test_an_action_posted_from_another_site_is_refused(
    store: CloudStore, publisher: FakePublisher
) -> None:
    await seeded(store)
    async with page(store, auth=AUTH, publisher=publisher) as client:
        response = await client.post(
            f"/agents/{CLUB}/{AGENT}/reissue/r4",
            data={"reason": "x", "shift": "12"},
            headers={**ANNA, "Origin": "https://evil.example"},
            allow_redirects=False,
        )
        assert response.status == 403
        assert publisher.sent == []


async def test_without_auth_the_page_is_open_on_loopback_as_local(
    store: CloudStore, publisher: FakePublisher
) -> None:
    await seeded(store)
    async with page(store, publisher=publisher) as client:
        assert (await client.get("/")).status == 200
        await client.post(
            f"/agents/{CLUB}/{AGENT}/reissue/r4",
            data={"reason": "x", "shift": "12"},
            allow_redirects=False,
        )
        [audit] = await store.audit(CLUB)
        assert (audit.role, audit.by) == ("local", "local")


def test_every_key_the_page_uses_is_in_the_catalogs() -> None:
    web = Path(__file__).parents[3] / "cloud" / "web"
    catalog = tomllib.loads((web / "locale" / "en.toml").read_text("utf-8"))
    used: set[str] = set()
    sources: list[Any] = [*web.glob("*.py"), *(web / "templates").glob("*.html")]
    for path in sources:
        used |= set(re.findall(r"""\b(?:tr|t)\(\s*["']([a-z_.]+)["']""", path.read_text()))
    assert used, "no key found: the pattern is wrong"
    prefixes = {key for key in used if key.endswith(".")}
    assert used - prefixes - set(catalog) == set()
    # Keys built from a prefix and a value: every value the page can meet has its text.
    dynamic = {f"problem.{p.value}" for p in PROBLEMS}
    dynamic |= {f"status.{s.value}" for s in RowStatus}
    dynamic |= {f"action.done.{kind}" for kind in ("reissue", "adopt")}
    dynamic |= {f"word.{state}" for state in ("online", "degraded", "offline")}
    dynamic |= {f"{kind}.{code}" for code in ADVISED_CODES for kind in ("err", "do")}
    dynamic |= {f"why.{code}" for code in WHY_CODES}
    dynamic |= {f"audit.{action}" for action in ("reissue", "adopt")}
    assert dynamic - set(catalog) == set()
