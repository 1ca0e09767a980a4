"""KkmServer's reply envelope, its status codes and its wording (docs/kkmserver.md).

Every reply carries ``Command, Error, Warning, Message, Status, IdCommand`` and
``MessageFrom: "KkmServer"``; command fields come beside them, and fields at their default
(``CheckNumber`` 0, ``URL`` "", ``LineLength`` -1, null objects) are left out at the top level.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Final

__all__ = [
    "ALREADY_DONE",
    "EMPTY_ID",
    "NOT_FOUND",
    "PARSE_ERROR",
    "QUEUE_EXPIRED",
    "RUN_ERROR",
    "Status",
    "envelope",
    "unknown_command",
]


class Status(IntEnum):
    """KkmServer's ``Status``."""

    OK = 0
    RUN = 1  # running: poll GetRezult
    ERROR = 2
    NOT_FOUND = 3
    NOT_RUN = 4  # queued: poll GetRezult
    ALREADY_DONE = 5


ALREADY_DONE: Final = "Команда уже была выполнена или выполняется в текущий момент"
QUEUE_EXPIRED: Final = (
    "Истек допустимый период постановки команды на исполнение из очереди. Команда отменена."
)
NOT_FOUND: Final = "Команда с таким IdCommand не найдена"
EMPTY_ID: Final = "Не указан Id команды!"
PARSE_ERROR: Final = "Ошибка разбора (парсинга) команды: "
RUN_ERROR: Final = "Ошибка выполнения команды: "
UNDEFINED: Final = "<Не определено>"

_OMIT_DEFAULTS: Final[dict[str, object]] = {
    "CheckNumber": 0,
    "SessionNumber": 0,
    "SessionCheckNumber": 0,
    "URL": "",
    "QRCode": "",
    "LineLength": -1,
    "NumDevice": 0,
    "UnitName": "",
}


def unknown_command(name: str) -> str:
    """KkmServer's text for a command it does not know (HTTP 501)."""
    return f"Неопознанная команда {name}"


def envelope(
    command: str,
    *,
    status: Status,
    id_command: str = "",
    error: str = "",
    warning: str = "",
    message: str = "",
    num_device: int = 1,
    **fields: object,
) -> dict[str, Any]:
    """A reply: command fields first, then the envelope; defaults left out at the top level."""
    body: dict[str, Any] = {
        key: value
        for key, value in fields.items()
        if value is not None and _OMIT_DEFAULTS.get(key, object()) != value
    }
    body.update(
        {
            "Command": command,
            "Error": error,
            "Warning": warning,
            "Message": message,
            "Status": int(status),
            "IdCommand": id_command,
        }
    )
    if num_device:
        body["NumDevice"] = num_device
    body["MessageFrom"] = "KkmServer"
    return body
