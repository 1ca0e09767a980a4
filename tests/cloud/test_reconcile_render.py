"""The terminal table of ``fiscal-cloud reconcile``: rows, totals, cash apart, the verdict."""

from __future__ import annotations

from cloud.reconcile import reconcile
from cloud.reconcile_model import Adoption
from cloud.reconcile_render import render_reconciliation, render_reconciliations
from tests.cloud.reconcile_fixtures import (
    FN,
    app_payment,
    at,
    counters,
    document,
    done,
    failed,
    request,
    window,
)


def _line(lines, start):
    return next(line for line in lines if line.startswith(start))


def _shift_with_every_status():
    return reconcile(
        window(counters=counters(sales=(32990 + 35000, 50000, 0), cash_in=200000, cash_out=150000)),
        [
            request("crm-1", card=50000),
            request("crm-2", cash=50000, total=32990),
            request("crm-3", card=1234),
        ],
        [done("crm-1", 101, 50000), done("crm-2", 102, 32990), failed("crm-3")],
        [document(103, 35000, adopted=Adoption(by="Иванов", reason="продажа у кассы", at=at(300)))],
        [app_payment("app", card=1000)],
    )


def test_render_shows_every_row_and_the_four_totals():
    """Each row's status, id, both amounts and document; the totals table; cash in/out apart."""
    text = render_reconciliation(_shift_with_every_status())
    lines = text.splitlines()

    assert lines[0] == f"club club-1, agent desk-1: shift 12 (FN {FN})"
    assert "2 matched, 1 crm_only, 1 register_only" in lines
    crm_only = next(line for line in lines if line.startswith("crm_only"))
    assert "crm-3" in crm_only
    assert "12.34" in crm_only
    assert "failed: register_unavailable" in crm_only
    adopted = next(line for line in lines if line.startswith("register_only"))
    assert f"{FN}:103" in adopted
    assert "adopted by Иванов: продажа у кассы" in adopted
    assert _line(lines, "difference").split() == [
        "difference",
        "-350.00",
        "12.34",
        "0.00",
        "-337.66",
    ]
    assert _line(lines, "crm_grand_total").split()[-1] == "852.24"
    assert "cash in 2000.00, cash out 1500.00 (not sales)" in lines
    assert lines[-1] == "DISCREPANCY"


def test_render_problems_only_and_max_rows():
    """problems_only hides matched rows; max_rows cuts the table and says how many it left out."""
    text = render_reconciliation(_shift_with_every_status(), problems_only=True, max_rows=1)

    assert "crm-1" not in text
    assert "crm-3" in text
    assert f"{FN}:103" not in text
    assert "... 1 more rows not shown" in text


def test_render_a_matching_shift_and_one_without_report():
    """All matched says match; no report yet says so in the Z and difference lines."""
    ok = reconcile(
        window(counters=counters(sales=(0, 100, 0))),
        [request("a", card=100)],
        [done("a", 101, 100)],
        [],
        [],
    )
    open_shift = reconcile(window(closed=None), [], [], [], [])

    text = render_reconciliations([ok, open_shift])

    assert "match\n" in text
    assert "no payments and no documents" in text
    assert "opened 2026-01-05 09:00 +0300, open" in text
    assert any(
        line.startswith("z_register_total") and "no report yet" in line
        for line in text.splitlines()
    )
    assert render_reconciliations([]) == "no shifts to reconcile\n"
