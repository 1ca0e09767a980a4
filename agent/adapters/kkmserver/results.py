"""The agent's results → KkmServer replies, as pure functions (docs/kkmserver.md).

An outbox row becomes a ``RegisterCheck`` or cash reply (Status from its state), a shift
report an ``OpenShift``/``CloseShift`` reply, the agent's health ``GetDataKKT``'s ``Info`` and
``List``'s unit. ``GetRezult`` wraps a stored reply in ``Rezult``.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from agent.adapters.kkmserver.envelope import (
    EMPTY_ID,
    NOT_FOUND,
    QUEUE_EXPIRED,
    UNDEFINED,
    Status,
    envelope,
)
from agent.contract import kopecks_to_money
from agent.intake.receipt_mapping import qr_string
from agent.outbox.codes import QUEUE_EXPIRED as WITHDRAWN
from agent.outbox.states import RowKind, RowState

if TYPE_CHECKING:
    from agent.contract import Health
    from agent.fiscal.reports import ShiftReportData
    from agent.outbox.store import OutboxRow

__all__ = [
    "NO_DATE",
    "UnitFacts",
    "get_rezult",
    "kkt_info",
    "list_unit",
    "row_reply",
    "shift_reply",
]

NO_DATE: Final = "0001-01-01T00:00:00"
SESSION_CLOSED, SESSION_OPEN, SESSION_EXPIRED = 1, 2, 3
LINE_LENGTH: Final = 48
"""Characters per line of the Shtrih-M 80 mm print head in its default font."""
_STATE_STATUS: Final = {
    RowState.PENDING: Status.NOT_RUN,
    RowState.PRINTING: Status.RUN,
    RowState.UNKNOWN: Status.RUN,
    RowState.DONE: Status.OK,
    RowState.REJECTED: Status.ERROR,
    RowState.FAILED: Status.ERROR,
}


def _date(value: datetime | None, zone: tzinfo | None = None) -> str:
    """KkmServer's dates: ``yyyy-MM-ddTHH:mm:ss`` on the register's clock, no zone."""
    if value is None:
        return NO_DATE
    if zone is not None and value.tzinfo is not None:
        value = value.astimezone(zone)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _money(kopecks: int) -> Decimal:
    return kopecks_to_money(kopecks)


def row_reply(
    row: OutboxRow, *, command: str, id_command: str, warning: str = ""
) -> dict[str, Any]:
    """A receipt or cash row as KkmServer's reply to ``RegisterCheck`` / ``*Cash``."""
    status = _STATE_STATUS[row.state]
    fields: dict[str, Any] = {}
    error = message = ""
    if row.state is RowState.DONE and row.fiscal is not None:
        if row.kind is RowKind.RECEIPT and row.receipt is not None:
            fields.update(
                CheckNumber=row.fiscal.fd,
                SessionNumber=row.fiscal.shift,
                SessionCheckNumber=row.fiscal.number,
                QRCode=qr_string(row.fiscal, row.receipt.kind),
            )
    elif status is Status.ERROR:
        error = _error_text(row)
    elif row.state is RowState.UNKNOWN:
        message = (
            "Агент не может установить, напечатан ли чек: нужна проверка человеком (health,"
            " GET /api/v1/outbox?state=unknown). Не отправляйте чек повторно с новым IdCommand."
        )
    elif row.error_message:
        message = f"Ожидание ККТ: {row.error_message}"
    if row.kind is RowKind.RECEIPT and row.receipt is not None:
        payments = row.receipt.payments
        fields.update(
            Cash=_money(payments.cash),
            ElectronicPayment=_money(payments.card),
            AdvancePayment=_money(payments.prepaid),
            Credit=Decimal(0),
            CashProvision=Decimal(0),
        )
    return envelope(
        command,
        status=status,
        id_command=id_command,
        error=error,
        warning=warning,
        message=message,
        **fields,
    )


def _error_text(row: OutboxRow) -> str:
    if row.error_code == WITHDRAWN:  # withdrawn after the queue limit (docs/errors.md)
        return QUEUE_EXPIRED
    what = (
        "Ошибка регистрации чека" if row.kind is RowKind.RECEIPT else "Ошибка операции с наличными"
    )
    return f"{what} ( {row.error_code or 'error'} : {row.error_message or ''} )"


def shift_reply(
    command: str,
    *,
    id_command: str,
    report: ShiftReportData | None,
    error: str = "",
    info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``OpenShift``/``CloseShift``/``ZReport``/``XReport`` as KkmServer answers them.

    ``report`` is None for a command answered from its stored outcome (numbers not kept).
    """
    fields: dict[str, Any] = {}
    if report is not None and not error:
        fields["SessionNumber"] = report.shift
        if command == "OpenShift" and report.first_fd:
            fields["CheckNumber"] = report.first_fd
        elif command in ("CloseShift", "ZReport"):
            fields["CheckNumber"] = report.last_fd
    if info is not None and command == "OpenShift":
        fields["Info"] = info
    return envelope(
        command,
        status=Status.ERROR if error else Status.OK,
        id_command=id_command,
        error=error,
        **fields,
    )


def session_state(health: Health) -> int:
    """``Info.SessionState``: 1 closed, 2 open, 3 open and past 24 hours."""
    register = health.register
    if register is not None and register.state == "shift_expired":
        return SESSION_EXPIRED
    if health.shift is not None and health.shift.open:
        return SESSION_OPEN
    return SESSION_CLOSED


class UnitFacts:
    """What the agent knows of its register besides health: names, tax systems, FFD."""

    def __init__(
        self,
        *,
        unit_name: str,
        tax_variants: str,
        cash_in_drawer: Decimal | None,
        zone: tzinfo | None,
        version: str,
    ) -> None:
        self.unit_name = unit_name
        self.tax_variants = tax_variants
        self.cash_in_drawer = cash_in_drawer
        self.zone = zone
        self.version = version


def kkt_info(health: Health, facts: UnitFacts) -> dict[str, Any]:
    """``GetDataKKT``'s ``Info``: every field, also when false, 0 or empty (strict CRMs)."""
    register = health.register
    fn = health.fn
    is_up = register is not None and register.link == "up"
    info: dict[str, Any] = {
        "SessionState": session_state(health),
        "BalanceCash": facts.cash_in_drawer if facts.cash_in_drawer is not None else Decimal(-1),
        "DateTimeKKT": _date(register.clock if register else None, facts.zone),
        "OnOff": True,
        "Active": is_up,
        "PaperOver": register is not None and register.state == "paper_out",
        "FN_IsFiscal": bool(fn and fn.serial),
        "FN_MemOverflowl": False,
        "FN_DateStart": NO_DATE,
        "FN_DateEnd": (
            f"{fn.valid_until.isoformat()}T00:00:00" if fn and fn.valid_until else NO_DATE
        ),
        "OFD_Error": "",
        "OFD_NumErrorDoc": (fn.unsent_docs or 0) if fn else 0,
        "OFD_DateErrorDoc": _date(fn.oldest_unsent_at if fn else None, facts.zone),
        "InnOrganization": "",
        "NameOrganization": "",
        "AddressSettle": "",
        "PlaceSettle": "",
        "SenderEmail": "",
        "TaxVariant": facts.tax_variants,
        "KktNumber": (register.serial or "") if register else "",
        "FnNumber": (fn.serial or "") if fn else "",
        "RegNumber": "",
        "UrlServerOfd": "",
        "PortServerOfd": "",
        "NameOFD": "",
        "UrlOfd": "",
        "InnOfd": "",
        "EncryptionMode": False,
        "OfflineMode": False,
        "AutomaticMode": False,
        "InternetMode": False,
        "BSOMode": False,
        "ServiceMode": True,
        "PrinterAutomatic": False,
        "SaleExcisableGoods": False,
        "SignOfGambling": False,
        "SignOfLottery": False,
        "SaleMarking": False,
        "SignPawnshop": False,
        "SignAssurance": False,
        "AutomaticNumber": "",
        "SignOfAgent": "",
        "FFDVersion": "1.2",
        "FFDVersionFN": "1.2",
        "FFDVersionKKT": "1.2",
        "Firmware_Version": facts.version,
        "Firmware_Status": 0 if is_up else -1,
        "LicenseExpirationDate": NO_DATE,
    }
    return info


def list_unit(health: Health, facts: UnitFacts) -> dict[str, Any]:
    """``List``'s one fiscal unit: the agent's register, every field emitted."""
    info = kkt_info(health, facts)
    register = health.register
    return {
        "NumDevice": 1,
        "IdDevice": "00000000-0000-0000-0000-000000000001",
        "OnOff": True,
        "Active": info["Active"],
        "TypeDevice": "Фискальный регистратор",
        "IdTypeDevice": "FiscalEdgeShtrih",
        "IP": "<Не определено>",
        "NameDevice": (register.model or "Штрих-М") if register else "Штрих-М",
        "UnitName": facts.unit_name,
        "KktNumber": info["KktNumber"],
        "INN": "",
        "RegNumber": "",
        "FnNumber": info["FnNumber"],
        "InnOfd": "",
        "NameOrganization": "",
        "TaxVariant": facts.tax_variants,
        "AddDate": NO_DATE,
        "OFD_Error": "",
        "OFD_NumErrorDoc": info["OFD_NumErrorDoc"],
        "OFD_DateErrorDoc": info["OFD_DateErrorDoc"],
        "FN_DateEnd": info["FN_DateEnd"],
        "FN_MemOverflowl": False,
        "FN_IsFiscal": info["FN_IsFiscal"],
        "PaperOver": info["PaperOver"],
        "Firmware_Version": facts.version,
        "Port": "",
        "AddressSettle": "",
        "BSOMode": False,
        "ServiceMode": True,
        "FFDVersion": "1.2",
        "FFDVersionFN": "1.2",
        "FFDVersionKKT": "1.2",
        "IsRegisterCheck": True,
    }


def get_rezult(asked_id: str, stored: dict[str, Any] | None) -> dict[str, Any]:
    """``GetRezult``: the stored reply wrapped in ``Rezult``; Status 3 when none; 2 for no id."""
    if not asked_id:
        return envelope("GetRezult", status=Status.ERROR, error=EMPTY_ID, num_device=0)
    if stored is None:
        rezult = {
            "IdCommand": asked_id,
            "Status": int(Status.NOT_FOUND),
            "Command": UNDEFINED,
            "Error": UNDEFINED,
        }
        return envelope(
            "GetRezult", status=Status.NOT_FOUND, error=NOT_FOUND, num_device=0, Rezult=rezult
        )
    return envelope("GetRezult", status=Status.OK, num_device=0, Rezult=stored)
