"""Small builders of reconciliation inputs for the cloud tests: kopecks in, dataclasses out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cloud.reconcile_model import (
    Adoption,
    AppTransaction,
    CrmRequest,
    Fiscal,
    Kind,
    Kopecks,
    PaymentCounters,
    Payments,
    RegisterDocument,
    RequestOutcome,
    ShiftCounters,
    ShiftWindow,
)

MSK = timezone(timedelta(hours=3))
FN = "9289000100346765"
OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=MSK)
CLOSED = datetime(2026, 1, 6, 8, 30, tzinfo=MSK)
CLUB = "club-1"
AGENT = "desk-1"


def at(minutes: int) -> datetime:
    """A time ``minutes`` after the shift opened."""
    return OPENED + timedelta(minutes=minutes)


def window(
    *,
    number: int = 12,
    opened: datetime = OPENED,
    closed: datetime | None = CLOSED,
    counters: ShiftCounters | None = None,
) -> ShiftWindow:
    return ShiftWindow(
        club=CLUB,
        agent=AGENT,
        number=number,
        opened_at=opened,
        closed_at=closed,
        fn=FN,
        counters=counters,
    )


def counters(
    *,
    sales: tuple[int, int, int] = (0, 0, 0),
    refunds: tuple[int, int, int] = (0, 0, 0),
    cash_in: int = 0,
    cash_out: int = 0,
) -> ShiftCounters:
    def side(values: tuple[int, int, int]) -> PaymentCounters:
        cash, card, prepaid = values
        return PaymentCounters(
            cash=Kopecks(cash), card=Kopecks(card), prepaid=Kopecks(prepaid), count=1
        )

    return ShiftCounters(
        sales=side(sales),
        refunds=side(refunds),
        cash_in=Kopecks(cash_in),
        cash_out=Kopecks(cash_out),
    )


def request(
    request_id: str,
    *,
    cash: int = 0,
    card: int = 0,
    prepaid: int = 0,
    total: int | None = None,
    kind: Kind = Kind.SALE,
    received_at: datetime | None = None,
    paid_at: datetime | None = None,
    agent: str = AGENT,
) -> CrmRequest:
    return CrmRequest(
        club=CLUB,
        agent=agent,
        id=request_id,
        kind=kind,
        payments=Payments(cash=Kopecks(cash), card=Kopecks(card), prepaid=Kopecks(prepaid)),
        total=Kopecks(total if total is not None else cash + card + prepaid),
        received_at=received_at if received_at is not None else at(60),
        paid_at=paid_at,
    )


def done(
    request_id: str,
    fd: int,
    total: int,
    *,
    shift: int = 12,
    issued_at: datetime | None = None,
    fp: int = 4179925410,
) -> RequestOutcome:
    return RequestOutcome(
        id=request_id,
        status="done",
        fiscal=Fiscal(
            fn=FN,
            fd=fd,
            fp=fp,
            total=Kopecks(total),
            issued_at=issued_at if issued_at is not None else at(61),
            doc_id=f"{FN}:{fd}",
            shift=shift,
            mark=request_id,
        ),
    )


def failed(request_id: str, code: str = "register_unavailable") -> RequestOutcome:
    return RequestOutcome(id=request_id, status="failed", error_code=code)


def document(
    fd: int,
    total: int | None,
    *,
    kind: Kind | None = Kind.SALE,
    shift: int = 12,
    issued_at: datetime | None = None,
    mark: str | None = None,
    adopted: Adoption | None = None,
    doc_type: str = "receipt",
    payments: Payments | None = None,
) -> RegisterDocument:
    return RegisterDocument(
        fn=FN,
        fd=fd,
        type=doc_type,
        shift=shift,
        issued_at=issued_at if issued_at is not None else at(120),
        kind=kind,
        total=Kopecks(total) if total is not None else None,
        mark=mark,
        adopted=adopted,
        payments=payments,
    )


def app_payment(
    tx_id: str, *, card: int = 0, cash: int = 0, when: datetime | None = None
) -> AppTransaction:
    return AppTransaction(
        id=tx_id,
        kind=Kind.SALE,
        payments=Payments(cash=Kopecks(cash), card=Kopecks(card)),
        at=when if when is not None else at(90),
    )
