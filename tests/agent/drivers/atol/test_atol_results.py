"""ATOL results -> the interface's dataclasses, with the examples of docs/atol-driver.md §2, §4."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from agent.domain.country import RU
from agent.domain.money import Kopecks, Micros
from agent.domain.receipt import Payments, ReceiptKind, VatRate
from agent.drivers.atol.codec.documents import fn_document
from agent.drivers.atol.codec.results import (
    TaskStatus,
    cash_movement,
    device_info,
    fiscal_params,
    fn_state,
    parse_results,
    register_state,
    shift_counters,
    shift_document,
    shift_status,
)
from agent.drivers.atol.codec.values import MalformedResult
from agent.drivers.interface import DocumentLine, DocumentType, FnWarning, ShiftState

MSK = timezone(timedelta(hours=3))

# §2.4: a GET after a failing second task of three.
FAILED_REQUEST = json.loads(
    """{"results":[
 {"status":"ready","error":{"code":0,"description":"Ошибок нет"},"result":{"shiftStatus":{"state":"opened","number":12,"documentsCount":3,"expiredTime":"2025-03-15T09:00:00+03:00"}}},
 {"status":"error","error":{"code":68,"description":"Смена превысила 24 часа"}},
 {"status":"interrupted","error":{"code":502,"description":"Выполнение прервано из-за предыдущих ошибок"}}]}"""
)

# §4.1: a receipt's result.
RECEIPT_RESULT = json.loads(
    """{"fiscalParams":{"fiscalDocumentNumber":412,"fiscalDocumentSign":"2876543210",
  "fiscalDocumentDateTime":"2025-03-14T19:05:00+03:00","fiscalReceiptNumber":9,"shiftNumber":37,
  "fnNumber":"7380440700123456","registrationNumber":"0001234567012345","total":740.0,"fnsUrl":"nalog.gov.ru"},
 "warnings":{"notPrinted":false}}"""
)

SHIFT_STATUS = json.loads(
    """{"shiftStatus":{"state":"opened","number":37,"expiredTime":"2025-03-15T09:10:00+03:00","documentsCount":9}}"""
)
DEVICE_STATUS = json.loads(
    """{"deviceStatus":{"currentDateTime":"2025-03-14T19:00:00+03:00","shift":"opened","blocked":false,
"coverOpened":false,"paperPresent":true,"fiscal":true,"fnFiscal":true,"fnPresent":true,"cashDrawerOpened":false}}"""
)
FN_STATUS = {"fnStatus": {"fiscalDocumentNumber": 412, "fiscalReceiptNumber": 9, "warnings": {}}}


def test_results_in_order_with_statuses_and_codes() -> None:
    ready, error, interrupted = parse_results(FAILED_REQUEST)
    assert (ready.status, ready.code, ready.is_final) == (TaskStatus.READY, 0, True)
    assert ready.result is not None
    assert shift_status(ready.result, None).number == 12
    assert (error.status, error.code, error.result) == (TaskStatus.ERROR, 68, None)
    assert (interrupted.status, interrupted.code) == (TaskStatus.INTERRUPTED, 502)


def test_blocked_and_wait_are_not_final() -> None:
    (blocked,) = parse_results({"results": [{"status": "blocked", "error": {"code": 2}}]})
    (waiting,) = parse_results({"results": [{"status": "wait"}]})
    assert not blocked.is_final
    assert not waiting.is_final


def test_v1_flat_error_fields() -> None:
    (entry,) = parse_results(
        [{"status": "error", "errorCode": 44, "errorDescription": "Нет бумаги"}]
    )
    assert (entry.code, entry.description) == (44, "Нет бумаги")


def test_unknown_status_is_malformed() -> None:
    with pytest.raises(MalformedResult):
        parse_results({"results": [{"status": "done"}]})
    with pytest.raises(MalformedResult):
        parse_results({"results": []})


def test_receipt_fiscal_params() -> None:
    params = fiscal_params(RECEIPT_RESULT, None)
    assert params.is_complete
    assert (params.fd, params.fp, params.number, params.shift) == (412, 2876543210, 9, 37)
    assert params.fn == "7380440700123456"
    assert params.total == Kopecks(74000)
    assert params.issued_at == datetime(2025, 3, 14, 19, 5, tzinfo=MSK)
    assert not params.not_printed


def test_a_recovered_task_carries_the_fd_only() -> None:
    params = fiscal_params(
        {"fiscalParams": {"fiscalDocumentNumber": 413}, "warnings": {"notPrinted": True}}, None
    )
    assert params.fd == 413
    assert not params.is_complete
    assert params.not_printed


def test_a_time_without_offset_is_read_in_the_zone() -> None:
    params = fiscal_params(
        {
            "fiscalParams": {
                "fiscalDocumentNumber": 1,
                "fiscalDocumentDateTime": "2025-03-14T19:05:00",
            }
        },
        MSK,
    )
    assert params.issued_at == datetime(2025, 3, 14, 19, 5, tzinfo=MSK)


def test_shift_status_and_its_open_time() -> None:
    status = shift_status(SHIFT_STATUS, None)
    assert status.state is ShiftState.OPEN
    assert status.opened_at == datetime(2025, 3, 14, 9, 10, tzinfo=MSK)
    expired = shift_status({"shiftStatus": {"state": "expired", "number": 37}}, None)
    assert expired.state is ShiftState.EXPIRED
    assert expired.opened_at is None


def test_register_state_from_device_shift_and_fn() -> None:
    state = register_state(DEVICE_STATUS, SHIFT_STATUS, FN_STATUS, None)
    assert state.device_mode is None
    assert state.shift is ShiftState.OPEN
    assert state.shift_number == 37
    assert state.last_fd == 412
    assert state.has_paper
    assert not state.is_cover_open
    assert not state.is_receipt_open
    assert state.clock == datetime(2025, 3, 14, 19, 0, tzinfo=MSK)
    no_paper = {
        "deviceStatus": {
            **DEVICE_STATUS["deviceStatus"],
            "paperPresent": False,
            "coverOpened": True,
        }
    }
    state = register_state(no_paper, SHIFT_STATUS, FN_STATUS, None)
    assert not state.has_paper
    assert state.is_cover_open


def test_shift_document_of_open_and_close() -> None:
    result = {
        "fiscalParams": {
            "fiscalDocumentNumber": 400,
            "fiscalDocumentSign": "1234567890",
            "fiscalDocumentDateTime": "2025-03-14T09:10:00+03:00",
            "fnNumber": "7380440700123456",
            "shiftNumber": 37,
        },
        "warnings": None,
    }
    document = shift_document(result, None)
    assert (document.shift, document.fd, document.fp) == (37, 400, 1234567890)


def test_fn_state_with_backlog_and_warnings() -> None:
    info = {
        "fnInfo": {
            "serial": "7380440700123456",
            "validityDate": "2027-05-01T00:00:00+03:00",
            "livePhase": "fiscalMode",
            "warnings": {"needReplacement": False, "ofdTimeout": True, "memoryOverflow": True},
        }
    }
    ofd = {
        "status": {
            "notSentCount": 3,
            "notSentFirstDocNumber": 410,
            "notSentFirstDocDateTime": "2025-03-14T18:00:00+03:00",
        }
    }
    state = fn_state(info, FN_STATUS, ofd, None)
    assert state.serial == "7380440700123456"
    assert state.last_fd == 412
    assert state.valid_until == date(2027, 5, 1)
    assert state.unsent_docs == 3
    assert state.oldest_unsent_at == datetime(2025, 3, 14, 18, 0, tzinfo=MSK)
    assert state.warnings == FnWarning.OFD_TIMEOUT | FnWarning.MEMORY_90_PERCENT
    idle = fn_state(info, FN_STATUS, {"status": {"notSentCount": 0}}, None)
    assert (idle.unsent_docs, idle.oldest_unsent_at) == (0, None)


def test_device_info() -> None:
    device = {"deviceInfo": {"model": 69, "modelName": "АТОЛ 77Ф", "serial": "00106703948613"}}
    info = device_info(device, {"fnInfo": {"serial": "7380440700123456"}})
    assert (info.model, info.serial, info.fn_serial) == (
        "АТОЛ 77Ф",
        "00106703948613",
        "7380440700123456",
    )
    assert info.clock_zone is None


def test_shift_totals_as_counters_without_vat() -> None:
    totals = {
        "shiftTotals": {
            "shiftNumber": 37,
            "cashDrawer": {"sum": 1800.0},
            "income": {"count": 1, "sum": 1000.0},
            "outcome": {"count": 1, "sum": 200.0},
            "receipts": {
                "sell": {
                    "count": 3,
                    "sum": 1490.0,
                    "payments": {
                        "cash": 1050.0,
                        "electronically": 440.0,
                        "prepaid": 0,
                        "credit": 0,
                        "other": 0,
                    },
                },
                "sellReturn": {"count": 1, "sum": 50.0, "payments": {"cash": 50.0}},
            },
        }
    }
    counters = shift_counters(totals)
    assert counters.shift == 37
    assert (counters.sales.cash, counters.sales.card, counters.sales.count) == (105000, 44000, 3)
    assert (counters.refunds.cash, counters.refunds.count) == (5000, 1)
    assert (counters.cash_in, counters.cash_out, counters.cash_in_drawer) == (100000, 20000, 180000)
    assert counters.sales_vat.get(VatRate.VAT22) is None  # not read, never a false 0


def test_cash_movement_counters() -> None:
    movement = cash_movement({"counters": {"cashSum": 1500.5}})
    assert movement.cash_in_drawer == Kopecks(150050)


RECEIPT_DOCUMENT = {
    "documentTLV": {
        "fiscalDocumentType": "receipt",
        "1040": 412,
        "1077": "2876543210",
        "1012": "2025-03-14T19:05:00+03:00",
        "1054": 1,
        "1020": 740.0,
        "1038": 37,
        "1042": 9,
        "1059": [
            {"1030": "Пополнение баланса", "1079": 500.0, "1023": 1, "1043": 500.0, "1199": 6},
            {"1030": "Вода 0,5", "1079": "120.00", "1023": "2", "1043": 240.0, "1199": 11},
        ],
        "1031": 300.0,
        "1081": 440.0,
        "1084": {"1085": "CRM ID", "1086": "crm-740"},
    }
}


def test_a_receipt_read_back_whole_with_its_mark() -> None:
    document = fn_document(RECEIPT_DOCUMENT, 412, None, whole=True)
    assert document.is_whole
    assert (document.type, document.kind, document.total) == (
        DocumentType.RECEIPT,
        ReceiptKind.SALE,
        Kopecks(74000),
    )
    assert (document.fp, document.shift, document.number, document.mark) == (
        2876543210,
        37,
        9,
        "crm-740",
    )
    assert document.items == (
        DocumentLine(
            name="Пополнение баланса",
            qty=Micros(1_000_000),
            price=Kopecks(50000),
            amount=Kopecks(50000),
            vat=VatRate.NONE,
        ),
        DocumentLine(
            name="Вода 0,5",
            qty=Micros(2_000_000),
            price=Kopecks(12000),
            amount=Kopecks(24000),
            vat=VatRate.VAT22,
        ),
    )
    assert document.payments == Payments(cash=Kopecks(30000), card=Kopecks(44000))


def test_the_header_only_and_a_foreign_receipt() -> None:
    header = fn_document(RECEIPT_DOCUMENT, 412, None, whole=False)
    assert (header.items, header.mark, header.is_whole) == (None, None, False)
    foreign = {
        "documentTLV": {**RECEIPT_DOCUMENT["documentTLV"], "1084": [{"1085": "other", "1086": "x"}]}
    }
    assert fn_document(foreign, 412, None, whole=True).mark is None


def test_shift_documents_and_a_wrong_fd() -> None:
    opened = {
        "documentTLV": {
            "fiscalDocumentType": "openShift",
            "1040": 400,
            "1077": 1234567890,
            "1012": "2025-03-14T09:10:00+03:00",
            "1038": 37,
        }
    }
    document = fn_document(opened, 400, None, whole=True)
    assert (document.type, document.shift, document.kind) == (DocumentType.OPEN_SHIFT, 37, None)
    assert document.issued_at.astimezone(UTC).hour == 6
    with pytest.raises(MalformedResult, match="FD 400"):
        fn_document(opened, 401, None, whole=True)


def test_a_correction_receipt_read_back() -> None:
    doc = {
        "documentTLV": {
            **RECEIPT_DOCUMENT["documentTLV"],
            "fiscalDocumentType": "receiptCorrection",
            "1173": 0,
            "1174": {"1178": "2025-03-13"},
        }
    }
    document = fn_document(doc, 412, None, whole=True)
    assert document.type == DocumentType.CORRECTION
    assert document.correction is not None
    assert document.correction.settled_on == date(2025, 3, 13)


def test_shift_totals_with_taxes_give_vat_by_rate() -> None:
    """``taxes`` by ATOL tax type (the simulator's shape): each rate read, an unlisted one 0."""
    totals = {
        "shiftTotals": {
            "shiftNumber": 5,
            "cashDrawer": {"sum": 122.0},
            "income": {"sum": 0},
            "outcome": {"sum": 0},
            "receipts": {
                "sell": {
                    "count": 1,
                    "sum": 122.0,
                    "payments": {"cash": 122.0},
                    "taxes": {
                        "vat22": {"sum": 22.0, "turnover": 122.0},
                        "vat122": {"sum": 0, "turnover": 0},
                        "vat77": {"sum": 1.0, "turnover": 2.0},  # unknown to the agent: left out
                    },
                },
                "sellReturn": {"count": 0, "sum": 0, "payments": {}, "taxes": {}},
            },
        }
    }
    counters = shift_counters(totals)
    assert counters.sales_vat[VatRate.VAT22] == Kopecks(2200)
    assert counters.sales_vat[VatRate.VAT22_122] == Kopecks(0)
    assert counters.sales_vat[VatRate.VAT10] == Kopecks(0)
    assert set(counters.sales_vat) == set(RU.vat_rates)  # every Russian rate; no vat18
    assert set(counters.refunds_vat.values()) == {Kopecks(0)}


@pytest.mark.parametrize(("raw", "rate"), [(11, VatRate.VAT22), ("vat122", VatRate.VAT22_122)])
def test_a_line_rate_as_the_ffd_byte_or_atols_name(raw: object, rate: VatRate) -> None:
    """1199 is read as the FFD byte (the simulator's form); ATOL's tax.type name is taken too."""
    line = {"1030": "Кофе", "1079": 122.0, "1023": 1, "1043": 122.0, "1199": raw}
    doc = {"documentTLV": {**RECEIPT_DOCUMENT["documentTLV"], "1059": [line]}}
    document = fn_document(doc, 412, None, whole=True)
    assert document.items is not None
    assert document.items[0].vat is rate
