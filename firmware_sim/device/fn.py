"""FN commands: status, documents and their read-back.

FF01, FF03, FF0A find, FF0C tags, FF38 calculation-state report, FF39, FF3A/FF3B
read of a document as TLV, FF3F unconfirmed count.
"""

from __future__ import annotations

from dataclasses import replace

from firmware_sim.commands import (
    ErrorCode,
    Refusal,
    RequestReader,
    fn_date,
    fn_datetime,
    le,
    parse_tlv,
)
from firmware_sim.device.core import FN_LIFE_PHASE_WORKING, OFD_TIMEOUT, DeviceCore, _PendingShift
from firmware_sim.fn_documents import document_tlvs, find_answer, read_chunks
from firmware_sim.fn_tags import MAX_TLV_BYTES, apply_writes, decode_writes
from firmware_sim.state import DocType, FnDocument, OfdBacklog


class FnCommands(DeviceCore):
    """FN status, documents and read-back of :class:`~firmware_sim.device.Device`."""

    def _first_unsent(self) -> FnDocument | None:
        index = self._ofd_acked_fd  # FDs are 1, 2, 3, ...: FD n sits at index n - 1
        return self._documents[index] if index < len(self._documents) else None

    def _fn_status(self, body: bytes) -> bytes:
        """FF01 (§2.9): phase, current document, shift, warnings, clock, serial, last FD."""
        self._fn_password(body)
        clock = self._clock()
        if self._receipt is not None:
            current = 0x14 if self._receipt.is_correction else 0x04
            has_data = int(bool(self._receipt.items))
        elif self._pending_shift is _PendingShift.OPEN:
            current, has_data = 0x02, 0
        elif self._pending_shift is _PendingShift.CLOSE:
            current, has_data = 0x08, 0
        else:
            current, has_data = 0x00, 0
        days_left = (self._config.fn_valid_until - clock.date()).days
        warnings = (0x01 if days_left <= 3 else 0) | (0x02 if days_left <= 30 else 0)
        first_unsent = self._first_unsent()
        if first_unsent is not None and clock - first_unsent.issued_at > OFD_TIMEOUT:
            warnings |= 0x08
        return (
            bytes([FN_LIFE_PHASE_WORKING, current, has_data, int(self._is_shift_open), warnings])
            + fn_datetime(clock)
            + self._config.fn_serial.encode("ascii")
            + le(self._last_fd(), 4)
        )

    def _fn_expiry(self, body: bytes) -> bytes:
        """FF03: YY MM DD + re-registrations left and done."""
        self._fn_password(body)
        return fn_date(self._config.fn_valid_until) + bytes([11, 1])

    def _fn_find_document(self, body: bytes) -> bytes:
        """FF0A: type, OFD ticket, date-time, FD, FP, then op type + amount or shift no."""
        reader = RequestReader(body, error=ErrorCode.FN_BAD_PARAMETERS)
        password = reader.uint(4)
        fd = reader.uint(4)
        reader.end()
        self._operator(password, sysadmin=True)
        if not 1 <= fd <= len(self._documents):
            raise Refusal(ErrorCode.FN_NO_DATA, f"no FD {fd}")
        return find_answer(self._documents[fd - 1], is_acked=fd <= self._ofd_acked_fd)

    def _fn_write_tlv(self, body: bytes) -> bytes:
        """FF0C: tags (1008, 1021, 1203, 1084, ...) for the open receipt or begun shift doc."""
        reader = RequestReader(body, error=ErrorCode.FN_BAD_PARAMETERS)
        password = reader.uint(4)
        data = reader.rest()
        if len(data) > MAX_TLV_BYTES:
            raise Refusal(ErrorCode.FN_TLV_TOO_BIG, f"{len(data)} bytes of TLV")
        items = parse_tlv(data, error=ErrorCode.FN_BAD_PARAMETERS)
        self._operator(password, sysadmin=True)
        writes = decode_writes(items)
        if self._receipt is not None:
            self._receipt = replace(self._receipt, tags=apply_writes(self._receipt.tags, writes))
        elif self._pending_shift is not None:
            self._pending_tags = apply_writes(self._pending_tags, writes)
        else:
            raise Refusal(ErrorCode.FN_BAD_STATE, "no document open for tags")
        return b""

    def _fn_exchange_status(self, body: bytes) -> bytes:
        """FF39: OFD status bits, read state, unsent count, first unsent FD and its time."""
        self._fn_password(body)
        first = self._first_unsent()
        unsent = self._last_fd() - self._ofd_acked_fd
        return (
            bytes([0x02 if unsent else 0x00, 0])
            + le(min(unsent, 0xFFFF), 2)
            + le(first.fd if first else 0, 4)
            + (fn_datetime(first.issued_at) if first else bytes(5))
        )

    def _fn_unconfirmed_count(self, body: bytes) -> bytes:
        """FF3F: FDs without an OFD ticket (u16)."""
        self._fn_password(body)
        return le(min(self._last_fd() - self._ofd_acked_fd, 0xFFFF), 2)

    def _fn_state_report(self, body: bytes) -> bytes:
        """FF38: the calculation-state report, an FD of type 21 recording the OFD backlog.

        Answer: FD(4), FP(4), unsent FDs(4), the first unsent one's date YY MM DD (zeros
        when none). Refused while printing, with a receipt or shift document open, without
        paper, or in a shift past 24 hours (FN 0x16), as the FN refuses any document there.
        """
        self._fn_password(body)
        self._check_not_busy()
        self._check_no_receipt()
        if self._pending_shift is not None:
            raise Refusal(ErrorCode.FN_BAD_STATE, "a shift document is begun")
        clock = self._clock()
        self._check_fn_alive(clock)
        if self._is_shift_open and self._is_expired(clock):
            raise Refusal(ErrorCode.FN_SHIFT_OVER_24H, "shift open for more than 24 hours")
        self._check_paper()
        first = self._first_unsent()
        unsent = self._last_fd() - self._ofd_acked_fd
        doc = self._append(
            FnDocument(
                fd=self._last_fd() + 1,
                type=DocType.CALCULATION_STATE,
                fp=0,
                issued_at=clock,
                shift=self._shift_number,
                backlog=OfdBacklog(
                    count=unsent,
                    first_fd=first.fd if first else 0,
                    first_at=first.issued_at if first else None,
                ),
            )
        )
        self._bump(152)
        self._start_printing()
        return (
            le(doc.fd, 4)
            + le(doc.fp, 4)
            + le(unsent, 4)
            + (fn_date(first.issued_at.date()) if first else bytes(3))
        )

    def _check_can_read(self) -> None:
        if self._print_interrupted:
            raise Refusal(ErrorCode.NOT_IN_THIS_MODE, "a print job waits for paper or 0xB0")

    def _fn_read_document(self, body: bytes) -> bytes:
        """FF3A: choose an FD to read with FF3B -> its type (2) and TLV length (2)."""
        reader = RequestReader(body, error=ErrorCode.FN_BAD_PARAMETERS)
        password = reader.uint(4)
        fd = reader.uint(4)
        reader.end()
        self._operator(password, sysadmin=True)
        self._check_can_read()
        if not 1 <= fd <= len(self._documents):
            raise Refusal(ErrorCode.FN_NO_DATA, f"no FD {fd}")
        doc = self._documents[fd - 1]
        tlvs = document_tlvs(doc, fn_serial=self._config.fn_serial)
        self._reading = read_chunks(tlvs)
        length = sum(len(item) for item in tlvs)
        return le(doc.type.fn_code, 2) + le(min(length, 0xFFFF), 2)

    def _fn_read_tlv(self, body: bytes) -> bytes:
        """FF3B: the next TLV of the document FF3A chose; FN 0x08 once all were read."""
        self._fn_password(body)
        self._check_can_read()
        if not self._reading:
            raise Refusal(ErrorCode.FN_NO_DATA, "no document being read, or read to the end")
        return self._reading.pop(0)
