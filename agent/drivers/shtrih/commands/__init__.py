"""Shtrih-M command codec: typed requests and answers <-> frame payloads, pure.

Spec: "Протокол работы ККТ с ФН v.1.17" (spec117) and the notes in
docs/shtrih-wire-notes.md §1.5 (encodings) and §2 (commands); FF3A/FF3B (reading a
document back as TLV) and tag 1084 (the mark) in docs/fn-documents.md. A payload is the
LEN bytes of a frame: the command code (1 byte, or ``FF xx``) and its data. Integers are
little-endian; money is in kopecks; the register's dates and times are its local wall time,
decoded here as naive datetimes (the driver attaches the register's time zone).

Every answer starts with the command code and an error byte. A non-zero error byte is the
short form ``CMD ERR`` (LEN 2, or 3 for ``FF xx``) and decodes to :class:`ErrorResponse`.
Error codes below 0x20 carry the FN meaning (:class:`FnErrorCode`): the codec serves FN-era
registers only, where that range belongs to the FN on every command (JavaPOS
``getDriverErrorText``; docs/shtrih-wire-notes.md §2.11). Other codes are :class:`DeviceErrorCode`;
a code neither enum knows stays a plain ``int``.

The command codes, field packing and the answer reader live in
:mod:`agent.drivers.shtrih.wire` (:class:`Command` is re-exported here); the table commands
0x1E/0x1F in :mod:`agent.drivers.shtrih.tables` (their requests and answers too).

The commands live by family, each request next to its answer and decoder: :mod:`.status`
(0x10, 0x11, 0xFC, 0xB0), :mod:`.registers` (0x1A, 0x1B), :mod:`.shift` (FF41/0xE0,
FF42/0x41, 0x40, FF40), :mod:`.receipt` (FF46, FF45, 0x88), :mod:`.tlv` (FF0C and the TLV
items), :mod:`.correction` (FF35), :mod:`.cash` (0x50, 0x51), :mod:`.drawer` (0x28),
:mod:`.fn` (FF01, FF03, FF39, FF3F), :mod:`.state_report` (FF38) and :mod:`.archive` (FF0A,
FF3A, FF3B); the error bytes in :mod:`.error_codes`, the shared field layouts in
:mod:`._layout`, and :func:`encode` and :func:`decode_response` in :mod:`.codec`. This module
only re-exports their public names.
"""

from __future__ import annotations

from agent.drivers.shtrih.commands.archive import (
    BeginReadDocumentRequest,
    BeginReadDocumentResponse,
    FindDocumentRequest,
    FindDocumentResponse,
    FnDocumentType,
    ReadDocumentBlockRequest,
    ReadDocumentBlockResponse,
)
from agent.drivers.shtrih.commands.cash import (
    CashInRequest,
    CashInResponse,
    CashOutRequest,
    CashOutResponse,
)
from agent.drivers.shtrih.commands.codec import Request, Response, decode_response, encode
from agent.drivers.shtrih.commands.correction import BeginCorrectionRequest, BeginCorrectionResponse
from agent.drivers.shtrih.commands.drawer import OpenDrawerRequest, OpenDrawerResponse
from agent.drivers.shtrih.commands.error_codes import (
    FN_ERROR_LIMIT,
    DeviceErrorCode,
    ErrorCode,
    ErrorResponse,
    FnErrorCode,
    interpret_error,
)
from agent.drivers.shtrih.commands.fn import (
    FnDocument,
    FnLifePhase,
    FnWarningFlags,
    OfdExchangeFlags,
    ReadExchangeStatusRequest,
    ReadExchangeStatusResponse,
    ReadFnExpiryRequest,
    ReadFnExpiryResponse,
    ReadFnStatusRequest,
    ReadFnStatusResponse,
    ReadUnconfirmedCountRequest,
    ReadUnconfirmedCountResponse,
)
from agent.drivers.shtrih.commands.receipt import (
    FN_PAYMENT_TYPES,
    FN_TAX_SUMS,
    MAX_FF45_TEXT_BYTES,
    MAX_FF46_NAME_BYTES,
    NOT_GIVEN,
    AddOperationRequest,
    AddOperationResponse,
    CancelReceiptRequest,
    CancelReceiptResponse,
    CloseReceiptRequest,
    CloseReceiptResponse,
    OperationType,
)
from agent.drivers.shtrih.commands.registers import (
    ReadMoneyRegisterRequest,
    ReadMoneyRegisterResponse,
    ReadOperatingRegisterRequest,
    ReadOperatingRegisterResponse,
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
)
from agent.drivers.shtrih.commands.state_report import StateReportRequest, StateReportResponse
from agent.drivers.shtrih.commands.status import (
    ContinuePrintRequest,
    ContinuePrintResponse,
    Mode,
    ReadDeviceTypeRequest,
    ReadDeviceTypeResponse,
    ReadShortStatusRequest,
    ReadShortStatusResponse,
    ReadStatusRequest,
    ReadStatusResponse,
    StatusFlags,
    Submode,
)
from agent.drivers.shtrih.commands.tlv import (
    MAX_TLV_BYTES,
    Tag,
    TlvItem,
    WriteTlvRequest,
    WriteTlvResponse,
    decode_tlv,
    encode_tlv,
    tlv_stlv,
    tlv_string,
)
from agent.drivers.shtrih.tables import (
    ReadTableRequest,
    ReadTableResponse,
    WriteTableRequest,
    WriteTableResponse,
)
from agent.drivers.shtrih.wire import Command

__all__ = [
    "FN_ERROR_LIMIT",
    "FN_PAYMENT_TYPES",
    "FN_TAX_SUMS",
    "MAX_FF45_TEXT_BYTES",
    "MAX_FF46_NAME_BYTES",
    "MAX_TLV_BYTES",
    "NOT_GIVEN",
    "AddOperationRequest",
    "AddOperationResponse",
    "BeginCloseShiftRequest",
    "BeginCloseShiftResponse",
    "BeginCorrectionRequest",
    "BeginCorrectionResponse",
    "BeginOpenShiftRequest",
    "BeginOpenShiftResponse",
    "BeginReadDocumentRequest",
    "BeginReadDocumentResponse",
    "CancelReceiptRequest",
    "CancelReceiptResponse",
    "CashInRequest",
    "CashInResponse",
    "CashOutRequest",
    "CashOutResponse",
    "CloseReceiptRequest",
    "CloseReceiptResponse",
    "Command",
    "ContinuePrintRequest",
    "ContinuePrintResponse",
    "DeviceErrorCode",
    "ErrorCode",
    "ErrorResponse",
    "FindDocumentRequest",
    "FindDocumentResponse",
    "FnDocument",
    "FnDocumentType",
    "FnErrorCode",
    "FnLifePhase",
    "FnWarningFlags",
    "Mode",
    "OfdExchangeFlags",
    "OpenDrawerRequest",
    "OpenDrawerResponse",
    "OpenShiftRequest",
    "OpenShiftResponse",
    "OperationType",
    "PrintXReportRequest",
    "PrintXReportResponse",
    "PrintZReportRequest",
    "PrintZReportResponse",
    "ReadDeviceTypeRequest",
    "ReadDeviceTypeResponse",
    "ReadDocumentBlockRequest",
    "ReadDocumentBlockResponse",
    "ReadExchangeStatusRequest",
    "ReadExchangeStatusResponse",
    "ReadFnExpiryRequest",
    "ReadFnExpiryResponse",
    "ReadFnStatusRequest",
    "ReadFnStatusResponse",
    "ReadMoneyRegisterRequest",
    "ReadMoneyRegisterResponse",
    "ReadOperatingRegisterRequest",
    "ReadOperatingRegisterResponse",
    "ReadShiftParamsRequest",
    "ReadShiftParamsResponse",
    "ReadShortStatusRequest",
    "ReadShortStatusResponse",
    "ReadStatusRequest",
    "ReadStatusResponse",
    "ReadTableRequest",
    "ReadTableResponse",
    "ReadUnconfirmedCountRequest",
    "ReadUnconfirmedCountResponse",
    "Request",
    "Response",
    "StateReportRequest",
    "StateReportResponse",
    "StatusFlags",
    "Submode",
    "Tag",
    "TlvItem",
    "WriteTableRequest",
    "WriteTableResponse",
    "WriteTlvRequest",
    "WriteTlvResponse",
    "decode_response",
    "decode_tlv",
    "encode",
    "encode_tlv",
    "interpret_error",
    "tlv_stlv",
    "tlv_string",
]
