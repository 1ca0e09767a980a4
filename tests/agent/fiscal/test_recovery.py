"""Exactly-once decisions after a crash or a lost answer: by the mark, never by the total."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from agent.domain.money import Kopecks, Micros
from agent.domain.receipt import Correction, CorrectionType, Payments, ReceiptKind, VatRate
from agent.drivers.interface import DocumentLine, DocumentType, FiscalDocument
from agent.fiscal.recovery import (
    Facts,
    Intent,
    Issued,
    Reprint,
    Unknown,
    decide,
    decide_by_request,
    mismatch,
)
from tests.support.receipts import goods_receipt

AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FN = "9999078900001366"
COFFEE = goods_receipt((15000, VatRate.VAT22), cash=20000)
INTENT = Intent(fn_serial=FN, last_fd=10, mark="crm-1", receipt=COFFEE)


def _receipt(fd: int, mark: str | None = "crm-1", **changes: object) -> FiscalDocument:
    """A coffee receipt read back whole; ``mark`` None is someone else's receipt."""
    document = FiscalDocument(
        fd=fd,
        type=DocumentType.RECEIPT,
        fp=1000 + fd,
        issued_at=AT,
        kind=ReceiptKind.SALE,
        total=Kopecks(15000),
        shift=3,
        number=fd - 10,
        items=(
            DocumentLine(
                name="Кофе",
                qty=Micros(1_000_000),
                price=Kopecks(15000),
                amount=Kopecks(15000),
                vat=VatRate.VAT22,
            ),
        ),
        payments=Payments(cash=Kopecks(15000)),
        mark=mark,
        is_whole=True,
    )
    return replace(document, **changes)  # type: ignore[arg-type]  # test-only overrides


def _shift_doc(fd: int, doc_type: DocumentType, shift: int) -> FiscalDocument:
    return FiscalDocument(
        fd=fd, type=doc_type, fp=2000 + fd, issued_at=AT, shift=shift, is_whole=True
    )


def _facts(*docs: FiscalDocument, is_open: bool = False, fn: str = FN) -> Facts:
    last = docs[-1].fd if docs else INTENT.last_fd
    return Facts(fn_serial=fn, last_fd=last, is_receipt_open=is_open, documents=docs)


def test_recovery_records_the_receipt_that_carries_the_mark() -> None:
    """The next FD carries the row's mark and its content: it was issued."""
    assert decide(INTENT, _facts(_receipt(11))) == Issued(_receipt(11))


def test_recovery_never_takes_another_payment_of_the_same_total() -> None:
    """Another 150.00 coffee after the intent is not ours: ours was not issued, print again.

    This is the flaw that matching by kind and total had: two coffees of the same price are
    the normal case in a club.
    """
    facts = _facts(_receipt(11, mark="crm-2"), _receipt(12, mark=None))
    assert decide(INTENT, facts) == Reprint(cancel_open_receipt=False)


def test_recovery_finds_the_mark_behind_other_documents() -> None:
    """Our receipt after a guard rotation and someone else's receipt is still found."""
    facts = _facts(
        _shift_doc(11, DocumentType.CLOSE_SHIFT, 3),
        _shift_doc(12, DocumentType.OPEN_SHIFT, 4),
        _receipt(13, mark="other-program"),
        _receipt(14),
    )
    assert decide(INTENT, facts) == Issued(_receipt(14))


def test_recovery_prints_again_when_nothing_new() -> None:
    """No new document and no open receipt: not issued, print again."""
    assert decide(INTENT, _facts()) == Reprint(cancel_open_receipt=False)


def test_recovery_cancels_an_open_receipt_and_prints_again() -> None:
    """A receipt left open was never issued: cancel it and print again."""
    assert decide(INTENT, _facts(is_open=True)) == Reprint(cancel_open_receipt=True)


def test_recovery_is_unknown_when_two_documents_carry_the_mark() -> None:
    """Two documents with one mark cannot be explained: a person decides."""
    outcome = decide(INTENT, _facts(_receipt(11), _receipt(12)))
    assert isinstance(outcome, Unknown)
    assert "11, 12" in outcome.reason


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        pytest.param({"kind": ReceiptKind.REFUND}, "kind is refund", id="kind"),
        pytest.param({"total": Kopecks(14900)}, "total is 14900", id="total"),
        pytest.param({"items": ()}, "0 lines", id="lines"),
        pytest.param({"payments": Payments(card=Kopecks(15000))}, "payments", id="payments"),
        pytest.param({"type": DocumentType.CLOSE_SHIFT}, "not a receipt", id="type"),
    ],
)
def test_recovery_is_unknown_when_the_marked_document_differs(
    changes: dict[str, object], said: str
) -> None:
    """The mark with other content is no proof either way: a person decides."""
    outcome = decide(INTENT, _facts(_receipt(11, **changes)))
    assert isinstance(outcome, Unknown)
    assert "carries this request's mark" in outcome.reason
    assert said in outcome.reason


def test_recovery_compares_each_line() -> None:
    """A line with another quantity, price or VAT rate is not the row's receipt."""
    other_vat = replace(_receipt(11).items[0], vat=VatRate.VAT10)  # type: ignore[index]
    difference = mismatch(COFFEE, _receipt(11, items=(other_vat,)))
    assert difference is not None
    assert "line 0" in difference


def test_recovery_compares_cash_net_of_change() -> None:
    """The FN keeps the cash net of change (200.00 paid, 50.00 back → 150.00)."""
    assert mismatch(COFFEE, _receipt(11)) is None
    assert mismatch(COFFEE, _receipt(11, payments=Payments(cash=Kopecks(20000)))) is not None


def test_recovery_is_unknown_when_the_fn_changed() -> None:
    """Another FN means the archive cannot answer for the intent."""
    outcome = decide(INTENT, _facts(fn="9999078900009999"))
    assert isinstance(outcome, Unknown)
    assert "FN changed" in outcome.reason


def test_recovery_is_unknown_when_the_fd_went_back() -> None:
    """An FD counter below the recorded one cannot be explained."""
    facts = Facts(fn_serial=FN, last_fd=5, is_receipt_open=False, documents=())
    assert isinstance(decide(INTENT, facts), Unknown)


def test_recovery_is_unknown_when_a_document_could_not_be_read() -> None:
    """An FD that could not be read back might be ours: never print again past it."""
    facts = Facts(
        fn_serial=FN,
        last_fd=12,
        is_receipt_open=False,
        documents=(_receipt(11, mark=None),),
        unreadable=12,
    )
    outcome = decide(INTENT, facts)
    assert isinstance(outcome, Unknown)
    assert "FD 12" in outcome.reason


def test_recovery_is_unknown_when_documents_are_missing() -> None:
    """Fewer documents than the FN holds after the intent: it cannot be ruled out."""
    facts = Facts(
        fn_serial=FN, last_fd=12, is_receipt_open=False, documents=(_receipt(11, mark=None),)
    )
    assert isinstance(decide(INTENT, facts), Unknown)


def test_recovery_is_unknown_when_documents_are_out_of_sequence() -> None:
    """Documents that do not start right after the intent's FD cannot be trusted."""
    facts = Facts(
        fn_serial=FN, last_fd=12, is_receipt_open=False, documents=(_receipt(12, mark=None),)
    )
    assert isinstance(decide(INTENT, facts), Unknown)


def test_recovery_is_unknown_for_a_receipt_read_without_requisites() -> None:
    """A receipt header without its TLV cannot show whether it carries the mark."""
    header_only = replace(_receipt(11, mark=None), is_whole=False, items=None, payments=None)
    outcome = decide(INTENT, _facts(header_only))
    assert isinstance(outcome, Unknown)
    assert "read back whole" in outcome.reason


LATE = replace(
    COFFEE,
    correction=Correction(type=CorrectionType.SELF, settled_on=date(2026, 11, 20)),
)
LATE_INTENT = replace(INTENT, receipt=LATE)


def _correction(fd: int, **changes: object) -> FiscalDocument:
    """The late coffee read back whole as a correction receipt naming Nov 20."""
    return _receipt(
        fd, **{"type": DocumentType.CORRECTION, "correction": LATE.correction} | changes
    )


def test_recovery_records_the_correction_that_carries_the_mark() -> None:
    """A correction was intended and the FN holds it with the mark: issued."""
    assert decide(LATE_INTENT, _facts(_correction(11))) == Issued(_correction(11))


@pytest.mark.parametrize(
    ("intent", "document", "said"),
    [
        pytest.param(LATE_INTENT, _receipt(11), "not a correction", id="receipt-for-correction"),
        pytest.param(INTENT, _correction(11), "is a correction", id="correction-for-receipt"),
        pytest.param(
            LATE_INTENT,
            _correction(
                11, correction=Correction(type=CorrectionType.SELF, settled_on=date(2026, 11, 21))
            ),
            "its correction",
            id="other-date",
        ),
    ],
)
def test_recovery_is_unknown_when_the_marked_document_is_of_the_other_type(
    intent: Intent, document: FiscalDocument, said: str
) -> None:
    """The mark is ours but receipt and correction (or the date) disagree: a person decides."""
    outcome = decide(intent, _facts(document))
    assert isinstance(outcome, Unknown)
    assert said in outcome.reason


def test_by_request_records_the_document_kept_under_the_key() -> None:
    """A device keyed by request (SmartOne) answers with the receipt: issued, never reprinted."""
    kept = _receipt(0, doc_id="Ab3dE5fG7hJk")
    assert decide_by_request(INTENT, kept) == Issued(kept)


def test_by_request_prints_again_when_the_device_has_nothing() -> None:
    assert decide_by_request(INTENT, None) == Reprint(cancel_open_receipt=False)


def test_by_request_is_unknown_for_another_mark_or_other_content() -> None:
    other = decide_by_request(INTENT, _receipt(0, mark="crm-2"))
    assert isinstance(other, Unknown)
    assert "crm-2" in other.reason
    differs = decide_by_request(INTENT, _receipt(0, total=Kopecks(15100), doc_id="X1"))
    assert isinstance(differs, Unknown)
    assert "X1" in differs.reason
    assert "total" in differs.reason


def test_by_request_checks_only_what_the_device_reports() -> None:
    """After a restart the driver knows neither kind nor total: the payments decide.

    Cash may come back as tendered (200.00 for a 150.00 coffee with 50.00 change) or net of
    change; anything else in the payments is another receipt.
    """
    intent = replace(INTENT, receipt=goods_receipt((15000, VatRate.VAT22), cash=20000))
    bare = _receipt(0, kind=None, total=None, items=None, doc_id="Ab3dE5fG7hJk")
    for cash in (15000, 20000):
        document = replace(bare, payments=Payments(cash=Kopecks(cash)))
        assert decide_by_request(intent, document) == Issued(document)
    other = replace(bare, payments=Payments(cash=Kopecks(14000)))
    assert isinstance(decide_by_request(intent, other), Unknown)
    card = replace(bare, payments=Payments(card=Kopecks(15000)))
    assert isinstance(decide_by_request(intent, card), Unknown)
    refund = replace(bare, kind=ReceiptKind.REFUND)
    assert isinstance(decide_by_request(intent, refund), Unknown)
