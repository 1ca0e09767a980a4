"""What the support page shows for each agent, from its newest health: pure functions.

:func:`agent_row` turns an agent's :class:`~cloud.store.AgentRecord` and the summary of its
current shift into the cells of one line of the page, each with a :class:`Level`: ``NOW``
(red: someone must act now), ``LOOK`` (amber: needs a look soon) or ``OK``. The thresholds
follow README, "Reading health". :func:`select_rows` is the page's filter by club and problem.
Nothing here does I/O: the adapter (cloud.web.routes) reads the store and renders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Final, Literal

from agent.contract import Health
from cloud.fiscal_links import format_kopecks
from cloud.reconcile_model import Reconciliation, RowStatus
from cloud.store import AgentRecord

__all__ = [
    "ADVISED_CODES",
    "PENDING",
    "PROBLEMS",
    "WHY_CODES",
    "AgentRow",
    "Cell",
    "Level",
    "Problem",
    "ShiftSummary",
    "Tr",
    "agent_row",
    "clubs",
    "discrepancy_text",
    "duration",
    "error_advice",
    "select_rows",
    "summarize_shift",
]

PENDING: Final = "pending"
"""An agent whose current shift has not been summarized yet (cloud.web.summaries)."""

Tr = Callable[..., str]
"""A catalog: ``tr(key, **fields)`` (cloud.web.i18n.Catalog)."""

OFFLINE_NOW_S: Final = 60.0
"""Offline longer than this: is the PC on? (README, Reading health)."""
SHIFT_LOOK_S: Final = 4 * 3600.0
SHIFT_NOW_S: Final = 3600.0
"""Time left to the 24-hour limit below which the shift needs a look, then action."""
FN_LOOK_DAYS: Final = 30
FN_NOW_DAYS: Final = 3
OFD_LOOK_S: Final = 5 * 86400.0
OFD_NOW_S: Final = 25 * 86400.0
"""The oldest unsent document's age: at 30 days the FN blocks."""
QUEUE_LOOK_S: Final = 300.0
STALE_S: Final = 180.0
"""No health for this long from an agent not offline: six of its 30-second healths missed, so
what the page shows is old (the club's internet, the broker, or the cloud's ingest)."""
ERROR_RECENT_S: Final = 3600.0
SHIFT_LIMIT_S: Final = 24 * 3600.0

_REGISTER_NOW: Final = frozenset(
    {"link_down", "paper_out", "cover_open", "fn_failure", "wrong_password", "clock_skew"}
)
WHY_CODES: Final = frozenset({*_REGISTER_NOW, "tz_mismatch", "shift_expired"})
ADVISED_CODES: Final = frozenset(
    {
        *_REGISTER_NOW,
        "tz_mismatch",
        "shift_expired",
        "mqtt_link_down",
        "mqtt_publish_refused",
        "retries_exhausted",
        "outcome_unknown",
        "storage_unavailable",
    }
)


class Level(IntEnum):
    """How urgent a cell is; the row takes its worst cell's."""

    OK = 0
    LOOK = 1
    NOW = 2

    @property
    def css(self) -> str:
        """The class the stylesheet colours."""
        return ("ok", "look", "now")[self]


class Problem(StrEnum):
    """What the page's problem filter picks."""

    OFFLINE = "offline"
    LINE = "line"
    REGISTER = "register"
    SHIFT = "shift"
    FN = "fn"
    OFD = "ofd"
    QUEUES = "queues"
    UNKNOWN = "unknown"
    ERROR = "error"
    DISCREPANCY = "discrepancy"


PROBLEMS: Final = tuple(Problem)


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell: its text, how urgent, and an optional second line (what to do)."""

    text: str
    level: Level = Level.OK
    hint: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftSummary:
    """An agent's current shift as the page shows it (from its reconciliation)."""

    number: int
    rows_differ: int
    difference: int | None  # kopecks; None: no counters from the register yet

    @property
    def matched(self) -> bool:
        """No row differs and the totals agree (or have no counters to disagree)."""
        return self.rows_differ == 0 and not self.difference


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRow:
    """One agent's line on the page."""

    club: str
    agent: str
    level: Level
    problems: frozenset[Problem]
    state: Cell
    register: Cell
    shift: Cell
    fn: Cell
    ofd: Cell
    queues: Cell
    unknown: Cell
    error: Cell
    discrepancy: Cell


def summarize_shift(rec: Reconciliation) -> ShiftSummary:
    """The rows that differ (``crm_only``, ``register_only`` not adopted) and the difference."""
    differ = sum(
        1
        for row in rec.rows
        if row.status is RowStatus.CRM_ONLY
        or (row.status is RowStatus.REGISTER_ONLY and row.adopted is None)
    )
    difference = rec.totals.difference
    return ShiftSummary(
        number=rec.shift.number,
        rows_differ=differ,
        difference=None if difference is None else int(difference.total),
    )


def duration(seconds: float, tr: Tr) -> str:
    """A short age: ``45 s``, ``12 min``, ``3 h 5 min``, ``4 d``."""
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return tr("unit.s", n=int(seconds))
    if seconds < 3600:
        return tr("unit.min", n=int(seconds // 60))
    if seconds < 2 * 86400:
        hours, rest = divmod(int(seconds), 3600)
        return tr("unit.h", h=hours, m=rest // 60)
    return tr("unit.d", n=int(seconds // 86400))


def _clock(at: datetime) -> str:
    """A time as the page shows it: UTC, day and minute."""
    return at.astimezone(UTC).strftime("%d.%m %H:%M")


def _since(at: datetime | None, now: datetime) -> float | None:
    return None if at is None else (now - at).total_seconds()


def error_advice(code: str, tr: Tr) -> tuple[str, str]:
    """A code in plain words, and what to do about it."""
    if code in ADVISED_CODES:
        return tr(f"err.{code}"), tr(f"do.{code}")
    return tr("err.other", code=code), tr("do.other")


def _why(health: Health, tr: Tr) -> str:
    reasons = []
    if health.line is not None and health.line.stopped:
        reasons.append(tr("why.line"))
    register = health.register
    if register is not None:
        code = "link_down" if register.link == "down" else register.error
        if register.state == "shift_expired":
            code = code or "shift_expired"
        if code is not None:
            reasons.append(tr(f"why.{code}") if code in WHY_CODES else tr("why.other"))
    if health.sync is not None and health.sync.broker == "down":
        reasons.append(tr("why.broker"))
    return ", ".join(reasons) or tr("why.other")


def _state(record: AgentRecord, now: datetime, tr: Tr) -> Cell:
    health = record.health
    if health.state == "offline":
        age = _since(record.seen_at, now) or 0.0
        text = tr("state.offline", since=_clock(record.seen_at), age=duration(age, tr))
        return Cell(text, Level.NOW if age > OFFLINE_NOW_S else Level.LOOK)
    silent = _since(record.seen_at, now) or 0.0
    seen = tr("state.seen", age=duration(silent, tr))
    if silent > STALE_S:
        return Cell(tr("state.stale", age=duration(silent, tr)), Level.LOOK, seen)
    if health.line is not None and health.line.stopped:
        line = tr("line.stopped", row=health.line.row or "?")
        since = _since(health.line.since, now)
        hint = tr("line.since", age=duration(since, tr)) if since is not None else seen
        return Cell(line, Level.NOW, hint)
    if health.state == "degraded":
        return Cell(tr("state.degraded", why=_why(health, tr)), Level.LOOK, seen)
    return Cell(tr("state.online"), Level.OK, seen)


def _register(health: Health, tr: Tr) -> Cell:
    register = health.register
    if register is None:
        return Cell("—")
    model = register.model or tr("register.unknown_model")
    if register.link == "down":
        return Cell(f"{model}: {tr('register.link_down')}", Level.NOW, tr("do.link_down"))
    if register.error is not None:
        words, advice = error_advice(register.error, tr)
        if register.error in WHY_CODES:
            words = tr(f"why.{register.error}")
        level = Level.NOW if register.error in _REGISTER_NOW else Level.LOOK
        return Cell(f"{model}: {words}", level, advice)
    return Cell(tr("register.up", model=model), Level.OK, register.serial or "")


def _shift(health: Health, tr: Tr) -> Cell:
    shift = health.shift
    if shift is None:
        return Cell("—")
    if not shift.open:
        return Cell(tr("shift.closed"))
    age = shift.age_s or 0.0
    left = SHIFT_LIMIT_S - age
    number = shift.number if shift.number is not None else "?"
    closes = _clock(shift.closes_at) if shift.closes_at is not None else ""
    if left <= 0:
        return Cell(
            tr("shift.expired", number=number, age=duration(age, tr)),
            Level.NOW,
            tr("do.shift_expired"),
        )
    level = Level.NOW if left < SHIFT_NOW_S else Level.LOOK if left < SHIFT_LOOK_S else Level.OK
    text = tr("shift.open", age=duration(age, tr), left=duration(left, tr))
    hint = (
        tr("shift.hint", number=number, closes=closes)
        if closes
        else tr("shift.number", number=number)
    )
    return Cell(text, level, hint)


def _fn(health: Health, tr: Tr) -> Cell:
    fn = health.fn
    if fn is None or fn.days_left is None:
        return Cell(tr("fn.none"))
    days = fn.days_left
    level = Level.NOW if days <= FN_NOW_DAYS else Level.LOOK if days < FN_LOOK_DAYS else Level.OK
    return Cell(tr("fn.days", days=days), level, fn.serial or "")


def _ofd(health: Health, now: datetime, tr: Tr) -> Cell:
    fn = health.fn
    if fn is None or not fn.unsent_docs:
        return Cell(tr("ofd.none"))
    age = _since(fn.oldest_unsent_at, now) or 0.0
    level = Level.NOW if age >= OFD_NOW_S else Level.LOOK if age >= OFD_LOOK_S else Level.OK
    return Cell(tr("ofd.docs", count=fn.unsent_docs, age=duration(age, tr)), level)


def _queues(health: Health, tr: Tr) -> Cell:
    outbox, sync = health.outbox, health.sync
    outbox_n = outbox.pending if outbox is not None else 0
    outbox_age = outbox.oldest_pending_age_s if outbox is not None else None
    sync_n = sync.pending if sync is not None else 0
    sync_age = sync.oldest_pending_age_s if sync is not None else None
    text = tr(
        "queues.text",
        outbox=outbox_n,
        outbox_age=tr("queues.age", age=duration(outbox_age, tr))
        if outbox_n and outbox_age
        else "",
        sync=sync_n,
        sync_age=tr("queues.age", age=duration(sync_age, tr)) if sync_n and sync_age else "",
    )
    failed = outbox.failed if outbox is not None else 0
    if failed:
        text += tr("queues.failed", failed=failed)
    broker_down = sync is not None and sync.broker == "down"
    if broker_down:
        text += tr("queues.broker_down")
    slow = any(age is not None and age > QUEUE_LOOK_S for age in (outbox_age, sync_age))
    return Cell(text, Level.LOOK if slow or failed or broker_down else Level.OK)


def _unknown(health: Health, tr: Tr) -> Cell:
    outbox = health.outbox
    if outbox is None or not outbox.unknown:
        return Cell(tr("unknown.none"))
    ids = ", ".join((outbox.unknown_ids or [])[:3])
    return Cell(
        tr("unknown.some", count=outbox.unknown, ids=ids), Level.NOW, tr("do.outcome_unknown")
    )


def _error(health: Health, now: datetime, tr: Tr) -> Cell:
    error = health.last_error
    if error is None:
        return Cell(tr("error.none"))
    words, advice = error_advice(error.code, tr)
    age = _since(error.at, now) or 0.0
    level = Level.LOOK if age < ERROR_RECENT_S else Level.OK
    return Cell(f"{words} {tr('error.when', age=duration(age, tr))}", level, advice)


def _discrepancy(summary: ShiftSummary | Literal["pending"] | None, tr: Tr) -> Cell:
    if summary == PENDING:
        return Cell("…")
    if summary is None:
        return Cell(tr("discrepancy.none"))
    assert isinstance(summary, ShiftSummary)
    if summary.matched:
        return Cell(tr("discrepancy.match", number=summary.number))
    return Cell(discrepancy_text(summary, tr), Level.LOOK)


def discrepancy_text(summary: ShiftSummary, tr: Tr) -> str:
    """``No. 12: 2 rows differ, -299.50`` (without the sum while the register gave none).

    No currency sign, as every other amount on the page: a club may count in rubles or in
    manats (a SmartOne cashbox in Azerbaijan), and the cloud does not know which.
    """
    if summary.difference is None:
        return tr("discrepancy.rows_only", number=summary.number, rows=summary.rows_differ)
    return tr(
        "discrepancy.rows",
        number=summary.number,
        rows=summary.rows_differ,
        difference=format_kopecks(summary.difference),
    )


def agent_row(
    record: AgentRecord,
    summary: ShiftSummary | Literal["pending"] | None,
    now: datetime,
    tr: Tr,
) -> AgentRow:
    """One agent's line: every cell with its level, and the problems the filter knows."""
    health = record.health
    offline = health.state == "offline"
    cells = {
        "state": _state(record, now, tr),
        "register": _register(health, tr),
        "shift": _shift(health, tr),
        "fn": _fn(health, tr),
        "ofd": _ofd(health, now, tr),
        "queues": _queues(health, tr),
        "unknown": _unknown(health, tr),
        "error": _error(health, now, tr),
        "discrepancy": _discrepancy(summary, tr),
    }
    if offline:
        # What an offline agent last said is history: shown, but not a call to act.
        for key in ("register", "shift", "queues", "error"):
            cells[key] = Cell(cells[key].text, Level.OK, cells[key].hint)
    problems = {
        Problem(key)
        for key in ("register", "shift", "fn", "ofd", "queues", "unknown", "error", "discrepancy")
        if cells[key].level > Level.OK
    }
    if offline or (_since(record.seen_at, now) or 0.0) > STALE_S:
        problems.add(Problem.OFFLINE)
    if health.line is not None and health.line.stopped:
        problems.add(Problem.LINE)
    return AgentRow(
        club=record.club,
        agent=record.agent,
        level=max(cell.level for cell in cells.values()),
        problems=frozenset(problems),
        state=cells["state"],
        register=cells["register"],
        shift=cells["shift"],
        fn=cells["fn"],
        ofd=cells["ofd"],
        queues=cells["queues"],
        unknown=cells["unknown"],
        error=cells["error"],
        discrepancy=cells["discrepancy"],
    )


def select_rows(
    rows: Iterable[AgentRow], *, club: str | None = None, problem: str | None = None
) -> list[AgentRow]:
    """The rows of ``club`` (None: all) with ``problem`` (``"any"``: any; None: all).

    The most urgent first, then by club and agent.
    """
    chosen = [
        row
        for row in rows
        if (club is None or row.club == club)
        and (
            problem is None
            or (problem == "any" and row.problems)
            or (problem in PROBLEMS and Problem(problem) in row.problems)
        )
    ]
    return sorted(chosen, key=lambda row: (-row.level, row.club, row.agent))


def clubs(rows: Sequence[AgentRow]) -> list[str]:
    """The clubs on the page, in order."""
    return sorted({row.club for row in rows})
