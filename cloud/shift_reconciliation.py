"""One agent's shift reconciled from the store: the windows from its reports, then reconcile.

The API (``GET .../reconciliation``) and ``fiscal-cloud reconcile`` both call
:func:`load_reconciliation`. The shifts come from the stored open, X and Z reports: a shift's
counters are its Z's, else its latest X's, else none (an open report alone has no counters to
compare). Without a shift number it is the agent's current shift (the newest still open),
else the last closed one (docs/contract.md, cloud HTTP API).

A CRM transaction posted to ``/transactions`` carries an amount and no payment kind: an app
payment is paid online, so it counts as ``card`` in the grand total. The transactions are
the club's; each agent's shift counts those whose time falls in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import ClassVar

from agent.contract import ShiftReport, money_to_kopecks
from cloud.gc_pause import gc_paused
from cloud.reconcile import chain_windows, reconcile_paired
from cloud.reconcile_contract import (
    window_from_report,
)
from cloud.reconcile_model import (
    AppTransaction,
    Kind,
    Kopecks,
    Payments,
    Reconciliation,
    ShiftWindow,
)
from cloud.store import CloudStore, ShiftReportRecord, Transaction
from cloud.store.shift_reads import ShiftInputs

__all__ = [
    "NoShift",
    "app_transaction",
    "club_agents",
    "load_reconciliation",
    "read_window",
    "reconcile_inputs",
    "shift_windows",
]


class NoShift(LookupError):
    """The agent has no stored shift report (for that number)."""

    public_code: ClassVar[str] = "no_shift"

    def __init__(self, club: str, agent: str, shift: int | None) -> None:
        self.club = club
        self.agent = agent
        self.shift = shift
        which = f"shift {shift}" if shift is not None else "any shift"
        super().__init__(f"no shift report of {which} from agent {agent!r} in club {club!r}")


_PRIORITY = {"open": 0, "x": 1, "z": 2}


def shift_windows(club: str, agent: str, reports: Iterable[ShiftReportRecord]) -> list[ShiftWindow]:
    """The agent's shifts in order of opening, each from its best report (Z, X, open)."""
    best: dict[tuple[str, int], ShiftReportRecord] = {}
    for record in reports:
        key = (record.report.fn, record.report.shift)
        known = best.get(key)
        if known is None or _PRIORITY[record.report.kind] >= _PRIORITY[known.report.kind]:
            best[key] = record
    windows = []
    for record in best.values():
        window = window_from_report(record.report, club=club, agent=agent)
        if record.report.kind == "open":
            window = ShiftWindow(
                club=club,
                agent=agent,
                number=window.number,
                opened_at=window.opened_at,
                fn=window.fn,
            )
        windows.append(window)
    return chain_windows(windows)


def _pick(windows: list[ShiftWindow], shift: int | None) -> ShiftWindow | None:
    if shift is not None:
        numbered = [window for window in windows if window.number == shift]
        return numbered[-1] if numbered else None
    open_now = [window for window in windows if window.closed_at is None]
    if open_now:
        return open_now[-1]
    return windows[-1] if windows else None


def app_transaction(tx: Transaction) -> AppTransaction:
    """A posted CRM transaction for the grand total: an app payment, counted as card."""
    return AppTransaction(
        id=tx.id,
        kind=Kind(tx.kind),
        payments=Payments(card=Kopecks(money_to_kopecks(tx.amount))),
        at=tx.at,
    )


async def load_reconciliation(
    store: CloudStore,
    club: str,
    agent: str,
    shift: int | None = None,
    *,
    ofd_url_template: str | None = None,
    latest: ShiftReport | None = None,
) -> Reconciliation:
    """Reconcile one agent's shift (None: the current one, else the last closed).

    ``latest`` is a report just received (the close-shift check's X report): it is taken as
    the newest of its shift, whatever the store holds, and its shift is the one reconciled.

    Raises:
        NoShift: no report of that shift (or of any) is stored.
    """
    reports = await store.shift_reports(club, agent)
    if latest is not None:
        now = datetime.now(UTC)
        reports.append(ShiftReportRecord(club=club, agent=agent, report=latest, received_at=now))
        shift = latest.shift
    windows = shift_windows(club, agent, reports)
    window = _pick(windows, shift)
    if window is None:
        raise NoShift(club, agent, shift)
    with gc_paused():  # the read and the reconciliation as one: see cloud.gc_pause
        inputs = await read_window(store, window)
        return reconcile_inputs(window, inputs, ofd_url_template=ofd_url_template)


async def read_window(store: CloudStore, window: ShiftWindow) -> ShiftInputs:
    """What the store holds of the shift's window (its claim on payments, and its documents)."""
    start = window.claims_from if window.claims_from is not None else window.opened_at
    return await store.shift_inputs(
        window.club, window.agent, shift=window.number, start=start, end=window.claims_until
    )


def reconcile_inputs(
    window: ShiftWindow, inputs: ShiftInputs, *, ofd_url_template: str | None = None
) -> Reconciliation:
    """The shift's reconciliation from what :func:`read_window` read."""
    return reconcile_paired(
        window,
        inputs.requests,
        inputs.fiscals,
        inputs.results,
        documents=inputs.documents,
        transactions=inputs.transactions,
        ofd_url_template=ofd_url_template,
    )


async def club_agents(store: CloudStore, club: str) -> list[str]:
    """The club's agents: those with a health, then those the CRM sent requests to."""
    names = [record.agent for record in await store.agents() if record.club == club]
    for name in await store.request_agents(club):
        if name not in names:
            names.append(name)
    return names
