"""Typed driver errors, each with a disposition that tells the worker what to do.

Each one says what went wrong and, through ``disposition``, what the worker does about it:
retry with backoff, wait and report, or reject the request for good.

The worker decides on ``disposition`` only, never on message text (docs/style.md §4).
"""

from __future__ import annotations

from enum import Enum
from typing import ClassVar

__all__ = [
    "AnswerTimeout",
    "BadChecksum",
    "CommandNotSupported",
    "CorrectionNotSupported",
    "DeviceError",
    "Disposition",
    "DocumentNotFound",
    "DriverError",
    "EmptyShiftRefused",
    "FnFailure",
    "InvalidArgument",
    "LinkDown",
    "LinkError",
    "MalformedPayload",
    "NotEnoughCash",
    "PaperOut",
    "PrinterBusy",
    "ProtocolError",
    "ReceiptAlreadyOpen",
    "ReceiptNotOpen",
    "ShiftAlreadyOpen",
    "ShiftExpired",
    "ShiftNotOpen",
    "TaxSystemMissing",
    "UnexpectedResponse",
    "VatRateNotSupported",
    "WrongPassword",
]


class Disposition(Enum):
    """What to do about an error."""

    RETRY = "retry"  # transient: back off with jitter and try again, up to a cap
    WAIT = "wait"  # a condition outside our control (paper, link, FN): report it and wait
    REJECT = "reject"  # the request itself is bad: never retried, reported to the sender


class DriverError(Exception):
    """Base of everything a driver raises."""

    disposition: ClassVar[Disposition] = Disposition.RETRY
    public_code: str = "driver_error"
    """The stable code in ReceiptResult.error.code and health (docs/errors.md)."""


class LinkError(DriverError):
    """The register cannot be reached or does not answer."""

    disposition = Disposition.WAIT
    public_code = "link_down"


class LinkDown(LinkError):
    """The port or socket could not be opened, or closed under us."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"register link {url} is down: {reason}; check the cable and power")


class AnswerTimeout(LinkError):
    """No answer to a command within its deadline, after every retransmit."""

    def __init__(self, command: int, timeout_s: float) -> None:
        self.command = command
        self.timeout_s = timeout_s
        super().__init__(
            f"no answer to command 0x{command:02X} within {timeout_s:g} s; "
            "the register may be off or busy"
        )


class ProtocolError(DriverError):
    """The bytes on the wire made no sense."""

    disposition = Disposition.RETRY
    public_code = "protocol_error"


class BadChecksum(ProtocolError):
    """Answers kept failing their LRC after every NAK/ENQ resend."""

    public_code = "bad_checksum"

    def __init__(self, command: int, attempts: int) -> None:
        self.command = command
        self.attempts = attempts
        super().__init__(
            f"answer to 0x{command:02X} failed its LRC {attempts} times; line noise or a bad cable"
        )


class UnexpectedResponse(ProtocolError):
    """The answer was for another command, or a byte came that the handshake does not allow."""

    public_code = "unexpected_response"

    def __init__(self, command: int, detail: str) -> None:
        self.command = command
        self.detail = detail
        super().__init__(f"unexpected answer to 0x{command:02X}: {detail}")


class MalformedPayload(ProtocolError):
    """The LRC was good but the content of the answer cannot be decoded."""

    public_code = "malformed_payload"

    def __init__(self, command: int, detail: str) -> None:
        self.command = command
        self.detail = detail
        super().__init__(f"malformed answer to 0x{command:02X}: {detail}")


class DeviceError(DriverError):
    """The register answered with a non-zero error code.

    An unknown code rejects the request: the register refused it, so sending it again as it
    is would be refused again.
    """

    disposition = Disposition.REJECT
    public_code = "register_error"

    def __init__(self, code: int, command: int, message: str = "") -> None:
        self.code = code
        self.command = command
        self.device_message = message
        if type(self) is DeviceError:
            # A refusal the agent has no class for keeps the register's own number.
            self.public_code = f"register_error_0x{code:02x}"
        text = f"register refused 0x{command:02X} with error 0x{code:02X}"
        super().__init__(f"{text}: {message}" if message else text)


class PaperOut(DeviceError):
    """No receipt paper, or printing stopped for paper; load paper and it goes on."""

    disposition = Disposition.WAIT
    public_code = "paper_out"


class PrinterBusy(DeviceError):
    """The register is still printing the previous document (0x50)."""

    disposition = Disposition.RETRY
    public_code = "printer_busy"


class ShiftExpired(DeviceError):
    """The shift is older than 24 hours (0x4E, FN 0x16): only a Z report is possible."""

    disposition = Disposition.RETRY
    public_code = "shift_expired"


class ShiftNotOpen(DeviceError):
    """The operation needs an open shift (0x3D)."""

    disposition = Disposition.RETRY
    public_code = "shift_not_open"


class EmptyShiftRefused(DeviceError):
    """The register will not close a shift that holds no sales (a SmartOne cashbox: code 26).

    The shift guard then leaves the shift open until a receipt is in it rather than hold that
    receipt behind a Z that cannot come, and never prints a dummy sale; health warns of the
    shift left open (``shift_overdue``).
    """

    disposition = Disposition.WAIT
    public_code = "shift_empty"


class ShiftAlreadyOpen(DeviceError):
    """Open shift was asked while a shift is open; the service treats it as success."""

    disposition = Disposition.RETRY
    public_code = "shift_already_open"


class ReceiptAlreadyOpen(DeviceError):
    """A receipt is open, so the command is impossible (0x4A); cancel it first."""

    disposition = Disposition.RETRY
    public_code = "receipt_already_open"


class ReceiptNotOpen(DeviceError):
    """The command needs an open receipt (0x55)."""

    disposition = Disposition.RETRY
    public_code = "receipt_not_open"


class WrongPassword(DeviceError):
    """The operator password was refused (0x4F): fix the configuration."""

    disposition = Disposition.WAIT
    public_code = "wrong_password"


class InvalidArgument(DeviceError):
    """A field is out of range or the sums do not add up (0x33, 0x45, 0x4D, 0x8E, ...)."""

    disposition = Disposition.REJECT
    public_code = "invalid_argument"


class NotEnoughCash(DeviceError):
    """Cash out above what the drawer holds (0x46)."""

    disposition = Disposition.REJECT
    public_code = "not_enough_cash"


class CommandNotSupported(DeviceError):
    """The register does not know the command, or not in this mode (0x37, 0x72, 0x73)."""

    disposition = Disposition.REJECT
    public_code = "not_supported"


class FnFailure(DeviceError):
    """The fiscal storage refuses to work (expired, full, 30 days without the OFD, broken).

    Needs a person: support must replace the FN or restore the OFD link.
    """

    disposition = Disposition.WAIT
    public_code = "fn_failure"


class DocumentNotFound(DeviceError):
    """The FN archive has no document with this number (Shtrih: FF0A answered FN 0x08)."""

    disposition = Disposition.REJECT
    public_code = "document_not_found"

    def __init__(self, code: int, command: int, fd: int) -> None:
        self.fd = fd
        super().__init__(code, command, f"no fiscal document {fd} in the FN")


class CorrectionNotSupported(DriverError):
    """The driver cannot issue a correction receipt; nothing was sent to the register.

    A receipt printed late must be a correction receipt (docs/corrections.md). A driver that
    has no command for one refuses before it sends anything; the worker proves nothing was
    issued and fails the row with this code for a person: issue the correction by hand and
    settle the row, or set ``[receipts] late = "never"`` and send the request again.
    """

    disposition = Disposition.REJECT
    public_code = "correction_unsupported"

    def __init__(self, driver: str) -> None:
        self.driver = driver
        super().__init__(
            f"the {driver} driver cannot issue a correction receipt (FD type 31) for a late"
            ' payment; issue it by hand, or set [receipts] late = "never" and send the'
            " request again"
        )


class TaxSystemMissing(DriverError):
    """The receipt carries no tax system (tag 1055); nothing was sent to the register.

    A receipt taken where the country has no tax system (``country = "AZ"``) has none; a
    Russian register cannot print it without one (docs/country-profiles.md).
    """

    disposition = Disposition.REJECT
    public_code = "tax_system_missing"

    def __init__(self, driver: str) -> None:
        self.driver = driver
        super().__init__(
            f"the receipt has no tax system (tag 1055): it was taken for a country without"
            f" one, and a {driver} register cannot print it; send it again to an agent"
            " configured for Russia"
        )


class VatRateNotSupported(DriverError):
    """The receipt carries a VAT rate this driver has no tax row or type for; nothing was sent.

    The intake refuses a rate the configured country has not (``vat_rate_not_in_country``),
    so this is reached only past it: a receipt stored under another ``country``, or a rate
    left out of ``[register] tax_rate_codes``. A Russian register never prints Azerbaijan's
    ``vat18`` (docs/country-profiles.md).
    """

    disposition = Disposition.REJECT
    public_code = "vat_rate_unsupported"

    def __init__(self, driver: str, codes: tuple[str, ...]) -> None:
        self.driver = driver
        self.codes = codes
        super().__init__(
            f"the {driver} driver has no tax row for {', '.join(codes)}: a {driver} register"
            " cannot print this VAT rate; send the receipt with a rate of the register's"
            " country, or map the rate in [register] tax_rate_codes"
        )
