"""FFD tag numbers and enumerations the simulator writes, reads or checks.

Pure constants, no imports from the rest of the simulator. Facts from docs/fn-documents.md
(tag types, lengths and the 1199 VAT codes).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["MARK_NAME_MAX", "MARK_VALUE_MAX", "RECEIPT_VAT_TAGS", "VAT_RATE_CODES", "Tag"]


class Tag(IntEnum):
    """FFD tags the simulator knows by number."""

    CONTACT = 1008  # buyer phone or e-mail (String <= 64); the value is never kept
    DATE_TIME = 1012  # UnixTime
    TOTAL = 1020  # VLN
    CASHIER = 1021  # String <= 64
    QUANTITY = 1023  # FVLN
    ITEM_NAME = 1030  # String
    CASH = 1031  # VLN
    SHIFT = 1038  # U32
    FD = 1040  # U32
    FN_SERIAL = 1041  # String 16
    RECEIPT_NUMBER = 1042  # U32
    ITEM_AMOUNT = 1043  # VLN
    CALCULATION_SIGN = 1054  # Byte
    TAX_SYSTEM = 1055  # Byte (one bit)
    ITEM = 1059  # STLV
    FP = 1077  # 6 bytes
    UNIT_PRICE = 1079  # VLN
    ELECTRONIC = 1081  # VLN
    USER_REQUISITE = 1084  # STLV: 1085 name, 1086 value
    USER_REQUISITE_NAME = 1085  # String <= 64
    USER_REQUISITE_VALUE = 1086  # String <= 256
    UNSENT_COUNT = 1097  # U32: FDs without an OFD ticket (calculation-state report)
    FIRST_UNSENT_AT = 1098  # UnixTime: the first of them
    VAT_STANDARD = 1102  # VLN: the receipt's VAT at 20 % (and 22 %)
    VAT_10 = 1103  # VLN: VAT at 10 %
    TURNOVER_VAT_0 = 1104  # VLN: the amount settled at 0 %
    TURNOVER_NO_VAT = 1105  # VLN: the amount settled without VAT
    VAT_STANDARD_CALCULATED = 1106  # VLN: VAT at 20/120 (and 22/122)
    VAT_10_110 = 1107  # VLN: VAT at 10/110
    FIRST_UNSENT_FD = 1116  # U32: the first of them
    VAT_RATE = 1199  # Byte
    ITEM_VAT = 1200  # VLN: the VAT of one item line (tax mode 1: the host's sum)
    CORRECTION_TYPE = 1173  # Byte: 0 self-initiated, 1 by the tax authority's order
    CORRECTION_BASIS = 1174  # STLV: 1177 description, 1178 date, 1179 order number
    CORRECTION_BASIS_DATE = 1178  # UnixTime: the date of the settlement being corrected
    CASHIER_INN = 1203  # String 12
    SUBJECT = 1212  # Byte
    PAYMENT_METHOD = 1214  # Byte
    PREPAID = 1215  # VLN
    CREDIT = 1216  # VLN
    PROVISION = 1217  # VLN


MARK_NAME_MAX = 64
"""1085, the user requisite's name: at most 64 characters (cp866, one byte each)."""

MARK_VALUE_MAX = 256
"""1086, the user requisite's value: at most 256 characters."""

VAT_RATE_CODES: dict[str, int] = {
    "vat20": 1,
    "vat10": 2,
    "vat20_120": 3,
    "vat10_110": 4,
    "vat0": 5,
    "none": 6,
    "vat5": 7,
    "vat7": 8,
    "vat5_105": 9,
    "vat7_107": 10,
    "vat22": 11,
    "vat22_122": 12,
}
"""Tag 1199 value of each tax table code (the contract's VAT names)."""

RECEIPT_VAT_TAGS: dict[str, tuple[Tag, bool]] = {
    "vat20": (Tag.VAT_STANDARD, False),
    "vat22": (Tag.VAT_STANDARD, False),
    "vat10": (Tag.VAT_10, False),
    "vat0": (Tag.TURNOVER_VAT_0, True),
    "none": (Tag.TURNOVER_NO_VAT, True),
    "vat20_120": (Tag.VAT_STANDARD_CALCULATED, False),
    "vat22_122": (Tag.VAT_STANDARD_CALCULATED, False),
    "vat10_110": (Tag.VAT_10_110, False),
}
"""The receipt-level tag of each code and whether it carries the turnover (else the VAT).

5 %, 7 %, 5/105 and 7/107 have no receipt-level tag that the sources know of.
"""
