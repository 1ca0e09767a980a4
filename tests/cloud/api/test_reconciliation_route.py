"""GET /api/v1/clubs/{club}/reconciliation: the small shift's totals to the kopeck, paging."""

from __future__ import annotations

from typing import Any

from cloud.store import CloudStore
from tests.cloud.api.conftest import AUTH, CRM, SUPPORT, bearer, serve
from tests.cloud.api.seed import AGENT, CLUB, fixed_clock, seed_small_shift

URL = f"/api/v1/clubs/{CLUB}/reconciliation"

EXPECTED_TOTALS = {
    "crm_register_total": {"cash": "190.49", "card": "99.99", "prepaid": "0.00", "total": "290.48"},
    "z_register_total": {"cash": "489.99", "card": "99.99", "prepaid": "0.00", "total": "589.98"},
    "difference": {"cash": "-299.50", "card": "0.00", "prepaid": "0.00", "total": "-299.50"},
    "crm_grand_total": {"cash": "190.49", "card": "299.99", "prepaid": "0.00", "total": "490.48"},
}


async def _get(client: Any, query: str = "", token: str = CRM) -> tuple[int, dict[str, Any]]:
    resp = await client.get(f"{URL}{query}", headers=bearer(token))
    return resp.status, await resp.json()


async def test_totals_of_a_small_shift_to_the_kopeck_over_sqlite_and_postgresql(
    any_store_url: str,
) -> None:
    async with await CloudStore.open(any_store_url, clock=fixed_clock) as store:
        await seed_small_shift(store)
        async with serve(store, auth=AUTH) as client:
            status, body = await _get(client, f"?agent={AGENT}&shift=12")
            assert status == 200
            assert body["totals"] == EXPECTED_TOTALS
            assert body["cash_in"] == "1000.00"
            assert body["cash_out"] == "0.00"
            assert body["shift"]["number"] == 12
            assert body["shift"]["closed_at"] is not None
            by_id = {row["id"]: row["status"] for row in body["rows"]}
            assert by_id == {
                "r1": "matched",
                "r2": "matched",
                "r3": "matched",
                "r4": "crm_only",
                "9289000100346765:104": "register_only",
            }
            assert body["counts"] == {"matched": 3, "crm_only": 1, "register_only": 1}
            assert body["page"] == {"offset": 0, "limit": None, "rows_total": 5}
            # Without shift= (and with the one agent of the club, without agent=): the last
            # closed shift, the same answer.
            status, latest = await _get(client, token=SUPPORT)
            assert status == 200
            assert latest["totals"] == EXPECTED_TOTALS


async def test_the_current_open_shift_has_no_z_total_yet(store: CloudStore) -> None:
    await seed_small_shift(store, closed=False)
    async with serve(store, auth=AUTH) as client:
        status, body = await _get(client, f"?agent={AGENT}")
    assert status == 200
    assert body["shift"]["closed_at"] is None
    assert body["totals"]["z_register_total"] is None
    assert body["totals"]["difference"] is None
    assert body["totals"]["crm_register_total"]["total"] == "290.48"


async def test_problems_only_and_paging(store: CloudStore) -> None:
    await seed_small_shift(store)
    async with serve(store, auth=AUTH) as client:
        status, body = await _get(client, f"?agent={AGENT}&problems_only=1")
        assert status == 200
        assert [row["status"] for row in body["rows"]] == ["crm_only", "register_only"]
        assert body["page"]["rows_total"] == 2
        assert body["totals"] == EXPECTED_TOTALS  # the totals are the whole shift's

        status, first = await _get(client, f"?agent={AGENT}&limit=2")
        status2, rest = await _get(client, f"?agent={AGENT}&limit=2&offset=2")
        assert (status, status2) == (200, 200)
        assert len(first["rows"]) == 2
        assert len(rest["rows"]) == 2
        assert first["page"] == {"offset": 0, "limit": 2, "rows_total": 5}
        status, whole = await _get(client, f"?agent={AGENT}")
        ids = [row["id"] for row in whole["rows"]]
        assert [row["id"] for row in first["rows"] + rest["rows"]] == ids[:4]
        status, tail = await _get(client, f"?agent={AGENT}&limit=2&offset=4")
        assert [row["id"] for row in tail["rows"]] == ids[4:]


async def test_bad_queries_and_unknown_shift_say_why(store: CloudStore) -> None:
    await seed_small_shift(store)
    async with serve(store, auth=AUTH) as client:
        for query, code in (
            (f"?agent={AGENT}&shift=abc", "bad_query"),
            (f"?agent={AGENT}&limit=-1", "bad_query"),
            (f"?agent={AGENT}&problems_only=maybe", "bad_query"),
            ("?agent=bad%20name", "bad_query"),
        ):
            status, body = await _get(client, query)
            assert status == 400, query
            assert body["error"]["code"] == code
            assert body["error"]["message"]
        status, body = await _get(client, f"?agent={AGENT}&shift=13")
        assert status == 404
        assert body["error"]["code"] == "no_shift"
        assert "13" in body["error"]["message"]
        status, body = await _get(client, "?agent=nobody")
        assert status == 404
        assert body["error"]["code"] == "no_shift"
