"""The names of KkmServer's commands: those the agent answers, and the rest it refuses.

A name in neither set is not a KkmServer command at all (docs/kkmserver.md, "Commands").
"""

from __future__ import annotations

from typing import Final

__all__ = ["COMMANDS", "KNOWN_ELSEWHERE"]

COMMANDS: Final = frozenset(
    {
        "RegisterCheck",
        "OpenShift",
        "CloseShift",
        "ZReport",
        "XReport",
        "OfdReport",
        "DepositingCash",
        "PaymentCash",
        "GetDataKKT",
        "GetDataCheck",
        "List",
        "GetRezult",
        "GetLineLength",
        "OpenCashDrawer",
        "Version",
    }
)
"""Commands the agent answers (some with a clear refusal, see docs/kkmserver.md)."""
KNOWN_ELSEWHERE: Final = frozenset(
    {
        "InitDevice",
        "RequestCash",
        "ValidationMarkingCode",
        "KkmRegOfd",
        "GetCounters",
        "PrintDocument",
        "PrintLineLength",
        "PrintOpenCashDrawer",
        "OutputOnCustomerDisplay",
        "ClearCustomerDisplay",
        "OptionsCustomerDisplay",
        "GetBarcode",
        "OpenBarcode",
        "CloseBarcode",
        "Calibrate",
        "GetWeight",
        "PayByPaymentCard",
        "ReturnPaymentByPaymentCard",
        "CancelPaymentByPaymentCard",
        "AuthorisationByPaymentCard",
        "AuthConfirmationByPaymentCard",
        "CancelAuthorisationByPaymentCard",
        "EmergencyReversal",
        "Settlement",
        "TerminalReport",
        "TransactionDetails",
        "PrintSlipOnTerminal",
        "OnOffUnut",
        "GetServerData",
        "GetGoodCodeData",
        "GetSettingsServer",
        "SetSettingsServer",
        "GetDeviceParamets",
        "GetDeviceSettings",
        "SetDeviceSettings",
        "GetTypesDevice",
        "GetDataLicense",
        "GetLicense",
        "FreeLicense",
        "TrackingStatusCommand",
        "CancelCommand",
        "DoAdditionalAction",
        "AddInGetSettings",
        "Exit",
    }
)
"""KkmServer's other commands: answered Status 2 "not supported" (HTTP 200), not 501."""
