"""Reconciliation of one agent's shift: the CRM's payments against the register's documents.

Pure: no I/O, no clock. The store gives the inputs (:mod:`cloud.reconcile_model`), this
module gives rows and totals (docs/contract.md, cloud HTTP API, totals v1.1):

- a request the register printed is ``matched`` (by its id: the agent's ``done`` result, or
  a tape document carrying the id as its mark when the result has not come yet);
- a request with no document (no result, or rejected / failed / unknown) is ``crm_only``;
- a calculation document nobody sent (printed by hand, or by another program, or a result
  for an id the cloud never sent) is ``register_only``. A person may adopt it into the CRM:
  the row keeps status ``register_only`` and carries ``adopted`` (who, why, when). When the
  agent reported the document's payment split (contract v1.1 ``payments``, as the FN keeps
  it) the CRM's totals take it in by that split, so it leaves no difference; without one its
  amount is shown as ``adopted_total`` beside the difference, which it stays part of.

Totals, per payment kind and summed, sales minus refunds, cash net of change:
``crm_register_total`` is every request of the shift, printed or not: one with ``paid_at``
by that time; one without it by the shift its document was printed in, or, not printed, by
when the cloud received it; ``z_register_total`` is the report's counters;
``difference`` is the first minus the payments of the shift printed late as correction
receipts (``fixed_later_total``: a Z's sales leave corrections out) minus the second;
``crm_grand_total`` adds the app transactions of the shift. Cash in and out are the
report's, shown apart, as are the corrections printed in the shift (``corrections_total``).
A request printed as a correction is ``matched`` with ``late`` set, and ``other_shift``
when its payment's shift is not the one it was printed in.

Every step is a dict look-up by id or by ``(fn, fd)``: linear in the input, then one sort.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from itertools import filterfalse
from operator import itemgetter
from typing import Final

from cloud.fiscal_links import check_ofd_template
from cloud.gc_pause import gc_paused
from cloud.reconcile_model import (
    AppTransaction,
    CrmRequest,
    Fiscal,
    Kind,
    Kopecks,
    PaymentTotals,
    Reconciliation,
    RegisterDocument,
    RequestOutcome,
    Row,
    RowStatus,
    ShiftCounters,
    ShiftWindow,
    Totals,
)
from cloud.reconcile_rows import (
    CORRECTION,
    DONE,
    Rows,
    claim_utc,
    done_fiscals,
    plain_rows,
)

__all__ = [
    "EARLIEST",
    "AppTransaction",
    "CrmRequest",
    "Fiscal",
    "Kind",
    "Kopecks",
    "PaymentTotals",
    "Reconciliation",
    "RegisterDocument",
    "RequestOutcome",
    "Row",
    "RowStatus",
    "ShiftCounters",
    "ShiftWindow",
    "Totals",
    "chain_windows",
    "document_fiscal",
    "reconcile",
    "reconcile_paired",
    "shift_for",
    "z_total",
]

EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
"""Where the first shift's claim starts: before any online register (54-FZ, 2016)."""
_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)
_fourth, _fifth, _sixth = itemgetter(3), itemgetter(4), itemgetter(5)


def chain_windows(windows: Iterable[ShiftWindow]) -> list[ShiftWindow]:
    """One register's shifts in order, each claiming the gap since the previous one closed.

    A payment taken while no shift was open is printed in the shift the register opens next,
    so that shift claims it. The first shift known claims everything before it
    (:data:`EARLIEST`): a payment taken before the agent's first shift opened (an ATOL register
    stamps the open to the second, so even one taken seconds before it) is printed in it.
    """
    ordered = sorted(windows, key=lambda window: window.opened_at)
    chained: list[ShiftWindow] = []
    previous_close: datetime | None = None
    for window in ordered:
        first_claim = window.claims_from if window.claims_from is not None else EARLIEST
        claims_from = previous_close if previous_close is not None else first_claim
        chained.append(replace(window, claims_from=claims_from))
        previous_close = window.claims_until
    return chained


def shift_for(at: datetime, windows: Iterable[ShiftWindow]) -> ShiftWindow | None:
    """The shift that claims a payment at ``at`` (see :meth:`ShiftWindow.claims`), if any."""
    for window in windows:
        if window.claims(at):
            return window
    return None


def document_fiscal(doc: RegisterDocument) -> Fiscal:
    """A tape document as the fiscal side of a row (its total is 0 when it carries none)."""
    return Fiscal(
        fn=doc.fn,
        fd=doc.fd,
        fp=doc.fp,
        total=doc.total if doc.total is not None else Kopecks(0),
        issued_at=doc.issued_at,
        doc_id=doc.doc_id,
        shift=doc.shift,
        kind=doc.kind,
        type=doc.type,
        mark=doc.mark,
    )


def z_total(counters: ShiftCounters) -> PaymentTotals:
    """Sales minus refunds by payment kind, as the register counted them (cash net of change)."""
    sales, refunds = counters.sales, counters.refunds
    return PaymentTotals(
        cash=Kopecks(sales.cash - refunds.cash),
        card=Kopecks(sales.card - refunds.card),
        prepaid=Kopecks(sales.prepaid - refunds.prepaid),
    )


class _Sum:
    """A running signed sum by payment kind (mutable; only inside :func:`reconcile`)."""

    __slots__ = ("card", "cash", "prepaid")

    def __init__(self) -> None:
        self.cash = 0
        self.card = 0
        self.prepaid = 0

    def add(self, kind: Kind, cash: int, card: int, prepaid: int, total: int | None) -> None:
        """Add one payment; the change (tendered over ``total``) comes out of its cash."""
        if total is not None:
            change = cash + card + prepaid - total
            if change > 0:
                cash -= min(change, cash)
        if kind is Kind.REFUND:
            self.cash -= cash
            self.card -= card
            self.prepaid -= prepaid
        else:
            self.cash += cash
            self.card += card
            self.prepaid += prepaid

    def totals(self) -> PaymentTotals:
        return PaymentTotals(
            cash=Kopecks(self.cash), card=Kopecks(self.card), prepaid=Kopecks(self.prepaid)
        )


def _index_outcomes(results: Iterable[RequestOutcome]) -> dict[str, RequestOutcome]:
    """Results by request id; a ``done`` one with its document wins over any other.

    The store gives one result per id: then the index is built in one C-level pass, and the
    rule below only runs when an id repeats.
    """
    results = list(results)
    outcomes = dict(zip(map(_first, results), results, strict=True))
    if len(outcomes) == len(results):
        return outcomes
    outcomes = {}
    for result in results:
        known = outcomes.get(result.id)
        if known is None or not (known.status == DONE and known.fiscal is not None):
            outcomes[result.id] = result
    return outcomes


def _calculation_documents(
    shift: ShiftWindow, documents: Iterable[RegisterDocument]
) -> tuple[list[RegisterDocument], dict[str, RegisterDocument]]:
    """The shift's documents with a sign and a total, and those carrying a mark, by mark."""
    calc_docs: list[RegisterDocument] = []
    by_mark: dict[str, RegisterDocument] = {}
    for doc in documents:
        if doc.kind is None or doc.total is None or not shift.holds_document(doc.fn, doc.shift):
            continue
        calc_docs.append(doc)
        if doc.mark is not None:
            by_mark.setdefault(doc.mark, doc)
    return calc_docs, by_mark


def _request_rows(
    shift: ShiftWindow,
    requests: Iterable[CrmRequest],
    outcomes: dict[str, RequestOutcome],
    by_mark: dict[str, RegisterDocument],
    out: Rows,
) -> PaymentTotals:
    """A row for every request of the shift; returns what the CRM sent in it.

    A request printed as a correction receipt also goes into ``out.fixed_later`` when it is
    this shift's payment and into ``out.corrections`` when it was printed in this shift.

    The window and shift tests of :class:`ShiftWindow` are inlined here: this loop runs once
    per request of the shift, and a call per test would double its time.
    """
    club, agent, number, shift_fn = shift.club, shift.agent, shift.number, shift.fn
    start, end = claim_utc(shift)
    seen, rows, keys, printed = out.seen, out.rows, out.keys, out.printed
    get_outcome, get_marked = outcomes.get, by_mark.get
    new = tuple.__new__
    cash = card = prepaid = 0
    matched, crm_only, refund = RowStatus.MATCHED, RowStatus.CRM_ONLY, Kind.REFUND
    for req in requests:
        # Positional: club, agent, id, kind, payments, total, received_at, paid_at.
        req_club, req_agent, request_id, kind, pay, total, received_at, paid_at = req
        if req_club != club or req_agent != agent or request_id in seen:
            continue
        seen.add(request_id)
        outcome = get_outcome(request_id)
        # Positional: id, status, fiscal, error_code.
        fiscal = outcome[2] if outcome is not None and outcome[1] == DONE else None
        if fiscal is None:
            marked = get_marked(request_id)
            fiscal = document_fiscal(marked) if marked is not None else None
        when = paid_at if paid_at is not None else received_at
        # Positional: fn, fd, fp, total, issued_at, doc_id, shift, kind, type, mark.
        fiscal_here = (
            fiscal is not None
            and fiscal[6] == number
            and (shift_fn is None or fiscal[0] == shift_fn)
        )
        # No time of its own and printed: the payment is the shift's its document was printed
        # in, whenever the cloud heard of it (late after an outage, or early when it waited in
        # the agent's outbox across a Z).
        in_window = (
            fiscal_here
            if paid_at is None and fiscal is not None
            else start <= when and (end is None or when < end)
        )
        if not (in_window or fiscal_here):
            continue
        if in_window:
            pay_cash, pay_card, pay_prepaid = pay
            paid_cash: int = pay_cash
            change = pay_cash + pay_card + pay_prepaid - total
            if change > 0:
                paid_cash -= min(change, paid_cash)
            if kind is refund:
                cash, card, prepaid = cash - paid_cash, card - pay_card, prepaid - pay_prepaid
            else:
                cash, card, prepaid = cash + paid_cash, card + pay_card, prepaid + pay_prepaid
        keys.append((when, request_id))
        if fiscal is None:
            rows.append(new(Row, (request_id, crm_only, req, None, outcome, None, False, False)))
            continue
        printed.add((fiscal[0], fiscal[1]))
        is_late = fiscal[8] == CORRECTION
        if is_late:
            out.count_correction(req, is_payment_here=in_window, is_printed_here=fiscal_here)
        # Positional: id, status, crm, fiscal, outcome, adopted, other_shift, late.
        rows.append(
            new(
                Row,
                (request_id, matched, req, fiscal, None, None, in_window != fiscal_here, is_late),
            )
        )
    return PaymentTotals(cash=Kopecks(cash), card=Kopecks(card), prepaid=Kopecks(prepaid))


def _register_rows(
    shift: ShiftWindow,
    outcomes: dict[str, RequestOutcome],
    calc_docs: list[RegisterDocument],
    out: Rows,
) -> tuple[PaymentTotals, Kopecks]:
    """A row for every document of the shift nobody sent.

    Returns what the adopted documents add to the CRM's side (those with a payment split)
    and the sum of those adopted without one (they stay in the difference).
    """
    # A result for an id the cloud never sent (a POS on the agent's local API): the register
    # printed it, the CRM did not send it.
    for request_id in filterfalse(out.seen.__contains__, outcomes):
        outcome = outcomes[request_id]
        fiscal = outcome.fiscal
        if outcome.status != DONE or fiscal is None:
            continue
        if not shift.holds_document(fiscal.fn, fiscal.shift):
            continue
        out.printed.add((fiscal.fn, fiscal.fd))
        out.add(
            Row(id=request_id, status=RowStatus.REGISTER_ONLY, crm=None, fiscal=fiscal),
            fiscal.issued_at,
        )
    adopted = 0
    taken_in = _Sum()
    for doc in calc_docs:
        key = (doc.fn, doc.fd)
        if out.is_printed(key):
            continue
        out.printed.add(key)
        if doc.adopted is not None and doc.kind is not None:
            pay = doc.payments
            if pay is not None:  # the FN's split (cash net of change): the CRM takes it in
                taken_in.add(doc.kind, pay.cash, pay.card, pay.prepaid, None)
            elif doc.total is not None:
                adopted += -doc.total if doc.kind is Kind.REFUND else doc.total
        out.add(
            Row(
                id=doc.doc_id,
                status=RowStatus.REGISTER_ONLY,
                crm=None,
                fiscal=document_fiscal(doc),
                adopted=doc.adopted,
            ),
            doc.issued_at,
        )
    return taken_in.totals(), Kopecks(adopted)


def reconcile(
    shift: ShiftWindow,
    requests: Iterable[CrmRequest],
    results: Iterable[RequestOutcome],
    documents: Iterable[RegisterDocument],
    transactions: Iterable[AppTransaction] = (),
    *,
    ofd_url_template: str | None = None,
) -> Reconciliation:
    """The rows and totals of one agent's shift.

    ``requests`` may hold other agents' and other shifts' requests: only this agent's whose
    time falls in the shift, or whose document was printed in it, become rows. ``results``
    and ``documents`` are this agent's register's (a request id is one agent's). Every
    ``transactions`` entry whose time falls in the shift counts in the grand total: the
    caller passes those meant for this agent. A repeated request id counts once (the first).
    Raises :class:`cloud.fiscal_links.OfdTemplateInvalid` for a bad template.
    """
    return _reconcile(
        shift,
        requests=list(requests),
        fiscals=None,
        results=results,
        documents=documents,
        transactions=transactions,
        ofd_url_template=ofd_url_template,
    )


def reconcile_paired(
    shift: ShiftWindow,
    requests: list[CrmRequest],
    fiscals: list[Fiscal | None],
    results: Iterable[RequestOutcome],
    *,
    documents: Iterable[RegisterDocument],
    transactions: Iterable[AppTransaction] = (),
    ofd_url_template: str | None = None,
) -> Reconciliation:
    """:func:`reconcile`, with each request's ``done`` result already found (by the store).

    ``fiscals[i]`` is the document of ``requests[i]``'s result when that result is ``done``
    with one, else None. ``results`` is every other result: those of requests that are not
    ``done`` with a document, and those of ids not in ``requests``. The request ids are
    unique. The same as :func:`reconcile` of the requests and all their results (a ``done``
    result's error code shows on no row), without a result record per matched request.
    """
    return _reconcile(
        shift,
        requests=requests,
        fiscals=fiscals,
        results=results,
        documents=documents,
        transactions=transactions,
        ofd_url_template=ofd_url_template,
    )


def _paired_outcomes(
    outcomes: dict[str, RequestOutcome],
    requests: list[CrmRequest],
    fiscals: list[Fiscal | None],
) -> None:
    """Put back the ``done`` results of :func:`reconcile_paired` for ``requests``."""
    for req, fiscal in zip(requests, fiscals, strict=True):
        if fiscal is not None:
            outcomes[req.id] = RequestOutcome(id=req.id, status=DONE, fiscal=fiscal)


@gc_paused()  # a row and its records per payment: see cloud.gc_pause
def _reconcile(
    shift: ShiftWindow,
    *,
    requests: list[CrmRequest],
    fiscals: list[Fiscal | None] | None,
    results: Iterable[RequestOutcome],
    documents: Iterable[RegisterDocument],
    transactions: Iterable[AppTransaction],
    ofd_url_template: str | None,
) -> Reconciliation:
    if ofd_url_template is not None:
        check_ofd_template(ofd_url_template)
    outcomes = _index_outcomes(results)
    calc_docs, by_mark = _calculation_documents(shift, documents)
    out = Rows()
    paired = fiscals is not None
    if fiscals is None:
        fiscals = done_fiscals(requests, outcomes)
    plain = plain_rows(shift, requests, fiscals, out)
    if plain is None:
        rest, rest_fiscals, crm_register = requests, fiscals, PaymentTotals()
    else:
        crm_register, rest, rest_fiscals = plain
    if paired:
        _paired_outcomes(outcomes, rest, rest_fiscals)
    crm_register += _request_rows(shift, rest, outcomes, by_mark, out)
    taken_in, adopted = _register_rows(shift, outcomes, calc_docs, out)
    crm_register += taken_in

    app = _Sum()
    for tx in transactions:
        if shift.claims(tx.at):
            pay = tx.payments
            app.add(tx.kind, pay.cash, pay.card, pay.prepaid, tx.total)

    rows = out.in_order()
    counters = shift.counters
    z_register = z_total(counters) if counters is not None else None
    totals = Totals(
        crm_register_total=crm_register,
        crm_grand_total=crm_register + app.totals(),
        z_register_total=z_register,
        difference=(
            crm_register - out.fixed_later - z_register if z_register is not None else None
        ),
        cash_in=counters.cash_in if counters is not None else None,
        cash_out=counters.cash_out if counters is not None else None,
        adopted_total=adopted,
        fixed_later_total=out.fixed_later,
        corrections_total=out.corrections,
    )
    return Reconciliation(
        shift=shift, rows=tuple(rows), totals=totals, ofd_url_template=ofd_url_template
    )
