"""KkmServer commands in → the agent's contract requests out, as pure functions.

``RegisterCheck`` becomes a ReceiptRequest, ``DepositingCash``/``PaymentCash`` a CashCommand,
``IdCommand`` a request id. What KkmServer itself refuses is refused here with its wording
(docs/kkmserver.md, "What is checked"); what the agent cannot print (corrections, credit,
non-fiscal slips) is refused with a sentence that says so. The intake then validates the
request against the contract and the fiscal rules, as for every other way in.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from agent.adapters.kkmserver.lenient import Fields
from agent.contract import MAX_MONEY

__all__ = [
    "ID_PREFIXES",
    "ReceiptMapping",
    "Refused",
    "cash_command",
    "internal_id",
    "receipt_request",
    "request_id",
]

_DIRECT_ID: Final = re.compile(r"\A[A-Za-z0-9._-]{1,60}\Z")
ID_PREFIXES: Final = ("kkm-", "kkm#", "kkm!")
"""Request ids of this adapter: ``kkm-<IdCommand>``, ``kkm#<hash>``, ``kkm!<internal>``."""

CENT: Final = Decimal("0.01")
MILLI: Final = Decimal("0.001")

TAXES: Final[dict[int, str]] = {
    -1: "none",
    0: "vat0",
    5: "vat5",
    7: "vat7",
    10: "vat10",
    20: "vat20",
    22: "vat22",
    105: "vat5_105",
    107: "vat7_107",
    110: "vat10_110",
    120: "vat20_120",
    122: "vat22_122",
}
"""``Register.Tax`` → the contract's VAT name: exactly the set KkmServer accepts."""

SUBJECTS: Final[dict[int, str]] = {
    1: "commodity",
    2: "excise",
    3: "job",
    4: "service",
    10: "payment",
    11: "agent_commission",
    12: "composite",
    13: "another",
    19: "deposit",
}
"""``SignCalculationObject`` (tag 1212) values the agent prints."""

TAX_VARIANTS: Final[dict[str, str]] = {
    "0": "osn",
    "1": "usn_income",
    "2": "usn_income_outcome",
    "4": "eshn",
    "5": "patent",
}
"""``TaxVariant`` (tag 1055) → the agent's tax system names (3, ЕНВД, no longer exists)."""

ADVANCE: Final = 3
FULL_SETTLEMENT: Final = 4
_GOODS_SUBJECTS: Final = frozenset({"commodity", "excise"})


class Refused(Exception):
    """KkmServer would answer Status 2 with this ``Error``."""

    def __init__(self, error: str) -> None:
        self.error = error
        super().__init__(error)


def request_id(id_command: str) -> str:
    """The agent's request id for a KkmServer ``IdCommand``: the same every time.

    A GUID or any short id of letters, digits, ``.``, ``_`` and ``-`` is kept readable
    (``kkm-<IdCommand>``); anything else is hashed (``kkm#<sha256>``). The prefixes keep these
    ids apart from those of MQTT and the local API.
    """
    if _DIRECT_ID.match(id_command):
        return f"kkm-{id_command}"
    digest = hashlib.sha256(id_command.encode("utf-8", "surrogatepass")).hexdigest()
    return f"kkm#{digest[:56]}"


def internal_id() -> str:
    """An id for a command sent without ``IdCommand`` (no protection against resends)."""
    return f"kkm!{uuid.uuid4().hex}"


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):f}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptMapping:
    """A RegisterCheck as a ReceiptRequest (a dict for the intake) and what to warn about."""

    request: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def receipt_request(
    command: Fields, *, request_id: str, tax_systems: dict[str, str]
) -> ReceiptMapping:
    """``RegisterCheck`` → ReceiptRequest.

    ``tax_systems`` is the agent's ``[tax]``: category → tax system name; ``TaxVariant``, when
    given, must be the one configured for the receipt's category.

    Raises:
        Refused: with KkmServer's wording where it has one.
        FieldError: a property of the wrong type.
    """
    warnings: list[str] = []
    if not command.boolean("IsFiscalCheck"):
        raise Refused(
            "Нефискальный документ (IsFiscalCheck=false) агент не печатает: передайте"
            " IsFiscalCheck=true"
        )
    kind = _kind(command.integer("TypeCheck", 0))
    if command.boolean("NotPrint"):
        warnings.append(
            "NotPrint проигнорирован: эта ККТ печатает каждый чек (электронный чек уходит"
            " покупателю через ОФД, если указан ClientAddress)"
        )
    strings = command.objects("CheckStrings")
    if any(s.has("PrintText") or s.has("BarCode") or s.has("PrintImage") for s in strings):
        warnings.append("Строки PrintText, BarCode и PrintImage агент не печатает")
    items, methods, amounts = _items([line for s in strings if (line := s.obj("Register"))])
    category = _category(methods, items)
    _check_tax_variant(command.text("TaxVariant").strip(), tax_systems.get(category))
    payments = _payments(command, amounts)
    request: dict[str, Any] = {
        "id": request_id,
        "kind": kind,
        "category": category,
        "items": items,
        "payments": payments,
    }
    cashier = command.text("CashierName").strip()
    if cashier:
        inn = command.text("CashierVATIN").strip()
        request["cashier"] = {"name": cashier, **({"inn": inn} if inn else {})}
    contact = command.text("ClientAddress").strip()
    if contact:
        request["customer"] = {"email": contact} if "@" in contact else {"phone": contact}
    return ReceiptMapping(request=request, warnings=warnings)


def _items(lines: list[Fields]) -> tuple[list[dict[str, str]], set[int], Decimal]:
    """The lines to print, their payment methods, and the sum of their amounts."""
    items: list[dict[str, str]] = []
    methods: set[int] = set()
    amounts = Decimal(0)
    for line in lines:
        item, method, amount = _item(line)
        if item is None:
            continue
        items.append(item)
        methods.add(method)
        amounts += amount
    if not items:
        raise Refused("В чеке нет фискальных строк!!!")
    return items, methods, amounts


def _check_tax_variant(tax_variant: str, configured: str | None) -> None:
    if not tax_variant:
        return
    wanted = TAX_VARIANTS.get(tax_variant)
    if wanted is None:
        raise Refused(f"Система налогообложения TaxVariant={tax_variant} не поддерживается")
    if configured != wanted:
        raise Refused(
            f"Система налогообложения TaxVariant={tax_variant} ({wanted}) не совпадает с"
            f" настройкой агента для этого чека ({configured})"
        )


def _kind(type_check: int | None) -> str:
    if type_check == 0:
        return "sale"
    if type_check == 1:
        return "refund"
    raise Refused(
        f"Тип чека TypeCheck={type_check} агент не поддерживает: только 0 (приход) и 1 (возврат"
        " прихода)"
    )


def _item(line: Fields) -> tuple[dict[str, str] | None, int, Decimal]:
    name = line.text("Name").strip()
    quantity = line.decimal("Quantity", Decimal(1))
    price = line.decimal("Price", Decimal(0))
    amount = line.decimal("Amount")
    assert quantity is not None
    assert price is not None
    if quantity < 0 or price < 0 or (amount is not None and amount < 0):
        raise Refused("Нельзя указывать отрицательные суммы, цены и количество для товара/услуги")
    quantity = quantity.quantize(MILLI, rounding=ROUND_HALF_UP)
    if quantity == 0:
        return None, 0, Decimal(0)  # KkmServer skips zero lines' checks; nothing to print
    if not name:
        raise Refused("Не указано наименование товара/услуги (Register.Name)")
    if len(name) > 128:
        name = f"{name[:126]}.."
    tax = line.decimal("Tax")
    if tax is None or tax != tax.to_integral_value() or int(tax) not in TAXES:
        raise Refused("Не правильно указана ставка НДС!")
    method = line.integer("SignMethodCalculation")
    if method is None:
        raise Refused("Не указан признак способа расчета!")
    subject_code = line.integer("SignCalculationObject")
    if subject_code is None:
        raise Refused("Не указан признак предмета расчета!")
    subject = SUBJECTS.get(subject_code)
    if subject is None:
        raise Refused(f"Признак предмета расчета {subject_code} агент не поддерживает")
    if method not in (ADVANCE, FULL_SETTLEMENT):
        raise Refused(
            f"Признак способа расчета {method} агент не поддерживает: только 3 (аванс) и 4"
            " (полный расчет)"
        )
    unit_price = _unit_price(quantity, price.quantize(CENT, rounding=ROUND_HALF_UP), amount)
    item = {
        "name": name,
        "qty": format(quantity.normalize(), "f"),
        "price": _money(unit_price),
        "vat": TAXES[int(tax)],
        "subject": subject,
    }
    line_total = (unit_price * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    return item, method, line_total


def _unit_price(quantity: Decimal, price: Decimal, amount: Decimal | None) -> Decimal:
    """The price to print so that the line's sum is ``Amount`` (a discount folded in)."""
    if amount is None:
        return price
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if (price * quantity).quantize(CENT, rounding=ROUND_HALF_UP) == amount:
        return price
    unit = (amount / quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    if (unit * quantity).quantize(CENT, rounding=ROUND_HALF_UP) != amount:
        raise Refused(
            f"Сумма строки Amount={amount} не делится на количество {quantity} с точностью до"
            " копейки: укажите цену со скидкой (Price) так, чтобы Amount = Price × Quantity"
        )
    return unit


def _category(methods: set[int], items: list[dict[str, str]]) -> str:
    if methods == {ADVANCE}:
        return "top_up"
    if methods != {FULL_SETTLEMENT}:
        raise Refused(
            "В одном чеке аванс (признак способа расчета 3) и полный расчет (4) агент не"
            " печатает: разделите их на два чека"
        )
    if all(item["subject"] in _GOODS_SUBJECTS for item in items):
        return "goods"
    return "service"


def _payments(command: Fields, total: Decimal) -> dict[str, str]:
    values = {
        name: (command.decimal(name, Decimal(0)) or Decimal(0)).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        for name in ("Cash", "ElectronicPayment", "AdvancePayment", "Credit", "CashProvision")
    }
    if any(value < 0 for value in values.values()):
        raise Refused("Нельзя указывать отрицательные суммы в оплате")
    if values["Credit"] or values["CashProvision"]:
        raise Refused(
            "Оплату в кредит (Credit) и встречным предоставлением (CashProvision) агент не печатает"
        )
    paid = values["Cash"] + values["ElectronicPayment"] + values["AdvancePayment"]
    if paid < total:
        raise Refused("Сумма указанных оплат меньше чем сумма по строкам чека")
    if paid - total > values["Cash"]:
        raise Refused(
            "Сумма по чеку больше чем сумма по указанной оплате наличными - не с чего давать сдачу"
        )
    names = {"Cash": "cash", "ElectronicPayment": "card", "AdvancePayment": "prepaid"}
    return {names[key]: _money(values[key]) for key in names if values[key]}


def cash_command(command: Fields, *, request_id: str, direction: str) -> dict[str, Any]:
    """``DepositingCash`` (``in``) / ``PaymentCash`` (``out``) → CashCommand."""
    amount = command.decimal("Amount")
    if amount is None or amount <= 0:
        raise Refused("Не указана сумма (Amount) или она не больше нуля")
    if amount > MAX_MONEY:
        raise Refused(f"Сумма (Amount) больше {MAX_MONEY}: такую сумму касса не примет")
    return {"id": request_id, "direction": direction, "amount": _money(amount)}
