"""Any Shtrih command, pure: the request and response unions, encode and decode_response.

:func:`decode_response` reads the error byte and hands the rest of an answer to its command
family's decoder (:mod:`.status`, :mod:`.shift`, :mod:`.receipt`, ...).
"""

from __future__ import annotations

from collections.abc import Callable

from agent.drivers.errors import MalformedPayload, UnexpectedResponse
from agent.drivers.shtrih.commands._layout import empty_answer, operator_only
from agent.drivers.shtrih.commands.archive import (
    BeginReadDocumentRequest,
    BeginReadDocumentResponse,
    FindDocumentRequest,
    FindDocumentResponse,
    ReadDocumentBlockRequest,
    ReadDocumentBlockResponse,
    decode_begin_read_document,
    decode_document_block,
    decode_find_document,
)
from agent.drivers.shtrih.commands.cash import (
    CashInRequest,
    CashInResponse,
    CashOutRequest,
    CashOutResponse,
    cash_movement,
)
from agent.drivers.shtrih.commands.correction import BeginCorrectionRequest, BeginCorrectionResponse
from agent.drivers.shtrih.commands.drawer import (
    OpenDrawerRequest,
    OpenDrawerResponse,
    decode_open_drawer,
)
from agent.drivers.shtrih.commands.error_codes import ErrorResponse, interpret_error
from agent.drivers.shtrih.commands.fn import (
    ReadExchangeStatusRequest,
    ReadExchangeStatusResponse,
    ReadFnExpiryRequest,
    ReadFnExpiryResponse,
    ReadFnStatusRequest,
    ReadFnStatusResponse,
    ReadUnconfirmedCountRequest,
    ReadUnconfirmedCountResponse,
    decode_exchange_status,
    decode_fn_expiry,
    decode_fn_status,
    decode_unconfirmed_count,
)
from agent.drivers.shtrih.commands.receipt import (
    AddOperationRequest,
    AddOperationResponse,
    CancelReceiptRequest,
    CancelReceiptResponse,
    CloseReceiptRequest,
    CloseReceiptResponse,
    decode_close_receipt,
)
from agent.drivers.shtrih.commands.registers import (
    ReadMoneyRegisterRequest,
    ReadMoneyRegisterResponse,
    ReadOperatingRegisterRequest,
    ReadOperatingRegisterResponse,
    decode_money_register,
    decode_operating_register,
)
from agent.drivers.shtrih.commands.shift import (
    BeginCloseShiftRequest,
    BeginCloseShiftResponse,
    BeginOpenShiftRequest,
    BeginOpenShiftResponse,
    OpenShiftRequest,
    OpenShiftResponse,
    PrintXReportRequest,
    PrintXReportResponse,
    PrintZReportRequest,
    PrintZReportResponse,
    ReadShiftParamsRequest,
    ReadShiftParamsResponse,
    decode_open_shift,
    decode_shift_params,
)
from agent.drivers.shtrih.commands.state_report import (
    StateReportRequest,
    StateReportResponse,
    decode_state_report,
)
from agent.drivers.shtrih.commands.status import (
    ContinuePrintRequest,
    ContinuePrintResponse,
    ReadDeviceTypeRequest,
    ReadDeviceTypeResponse,
    ReadShortStatusRequest,
    ReadShortStatusResponse,
    ReadStatusRequest,
    ReadStatusResponse,
    decode_device_type,
    decode_short_status,
    decode_status,
)
from agent.drivers.shtrih.commands.tlv import WriteTlvRequest, WriteTlvResponse
from agent.drivers.shtrih.tables import (
    ReadTableRequest,
    ReadTableResponse,
    WriteTableRequest,
    WriteTableResponse,
    decode_read_table,
    decode_write_table,
)
from agent.drivers.shtrih.wire import Command, Reader

__all__ = [
    "Request",
    "Response",
    "decode_response",
    "encode",
]

Request = (
    ReadShortStatusRequest
    | ReadStatusRequest
    | ReadMoneyRegisterRequest
    | ReadOperatingRegisterRequest
    | WriteTableRequest
    | ReadTableRequest
    | PrintXReportRequest
    | PrintZReportRequest
    | CashInRequest
    | CashOutRequest
    | CancelReceiptRequest
    | ContinuePrintRequest
    | OpenShiftRequest
    | ReadDeviceTypeRequest
    | ReadFnStatusRequest
    | ReadFnExpiryRequest
    | FindDocumentRequest
    | WriteTlvRequest
    | ReadExchangeStatusRequest
    | BeginReadDocumentRequest
    | ReadDocumentBlockRequest
    | ReadUnconfirmedCountRequest
    | ReadShiftParamsRequest
    | BeginOpenShiftRequest
    | BeginCloseShiftRequest
    | BeginCorrectionRequest
    | CloseReceiptRequest
    | AddOperationRequest
    | OpenDrawerRequest
    | StateReportRequest
)


def encode(request: Request) -> bytes:
    """The frame payload of a request: command code, then its data."""
    return request.command.wire + request.body()


Response = (
    ErrorResponse
    | ReadShortStatusResponse
    | ReadStatusResponse
    | ReadMoneyRegisterResponse
    | ReadOperatingRegisterResponse
    | WriteTableResponse
    | ReadTableResponse
    | PrintXReportResponse
    | PrintZReportResponse
    | CashInResponse
    | CashOutResponse
    | CancelReceiptResponse
    | ContinuePrintResponse
    | OpenShiftResponse
    | ReadDeviceTypeResponse
    | ReadFnStatusResponse
    | ReadFnExpiryResponse
    | FindDocumentResponse
    | WriteTlvResponse
    | ReadExchangeStatusResponse
    | BeginReadDocumentResponse
    | ReadDocumentBlockResponse
    | ReadUnconfirmedCountResponse
    | ReadShiftParamsResponse
    | BeginOpenShiftResponse
    | BeginCloseShiftResponse
    | BeginCorrectionResponse
    | CloseReceiptResponse
    | AddOperationResponse
    | OpenDrawerResponse
    | StateReportResponse
)


_DECODERS: dict[Command, Callable[[Reader], Response]] = {
    Command.READ_SHORT_STATUS: decode_short_status,
    Command.READ_STATUS: decode_status,
    Command.READ_MONEY_REGISTER: decode_money_register,
    Command.READ_OPERATING_REGISTER: decode_operating_register,
    Command.WRITE_TABLE: decode_write_table,
    Command.READ_TABLE: decode_read_table,
    Command.PRINT_X_REPORT: operator_only(PrintXReportResponse),
    Command.PRINT_Z_REPORT: operator_only(PrintZReportResponse),
    Command.CASH_IN: cash_movement(CashInResponse),
    Command.CASH_OUT: cash_movement(CashOutResponse),
    Command.CANCEL_RECEIPT: operator_only(CancelReceiptResponse),
    Command.CONTINUE_PRINT: operator_only(ContinuePrintResponse),
    Command.OPEN_SHIFT: decode_open_shift,
    Command.READ_DEVICE_TYPE: decode_device_type,
    Command.READ_FN_STATUS: decode_fn_status,
    Command.READ_FN_EXPIRY: decode_fn_expiry,
    Command.FIND_DOCUMENT: decode_find_document,
    Command.WRITE_TLV: empty_answer(WriteTlvResponse),
    Command.READ_EXCHANGE_STATUS: decode_exchange_status,
    Command.BEGIN_READ_DOCUMENT: decode_begin_read_document,
    Command.READ_DOCUMENT_BLOCK: decode_document_block,
    Command.READ_UNCONFIRMED_COUNT: decode_unconfirmed_count,
    Command.READ_SHIFT_PARAMS: decode_shift_params,
    Command.BEGIN_OPEN_SHIFT: empty_answer(BeginOpenShiftResponse),
    Command.BEGIN_CLOSE_SHIFT: empty_answer(BeginCloseShiftResponse),
    Command.BEGIN_CORRECTION_RECEIPT: empty_answer(BeginCorrectionResponse),
    Command.CLOSE_RECEIPT: decode_close_receipt,
    Command.ADD_OPERATION: empty_answer(AddOperationResponse),
    Command.OPEN_DRAWER: decode_open_drawer,
    Command.STATE_REPORT: decode_state_report,
}


def decode_response(command: Command, payload: bytes) -> Response:
    """Decode the answer to ``command`` from a frame payload (code, error byte, data).

    Raises:
        UnexpectedResponse: the payload answers another command.
        MalformedPayload: the payload is too short, too long or its values make no sense.
    """
    wire = command.wire
    if payload[: len(wire)] != wire:
        got = payload[: len(wire)].hex(" ") or "nothing"
        raise UnexpectedResponse(command, f"answer carries code {got}")
    if len(payload) <= len(wire):
        raise MalformedPayload(command, "no error byte")
    code = payload[len(wire)]
    if code:
        return ErrorResponse(command=command, code=interpret_error(code))
    return _DECODERS[command](Reader(command, payload[len(wire) + 1 :]))
