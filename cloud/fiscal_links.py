"""The receipt-check QR string and the OFD link of a signed document.

The QR string is ``t=YYYYMMDDTHHMM&s=RUBLES.KK&fn=…&i=…&fp=…&n=1|2``
(docs/fiscal-law-notes.md §2): ``t`` the register's own wall-clock time of the document,
``n`` the calculation sign, 1 sale and 2 refund. The OFD link is the operator's check page,
built from a configured template such as
``https://check.ofd.example/rec?fn={fn}&i={fd}&fp={fp}&s={sum}&t={time}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter
from typing import ClassVar, Final

from cloud.reconcile_model import Fiscal, Kind, Kopecks

__all__ = [
    "OFD_TEMPLATE_FIELDS",
    "OfdTemplateInvalid",
    "check_ofd_template",
    "format_kopecks",
    "ofd_link",
    "qr_string",
]

OFD_TEMPLATE_FIELDS: Final = frozenset({"fn", "fd", "fp", "sum", "time", "n"})
"""What an OFD link template may name: ``sum`` is ``"150.00"``, ``time`` as the QR's ``t``,
``n`` the calculation sign (1 sale, 2 refund)."""

_SIGN: Final[Mapping[Kind, int]] = {Kind.SALE: 1, Kind.REFUND: 2}


class OfdTemplateInvalid(ValueError):
    """The configured OFD link template names a field it cannot have, or is malformed."""

    public_code: ClassVar[str] = "ofd_template_invalid"

    def __init__(self, template: str, reason: str) -> None:
        self.template = template
        self.reason = reason
        super().__init__(f"OFD link template {template!r}: {reason}")


def format_kopecks(amount: int) -> str:
    """Kopecks as contract money: ``32990`` -> ``"329.90"``, ``-150`` -> ``"-1.50"``."""
    sign = "-" if amount < 0 else ""
    rubles, kopecks = divmod(abs(amount), 100)
    return f"{sign}{rubles}.{kopecks:02d}"


def check_ofd_template(template: str) -> str:
    """Return ``template`` when it names only :data:`OFD_TEMPLATE_FIELDS`; else raise."""
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise OfdTemplateInvalid(template, str(exc)) from exc
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in OFD_TEMPLATE_FIELDS:
            known = ", ".join(sorted(OFD_TEMPLATE_FIELDS))
            raise OfdTemplateInvalid(template, f"unknown field {{{name}}}; known: {known}")
        if spec or conversion:
            raise OfdTemplateInvalid(template, f"field {{{name}}} takes no format or conversion")
    return template


def _stamp(fiscal: Fiscal) -> str:
    return fiscal.issued_at.strftime("%Y%m%dT%H%M")


def qr_string(fiscal: Fiscal, kind: Kind | None) -> str | None:
    """The QR string of a document; None where it has no FPD or no known sign."""
    sign = fiscal.kind or kind
    if fiscal.fp is None or sign is None:
        return None
    return (
        f"t={_stamp(fiscal)}&s={format_kopecks(fiscal.total)}&fn={fiscal.fn}"
        f"&i={fiscal.fd}&fp={fiscal.fp}&n={_SIGN[sign]}"
    )


def ofd_link(template: str | None, fiscal: Fiscal, kind: Kind | None) -> str | None:
    """The OFD check link from a template checked by :func:`check_ofd_template`.

    None without a template, or when the template needs a value the document lacks (the FPD
    of a document read back from the tape without it, the sign of an unknown kind).
    """
    if template is None:
        return None
    sign = fiscal.kind or kind
    values: dict[str, object] = {
        "fn": fiscal.fn,
        "fd": fiscal.fd,
        "sum": format_kopecks(Kopecks(fiscal.total)),
        "time": _stamp(fiscal),
    }
    if fiscal.fp is not None:
        values["fp"] = fiscal.fp
    if sign is not None:
        values["n"] = _SIGN[sign]
    try:
        return template.format_map(values)
    except KeyError:
        return None
