"""Exactly-once decisions after a crash or a lost answer."""

from datetime import UTC, datetime

from agent.domain.money import Kopecks
from agent.domain.receipt import ReceiptKind
from agent.drivers.interface import DocumentType, FiscalDocument
from agent.fiscal.recovery import Facts, Intent, Issued, Reprint, Unknown, decide

AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FN = "9999078900001366"
INTENT = Intent(fn_serial=FN, last_fd=10, kind=ReceiptKind.SALE, total=Kopecks(15000))


def _receipt(fd: int, total: int = 15000, kind: ReceiptKind = ReceiptKind.SALE) -> FiscalDocument:
    return FiscalDocument(
        fd=fd,
        type=DocumentType.RECEIPT,
        fp=1000 + fd,
        issued_at=AT,
        kind=kind,
        total=Kopecks(total),
    )


def _shift_doc(fd: int, doc_type: DocumentType, shift: int) -> FiscalDocument:
    return FiscalDocument(fd=fd, type=doc_type, fp=2000 + fd, issued_at=AT, shift=shift)


def _facts(*docs: FiscalDocument, is_open: bool = False, fn: str = FN) -> Facts:
    last = docs[-1].fd if docs else INTENT.last_fd
    return Facts(fn_serial=fn, last_fd=last, is_receipt_open=is_open, documents=docs)


def test_recovery_records_an_issued_receipt() -> None:
    """The next FD is a receipt of the same kind and total: it was issued."""
    assert decide(INTENT, _facts(_receipt(11))) == Issued(_receipt(11))


def test_recovery_prints_again_when_nothing_new() -> None:
    """No new document and no open receipt: not issued, print again."""
    assert decide(INTENT, _facts()) == Reprint(cancel_open_receipt=False)


def test_recovery_cancels_an_open_receipt_and_prints_again() -> None:
    """A receipt left open was never issued: cancel it and print again."""
    assert decide(INTENT, _facts(is_open=True)) == Reprint(cancel_open_receipt=True)


def test_recovery_ignores_shift_documents_and_other_receipts() -> None:
    """A Z, an open and someone else's receipt are not ours: print again."""
    facts = _facts(
        _shift_doc(11, DocumentType.CLOSE_SHIFT, 3),
        _shift_doc(12, DocumentType.OPEN_SHIFT, 4),
        _receipt(13, total=999),
        _receipt(14, kind=ReceiptKind.REFUND),
    )
    assert decide(INTENT, facts) == Reprint(cancel_open_receipt=False)


def test_recovery_finds_the_receipt_after_a_shift_rotation() -> None:
    """Our receipt after a guard rotation is still found."""
    facts = _facts(
        _shift_doc(11, DocumentType.CLOSE_SHIFT, 3),
        _shift_doc(12, DocumentType.OPEN_SHIFT, 4),
        _receipt(13),
    )
    assert decide(INTENT, facts) == Issued(_receipt(13))


def test_recovery_is_unknown_when_two_receipts_match() -> None:
    """Two candidates cannot be told apart: a person decides."""
    outcome = decide(INTENT, _facts(_receipt(11), _receipt(12)))
    assert isinstance(outcome, Unknown)
    assert "11, 12" in outcome.reason


def test_recovery_is_unknown_when_the_fn_changed() -> None:
    """Another FN means the archive cannot answer for the intent."""
    outcome = decide(INTENT, _facts(fn="9999078900009999"))
    assert isinstance(outcome, Unknown)
    assert "FN changed" in outcome.reason


def test_recovery_is_unknown_when_the_fd_went_back() -> None:
    """An FD counter below the recorded one cannot be explained."""
    facts = Facts(fn_serial=FN, last_fd=5, is_receipt_open=False, documents=())
    assert isinstance(decide(INTENT, facts), Unknown)


def test_recovery_is_unknown_when_documents_are_missing() -> None:
    """A gap in the documents read back means we cannot rule out an issued receipt."""
    facts = Facts(fn_serial=FN, last_fd=12, is_receipt_open=False, documents=(_receipt(12),))
    assert isinstance(decide(INTENT, facts), Unknown)
