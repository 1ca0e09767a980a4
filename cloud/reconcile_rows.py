"""The reconciliation's rows as they are built, and the plainly matched ones built at once.

:func:`cloud.reconcile.reconcile` builds one row per request of the shift. :class:`Rows` holds
them with their sort keys, the documents already on a row and the ids already seen;
:func:`plain_rows` builds the rows of the requests in the common case (paid in the shift,
printed in the shift, not a correction) in a few passes over columns, and leaves the others
to the reconciliation's loop over requests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import compress, repeat
from operator import and_, gt, is_, itemgetter, not_, sub, truth
from typing import Final, cast

from cloud.reconcile_model import (
    CrmRequest,
    Fiscal,
    Kind,
    Kopecks,
    PaymentTotals,
    RequestOutcome,
    Row,
    RowStatus,
    ShiftWindow,
)

__all__ = ["CORRECTION", "DONE", "Rows", "claim_utc", "done_fiscals", "plain_rows"]

DONE: Final = "done"
CORRECTION: Final = "correction"
_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)
_fourth, _fifth, _sixth = itemgetter(3), itemgetter(4), itemgetter(5)
_seventh, _eighth, _ninth = itemgetter(6), itemgetter(7), itemgetter(8)


class Rows:
    """The rows being built, the documents already on a row and the ids already seen."""

    __slots__ = (
        "corrections",
        "fixed_later",
        "keys",
        "printed",
        "printed_fds",
        "printed_fn",
        "rows",
        "seen",
    )

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.keys: list[tuple[datetime, str]] = []  # each row's (time, id), to sort them by
        self.printed: set[tuple[str, int]] = set()
        # Documents of one FN on a row, by number (the plain rows: see plain_rows).
        self.printed_fn: str | None = None
        self.printed_fds: set[int] = set()
        self.seen: set[str] = set()
        self.fixed_later = PaymentTotals()  # this shift's payments printed as corrections
        self.corrections = PaymentTotals()  # corrections printed in this shift

    def count_correction(
        self, req: CrmRequest, *, is_payment_here: bool, is_printed_here: bool
    ) -> None:
        """A request printed as a correction: fixed later (its shift), a correction (printed)."""
        if is_payment_here:
            self.fixed_later = self.fixed_later + _paid(req)
        if is_printed_here:
            self.corrections = self.corrections + _paid(req)

    def is_printed(self, key: tuple[str, int]) -> bool:
        """Whether the document (fn, fd) is on a row already."""
        return key in self.printed or (key[0] == self.printed_fn and key[1] in self.printed_fds)

    def add(self, row: Row, at: datetime) -> None:
        """Append a row and its sort key."""
        self.rows.append(row)
        self.keys.append((at, row.id))

    def in_order(self) -> list[Row]:
        """The rows by time, then id.

        The key is kept as each row is built: a key function called on 100,000 rows would
        cost as much as building them.
        """
        keys, rows = self.keys, self.rows
        return [rows[i] for i in sorted(range(len(rows)), key=keys.__getitem__)]


def claim_utc(shift: ShiftWindow) -> tuple[datetime, datetime | None]:
    """Where the shift's claim starts and ends (:meth:`ShiftWindow.claims`), in UTC.

    In UTC, as the store's times are: two aware datetimes compare fast only when they share
    one tzinfo (otherwise each comparison asks both for their offsets).
    """
    start = shift.claims_from if shift.claims_from is not None else shift.opened_at
    end = shift.claims_until
    return start.astimezone(UTC), end.astimezone(UTC) if end is not None else None


def _paid(req: CrmRequest) -> PaymentTotals:
    """What one request paid, signed by its kind, cash net of change."""
    pay = req.payments
    paid_cash: int = pay.cash
    change = paid_cash + pay.card + pay.prepaid - req.total
    if change > 0:
        paid_cash -= min(change, paid_cash)
    sign = -1 if req.kind is Kind.REFUND else 1
    return PaymentTotals(
        cash=Kopecks(sign * paid_cash),
        card=Kopecks(sign * pay.card),
        prepaid=Kopecks(sign * pay.prepaid),
    )


def done_fiscals(
    requests: list[CrmRequest], outcomes: dict[str, RequestOutcome]
) -> list[Fiscal | None]:
    """Each request's document as its ``done`` result gives it (None: no such result)."""
    # Positional: the request's id 2; the outcome's status 1, fiscal 2.
    return [
        outcome[2] if outcome is not None and outcome[1] == DONE else None
        for outcome in map(outcomes.get, map(_third, requests))
    ]


def plain_rows(
    shift: ShiftWindow,
    requests: list[CrmRequest],
    fiscals: list[Fiscal | None],
    out: Rows,
) -> tuple[PaymentTotals, list[CrmRequest], list[Fiscal | None]] | None:
    """The rows of the requests that are plainly ``matched``, in a few C-level passes.

    A shift's rows are nearly all the same case: a request of the shift, paid in it,
    whose ``done`` result's document was printed in it and is not a correction. For those,
    :func:`_request_rows` would run the same tests one request at a time (half the
    reconciliation); here each test is one pass over a column. Returns what those requests
    paid and the requests left to :func:`_request_rows` (in their order, with their
    ``fiscals``), or None when the requests are not one agent's with unique ids (then
    :func:`_request_rows` takes them all). ``fiscals`` is :func:`done_fiscals`.
    """
    ids = list(map(_third, requests))
    seen = set(ids)
    if (
        len(seen) != len(ids)
        or not seen.isdisjoint(out.seen)
        or set(map(_first, requests)) - {shift.club}
        or set(map(_second, requests)) - {shift.agent}
    ):
        return None
    shift_fn = shift.fn
    # Positional: received_at 6, paid_at 7.
    paid = list(map(_eighth, requests))
    whens = [req[7] if req[7] is not None else req[6] for req in requests]
    plain = _plain(shift, whens, paid, fiscals)
    rest = list(compress(requests, map(not_, plain)))
    rest_fiscals = list(compress(fiscals, map(not_, plain)))
    if rest:
        requests = list(compress(requests, plain))
        ids = list(compress(ids, plain))
        fiscals = list(compress(fiscals, plain))
        whens = list(compress(whens, plain))
        out.seen.update(ids)
    else:
        out.seen = seen
    count = len(ids)
    new = tuple.__new__
    fields = zip(
        ids,
        repeat(RowStatus.MATCHED, count),
        requests,
        fiscals,
        repeat(None, count),
        repeat(None, count),
        repeat(False, count),  # noqa: FBT003 - other_shift
        repeat(False, count),  # noqa: FBT003 - late
        strict=True,
    )
    out.rows += map(new, repeat(Row, count), fields)
    out.keys += zip(whens, ids, strict=True)
    printed = cast("list[Fiscal]", fiscals)  # every one is set: the rows are matched
    if shift_fn is not None:  # then each is of that FN: its number is enough
        out.printed_fn, out.printed_fds = shift_fn, set(map(_second, printed))
    else:
        out.printed.update(zip(map(_first, printed), map(_second, printed), strict=True))
    return _paid_sum(requests), rest, rest_fiscals


def _plain(
    shift: ShiftWindow,
    whens: list[datetime],
    paid: list[datetime | None],
    fiscals: list[Fiscal | None],
) -> list[bool]:
    """Whether each request is printed in the shift, not as a correction, and is its payment.

    A payment is the shift's by its ``paid_at`` in the window, or, without one, by the shift
    its document was printed in (cloud.reconcile's ``_request_rows``). Usually every request
    is so, bar those with no document: that is checked on whole columns first (every time in
    the window, the documents' shifts, FNs and types), and each request is tested only when
    it is not so.
    """
    start, end = claim_utc(shift)
    number, shift_fn = shift.number, shift.fn
    # Positional: fiscal fn 0, shift 6, type 8.
    printed = cast("list[Fiscal]", list(compress(fiscals, fiscals)))  # those not None
    if (
        whens
        and start <= min(whens)
        and (end is None or max(whens) < end)
        and list(map(_seventh, printed)).count(number) == len(printed)
        and (shift_fn is None or list(map(_first, printed)).count(shift_fn) == len(printed))
        and CORRECTION not in map(_ninth, printed)
    ):
        return list(map(truth, fiscals))
    in_window = map(start.__le__, whens)
    if end is not None:
        in_window = map(and_, in_window, map(end.__gt__, whens))
    return [
        fiscal is not None
        and fiscal[6] == number
        and (shift_fn is None or fiscal[0] == shift_fn)
        and fiscal[8] != CORRECTION
        and (paid_at is None or here)
        for fiscal, here, paid_at in zip(fiscals, in_window, paid, strict=True)
    ]


def _paid_sum(requests: list[CrmRequest]) -> PaymentTotals:
    """What these requests paid, signed by kind, cash net of change (:func:`_paid` summed)."""
    pays = list(map(_fifth, requests))
    cash = list(map(_first, pays))
    # The change, where there is any, comes out of the cash tendered.
    changes = list(map(sub, map(sum, pays), map(_sixth, requests)))
    if changes and max(changes) > 0:
        for i in compress(range(len(changes)), map(gt, changes, repeat(0))):
            cash[i] -= min(changes[i], cash[i])
    refunds = list(map(is_, map(_fourth, requests), repeat(Kind.REFUND)))
    sums = [sum(cash), sum(map(_second, pays)), sum(map(_third, pays))]
    if any(refunds):
        refund_pays = list(compress(pays, refunds))
        sums[0] -= 2 * sum(compress(cash, refunds))
        sums[1] -= 2 * sum(map(_second, refund_pays))
        sums[2] -= 2 * sum(map(_third, refund_pays))
    return PaymentTotals(cash=Kopecks(sums[0]), card=Kopecks(sums[1]), prepaid=Kopecks(sums[2]))
